"""The pool property machine on the simulator: random pools, guests and faults, in virtual time."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

from environments.sim.driver import SimDriver
from ovmref.release import Release
from tests.core.pool_properties import PoolUnderFaults


class SimPoolUnderFaults(PoolUnderFaults):
    @staticmethod
    def make_driver(release: Release, seed: int) -> SimDriver:  # type: ignore[override]
        return SimDriver(release, seed, record_heartbeats=False)


TestPoolUnderFaults = SimPoolUnderFaults.TestCase
TestPoolUnderFaults.settings = settings(
    max_examples=int(os.environ.get("OVM_PROPERTY_EXAMPLES", "80")),  # raise it for a deeper search
    stateful_step_count=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
