"""Then-steps on O2CB self-fencing: which servers fence themselves, when, and which stay.

The instant of a fence is read from the server's own record and judged by
steps.timing, with the measured latency on a real-time clock.
"""

from __future__ import annotations

from pytest_bdd import parsers, then

from environments.base import PoolDriver
from environments.model import PoolState
from steps.horizon import eventually, horizon, let_horizon_pass, patience_ms
from steps.observed import UP
from steps.records import SERVER, SERVERS, Fault, ManagerAction, names, required_fault
from steps.timing import ChainStep, check_late, clock_resolution_ms, grant_for


def fence_times(driver: PoolDriver, server: str, after_ms: int) -> list[int]:
    return [
        e.t_ms for e in driver.timeline() if e.kind == "fence" and e.server == server and e.t_ms >= after_ms
    ]


@then(parsers.re(rf"(?P<servers>{SERVERS}) (?:fences itself|fence themselves)"))
def fences(
    ovm_driver: PoolDriver, fault: Fault | None, manager_action: ManagerAction | None, servers: str
) -> None:
    """Each named server fences itself (O2CB self-fence: it stops and reboots) after the last fault."""
    start, _ = horizon(ovm_driver, fault, manager_action)
    victims = names(servers)
    eventually(
        ovm_driver,
        lambda s: all(fence_times(ovm_driver, v, start) for v in victims),
        patience_ms(ovm_driver, fault, manager_action),
    )
    for v in victims:
        assert fence_times(ovm_driver, v, start), (
            f"{v} did not fence itself; it is {ovm_driver.observe().servers[v].state}"
        )


@then(parsers.re(rf"(?P<server>{SERVER}) fences itself before the other servers see it as dead"))
def fences_first(
    ovm_driver: PoolDriver, fault: Fault | None, manager_action: ManagerAction | None, server: str
) -> None:
    """The server fences itself while every other server still sees it heartbeating."""
    fault = required_fault(fault)
    others = [s for s in fault.before.servers if s != server and fault.before.servers[s].state in UP]
    fenced_while_seen: list[bool] = []

    def watch(state: PoolState) -> bool:
        if fence_times(ovm_driver, server, fault.at_ms):
            return True
        if any(state.servers[o].state in UP and server not in state.servers[o].live_view for o in others):
            fenced_while_seen.append(False)
            return True
        return False

    ovm_driver.wait_until(
        watch, patience_ms(ovm_driver, fault, manager_action), step_ms=ovm_driver.timings.iteration_ms // 4
    )
    assert fence_times(ovm_driver, server, fault.at_ms), f"{server} never fenced itself"
    assert not fenced_while_seen, f"another server saw {server} dead before {server} fenced itself"


@then(
    parsers.re(
        rf"(?P<server>{SERVER}) fences itself O2CB_HEARTBEAT_THRESHOLD-1 heartbeat iterations "
        r"after its last heartbeat write"
    )
)
def fences_on_write_timeout(
    ovm_driver: PoolDriver, fault: Fault | None, manager_action: ManagerAction | None, server: str
) -> None:
    """The self-fence fires (dead_threshold-1) iterations after the server's last good heartbeat write:
    never sooner (exact on every clock: the fence timer is armed when that write completes), and no
    later than that plus a quarter iteration for the write's own I/O (and the measured latency of
    the write's completion and of the fence timer, on a real-time clock)."""
    fault = required_fault(fault)
    t = ovm_driver.timings
    eventually(ovm_driver, lambda s: bool(fence_times(ovm_driver, server, fault.at_ms)),
               patience_ms(ovm_driver, fault, manager_action))
    fenced = fence_times(ovm_driver, server, fault.at_ms)
    assert fenced, f"{server} never fenced itself"
    writes = [
        e.t_ms
        for e in ovm_driver.timeline()
        if e.kind == "heartbeat" and e.server == server and e.t_ms <= fault.at_ms
    ]
    # without recorded writes, the last one happened within the iteration before the fault
    first, last = (writes[-1], writes[-1]) if writes else (fault.at_ms - t.iteration_ms, fault.at_ms)
    timeout = (t.dead_threshold - 1) * t.iteration_ms
    slack = t.iteration_ms // 4  # the write's own I/O completes a moment after it is issued
    # a real-time agent's clock ticks in whole real milliseconds: its deadline may fall one before
    assert fenced[0] >= first + timeout - clock_resolution_ms(ovm_driver), (
        f"{server} fenced itself {fenced[0] - fault.at_ms} ms after the fault, before the write timeout "
        f"of {timeout} ms had passed since its last heartbeat write ({first + timeout - fault.at_ms} ms)"
    )
    steps = [ChainStep("write completion", last, [server]), ChainStep("fence timer", fenced[0], [server])]
    grant = grant_for(ovm_driver, steps, (last, fenced[0]))
    check_late(
        ovm_driver,
        f"{server} fencing itself on the heartbeat write timeout",
        fenced[0] - last,
        timeout + slack,
        grant,
        f"{server} fenced itself {fenced[0] - fault.at_ms} ms after the fault; the write timeout of "
        f"{timeout} ms puts it between {first + timeout - fault.at_ms} and "
        f"{last + timeout + slack - fault.at_ms} ms",
    )


@then(parsers.re(rf"(?P<servers>{SERVERS}) (?:stays|stay) in the cluster"))
def stays(
    ovm_driver: PoolDriver, fault: Fault | None, manager_action: ManagerAction | None, servers: str
) -> None:
    """Through the horizon of the last fault the servers never fence and remain up and heartbeating."""
    start = let_horizon_pass(ovm_driver, fault, manager_action)
    state = ovm_driver.observe()
    for s in names(servers):
        assert not fence_times(ovm_driver, s, start), f"{s} fenced itself"
        assert state.servers[s].state in UP, f"{s} is {state.servers[s].state}"
        assert s in state.servers[s].live_view, f"{s} does not see its own heartbeat"


@then(parsers.re(rf"(?P<server>{SERVER}) does not fence itself"))
def does_not_fence(
    ovm_driver: PoolDriver, fault: Fault | None, manager_action: ManagerAction | None, server: str
) -> None:
    """Through the horizon of the last fault or operation the server never fences itself."""
    start = let_horizon_pass(ovm_driver, fault, manager_action)
    assert not fence_times(ovm_driver, server, start), f"{server} fenced itself"
