"""Nothing of a local pool outlives its run: not after a failed test, Ctrl-C, or a killed run.

Each case starts a real pool in a child process (servers, guests, network
namespaces, a run directory), ends that process the way it says, and checks
every resource it reported is gone.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from environments.local.driver import sweep_stale_runs
from environments.local.network import namespace_support, our_namespaces, sweep_stale
from environments.ocfs2file import tools_missing

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    bool(tools_missing()), reason=f"needs ocfs2-tools ({', '.join(tools_missing())} missing)"
)


def _start(argv: list[str]) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _ready(proc: subprocess.Popen[str], timeout_s: float = 60) -> dict[str, Any]:
    """Read the child's output until it reports its pool."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout_s
    lines = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "READY " in line:
            return json.loads(line.split("READY ", 1)[1])
    proc.kill()
    raise AssertionError("the child never reported its pool:\n" + "".join(lines[-40:]))


def _finish(proc: subprocess.Popen[str], timeout_s: float = 60) -> str:
    """The rest of the child's output, then its exit. (communicate() with a timeout reads the pipe
    itself and would lose what _ready's reader had already buffered.)"""
    assert proc.stdout is not None
    _exited(proc, timeout_s)
    return proc.stdout.read()


def _exited(proc: subprocess.Popen[str], timeout_s: float) -> None:
    """Wait for the child's exit, bounded: a child that does not exit is killed and the test fails
    saying so, instead of blocking CI on a read of its pipe. (Its output is a few lines, far
    below a pipe's buffer, so waiting before reading cannot deadlock.)"""
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=30)
        raise AssertionError(f"the child (pid {proc.pid}) did not exit within {timeout_s:g} s") from None


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][0] != "Z"  # a zombie is dead, just not reaped yet
    except FileNotFoundError:
        return False


def _assert_gone(report: dict[str, Any], *, dirs_too: bool = True, timeout_s: float = 5) -> None:
    pids = report["server_pids"] + report["guest_pids"]
    assert report["server_pids"] and report["guest_pids"], f"the child reported no processes: {report}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.05)
    assert not [p for p in pids if _alive(p)], f"processes outlived the run: {report}"
    if dirs_too:
        assert not Path(report["run_dir"]).exists(), f"{report['run_dir']} outlived the run"
        left = set(report["namespaces"]) & set(our_namespaces())
        assert not left, f"network namespaces outlived the run: {sorted(left)}"


def test_a_failed_scenario_leaves_nothing() -> None:
    proc = _start(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-s",
            "-p",
            "no:cacheprovider",
            "-p",
            "conformance.plugin",
            "--ovm-env",
            "local",
            "--ovm-no-report",
            "tests/local/failing_case.py",
        ]
    )
    report = _ready(proc)
    out = _finish(proc)
    assert proc.returncode == 1, f"the failing case did not fail:\n{out}"
    _assert_gone(report)


def test_an_exception_in_a_script_leaves_nothing() -> None:
    proc = _start([sys.executable, "-m", "tests.local.pool_child", "raise"])
    report = _ready(proc)
    out = _finish(proc)
    assert proc.returncode == 1 and "failed on purpose" in out, out
    _assert_gone(report)


def test_ctrl_c_leaves_nothing() -> None:
    proc = _start([sys.executable, "-m", "tests.local.pool_child", "sleep"])
    report = _ready(proc)
    proc.send_signal(signal.SIGINT)
    _finish(proc)
    _assert_gone(report)


def test_a_killed_run_leaves_no_process_and_the_next_run_sweeps_the_rest() -> None:
    proc = _start([sys.executable, "-m", "tests.local.pool_child", "sleep"])
    report = _ready(proc)
    proc.kill()  # SIGKILL: no atexit, no finally; the servers die with their parent (PR_SET_PDEATHSIG)
    _finish(proc)
    _assert_gone(report, dirs_too=False)
    # what the kernel keeps without an owner (namespaces, files) goes with the next driver's sweep
    sweep_stale_runs()
    if namespace_support() is None:
        sweep_stale()
    _assert_gone(report)
