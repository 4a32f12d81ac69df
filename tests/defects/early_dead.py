"""Defect: a silent peer is declared dead one heartbeat iteration early.

o2hb declares a node dead after O2CB_HEARTBEAT_THRESHOLD unchanged reads of its slot; this
agent's DiskHeartbeat counts one unchanged read more than it made, so it gives up after
threshold-1. "every other server sees server3 as dead after the O2CB dead threshold" must fail.

    OVM_TEST_AGENT_WRAPPER=tests/defects/early_dead.py python -m conformance run --env local ...
"""

from __future__ import annotations

import sys
from typing import Any

from ovmref.heartbeat import disk


def apply() -> None:
    """Patch this process's ovmref (the simulator's tests call it in-process too)."""
    original = disk.DiskHeartbeat._maybe_down

    def declared_early(self: disk.DiskHeartbeat, node: int, s: Any, gen_changed: bool, wiped: bool) -> Any:
        if not gen_changed and s.equal_samples == self.timings.dead_threshold - 1:
            s.equal_samples += 1  # the defect: one unchanged read short of the threshold is enough
        return original(self, node, s, gen_changed, wiped)

    disk.DiskHeartbeat._maybe_down = declared_early  # type: ignore[method-assign]


if __name__ == "__main__":
    apply()
    from environments.local import serverd

    sys.exit(serverd.main())
