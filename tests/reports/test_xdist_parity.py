"""A parallel run (-n 2) reports exactly what a serial run reports: statuses, seeds, evidence."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from report_helpers import read_report, scenario_rows, statuses
from sandbox_project import child_env, write_project


def run(root: Path, run_id: str, *extra: str) -> dict[str, Any]:
    command = [sys.executable, "-m", "pytest", f"--ovm-run-id={run_id}", "--ovm-seed=3", *extra]
    done = subprocess.run(command, cwd=root, env=child_env(), capture_output=True, text=True, check=False)
    assert done.returncode == pytest.ExitCode.TESTS_FAILED, done.stdout + done.stderr
    return read_report(root, run_id)


@pytest.mark.slow
def test_serial_and_parallel_runs_agree(tmp_path: Path) -> None:
    root = write_project(tmp_path)
    serial = run(root, "serial")
    parallel = run(root, "parallel", "-n", "2")
    assert statuses(parallel) == statuses(serial)
    assert parallel["summary"] == serial["summary"]

    def comparable(report: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
        rows = scenario_rows(report)
        return {s["nodeid"]: (s["status"], s["seed"], s["replay"], s["message"], s["failover"]) for s in rows}

    assert comparable(parallel) == comparable(serial)
    assert any(s["failover"] for s in scenario_rows(parallel)), "evidence travelled from the workers"
    run_dir = root / "reports" / "parallel"
    page = (run_dir / "index.html").read_text()
    assert page.count('class="tl tl-lazy" data-tl=') == 3, "the three passing crash runs' timelines"
