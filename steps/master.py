"""Then-steps on the server pool master and the servers' roles (master, utility, vm)."""

from __future__ import annotations

from pytest_bdd import parsers, then

from environments.base import PoolDriver
from environments.latency import Grant
from environments.model import PoolState
from steps.horizon import eventually, let_horizon_pass, patience_ms
from steps.observed import UP
from steps.records import SERVER, Fault, ManagerAction, names, required_fault
from steps.timing import ChainStep, check_late, first, grant_for, granted, wait_granted


@then(parsers.re(rf"(?P<server>{SERVER}) is the server pool master"))
def is_master(
    ovm_driver: PoolDriver, fault: Fault | None, manager_action: ManagerAction | None, server: str
) -> None:
    """The pool's master (as observed) is that server, and it holds the master role."""
    ovm_driver.require("master")
    wait_ms = patience_ms(ovm_driver, fault, manager_action)
    state = eventually(ovm_driver, lambda s: s.master == server, wait_ms)
    assert state.master == server, f"the server pool master is {state.master}"
    assert "master" in state.servers[server].roles, (
        f"{server} lacks the master role: {state.servers[server].roles}"
    )


@then("there is no server pool master")
def no_master(ovm_driver: PoolDriver, fault: Fault | None, manager_action: ManagerAction | None) -> None:
    """Through the horizon of the last fault no server takes the master role."""
    ovm_driver.require("master")
    let_horizon_pass(ovm_driver, fault, manager_action)
    state = ovm_driver.observe()
    holders = [s for s, st in state.servers.items() if "master" in st.roles and st.state in UP]
    assert state.master is None and not holders, f"{state.master or holders} became server pool master"


@then("the new server pool master is the first server that acquired the master lock")
def master_is_first_lock_holder(ovm_driver: PoolDriver, fault: Fault | None) -> None:
    """After the master's fault, the first server recorded acquiring the master lock is the pool's
    master, and no other server took the master role meanwhile (the lock elects, not the server
    that merely saw the master die)."""
    ovm_driver.require("master")
    fault = required_fault(fault)
    old = fault.before.master
    bound = ovm_driver.failover_bound_ms(fault.kind)
    ovm_driver.wait_until(
        lambda s: s.master is not None and s.master != old, max(0, fault.at_ms + bound - ovm_driver.now_ms())
    )
    ovm_driver.advance(2 * ovm_driver.timings.iteration_ms)  # a rival that also claims the role does it now
    events = [e for e in ovm_driver.timeline() if e.t_ms >= fault.at_ms]
    locks = [e for e in events if e.kind == "master_lock" and e.server != old]
    assert locks, f"no server recorded acquiring the master lock after {old} failed"
    holder = locks[0].server
    state = ovm_driver.observe()
    assert state.master == holder, (
        f"the server pool master is {state.master}; {holder} acquired the lock first"
    )
    others = sorted(
        str(e.server)
        for e in events
        if e.kind == "master" and e.server not in (holder, None) and "is the server pool master" in e.detail
    )
    assert not others, f"{', '.join(sorted(set(others)))} took the master role too; {holder} holds the lock"


@then("another server becomes the server pool master within the failover bound")
def new_master(ovm_driver: PoolDriver, fault: Fault | None) -> None:
    """A surviving server (not the failed master) holds the master role by the master failover bound
    (plus the measured latency of the detection and the election, on a real-time clock)."""
    ovm_driver.require("master")
    fault = required_fault(fault)
    old = fault.before.master
    bound = ovm_driver.failover_bound_ms(fault.kind)

    def taken(state: PoolState) -> bool:
        return state.master is not None and state.master != old and state.servers[state.master].state in UP

    def grant_now() -> Grant:
        """The lag of the heartbeat read that saw the master dead and of the election."""
        events = ovm_driver.timeline()
        down = first(events, fault.at_ms, "node_down", server=old) if old else None
        elected = first(events, fault.at_ms, "master")
        new = [elected.server] if elected and elected.server else None
        since = fault.at_ms - ovm_driver.timings.iteration_ms
        steps = [
            ChainStep("detection", down.t_ms if down else None, new, since),
            ChainStep("master election", elected.t_ms if elected else None, new),
        ]
        return grant_for(ovm_driver, steps, (fault.at_ms, ovm_driver.now_ms()), fault_at_ms=fault.at_ms)

    grant = wait_granted(ovm_driver, taken, fault.at_ms + bound, bound, grant_now)
    state = ovm_driver.observe()
    marks = [e.t_ms for e in ovm_driver.timeline() if e.kind == "master" and e.t_ms >= fault.at_ms]
    if marks or not taken(state):  # a driver that records no role change is judged on the state alone
        measured = min(marks) - fault.at_ms if marks else None
        check_late(
            ovm_driver,
            "another server taking the master role within the failover bound",
            measured,
            bound,
            grant_now(),
            f"the server pool master is {state.master} {state.time_ms - fault.at_ms} ms after {old} failed"
            if measured is None
            else f"the master role was taken {measured} ms after {old} failed (failover bound {bound} ms)",
        )
    assert taken(state), (
        f"the server pool master is {state.master} {state.time_ms - fault.at_ms} ms after {old} failed"
        + granted(grant)
    )


@then("exactly one server has the master role")
def one_master(ovm_driver: PoolDriver) -> None:
    """Of the servers that are up, exactly one holds the master role, and it is the pool's master."""
    ovm_driver.require("master")
    state = ovm_driver.observe()
    holders = [s for s, st in state.servers.items() if "master" in st.roles and st.state in UP]
    assert holders == [state.master], f"master role held by {holders}, pool master is {state.master}"


@then(parsers.re(rf"(?P<server>{SERVER}) has the (?P<roles>[\w, ]+?) roles?"))
def has_roles(ovm_driver: PoolDriver, server: str, roles: str) -> None:
    """The server holds each named role (master, utility, vm)."""
    ovm_driver.require("roles")
    held = ovm_driver.observe().servers[server].roles
    missing = [r for r in names(roles) if r not in held]
    assert not missing, f"{server} has the roles {list(held)}, not {missing}"


@then(parsers.re(r"no running server has the (?P<role>\w+) role"))
def nobody_has_role(
    ovm_driver: PoolDriver, fault: Fault | None, manager_action: ManagerAction | None, role: str
) -> None:
    """Through the horizon of the last fault, no server that is up holds the role."""
    ovm_driver.require("roles")
    let_horizon_pass(ovm_driver, fault, manager_action)
    state = ovm_driver.observe()
    holders = [s for s, st in state.servers.items() if role in st.roles and st.state in UP]
    assert not holders, f"{holders} hold the {role} role"


@then("every server answers to the server pool master")
def single_point(ovm_driver: PoolDriver) -> None:
    """There is one master, it sees every running server heartbeating, and it alone has the master role."""
    ovm_driver.require("roles", "heartbeat")
    state = ovm_driver.observe()
    assert state.master is not None, "the pool has no server pool master"
    up = {s for s, st in state.servers.items() if st.state in UP}
    unseen = up - set(state.servers[state.master].live_view)
    assert not unseen, f"the master {state.master} does not reach {sorted(unseen)}"
    one_master(ovm_driver)
