"""Nothing of a container pool outlives it: not close(), an exception, an exit, Ctrl-C, or a kill.

The owner labels let sweep_stale() find what a killed run left, and leave live pools alone.
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

pytest.importorskip("testcontainers", reason="needs the containers extra: pip install -e '.[containers]'")

from environments.docker.owner import LABEL_POOL
from environments.docker.pool import ContainerPool, PoolError, labelled_resources, sweep_stale

ROOT = Path(__file__).resolve().parents[2]
NOTHING: dict[str, list[str]] = {"containers": [], "networks": [], "volumes": []}


def _left(pool_id: str) -> dict[str, list[str]]:
    return labelled_resources(f"{LABEL_POOL}={pool_id}")


def _start_child(mode: str, image: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    argv = [sys.executable, "-m", "tests.docker.docker_pool_child", mode, image]
    return subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _line(proc: subprocess.Popen[str], prefix: str, timeout_s: float = 120) -> dict[str, Any]:
    assert proc.stdout is not None
    deadline = time.perf_counter() + timeout_s
    seen = []
    while time.perf_counter() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if line.startswith(prefix):
            return dict(json.loads(line[len(prefix) :]))
    proc.kill()
    raise AssertionError(f"the child never printed {prefix!r}:\n{''.join(seen[-40:])}")


def test_close_removes_containers_network_and_files_and_can_be_repeated(image_tag: str) -> None:
    pool = ContainerPool(2, image=image_tag).start()
    made = pool.resources()
    assert len(made["containers"]) == 2 and made["networks"] == [pool.network_name]
    assert pool.workdir is not None and pool.workdir.is_dir()
    pool.close()
    assert _left(pool.pool_id) == NOTHING
    assert not pool.workdir.exists()
    pool.close()
    with pytest.raises(PoolError, match="is closed"):
        pool.start()


def test_an_exception_in_the_with_block_leaves_nothing(image_tag: str) -> None:
    with pytest.raises(RuntimeError, match="on purpose"), ContainerPool(1, image=image_tag) as pool:
        assert _left(pool.pool_id)["containers"]
        raise RuntimeError("the test failed on purpose inside the pool")
    assert _left(pool.pool_id) == NOTHING
    assert pool.workdir is not None and not pool.workdir.exists()


def test_a_failed_start_leaves_nothing(image_tag: str) -> None:
    pool = ContainerPool(1, image=image_tag, ready_timeout_s=0)  # sshd cannot answer in no time
    with pytest.raises(PoolError, match=r"vmserver1: sshd at .* did not answer this host within 0 s"):
        pool.start()
    assert _left(pool.pool_id) == NOTHING


def test_a_run_that_exits_without_close_is_cleaned_at_exit(image_tag: str) -> None:
    proc = _start_child("exit", image_tag)
    ready = _line(proc, "READY ")
    assert len(ready["resources"]["containers"]) == 2, ready
    after = _line(proc, "AFTER ")  # printed by the child itself, after the pool's exit hook
    assert proc.wait(timeout=60) == 0
    assert after == NOTHING
    assert not Path(ready["workdir"]).exists()


def test_ctrl_c_leaves_nothing(image_tag: str) -> None:
    proc = _start_child("sleep", image_tag)
    ready = _line(proc, "READY ")
    proc.send_signal(signal.SIGINT)
    try:  # bounded before reading the rest: a child that ignores SIGINT must fail the test, not hang CI
        proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError(f"the child did not exit within 120 s of SIGINT (pid {proc.pid})") from None
    after = _line(proc, "AFTER ")
    assert after == NOTHING and not Path(ready["workdir"]).exists()


def test_a_killed_run_is_swept_and_live_pools_are_left_alone(image_tag: str) -> None:
    with ContainerPool(1, image=image_tag) as live:
        proc = _start_child("sleep", image_tag)
        ready = _line(proc, "READY ")
        assert len(ready["resources"]["containers"]) == 2 and ready["resources"]["networks"], ready
        proc.kill()  # SIGKILL: no atexit, no finally
        proc.wait(timeout=60)
        swept = sweep_stale()
        assert _left(ready["pool_id"]) == NOTHING, swept
        assert not Path(ready["workdir"]).exists()
        assert _left(live.pool_id) == live.resources() and live.resources()["containers"], swept
        assert live.workdir is not None and live.workdir.is_dir()
