"""Then-steps on failover timing: a failed server's (or a crashed guest's) guests run again in time.

Checks of an instant read it from the servers' own records and are judged by
steps.timing: on a real-time clock they are granted the latency the run
measured, and say so.
"""

from __future__ import annotations

from pytest_bdd import parsers, then

from environments.base import PoolDriver
from environments.latency import Grant
from environments.model import PoolState
from environments.outcome import next_run
from steps.observed import UP, guest, history, show
from steps.records import SERVER, SERVERS, Fault, first_fault, history_of, names, required_fault
from steps.timing import ChainStep, check_late, failover_steps, first, grant_for, granted, wait_granted


@then(parsers.re(rf"guest (?P<name>{SERVER}) is running on another server within the failover bound"))
def restarted_within_bound(ovm_driver: PoolDriver, fault: Fault | None, name: str) -> None:
    """The guest runs on an available server other than the one it ran on, by fault time + failover bound."""
    check_failover(ovm_driver, required_fault(fault), [name])


@then(
    parsers.re(
        rf"every HA guest of (?P<servers>{SERVERS}) is running on another server within the "
        r"failover bound"
    )
)
def all_restarted_within_bound(ovm_driver: PoolDriver, fault: Fault | None, servers: str) -> None:
    """Every HA guest that ran on the named servers before the fault runs elsewhere within the bound."""
    fault = required_fault(fault)
    victims = names(servers)
    ha = [
        g.name for g in fault.before.guests.values() if g.ha and g.state == "running" and g.server in victims
    ]
    assert ha, f"no HA guest ran on {servers} before the fault: the scenario checks nothing"
    check_failover(ovm_driver, fault, ha)


@then(
    parsers.re(
        rf"every HA guest of (?P<servers>{SERVERS}) is running on another server within the "
        r"failover bound of the first fault"
    )
)
def all_restarted_within_first_bound(
    ovm_driver: PoolDriver, servers: str
) -> None:
    """Every HA guest that ran on the named servers before the scenario's first fault runs elsewhere
    within the failover bound of that first fault, however many faults followed it."""
    fault = first_fault(ovm_driver)
    victims = names(servers)
    ha = [
        g.name for g in fault.before.guests.values() if g.ha and g.state == "running" and g.server in victims
    ]
    assert ha, f"no HA guest ran on {servers} before the first fault: the scenario checks nothing"
    # servers hit by later steps were hit that much later (a real environment takes a moment per
    # fault): the bound runs from the first fault, lengthened by that delay and no more
    hit = [f for f in history_of(ovm_driver).faults if set(f.servers) & set(victims)]
    spread = max((f.at_ms + f.spread_ms for f in hit), default=fault.at_ms) - fault.at_ms
    check_failover(
        ovm_driver, Fault(fault.kind, tuple(victims), fault.at_ms, fault.before, spread_ms=spread), ha
    )


@then(parsers.re(r"every HA guest is running within the failover bound"))
def every_ha_guest_running(ovm_driver: PoolDriver, fault: Fault | None) -> None:
    """Every HA guest that ran before the fault runs again (on a server still up) within the bound."""
    fault = required_fault(fault)
    ha = [g.name for g in fault.before.guests.values() if g.ha and g.state == "running"]
    assert ha, "no HA guest ran before the fault: the scenario checks nothing"
    check_failover(ovm_driver, fault, ha, must_move=False)


def check_failover(
    driver: PoolDriver, fault: Fault, guests: list[str], must_move: bool = True
) -> None:
    """Each guest runs again (elsewhere, if `must_move`) on a server that is up, and its first
    boot after the fault reached running within the failover bound (plus the measured latency,
    and the fault's spread: victims hit some seconds apart are judged from the last of them)."""
    __tracebackhide__ = True
    bound = driver.failover_bound_ms(fault.kind) + fault.spread_ms
    deadline = fault.at_ms + bound
    origin = {g: fault.before.guests[g].server for g in guests}

    def moved(state: PoolState, g: str) -> bool:
        gs = state.guests.get(g)
        if gs is None or gs.state != "running" or gs.server is None:
            return False
        server = state.servers.get(gs.server)
        return (server is not None and server.state in UP) and (not must_move or gs.server != origin[g])

    def grant_of(g: str) -> Grant:
        """The lag measured on the guest's chain from the fault to its boot (on a real clock)."""
        window = (fault.at_ms, driver.now_ms())
        steps = failover_steps(driver.timeline(), fault, g, driver.timings.iteration_ms)
        return grant_for(driver, steps, window, guests=[g], fault_at_ms=fault.at_ms)

    def grant_now() -> Grant:
        return max((grant_of(g) for g in guests), key=lambda grant: grant.pool_ms)

    # a guest that may stay put is judged at the deadline: just after the fault every guest still
    # runs on a server that has not fenced yet, so an early look would prove nothing
    done = None if not must_move else (lambda s: all(moved(s, g) for g in guests))
    grant = wait_granted(driver, done, deadline, bound, grant_now)
    state = driver.observe()
    events = driver.timeline()
    came_back: dict[str, int | None] = {}
    for g in guests:
        stopped = any(e.kind == "guest_stop" and e.guest == g and e.t_ms >= fault.at_ms for e in events)
        if not must_move and not stopped and state.guests[g].server == origin[g] and moved(state, g):
            continue  # never interrupted: its server survived the fault
        # must_move: only a run on another server counts; otherwise a run anywhere does
        left = origin[g] if must_move else None
        run = next_run(events, g, fault.at_ms, left, elsewhere=True, bound_ms=bound)
        came_back[g] = run.after_ms(fault.at_ms)
    if came_back:
        never = [g for g, after in came_back.items() if after is None]
        worst = never[0] if never else max(came_back, key=lambda g: came_back[g] or 0)
        measured = came_back[worst]
        failure = (
            f"{worst} came back {measured} ms after the fault; the failover bound is {bound} ms"
            if measured is not None
            else f"{show(guest(state, worst))}, {state.time_ms - fault.at_ms} ms after the {fault.kind} of "
            f"{', '.join(fault.servers)} (it ran on {origin[worst]})"
        )
        what = "on another server" if must_move else "again"
        check = f"{worst} running {what} within the failover bound"
        check_late(driver, check, measured, bound, grant_of(worst), failure, history(driver, worst))
    for g in guests:
        assert moved(state, g), (
            f"{show(guest(state, g))}, {state.time_ms - fault.at_ms} ms after the "
            f"{fault.kind} of {', '.join(fault.servers)} (it ran on {origin[g]})" + granted(grant)
        )


@then(
    parsers.re(rf"guest (?P<name>{SERVER}) is restarted on another server within the guest restart bound")
)
def crashed_guest_restarted_elsewhere(
    ovm_driver: PoolDriver, fault: Fault | None, name: str
) -> None:
    """After the guest crashed (its server up), it runs on another server that is up, and its first
    boot there reached running within the guest restart bound: the crash report and the start
    command an iteration each, and the boot (plus the measured latency, on a real-time clock)."""
    fault = required_fault(fault)
    origin = guest(fault.before, name).server
    bound = ovm_driver.timings.guest_restart_bound_ms()

    def elsewhere(state: PoolState) -> bool:
        g = guest(state, name)
        up = g.server is not None and state.servers[g.server].state in UP
        return g.state == "running" and up and g.server != origin

    def grant_now() -> Grant:
        window = (fault.at_ms, ovm_driver.now_ms())
        start = first([e for e in ovm_driver.timeline() if e.guest == name], fault.at_ms, "guest_start")
        where = [start.server] if start is not None and start.server else None
        steps = [
            ChainStep("crash report", None, [origin] if origin else None),
            ChainStep("start command", start.t_ms if start else None, where),
        ]
        return grant_for(ovm_driver, steps, window, guests=[name], fault_at_ms=fault.at_ms)

    grant = wait_granted(ovm_driver, elsewhere, fault.at_ms + bound, bound, grant_now)
    events = ovm_driver.timeline()
    # the crash happened when its server recorded the guest gone (a real server notices a dead
    # domain a moment after it was killed); without that record, when it was injected
    noticed = first([e for e in events if e.guest == name], fault.at_ms, "guest_stop", server=origin)
    crashed_at = noticed.t_ms if noticed is not None else fault.at_ms
    began = [
        e.t_ms
        for e in events
        if e.kind == "guest_running" and e.guest == name and e.t_ms >= fault.at_ms and e.server != origin
    ]
    measured = min(began) - crashed_at if began else None
    state = ovm_driver.observe()
    check_late(
        ovm_driver,
        f"{name} running on another server within the guest restart bound",
        measured,
        bound,
        grant_now(),
        f"{name} ran on another server {measured} ms after it crashed; the guest restart bound is {bound} ms"
        if measured is not None
        else f"{show(guest(state, name))}, {state.time_ms - fault.at_ms} ms after it crashed on {origin}",
        history(ovm_driver, name),
    )
    assert elsewhere(state), f"{show(guest(state, name))}; it crashed on {origin}" + granted(grant)
