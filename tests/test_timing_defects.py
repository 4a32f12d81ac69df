"""Real timing violations are still caught on the real-time environments, idle and under load.

ovmref is made to break a timing rule on purpose (tests/defects/: a failed server's HA guests
restarted one O2CB dead threshold late, a silent peer declared dead one heartbeat iteration
early), run by the local and docker drivers in place of the reference agent
(OVM_TEST_AGENT_WRAPPER), on an idle machine and beside two CPU-bound busy loops. The scenario
of the broken rule must fail, not pass on the latency the run is granted and not turn into
"too slow to judge"; the other scenario must still pass, and with the reference agent both pass.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.busy_loops import busy_loops
from tests.realtime_lane import realtime_env, realtime_lane, unavailable

REPO = Path(__file__).resolve().parents[1]
DEFECTS = REPO / "tests" / "defects"
DEAD = (
    "features/test_features.py::"
    "test_a_crashed_server_is_declared_dead_by_every_peer_after_the_o2cb_dead_threshold[2.2]"
)
FAILOVER = (
    "features/test_features.py::"
    "test_ha_guests_of_a_server_that_fault_run_elsewhere_guests_without_ha_stay_stopped[2.2-fails]"
)
# defect -> (the scenario it breaks, what its failure message says)
BREAKS = {
    "early_dead": (DEAD, "declared server3 dead at its heartbeat iteration 31 from the first"),
    "late_restart": (FAILOVER, "vm1 is starting on no server after 1 restart(s)"),
}


def run_scenarios(tmp_path: Path, env: str, defect: str | None) -> dict[str, dict[str, object]]:
    """Both scenarios on `env` (release 2.2), with the defect's agent if any: nodeid -> result."""
    extra = {"OVM_TEST_AGENT_WRAPPER": str(DEFECTS / f"{defect}.py")} if defect else {}
    command = [
        sys.executable,
        "-m",
        "conformance",
        "run",
        "--env",
        env,
        "--release",
        "2.2",
        "-q",
        "--scenario",
        DEAD,
        "--scenario",
        FAILOVER,
        "--report-dir",
        str(tmp_path),
        "--run-id",
        "r",
    ]
    done = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=900, check=False, env=realtime_env(**extra)
    )
    report_path = tmp_path / "r" / "conformance.json"
    assert report_path.is_file(), done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(report_path.read_text())
    return {s["nodeid"]: s for r in report["rules"] for s in r["scenarios"]}


@pytest.mark.slow
@pytest.mark.realtime
@pytest.mark.parametrize("defect", [None, "early_dead", "late_restart"], ids=["reference", "early", "late"])
@pytest.mark.parametrize("load", ["idle", "busy"])
@pytest.mark.parametrize("env", ["local", "docker"])
def test_a_timing_defect_fails_its_scenario(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, env: str, load: str, defect: str | None
) -> None:
    if (why := unavailable(env)) is not None:
        pytest.skip(why)
    with realtime_lane(tmp_path_factory), busy_loops(2) if load == "busy" else contextlib.nullcontext():
        results = run_scenarios(tmp_path, env, defect)
    broken, words = BREAKS[defect] if defect else (None, "")
    for nodeid in (DEAD, FAILOVER):
        result = results[nodeid]
        detail = f"{nodeid}: {result['status']}: {str(result['message'])[:600]}"
        if nodeid == broken:
            assert result["status"] == "failed" and words in str(result["message"]), detail
        else:
            assert result["status"] == "passed", detail


@pytest.mark.parametrize("defect", ["early_dead", "late_restart"])
def test_the_simulator_fails_the_same_scenario(tmp_path: Path, defect: str) -> None:
    """The exact clock catches the defects too: each patch breaks exactly its scenario."""
    args = [DEAD, FAILOVER, "--ovm-env=sim", "--ovm-release=2.2", "-q", "-p", "no:xdist"]
    args += [f"--ovm-report-dir={tmp_path}", "--ovm-run-id=r"]
    code = f"import sys, pytest\nfrom tests.defects import {defect}\n{defect}.apply()\n"
    code += f"sys.exit(pytest.main({args!r}))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=realtime_env(PYTHONPATH=str(REPO)),
    )
    report = json.loads((tmp_path / "r" / "conformance.json").read_text())
    results = {s["nodeid"]: s for r in report["rules"] for s in r["scenarios"]}
    broken, words = BREAKS[defect]
    assert results[broken]["status"] == "failed" and words in str(results[broken]["message"]), done.stdout[
        -2000:
    ]
    other = FAILOVER if broken == DEAD else DEAD
    assert results[other]["status"] == "passed", done.stdout[-2000:]
