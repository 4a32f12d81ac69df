"""Then-steps on a guest's state once the pool has reacted: running, stopped, powered off, restarted."""

from __future__ import annotations

from pytest_bdd import parsers, then

from environments.base import PoolDriver
from environments.latency import Grant
from environments.model import PoolState
from steps.horizon import eventually, let_horizon_pass, patience_ms, settle_after_recovery
from steps.observed import guest, history, show
from steps.records import SERVER, Fault, ManagerAction, last_recovery, latest, numbered_range, required_fault
from steps.timing import ChainStep, check_late, grant_for, wait_granted


@then(parsers.re(rf"guest (?P<name>{SERVER}) is not restarted"))
def not_restarted(
    ovm_driver: PoolDriver, fault: Fault | None, manager_action: ManagerAction | None, name: str
) -> None:
    """Until the failover bound has passed, the guest is not started again anywhere; it is not running."""
    start = let_horizon_pass(ovm_driver, fault, manager_action)
    g = guest(ovm_driver.observe(), name)
    starts = [
        e for e in ovm_driver.timeline() if e.kind == "guest_start" and e.guest == name and e.t_ms >= start
    ]
    assert not starts, f"{name} was started again on {starts[0].server} at {starts[0].t_ms} ms"
    assert g.state not in ("running", "starting"), show(g)


@then(parsers.re(rf"guest (?P<name>{SERVER}) is stopped"))
def guest_stopped(
    ovm_driver: PoolDriver, fault: Fault | None, manager_action: ManagerAction | None, name: str
) -> None:
    """Once the pool has reacted, the guest is stopped and associated with no server."""
    let_horizon_pass(ovm_driver, fault, manager_action)
    g = guest(ovm_driver.observe(), name)
    assert g.state == "stopped" and g.server is None, show(g)


@then(parsers.re(rf"guest (?P<name>{SERVER}) is powered off"))
def powered_off(
    ovm_driver: PoolDriver, fault: Fault | None, manager_action: ManagerAction | None, name: str
) -> None:
    """The guest waits powered off (HA found no server for it) and is on no server."""
    wait_ms = patience_ms(ovm_driver, fault, manager_action)
    state = eventually(ovm_driver, lambda s: guest(s, name).state == "powered_off", wait_ms)
    g = guest(state, name)
    assert g.state == "powered_off" and g.server is None, show(g)


@then(parsers.re(rf"guest (?P<name>{SERVER}) is not associated with any server"))
def unassigned(
    ovm_driver: PoolDriver, fault: Fault | None, manager_action: ManagerAction | None, name: str
) -> None:
    """A guest that is not running (stopped or powered off) belongs to no server."""
    state = eventually(
        ovm_driver,
        lambda s: guest(s, name).state in ("stopped", "powered_off"),
        patience_ms(ovm_driver, fault, manager_action),
    )
    g = guest(state, name)
    assert g.state in ("stopped", "powered_off") and g.server is None, show(g)
    assert all(name not in s.guests for s in state.servers.values()), f"a server still lists {name}"


@then(parsers.re(rf"guests (?P<first>{SERVER}) to (?P<last>{SERVER}) are running"))
def all_running(
    ovm_driver: PoolDriver, fault: Fault | None, manager_action: ManagerAction | None, first: str, last: str
) -> None:
    """Every guest of the range (eventually) runs on a server that is up."""
    wanted = numbered_range(first, last)
    state = eventually(
        ovm_driver,
        lambda s: all(guest(s, g).state == "running" for g in wanted),
        patience_ms(ovm_driver, fault, manager_action),
    )
    for g in wanted:
        assert guest(state, g).state == "running", show(guest(state, g))


@then(
    parsers.re(
        rf"(?P<count>\d+) of the guests (?P<first>{SERVER}) to (?P<last>{SERVER}) "
        r"(?:is|are) (?P<what>running|powered off)"
    )
)
def count_in_state(
    ovm_driver: PoolDriver,
    fault: Fault | None,
    manager_action: ManagerAction | None,
    count: str,
    first: str,
    last: str,
    what: str,
) -> None:
    """Once the pool has reacted (and settled, after a server came back), exactly that many guests
    of the range are in that state."""
    start = let_horizon_pass(ovm_driver, fault, manager_action)
    settle_after_recovery(ovm_driver, fault, manager_action)
    names = numbered_range(first, last)
    wanted = "powered_off" if what == "powered off" else "running"

    def found(s: PoolState) -> list[str]:
        return [g for g in names if guest(s, g).state == wanted]

    def mismatch(s: PoolState) -> str:
        return f"{len(found(s))} {what}, expected {count}: " + "; ".join(show(guest(s, g)) for g in names)

    state = ovm_driver.observe()
    if len(found(state)) != int(count):
        # on a real-time clock a restart the load delayed past the horizon is granted the lag
        # measured since the fault (nothing on the simulator), and too slow to judge beyond it
        now = ovm_driver.now_ms()
        bound = max(1, now - start)

        def grant_now() -> Grant:
            window = (start, ovm_driver.now_ms())
            steps = [ChainStep(f"the restarts of {first} to {last}", None)]
            return grant_for(ovm_driver, steps, window, guests=names)

        grant = wait_granted(ovm_driver, lambda s: len(found(s)) == int(count), now, bound, grant_now)
        state = ovm_driver.observe()
        if len(found(state)) != int(count):
            check = f"{count} of {first} to {last} {what}"
            check_late(ovm_driver, check, None, bound, grant, mismatch(state))
    assert len(found(state)) == int(count), mismatch(state)


@then(parsers.re(rf"guest (?P<name>{SERVER}) is restarted(?P<elsewhere> on another server)?"))
def restarted(
    ovm_driver: PoolDriver,
    fault: Fault | None,
    manager_action: ManagerAction | None,
    name: str,
    elsewhere: str | None,
) -> None:
    """The guest was booted again (one more restart) and runs, on another server if so stated."""
    ref = latest(fault, manager_action)
    assert ref is not None, "this Then step needs an earlier When step"
    before = guest(ref.before, name)

    def done(s: PoolState) -> bool:
        g = guest(s, name)
        return (
            g.state == "running"
            and g.restarts > before.restarts
            and (not elsewhere or g.server != before.server)
        )

    # on a real-time clock the wait is granted the lag measured meanwhile (a loaded machine delays
    # the agents' round trips), and a restart missing because of more lag than a verdict can bear
    # is too slow to judge, not a failure
    start, wait = ovm_driver.now_ms(), patience_ms(ovm_driver, fault, manager_action)

    def grant_now() -> Grant:
        window = (start, ovm_driver.now_ms())
        return grant_for(ovm_driver, [ChainStep(f"the restart of {name}", None)], window, guests=[name])

    grant = wait_granted(ovm_driver, done, start + wait, wait, grant_now)
    state = ovm_driver.observe()
    g = guest(state, name)
    if not done(state):
        check_late(ovm_driver, f"{name} restarted", None, wait, grant, f"{show(g)}; before: {show(before)}")
    assert g.restarts == before.restarts + 1, f"{name} was restarted {g.restarts - before.restarts} times"


@then(parsers.re(rf"guest (?P<name>{SERVER}) keeps running on (?P<server>{SERVER})"))
def keeps_running(
    ovm_driver: PoolDriver, fault: Fault | None, manager_action: ManagerAction | None, name: str, server: str
) -> None:
    """Through the whole horizon the guest is never stopped, restarted or moved: it runs on that server."""
    start = let_horizon_pass(ovm_driver, fault, manager_action)
    g = guest(ovm_driver.observe(), name)
    ref = latest(fault, manager_action)
    restarts_before = guest(ref.before, name).restarts if ref else g.restarts
    stops = [
        e for e in ovm_driver.timeline() if e.kind == "guest_stop" and e.guest == name and e.t_ms >= start
    ]
    assert not stops, f"{name} was stopped on {stops[0].server} at {stops[0].t_ms} ms ({stops[0].detail})"
    assert g.state == "running" and g.server == server and g.restarts == restarts_before, show(g)


@then(
    parsers.re(rf"guest (?P<name>{SERVER}) survives the hang of (?P<server>{SERVER}) without being restarted")
)
def survives_hang(
    ovm_driver: PoolDriver, fault: Fault | None, manager_action: ManagerAction | None, name: str, server: str
) -> None:
    """A freeze is not a stop: through the horizon of the hang the guest is never started again
    anywhere, and once its server is back it runs there, with no more restarts than before. Its
    domain, frozen with the server, may show a gap while the server was hung, nowhere else."""
    fault = required_fault(fault)
    assert fault.kind == "hang" and server in fault.servers, f"the last fault is not a hang of {server}"
    let_horizon_pass(ovm_driver, fault, manager_action)
    before = guest(fault.before, name)
    assert before.server == server and before.state == "running", f"before the hang: {show(before)}"
    came_back = last_recovery(ovm_driver)
    events = ovm_driver.timeline()
    starts = [e for e in events if e.kind == "guest_start" and e.guest == name and e.t_ms >= fault.at_ms]
    assert not starts, f"{name} was started again on {starts[0].server} at {starts[0].t_ms} ms" + history(
        ovm_driver, name
    )
    stops = [
        e
        for e in events
        if e.kind == "guest_stop"
        and e.guest == name
        and e.t_ms >= fault.at_ms
        and (e.server != server or came_back is None or e.t_ms >= came_back)
    ]
    assert not stops, f"{name} was stopped on {stops[0].server} at {stops[0].t_ms} ms ({stops[0].detail})"
    g = guest(ovm_driver.observe(), name)
    assert g.state == "running" and g.server == server and g.restarts == before.restarts, (
        f"{show(g)}; before the hang: {show(before)}" + history(ovm_driver, name)
    )
