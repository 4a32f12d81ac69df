"""Fixtures for the report tests: a sandbox project to run pytest in, as a user would."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sandbox_project import REPO, sandbox_files


@pytest.fixture
def sandbox(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Callable[..., pytest.Pytester]:
    """Write the sandbox project; `failing=False` leaves out the scenario that fails."""
    monkeypatch.setenv("PYTHONPATH", str(REPO))

    def make(failing: bool = True, feature: str | None = None) -> pytest.Pytester:
        for name, text in sandbox_files(failing, feature).items():  # pytester.path is the cwd
            (pytester.path / name).write_text(text)
        return pytester

    return make
