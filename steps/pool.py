"""Steps about the server pool: building it, and the Oracle VM Manager operations on pool and servers.

Servers are named server1..serverN; server1 (node 0) is the Server Pool
Master and also has the utility and virtual machine roles, the others are
virtual machine servers, unless a table says otherwise.

Defaults: a server has 16384 MB of memory unless "and N MB of memory per
server" or the table's memory column says otherwise; a server added with
"serverN is added to the pool" always gets 16384 MB, whatever the pool's
other servers have.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pytest_bdd import given, parsers, then, when

from environments.base import PoolDriver
from environments.model import OpResult, PoolSpec, ServerSpec, StorageKind
from ovmref.failover import requests as rq
from steps.records import SERVER, ManagerAction, names, required_action

STORAGE: dict[str, tuple[StorageKind, str]] = {
    "NFS": ("nfs", "example.com:/OVS"),
    "OCFS2 over iSCSI": ("ocfs2-iscsi", "/dev/sdb1"),
    "OCFS2 over SAN": ("ocfs2-san", "/dev/sdb1"),
}
_STORAGE_RE = "|".join(STORAGE)
DEFAULT_MEMORY_MB = 16384


def server_specs(count: int, memory_mb: int) -> tuple[ServerSpec, ...]:
    """server1 is the master (and utility) server; every server runs guests."""
    return tuple(
        ServerSpec(
            name=f"server{i}", memory_mb=memory_mb, roles=("master", "utility", "vm") if i == 1 else ("vm",)
        )
        for i in range(1, count + 1)
    )


def build(
    driver: PoolDriver,
    storage: str,
    servers: tuple[ServerSpec, ...],
    *,
    ha: bool,
    clustered: bool = True,
    prepared: Literal["pool", "master"] = "pool",
) -> PoolSpec:
    __tracebackhide__ = True
    kind, root = STORAGE[storage]
    spec = PoolSpec(
        storage=kind,
        cluster_root=root,
        servers=servers,
        ha_enabled=ha,
        clustered=clustered,
        prepared=prepared,
    )
    result = driver.build_pool(spec)
    assert result.ok, f"the pool could not be built: {result.message} {list(result.errors)}"
    return driver.effective_spec(spec)


def manager(
    driver: PoolDriver, operation: str, target: str | None, call: Callable[[], OpResult]
) -> ManagerAction:
    """Run one Manager operation, remembering when it started and the pool just before."""
    before = driver.observe()
    at_ms = driver.now_ms()
    return ManagerAction(operation, target, call(), at_ms, before)


# ---------------------------------------------------------------------------- building pools
@given(
    parsers.re(
        rf"an? (?P<clustered>clustered|unclustered) server pool of (?P<count>\d+) servers? on "
        rf"(?P<storage>{_STORAGE_RE}) shared storage(?: with HA (?P<ha>enabled|disabled) on the pool)?"
        rf"(?: and (?P<memory>\d+) MB of memory per server)?"
    ),
    target_fixture="pool_spec",
)
def given_pool(
    ovm_driver: PoolDriver, clustered: str, count: str, storage: str, ha: str | None, memory: str | None
) -> PoolSpec:
    """Build a pool of server1..serverN the documented way; HA on the pool unless "with HA disabled"."""
    servers = server_specs(int(count), int(memory or DEFAULT_MEMORY_MB))
    return build(ovm_driver, storage, servers, ha=(ha != "disabled"), clustered=(clustered == "clustered"))


@given(
    parsers.re(
        rf"a server pool of (?P<count>\d+) servers on (?P<storage>{_STORAGE_RE}) shared storage with the "
        r"cluster configured on the Server Pool Master only"
    ),
    target_fixture="pool_spec",
)
def given_pool_prepared_on_master(ovm_driver: PoolDriver, count: str, storage: str) -> PoolSpec:
    """The state User's Guide 9.3 leaves a pool in before HA is enabled: on the Server Pool Master
    (server1) ovs-cluster-configure, ovs-makerepo of the cluster root, ovs-cluster-check and the
    services; the other servers installed, in the pool, their local /OVS unmounted, nothing else."""
    servers = server_specs(int(count), DEFAULT_MEMORY_MB)
    return build(ovm_driver, storage, servers, ha=False, prepared="master")


@given(
    parsers.re(
        rf"a clustered server pool on (?P<storage>{_STORAGE_RE}) shared storage "
        r"with HA (?P<ha>enabled|disabled) on the pool and these servers:"
    ),
    target_fixture="pool_spec",
)
def given_pool_table(ovm_driver: PoolDriver, storage: str, ha: str, datatable: list[list[str]]) -> PoolSpec:
    """Build a pool from a table with columns server, roles (comma list) and memory MB."""
    header, *rows = datatable
    columns = [h.strip().lower() for h in header]
    if columns[:1] != ["server"] or not rows:
        raise ValueError(
            f"the server table needs a 'server' column first and one row per server, got {header}"
        )
    specs = []
    for row in rows:
        cells = dict(zip(columns, (c.strip() for c in row), strict=True))
        roles = tuple(names(cells["roles"])) if cells.get("roles") else ("vm",)
        memory = int(cells.get("memory mb") or DEFAULT_MEMORY_MB)
        specs.append(ServerSpec(name=cells["server"], memory_mb=memory, roles=roles))
    return build(ovm_driver, storage, tuple(specs), ha=(ha == "enabled"))


# ---------------------------------------------------------------------------- Manager operations
@when("HA is enabled on the pool", target_fixture="manager_action")
def enable_pool_ha(ovm_driver: PoolDriver) -> ManagerAction:
    """Enable HA on the server pool in Oracle VM Manager (the setup is verified first)."""
    return manager(ovm_driver, "enable HA", None, ovm_driver.enable_pool_ha)


@when("HA is disabled on the pool", target_fixture="manager_action")
def disable_pool_ha(ovm_driver: PoolDriver) -> ManagerAction:
    """Disable HA on the server pool in Oracle VM Manager."""
    return manager(ovm_driver, "disable HA", None, ovm_driver.disable_pool_ha)


@when(parsers.re(rf"(?P<server>{SERVER}) is added to the pool"), target_fixture="manager_action")
def add_server(ovm_driver: PoolDriver, server: str) -> ManagerAction:
    """Add a freshly installed virtual machine server to the pool from Oracle VM Manager (it has
    16384 MB of memory, whatever the pool's other servers have)."""
    spec = ServerSpec(name=server, memory_mb=DEFAULT_MEMORY_MB)
    return manager(ovm_driver, "add server", server, lambda: ovm_driver.add_server(spec))


@given(parsers.re(rf"(?P<server>{SERVER}) has been added to the pool"))
def given_added_server(ovm_driver: PoolDriver, server: str) -> None:
    """Add a freshly installed virtual machine server (16384 MB) to the pool from Oracle VM Manager
    before the scenario acts; it must join."""
    result = ovm_driver.add_server(ServerSpec(name=server, memory_mb=DEFAULT_MEMORY_MB))
    assert result.ok, f"could not add {server} to the pool: {result.message}"


@when(
    parsers.re(
        rf"(?P<server>{SERVER}) is (?P<operation>shut down|restarted|deleted) from Oracle VM Manager "
        r"and its guests are (?P<answer>migrated|not migrated)"
    ),
    target_fixture="manager_action",
)
def planned_operation(ovm_driver: PoolDriver, server: str, operation: str, answer: str) -> ManagerAction:
    """Shut down, restart or delete a server in Oracle VM Manager, answering its migrate prompt."""
    migrate = answer == "migrated"
    if operation == "deleted":
        return manager(
            ovm_driver, "delete server", server, lambda: ovm_driver.delete_server(server, migrate=migrate)
        )
    return manager(
        ovm_driver,
        f"{operation} server",
        server,
        lambda: ovm_driver.shutdown_server(server, migrate=migrate, restart=operation == "restarted"),
    )


@when(
    parsers.re(rf"the server pool master role is moved to (?P<server>{SERVER})"),
    target_fixture="manager_action",
)
def move_master(ovm_driver: PoolDriver, server: str) -> ManagerAction:
    """Hand the Server Pool Master role to another server of the pool."""
    return manager(ovm_driver, "set master", server, lambda: ovm_driver.set_master(server))


@given(parsers.re(rf"(?P<server>{SERVER}) is in maintenance mode"))
def given_maintenance(ovm_driver: PoolDriver, server: str) -> None:
    """Place a server into maintenance mode (Oracle VM 3) before the scenario acts."""
    result = ovm_driver.set_maintenance(server, True)
    assert result.ok, f"could not place {server} into maintenance mode: {result.message}"


@when(
    parsers.re(rf"(?P<server>{SERVER}) is (?P<how>put into|taken out of) maintenance mode"),
    target_fixture="manager_action",
)
def maintenance(ovm_driver: PoolDriver, server: str, how: str) -> ManagerAction:
    """Place a server into maintenance mode, or take it out (Oracle VM 3)."""
    on = how == "put into"
    return manager(ovm_driver, "maintenance", server, lambda: ovm_driver.set_maintenance(server, on))


@given(parsers.re(rf"the inbound migration lock is set on (?P<server>{SERVER})"))
def inbound_lock(ovm_driver: PoolDriver, server: str) -> None:
    """Set the inbound migration lock on a server: no new virtual machines on it (Oracle VM 3)."""
    result = ovm_driver.set_inbound_migration_lock(server, True)
    assert result.ok, f"could not set the inbound migration lock on {server}: {result.message}"


# ---------------------------------------------------------------------------- outcomes
@then(parsers.re(r"enabling HA fails naming rule (?P<rule>[A-Z0-9-]+)"))
def enabling_fails(manager_action: ManagerAction | None, rule: str) -> None:
    """Oracle VM Manager refused to enable HA and its errors name this rule of the catalog."""
    manager_action = required_action(manager_action)
    assert manager_action.operation == "enable HA", f"the last operation was {manager_action.operation!r}"
    result = manager_action.result
    assert not result.ok, f"enabling HA succeeded although {rule} is broken: {result.message}"
    assert rule in result.errors, (
        f"enabling HA failed naming {list(result.errors)}, not {rule}: {result.message}"
    )


@then("the operation succeeds")
def operation_succeeds(manager_action: ManagerAction | None) -> None:
    """Oracle VM Manager accepted and completed the last operation."""
    manager_action = required_action(manager_action)
    result = manager_action.result
    assert result.ok, f"{manager_action.operation} failed: {result.message} {list(result.errors)}"


@then("the operation is refused")
def operation_refused(manager_action: ManagerAction | None) -> None:
    """Oracle VM Manager refused the last operation."""
    manager_action = required_action(manager_action)
    result = manager_action.result
    assert not result.ok, f"{manager_action.operation} was accepted: {result.message}"


@then(parsers.re(r"HA is (?P<negation>not )?enabled on the server pool"))
def pool_ha_state(ovm_driver: PoolDriver, negation: str | None) -> None:
    """The pool as observed has (or has not) HA enabled."""
    ovm_driver.require("pool-ha")
    enabled = ovm_driver.observe().ha_enabled
    assert enabled is (negation is None), f"HA is {'enabled' if enabled else 'not enabled'} on the pool"


@when(
    parsers.re(rf"a second Oracle VM Manager starts guest (?P<guest>{SERVER})"),
    target_fixture="manager_action",
)
def second_manager_starts(ovm_driver: PoolDriver, guest: str) -> ManagerAction:
    """Another Oracle VM Manager (or Enterprise Manager Grid Control) than the one that manages the
    pool asks its server pool master to start a guest (simulator only)."""
    return manager(
        ovm_driver,
        "start guest from a second Manager",
        guest,
        lambda: ovm_driver.request_from_manager("a second Oracle VM Manager", rq.StartGuest(guest)),
    )
