"""Then-steps on placement: which server runs which guest, now and over the whole timeline."""

from __future__ import annotations

from pytest_bdd import parsers, then

from environments import invariants as tl
from environments.base import PoolDriver
from steps.horizon import eventually, let_horizon_pass, patience_ms, settle_after_recovery
from steps.observed import guest, history, show
from steps.records import SERVER, SERVERS, Fault, ManagerAction, latest, names, required_fault


@then(parsers.re(rf"guest (?P<name>{SERVER}) is running on (?P<server>{SERVER})"))
def running_on(
    ovm_driver: PoolDriver, fault: Fault | None, manager_action: ManagerAction | None, name: str, server: str
) -> None:
    """The guest (eventually) runs on exactly that server."""
    state = eventually(
        ovm_driver,
        lambda s: guest(s, name).state == "running" and guest(s, name).server == server,
        patience_ms(ovm_driver, fault, manager_action),
    )
    g = guest(state, name)
    assert g.state == "running" and g.server == server, f"{show(g)}, expected running on {server}" + history(
        ovm_driver, name
    )


@then(parsers.re(rf"guest (?P<name>{SERVER}) is running on one of (?P<servers>{SERVERS})"))
def running_on_one_of(
    ovm_driver: PoolDriver, fault: Fault | None, manager_action: ManagerAction | None, name: str, servers: str
) -> None:
    """The guest (eventually) runs on one of the named servers."""
    allowed = names(servers)
    state = eventually(
        ovm_driver,
        lambda s: guest(s, name).state == "running" and guest(s, name).server in allowed,
        patience_ms(ovm_driver, fault, manager_action),
    )
    g = guest(state, name)
    assert g.state == "running" and g.server in allowed, f"{show(g)}, expected running on one of {allowed}"


@then(parsers.re(rf"(?P<server>{SERVER}) runs (?P<count>\d+) guests?"))
def runs_count(
    ovm_driver: PoolDriver, fault: Fault | None, manager_action: ManagerAction | None, server: str, count: str
) -> None:
    """Once the pool has reacted (and settled, after a server came back), exactly that many guests
    run on the server."""
    let_horizon_pass(ovm_driver, fault, manager_action)
    settle_after_recovery(ovm_driver, fault, manager_action)
    running = ovm_driver.observe().running_on(server)
    assert len(running) == int(count), f"{server} runs {len(running)} guests ({sorted(running)}), not {count}"


@then(parsers.re(rf"guests (?P<first>{SERVER}) and (?P<second>{SERVER}) run on different servers"))
def on_different_servers(
    ovm_driver: PoolDriver, fault: Fault | None, manager_action: ManagerAction | None, first: str, second: str
) -> None:
    """Once the pool has reacted, both guests run, each on a server of its own."""
    state = eventually(
        ovm_driver,
        lambda s: guest(s, first).state == "running" and guest(s, second).state == "running",
        patience_ms(ovm_driver, fault, manager_action),
    )
    a, b = guest(state, first), guest(state, second)
    assert a.state == "running" and b.state == "running", f"{show(a)}; {show(b)}"
    assert a.server != b.server, f"{first} and {second} both run on {a.server}"


@then(parsers.re(rf"guest (?P<name>{SERVER}) has the Auto preferred-server policy"))
def auto_policy(ovm_driver: PoolDriver, name: str) -> None:
    """The guest has no preferred-server list, which is Oracle VM Manager's Auto policy."""
    g = guest(ovm_driver.observe(), name)
    assert g.preferred == (), f"{name} prefers {list(g.preferred)}: that is the Manual policy"


@then("no guest ever ran on two servers at once")
def never_twice(ovm_driver: PoolDriver) -> None:
    """From the timeline: no guest's running intervals on two different servers overlap."""
    clashes = tl.double_runs(ovm_driver.timeline())
    assert not clashes, "; ".join(f"{tl.describe(a)} overlaps {tl.describe(b)}" for a, b in clashes)


@then(parsers.re(rf"(?P<server>{SERVER}) never runs guest (?P<name>{SERVER}) again"))
def never_again(ovm_driver: PoolDriver, fault: Fault | None, server: str, name: str) -> None:
    """After the last fault the guest never runs on that server for any length of time."""
    fault = required_fault(fault)
    runs = tl.ran_on_after(ovm_driver.timeline(), name, server, fault.at_ms)
    assert not runs, f"{server} ran {name} again: {tl.describe(runs[0])}"


@then(parsers.re(rf"(?P<server>{SERVER}) receives no guests"))
def receives_none(
    ovm_driver: PoolDriver, fault: Fault | None, manager_action: ManagerAction | None, server: str
) -> None:
    """Through the horizon no guest is started or migrated onto the server; it runs none it did not have."""
    start = let_horizon_pass(ovm_driver, fault, manager_action)
    ref = latest(fault, manager_action)
    had = set(ref.before.running_on(server)) if ref else set()
    arrivals = [
        e for e in ovm_driver.timeline() if e.kind == "guest_start" and e.server == server and e.t_ms >= start
    ]
    assert not arrivals, f"{arrivals[0].guest} was started on {server} at {arrivals[0].t_ms} ms"
    new = set(ovm_driver.observe().running_on(server)) - had
    assert not new, f"{server} runs {sorted(new)}"


@then(parsers.re(rf"(?P<server>{SERVER}) runs no guests"))
def runs_none(
    ovm_driver: PoolDriver, fault: Fault | None, manager_action: ManagerAction | None, server: str
) -> None:
    """Once the pool has reacted, no guest runs on the server."""
    wait_ms = patience_ms(ovm_driver, fault, manager_action)
    state = eventually(ovm_driver, lambda s: not s.running_on(server), wait_ms)
    assert not state.running_on(server), f"{server} still runs {state.running_on(server)}"
