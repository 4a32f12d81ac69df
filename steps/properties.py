"""Then-steps that judge a whole run: HA's safety and liveness properties after any fault schedule.

They take nothing from earlier steps: what they need (when the first fault
happened, which servers went down since, which guests ran) is read off the
driver's timeline and observation, so they hold for any sequence of When
steps, however many faults it injects and however close together. Each is
judged at the present instant; a scenario lets time pass first ("N seconds
pass", "the pool has settled"). `ovm-conformance campaign` ends every
schedule it tries with these steps, and prints a violation as a scenario
that uses them.
"""

from __future__ import annotations

from pytest_bdd import parsers, then

from environments import invariants as tl
from environments.base import PoolDriver
from environments.model import PoolState, TimelineEvent
from ovmref.release import Release

UP = ("running", "maintenance")


def since_first_fault(events: list[TimelineEvent]) -> int:
    """The instant properties are judged from: the first fault (the run's end when none was injected)."""
    first = tl.first_fault_ms(events)
    return first if first is not None else (events[-1].t_ms + 1 if events else 0)


def guests_before_first_fault(events: list[TimelineEvent]) -> set[str]:
    """Guests that were running at the instant of the first fault."""
    t0 = since_first_fault(events)
    return {
        i.guest for i in tl.run_intervals(events) if i.start_ms <= t0 and (i.end_ms is None or i.end_ms >= t0)
    }


def ha_protected(state: PoolState, guest: str) -> bool:
    return state.ha_enabled is True and state.guests[guest].ha is True


def unmet_restarts(driver: PoolDriver, surviving_only: bool) -> list[str]:
    """Why some HA guest that ran before the first fault is neither running nor rightly powered off."""
    state, events = driver.observe(), driver.timeline()
    if state.master is None and driver.release is Release.R2_1:
        return []  # 2.1: "If the Server Pool Master fails, HA also fails" until it is back
    down = tl.servers_down_since(events, since_first_fault(events)) if surviving_only else set()
    left = [s for s in state.servers.values() if s.state in UP and s.name not in down]
    survivors = {s.name for s in left}
    problems = []
    if left and state.master is None:
        problems.append(f"no server pool master, although {', '.join(s.name for s in left)} are up")
    for name in sorted(guests_before_first_fault(events)):
        if name not in state.guests or not ha_protected(state, name):
            continue
        g = state.guests[name]
        if g.state == "running" and g.server is not None and state.servers[g.server].state in UP:
            continue
        room = [
            s.name
            for s in left
            if s.free_memory_mb >= g.memory_mb and (not g.preferred or s.name in g.preferred)
        ]
        if not room and (g.state == "powered_off" or state.master not in survivors):
            continue  # a master that is not a survivor has just booted: it has not judged yet
        why = f"{', '.join(room)} had room for its {g.memory_mb} MB" if room else "it is not powered off"
        problems.append(
            f"{name} is {g.state} on {g.server or 'no server'} after {g.restarts} restart(s): {why}"
        )
    return problems


def _history(events: list[TimelineEvent], guests: list[str], last: int = 6) -> str:
    lines = []
    for name in guests:
        mine = [e for e in events if e.guest == name][-last:]
        lines.append(
            f"  {name}: " + "; ".join(f"{e.t_ms} ms {e.kind} on {e.server} ({e.detail})" for e in mine)
        )
    return "\n".join(lines)


@then(
    parsers.re(
        r"every HA guest is running, or is powered off because no (?P<which>surviving server|server) "
        r"has room for it"
    )
)
def every_ha_guest_back(ovm_driver: PoolDriver, which: str) -> None:
    """Every HA guest that ran before the first fault runs now, unless no server that is up ("surviving":
    up and never failed, fenced or halted since the first fault) has room for it among its preferred
    servers; then it is powered off, once the master is a surviving one (a master that has just
    booted judges only after a dead threshold). With no master in 2.1, HA is down: nothing is due."""
    problems = unmet_restarts(ovm_driver, surviving_only=which == "surviving server")
    guests = [p.split(" ", 1)[0] for p in problems if not p.startswith("no server pool master")]
    assert not problems, "\n".join(problems) + "\n" + _history(ovm_driver.timeline(), guests)


@then("every server is back in the cluster")
def every_server_back(ovm_driver: PoolDriver) -> None:
    """Every server of the pool is up, each one sees all the others heartbeating, and there is a
    server pool master."""
    state = ovm_driver.observe()
    down = [
        f"{s.name} is {s.state}" for s in state.servers.values() if s.state not in UP and s.state != "deleted"
    ]
    assert not down, "; ".join(down)
    up = {s.name for s in state.servers.values() if s.state in UP}
    blind = [
        f"{s} does not see {sorted(up - set(state.servers[s].live_view))}"
        for s in sorted(up)
        if not up <= set(state.servers[s].live_view)
    ]
    assert not blind, "; ".join(blind)
    assert state.master is not None, "there is no server pool master"


@then("no guest without HA was restarted")
def no_restart_without_ha(ovm_driver: PoolDriver) -> None:
    """Since the first fault no guest lacking HA on the pool or on itself was started again anywhere."""
    state, events = ovm_driver.observe(), ovm_driver.timeline()
    unprotected = [g for g in state.guests if not ha_protected(state, g)]
    starts = tl.starts_after(events, unprotected, since_first_fault(events))
    assert not starts, "; ".join(
        f"{e.guest} started on {e.server} at {e.t_ms} ms ({e.detail})" for e in starts
    )


@then("every server that fenced itself stopped its guests")
def fence_stops_guests(ovm_driver: PoolDriver) -> None:
    """From the timeline: no guest kept running on a server past the instant that server fenced itself."""
    leftovers = tl.guests_left_running(ovm_driver.timeline())
    assert not leftovers, "; ".join(
        f"{fence.server} fenced itself at {fence.t_ms} ms but {tl.describe(run)}" for fence, run in leftovers
    )


@then("there was never more than one server pool master at a time")
def one_master_at_a_time(ovm_driver: PoolDriver) -> None:
    """From the timeline: no two servers acted as server pool master at a common instant."""
    clashes = tl.two_masters(ovm_driver.timeline())
    assert not clashes, "; ".join(
        f"{a.server} (from {a.start_ms} ms) and {b.server} (from {b.start_ms} ms) were both master"
        for a, b in clashes
    )


@then("every restarted guest went to the server with the most free memory its preferred-server policy allows")
def restarts_placed_by_policy(ovm_driver: PoolDriver) -> None:
    """Each HA restart went to an available server with the most free memory (Auto: any server;
    Manual: one of its preferred servers), memory in use replayed from the timeline as the master
    counts it. Judged where the master's view is sure: servers that joined, and a master in place,
    at least two resync periods before the restart."""
    state = ovm_driver.observe()
    memory = {g.name: g.memory_mb for g in state.guests.values()}
    preferred = {g.name: g.preferred for g in state.guests.values()}
    used: dict[str, int] = {}
    for g in state.guests.values():
        if g.server is not None:
            used[g.server] = used.get(g.server, 0) + g.memory_mb
    capacity = {s.name: s.free_memory_mb + used.get(s.name, 0) for s in state.servers.values()}
    nodes = {s.name: s.node for s in state.servers.values()}
    wrong = tl.misplaced_restarts(ovm_driver.timeline(), memory, preferred, capacity, nodes)
    assert not wrong, "; ".join(
        f"{w.at_ms} ms: {w.guest} restarted on {w.target}, but {w.why}" for w in wrong
    )
