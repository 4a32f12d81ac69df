"""Then-steps on cluster membership as the disk heartbeat shows it: who sees whom heartbeating,
when a server is declared dead or seen leaving, and a server back in the cluster or gone from the pool.

Read from when each server recorded a node leaving its heartbeat region, so a
real-time environment is judged on when a server decided, not when a poll noticed.
"""

from __future__ import annotations

from pytest_bdd import parsers, then

from environments.base import PoolDriver
from environments.latency import Grant
from environments.model import PoolState
from steps.horizon import eventually, horizon, let_horizon_pass, patience_ms
from steps.observed import UP
from steps.records import SERVER, Fault, ManagerAction, required_action, required_fault
from steps.timing import ChainStep, check_late, clock_resolution_ms, grant_for, granted, wait_granted


def seen_down_at(driver: PoolDriver, observer: str, node: int, after_ms: int) -> int | None:
    """When `observer` recorded node `node` leaving its heartbeat region (o2hb), after `after_ms`.

    Read from the servers' own records, so a real-time environment is judged on
    when a server decided, not on when a poll happened to notice."""
    seen = [
        e.t_ms
        for e in driver.timeline()
        if e.server == observer
        and e.kind == "o2hb-node-down"
        and e.t_ms >= after_ms
        and e.detail.startswith(f"node {node} left")
    ]
    return min(seen) if seen else None


def reads_after_last_write(driver: PoolDriver, observer: str, server: str, decided_ms: int) -> int | None:
    """How many heartbeat iterations `observer` ran from the first whose read could see `server`'s
    last write up to the one whose read made it declare `server` dead (decided at `decided_ms`);
    None when the servers' heartbeat writes are not recorded.

    Each iteration reads the region, then writes its own block, recorded with the instant the
    write was issued; the victim's writes are recorded the same way. So an observer iteration
    recorded after the victim's last write is one whose read may have seen it, and the timeline's
    order (to the microsecond on real clocks) decides, whatever the machine's latency."""
    events = driver.timeline()
    decided = next(
        (i for i, e in enumerate(events) if e.server == observer and e.kind == "o2hb-node-down"
         and e.t_ms == decided_ms),
        None,
    )
    if decided is None:
        return None
    writes = [i for i, e in enumerate(events[:decided]) if e.kind == "heartbeat" and e.server == server]
    if not writes:
        return None
    last_write = writes[-1]
    return sum(1 for e in events[last_write:decided] if e.kind == "heartbeat" and e.server == observer)


@then(parsers.re(rf"every other server sees (?P<server>{SERVER}) as dead after the O2CB dead threshold"))
def seen_dead(
    ovm_driver: PoolDriver, fault: Fault | None, manager_action: ManagerAction | None, server: str
) -> None:
    """Peers drop the server from their live view only after O2CB_HEARTBEAT_THRESHOLD unchanged reads of
    its slot following the read that saw its last write (where heartbeat writes are recorded;
    else no sooner than threshold-1 iterations after the fault), and no later than threshold+1
    heartbeat iterations after the fault (plus the measured latency, on a real-time clock)."""
    fault = required_fault(fault)
    t = ovm_driver.timings
    others = [s for s, st in fault.before.servers.items() if s != server and st.state in UP]
    node = fault.before.servers[server].node

    def all_see_dead(state: PoolState) -> bool:
        return all(server not in state.servers[o].live_view for o in others if state.servers[o].state in UP)

    early, late = (t.dead_threshold - 1) * t.iteration_ms, (t.dead_threshold + 1) * t.iteration_ms

    def grant_now(observer: str | None = None, at: int | None = None) -> Grant:
        """The lag of the reads that declared the server dead (of any peer's, while none has)."""
        steps = [ChainStep("detection", at, [observer] if observer else others, fault.at_ms - t.iteration_ms)]
        return grant_for(ovm_driver, steps, (fault.at_ms, ovm_driver.now_ms()), fault_at_ms=fault.at_ms)

    def all_recorded(_state: PoolState) -> bool:
        return all(seen_down_at(ovm_driver, o, node, fault.at_ms) is not None for o in others)

    # judged on the servers' own records; the live views, polled, must agree in the end
    grant = wait_granted(ovm_driver, all_recorded, fault.at_ms + late, late, grant_now)
    seen = {o: seen_down_at(ovm_driver, o, node, fault.at_ms) for o in others}
    never = [o for o, at in seen.items() if at is None]
    latest = never[0] if never else max(seen, key=lambda o: seen[o] or 0)
    after = None if seen[latest] is None else (seen[latest] or 0) - fault.at_ms
    check_late(
        ovm_driver,
        f"{latest} seeing {server} dead within the O2CB dead threshold",
        after,
        late,
        grant_now(latest, seen[latest]) if seen[latest] is not None else grant,
        f"{latest} declared {server} dead {after} ms after the fault, outside [{early}, {late}] ms"
        if after is not None
        else f"{latest} never recorded {server} leaving the heartbeat region",
    )
    state = eventually(ovm_driver, all_see_dead, patience_ms(ovm_driver, fault, manager_action))
    assert all_see_dead(state), f"{late} ms after the fault some server still sees {server} alive"
    for other, at in seen.items():
        assert at is not None
        reads = reads_after_last_write(ovm_driver, other, server, at)
        if reads is not None:
            assert reads >= t.dead_threshold + 1, (
                f"{other} declared {server} dead at its heartbeat iteration {reads} from the first whose "
                f"read could see {server}'s last write: O2CB waits for {t.dead_threshold} unchanged reads "
                f"after that one ({t.dead_threshold + 1} iterations)"
            )
        else:
            assert at - fault.at_ms >= early - clock_resolution_ms(ovm_driver), (
                f"{other} declared {server} dead {at - fault.at_ms} ms after the fault, before {early} ms"
            )


@then(
    parsers.re(rf"every other server sees (?P<server>{SERVER}) leave within (?P<n>\d+) heartbeat iterations")
)
def seen_leaving(ovm_driver: PoolDriver, manager_action: ManagerAction | None, server: str, n: str) -> None:
    """After a clean shutdown, the other servers drop the server from their live view within n iterations.

    Judged on when each server recorded the node leaving its heartbeat region, not on when a poll
    noticed, so a real-time environment is held to the same limit as the simulator (plus the
    measured lateness of the observers' heartbeat reads)."""
    action = required_action(manager_action)
    down = [
        e.t_ms
        for e in ovm_driver.timeline()
        if e.server == server and e.t_ms >= action.at_ms and e.kind in ("halt", "o2cb-stop", "node_down")
    ]
    left_at = min(down) if down else ovm_driver.now_ms()
    bound = int(n) * ovm_driver.timings.iteration_ms
    others = [s for s, st in action.before.servers.items() if s != server and st.state in UP]
    node = action.before.servers[server].node

    def gone(state: PoolState) -> bool:
        return all(server not in state.servers[o].live_view for o in others if state.servers[o].state in UP)

    def grant_now(observer: str | None = None, at: int | None = None) -> Grant:
        """The lag of the read that saw the server leave (of any peer's, while none has)."""
        steps = [ChainStep("detection", at, [observer] if observer else others, left_at)]
        return grant_for(ovm_driver, steps, (left_at, ovm_driver.now_ms()))

    grant = wait_granted(
        ovm_driver, gone, left_at + bound + 2 * ovm_driver.timings.iteration_ms, bound, grant_now
    )
    late = ovm_driver.now_ms() - left_at
    assert gone(ovm_driver.observe()), f"other servers still see {server} {late} ms after it left" + granted(
        grant
    )
    seen = {o: seen_down_at(ovm_driver, o, node, left_at) for o in others}
    never = [o for o, at in seen.items() if at is None]
    latest = never[0] if never else max(seen, key=lambda o: seen[o] or 0)
    at = seen[latest]
    check_late(
        ovm_driver,
        f"{latest} seeing {server} leave within {n} heartbeat iterations",
        None if at is None else at - left_at,
        bound,
        grant_now(latest, at) if at is not None else grant,
        f"{latest} saw {server} leave {at - left_at if at is not None else 'never'} ms after it left "
        f"(limit {int(n)} iterations: {bound} ms)",
    )


@then(parsers.re(rf"(?P<server>{SERVER}) rejoins the cluster after rebooting"))
def rejoins(
    ovm_driver: PoolDriver, fault: Fault | None, manager_action: ManagerAction | None, server: str
) -> None:
    """The server went down, rebooted, and is up again in every running server's live view."""
    start, _ = horizon(ovm_driver, fault, manager_action)

    def back(state: PoolState) -> bool:
        if state.servers[server].state not in UP:
            return False
        return all(server in st.live_view for st in state.servers.values() if st.state in UP)

    wait_ms = patience_ms(ovm_driver, fault, manager_action) + ovm_driver.timings.reboot_ms
    state = eventually(ovm_driver, back, wait_ms)
    went_down = [
        e
        for e in ovm_driver.timeline()
        if e.server == server and e.t_ms >= start and e.kind in ("fence", "reboot", "halt")
    ]
    assert went_down, f"{server} never went down to reboot"
    assert back(state), f"{server} is {state.servers[server].state} and not seen by every running server"


@then(parsers.re(rf"(?P<server>{SERVER}) is no longer in the pool"))
def deleted(
    ovm_driver: PoolDriver, fault: Fault | None, manager_action: ManagerAction | None, server: str
) -> None:
    """The server is gone from the pool (absent or deleted) and runs nothing."""
    let_horizon_pass(ovm_driver, fault, manager_action)
    state = ovm_driver.observe()
    s = state.servers.get(server)
    assert s is None or s.state == "deleted", f"{server} is {s.state}"
    assert not state.running_on(server), f"{server} still runs {state.running_on(server)}"


@then("every server sees every other server heartbeating")
def all_see_all(ovm_driver: PoolDriver) -> None:
    """Each running server's live view holds every running server of the pool."""
    state = ovm_driver.observe()
    up = {s for s, st in state.servers.items() if st.state in UP}
    for s in sorted(up):
        missing = up - set(state.servers[s].live_view)
        assert not missing, f"{s} does not see {sorted(missing)} heartbeating"


@then(parsers.re(rf"no other server sees (?P<server>{SERVER}) heartbeating"))
def nobody_sees(ovm_driver: PoolDriver, server: str) -> None:
    """Within the O2CB dead threshold (and two iterations), every other running server has dropped
    the server from its live view: its heartbeat stopped, whatever a command answered."""
    t = ovm_driver.timings

    def gone(state: PoolState) -> bool:
        return all(
            server not in st.live_view for s, st in state.servers.items() if s != server and st.state in UP
        )

    state = eventually(ovm_driver, gone, (t.dead_threshold + 2) * t.iteration_ms)
    seeing = [
        s for s, st in state.servers.items() if s != server and st.state in UP and server in st.live_view
    ]
    assert not seeing, f"{', '.join(seeing)} still see {server} heartbeating"


@then(parsers.re(rf"(?P<server>{SERVER}) records a heartbeat error"))
def heartbeat_error(ovm_driver: PoolDriver, fault: Fault | None, server: str) -> None:
    """Since the last fault the server's heartbeat recorded a failed read or write of its region."""
    fault = required_fault(fault)
    errors = [
        e
        for e in ovm_driver.timeline()
        if e.server == server and e.kind in ("o2hb-read-error", "o2hb-write-error") and e.t_ms >= fault.at_ms
    ]
    assert errors, f"{server} recorded no heartbeat error since {fault.at_ms} ms"


@then(parsers.re(rf"every server sees (?P<server>{SERVER}) heartbeating"))
def all_see(
    ovm_driver: PoolDriver, fault: Fault | None, manager_action: ManagerAction | None, server: str
) -> None:
    """Eventually every running server's live view holds the server."""

    def seen(state: PoolState) -> bool:
        return all(server in st.live_view for st in state.servers.values() if st.state in UP)

    state = eventually(ovm_driver, seen, patience_ms(ovm_driver, fault, manager_action))
    blind = [s for s, st in state.servers.items() if st.state in UP and server not in st.live_view]
    assert not blind, f"{blind} do not see {server} heartbeating"


# o2hb_check_own_slot: a block in our own slot that is not one we wrote (another node's, or another
# generation or sequence of our node number: a second cluster numbers its nodes from 0 too)
OWN_SLOT_ERRORS = (
    "Another node is heartbeating on device",
    "Heartbeat generation mismatch on device",
    "Heartbeat sequence mismatch on device",
)


SECOND_POOL_WAIT_MS = 30_000


@then(
    parsers.re(
        rf"(?P<server>{SERVER}) (?P<verb>reports|does not report) another heartbeat in its own slot"
    )
)
def another_node_in_slot(ovm_driver: PoolDriver, second_pool_at: int, server: str, verb: str) -> None:
    """The server's heartbeat found a block it did not write in its own slot of the region (o2hb's
    "Another node is heartbeating on device", or the generation or sequence mismatch a second
    cluster's node of the same number causes), within 30 s of the second pool; or it never did."""

    def seen() -> list[str]:
        return [
            e.detail
            for e in ovm_driver.timeline()
            if e.server == server and e.kind == "o2hb-warning" and e.t_ms >= second_pool_at
            and any(error in e.detail for error in OWN_SLOT_ERRORS)
        ]

    deadline = second_pool_at + SECOND_POOL_WAIT_MS
    while not seen() and ovm_driver.now_ms() < deadline:
        ovm_driver.advance(1000)
    if verb == "reports":
        assert seen(), f"{server} never reported another heartbeat in its own slot within 30 s"
    else:
        assert not seen(), f"{server} reported another heartbeat in its own slot: {seen()[0]}"
