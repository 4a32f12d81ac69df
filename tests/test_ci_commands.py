"""README, tox.ini and .ci/run name the same test commands (CI must run what a user is told to run)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def pytest_commands(text: str) -> set[str]:
    """Every `python[3] -m pytest ...` command in the text, normalised (python3, no posargs or ||)."""
    found = set()
    for match in re.finditer(r"python3? -m pytest[^\n`|{]*", text):
        found.add(re.sub(r"^python3? ", "python3 ", match.group(0)).strip())
    return found


def test_readme_tox_and_ci_run_name_the_same_test_commands() -> None:
    readme = pytest_commands((REPO / "README.md").read_text())
    tox = pytest_commands((REPO / "tox.ini").read_text())
    ci = pytest_commands((REPO / ".ci" / "run").read_text())
    expected = {'python3 -m pytest -n auto -m "not realtime"', "python3 -m pytest -m realtime"}
    assert expected <= readme, readme
    assert tox == ci == expected, (tox, ci)
