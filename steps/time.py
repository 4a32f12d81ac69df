"""Steps that let time pass on the driver's clock (virtual on the simulator, real elsewhere)."""

from __future__ import annotations

from pytest_bdd import parsers, when

from environments.base import PoolDriver
from steps.records import Fault


@when(parsers.re(r"(?P<seconds>\d+) seconds? pass(?:es)?"))
def seconds_pass(ovm_driver: PoolDriver, seconds: str) -> None:
    """Let that many seconds of the pool's time pass."""
    ovm_driver.advance(int(seconds) * 1000)


@when("the failover bound has passed")
def failover_bound_passes(ovm_driver: PoolDriver, fault: Fault) -> None:
    """Let time pass until the failover bound of the last fault has elapsed since it happened."""
    deadline = fault.at_ms + ovm_driver.failover_bound_ms(fault.kind)
    ovm_driver.advance(max(0, deadline - ovm_driver.now_ms()))
