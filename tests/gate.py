"""One conformance gate: the whole suite, every release, on one environment, as CI runs it.

Used by tests/test_conformance_gate.py and by benchmarks/bench_gates_under_load.py, which runs
the real-time gates beside CPU-bound busy loops and prints what their timing checks were granted.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.realtime_lane import realtime_env

REPO = Path(__file__).resolve().parents[1]
WORKERS = {"sim": [], "local": ["-n", "2"], "docker": ["-n", "3"]}  # real time: pools side by side


@dataclass(frozen=True)
class GateRun:
    env: str
    report: dict[str, Any]
    returncode: int
    output: str  # the end of what the run printed
    duration_s: float

    @property
    def scenarios(self) -> list[dict[str, Any]]:
        """Each scenario run once (a scenario checking several rules is listed under each)."""
        seen: dict[str, dict[str, Any]] = {}
        for rule in self.report["rules"]:
            for scenario in rule["scenarios"]:
                seen.setdefault(scenario["nodeid"], scenario)
        return list(seen.values())

    @property
    def verdicts(self) -> dict[str, str]:
        return {s["nodeid"]: s["status"] for s in self.scenarios}

    @property
    def problems(self) -> list[tuple[str, str, str]]:
        """(status, scenario, message) of every scenario that failed or could not be judged."""
        return [
            (s["status"], s["nodeid"], str(s["message"])[:300])
            for s in self.scenarios
            if s["status"] in ("failed", "environment-error", "suite-error")
        ]

    def checks(self) -> list[dict[str, Any]]:
        """Every timing check of the run, with what it was granted."""
        return [c for s in self.scenarios for c in s.get("latency", {}).get("checks", [])]

    def granted(self) -> tuple[float, float, float] | None:
        """min / median / max of the pool milliseconds granted to the timing checks."""
        values = [c["granted_ms"] for c in self.checks()]
        return (min(values), statistics.median(values), max(values)) if values else None


def run_gate(env: str, report_dir: Path, run_id: str = "gate", timeout_s: float = 3600) -> GateRun:
    command = [
        sys.executable,
        "-m",
        "conformance",
        "run",
        "--env",
        env,
        "--release",
        "all",
        "-q",
        *WORKERS[env],
        "--report-dir",
        str(report_dir),
        "--run-id",
        run_id,
    ]
    started = time.monotonic()
    done = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=timeout_s, check=False, env=realtime_env()
    )
    report_path = report_dir / run_id / "conformance.json"
    output = done.stdout[-3000:] + done.stderr[-3000:]
    if not report_path.is_file():
        raise AssertionError(f"the {env} gate wrote no report:\n{output}")
    report = json.loads(report_path.read_text())
    return GateRun(env, report, done.returncode, output, time.monotonic() - started)
