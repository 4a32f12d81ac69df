"""A process that builds a local pool, reports what it made, then hangs or raises.

Used by test_cleanup.py to check that nothing outlives a failed test, Ctrl-C
or a killed run: `python -m tests.local.pool_child MODE` (MODE: sleep, raise).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from typing import Any

from environments.base import PoolDriver
from environments.local.driver import LocalDriver
from environments.model import GuestSpec, PoolSpec, ServerSpec
from ovmref.release import Release


def build_pool(driver: PoolDriver) -> None:
    result = driver.build_pool(PoolSpec(servers=(ServerSpec("server1"), ServerSpec("server2"))))
    assert result.ok, result.message
    assert driver.create_guest(GuestSpec("vm1")).ok
    assert driver.start_guest("vm1").ok


def report(driver: PoolDriver) -> dict[str, Any]:
    """Every resource the pool holds: the test checks each is gone afterwards."""
    assert isinstance(driver, LocalDriver)
    driver.observe()  # fresh status from every server: the guests' pids
    return {
        "driver_pid": os.getpid(),
        "run_dir": str(driver.run_dir),
        "namespaces": driver.network.namespaces if driver.network else [],
        "server_pids": [h.process.pid for h in driver.hosts.values() if h.process],
        "guest_pids": [
            pid
            for h in driver.hosts.values()
            for _phase, pid in ((h.status or {}).get("guests") or {}).values()
        ],
    }


def main(mode: str) -> None:
    # A run started in the background by a non-interactive shell (`nohup ... &`, some CI runners)
    # inherits SIGINT ignored, and Python then never raises KeyboardInterrupt: this child stands
    # for a user pressing Ctrl-C at a terminal, so it takes SIGINT as such a run would.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    driver = LocalDriver(Release.R2_2, seed=7, record_heartbeats=False)
    build_pool(driver)
    print("READY " + json.dumps(report(driver)), flush=True)
    if mode == "raise":
        raise RuntimeError("the run failed on purpose after building its pool")
    while True:
        time.sleep(0.05)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "sleep")
