"""One conformance gate: the whole suite, every release, on one environment, as CI runs it.

Used by tests/test_conformance_gate.py and by benchmarks/bench_gates_under_load.py, which runs
the real-time gates beside CPU-bound busy loops and prints what their timing checks were granted.

A scenario the run was too slow to judge has no verdict yet: the gate judges it again, once, alone
(no pools beside it), and takes that second run's result, whatever it is. A scenario that failed
is never run again: a real violation cannot be retried away, and one too slow to judge twice
stays an environment error.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.realtime_lane import realtime_env

REPO = Path(__file__).resolve().parents[1]
WORKERS = {"sim": [], "local": ["-n", "2"], "docker": ["-n", "3"]}  # real time: pools side by side


OK = ("passed", "not-applicable")


def _by_nodeid(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each scenario run once (a scenario checking several rules is listed under each)."""
    seen: dict[str, dict[str, Any]] = {}
    for rule in report["rules"]:
        for scenario in rule["scenarios"]:
            seen.setdefault(scenario["nodeid"], scenario)
    return seen


@dataclass(frozen=True)
class GateRun:
    env: str
    report: dict[str, Any]  # the whole run's report
    returncode: int  # the whole run's exit status
    output: str  # the end of what the run printed
    duration_s: float
    rejudged: dict[str, dict[str, Any]] = field(default_factory=dict)  # nodeid -> its second run
    rejudge_returncode: int | None = None

    @property
    def scenarios(self) -> list[dict[str, Any]]:
        """Each scenario once, with the result of its second run where it was judged again."""
        return [self.rejudged.get(n, s) for n, s in _by_nodeid(self.report).items()]

    @property
    def too_slow_to_judge(self) -> list[str]:
        return [s["nodeid"] for s in self.scenarios if s.get("too_slow_to_judge")]

    def rules_not_passed(self) -> list[str]:
        """Rules neither passed nor not applicable, once the scenarios judged again are counted."""
        merged = {s["nodeid"]: s["status"] for s in self.scenarios}
        out = []
        for rule in self.report["rules"]:
            statuses = [merged[s["nodeid"]] for s in rule["scenarios"]]
            if rule["status"] in OK or (statuses and all(v in OK for v in statuses) and "passed" in statuses):
                continue
            out.append(rule["id"])
        return out

    @property
    def passed(self) -> bool:
        """The gate's verdict: the run passed, or passed once its unjudged scenarios were judged."""
        if not self.rejudged:
            return self.returncode == 0
        return self.rejudge_returncode == 0 and not self.problems and not self.rules_not_passed()

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
    started = time.monotonic()
    returncode, report, output = _run(env, report_dir, run_id, WORKERS[env], [], timeout_s)
    slow = [n for n, s in _by_nodeid(report).items() if s.get("too_slow_to_judge")]
    if not slow:
        return GateRun(env, report, returncode, output, time.monotonic() - started)
    selection = [option for nodeid in slow for option in ("--scenario", nodeid)]
    again, second, tail = _run(env, report_dir, f"{run_id}-rejudged", [], selection, timeout_s)
    rejudged = {n: s for n, s in _by_nodeid(second).items() if n in slow}
    missing = sorted(set(slow) - set(rejudged))
    if missing:
        raise AssertionError(f"the {env} gate's second run did not judge {missing}:\n{tail}")
    return GateRun(env, report, returncode, output + tail, time.monotonic() - started, rejudged, again)


def _run(
    env: str, report_dir: Path, run_id: str, workers: list[str], selection: list[str], timeout_s: float
) -> tuple[int, dict[str, Any], str]:
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
        *workers,
        *selection,
        "--report-dir",
        str(report_dir),
        "--run-id",
        run_id,
    ]
    done = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=timeout_s, check=False, env=realtime_env()
    )
    report_path = report_dir / run_id / "conformance.json"
    output = done.stdout[-3000:] + done.stderr[-3000:]
    if not report_path.is_file():
        raise AssertionError(f"the {env} gate wrote no report:\n{output}")
    return done.returncode, json.loads(report_path.read_text()), output
