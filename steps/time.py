"""Steps that let time pass on the driver's clock (virtual on the simulator, real elsewhere)."""

from __future__ import annotations

from pytest_bdd import parsers, when

from environments.base import PoolDriver
from environments.model import PoolState
from ovmref.agent import SYNC_ITERATIONS
from steps.records import Fault, required_fault


@when(parsers.re(r"(?P<seconds>\d+) seconds? pass(?:es)?"))
def seconds_pass(ovm_driver: PoolDriver, seconds: str) -> None:
    """Let that many seconds of the pool's time pass."""
    ovm_driver.advance(int(seconds) * 1000)


@when("the failover bound has passed")
def failover_bound_passes(ovm_driver: PoolDriver, fault: Fault | None) -> None:
    """Let time pass until the failover bound of the last fault has elapsed since it happened."""
    fault = required_fault(fault)
    deadline = fault.at_ms + ovm_driver.failover_bound_ms(fault.kind)
    ovm_driver.advance(max(0, deadline - ovm_driver.now_ms()))


@when("the pool has settled")
def pool_settles(ovm_driver: PoolDriver) -> None:
    """Let time pass until every server is up and sees every other one heartbeating, there is a server
    pool master and no guest is starting or migrating, and still is three heartbeat iterations later
    (a server whose storage came back just too late fences within that); then a resync period of the
    master and a guest boot more, so powered-off guests get their retry. At most a reboot plus twice
    the failover bound of a partition; what is still wrong then is for the Then steps to judge."""
    t = ovm_driver.timings
    deadline = ovm_driver.now_ms() + t.reboot_ms + 2 * ovm_driver.failover_bound_ms("partition")
    while ovm_driver.wait_until(quiet, max(0, deadline - ovm_driver.now_ms()), t.iteration_ms):
        ovm_driver.advance(3 * t.iteration_ms)
        if quiet(ovm_driver.observe()) or ovm_driver.now_ms() >= deadline:
            break
    ovm_driver.advance(SYNC_ITERATIONS * t.iteration_ms + t.guest_boot_ms)
    ovm_driver.wait_until(in_flight_done, t.guest_boot_ms + 5 * t.iteration_ms, t.iteration_ms)


def in_flight_done(state: PoolState) -> bool:
    return not any(g.state in ("starting", "migrating") for g in state.guests.values())


def quiet(state: PoolState) -> bool:
    """Every server up, all in each other's heartbeat view, a master, nothing starting or migrating."""
    servers = [s for s in state.servers.values() if s.state != "deleted"]
    if state.master is None or any(s.state not in ("running", "maintenance") for s in servers):
        return False
    names = {s.name for s in servers}
    return all(names <= set(s.live_view) for s in servers) and in_flight_done(state)
