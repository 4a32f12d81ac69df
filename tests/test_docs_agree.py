"""README, .ci/run and the CLI say the same things: the test command, the exit codes, the file names."""

from __future__ import annotations

import re
from pathlib import Path

from conformance.statuses import EXIT_CODE_HELP, ExitCode

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()


def test_the_readme_starts_with_the_two_quick_start_commands_and_ci_runs_the_second() -> None:
    block = re.search(r"## Quick start\n\n```sh\n(.*?)\n```", README, re.S)
    assert block is not None and README.index("## Quick start") < README.index("## Map")
    suite, tests = block.group(1).splitlines()
    assert "conformance run --env sim --release all" in suite
    assert "pip install . " in suite, "running the suite needs no [dev] extra"
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert tests.split(" && ", 1)[1] in ci


def test_the_readme_lists_the_exit_codes_the_commands_return() -> None:
    rows = {code: verdict.strip() for code, verdict in re.findall(r"^\| (\d) \|([A-Z ,]*)\|", README, re.M)}
    assert rows == {
        str(ExitCode.PASSED): "PASS, PARTIAL",
        str(ExitCode.FAILED): "FAIL",
        str(ExitCode.USAGE): "",
        str(ExitCode.INCOMPLETE): "INCOMPLETE",
        str(ExitCode.ENVIRONMENT): "ENVIRONMENT ERROR",
        str(ExitCode.SUITE): "SUITE ERROR",
    }
    for code in rows:
        assert f"  {code}  " in EXIT_CODE_HELP


def test_the_inventory_and_the_pool_definition_have_different_names() -> None:
    for doc in [REPO / "README.md", *(REPO / "docs").glob("*.md")]:
        text = doc.read_text()
        assert "--inventory pool.yaml" not in text, f"{doc.name} calls the inventory pool.yaml"
    assert "simulate examples/pool.yaml" in README and "--inventory inventory.yaml" in README
