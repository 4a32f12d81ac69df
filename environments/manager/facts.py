"""What Oracle VM Manager 3.x says about a pool, from its REST objects (field names as the real
JSON has them).

Sources (listed in /work/shared/docs/ovm-real-servers.md and ovm-ha-facts.md section 6):
`Vm.highAvailability` (bool; there is no `haEnabled`), `Vm.restartActionOnCrash` ("RESTART"),
`Vm.vmStartPolicy` (BEST_SERVER | CURRENT_SERVER | USE_POOL_POLICY), `Vm.serverId` (an id object,
null for a guest that runs nowhere), `Vm.memory` (MB); `ServerPool.clusterId` (null: not
clustered, so no HA), `ServerPool.masterServerId`, `ServerPool.serverIds`; `Server.maintenanceMode`
(bool). Id objects are `{"type", "value", "uri", "name"}`. From AndreyMenezes/fog-oracle
`lib/fog/oracle/requests/compute/{list_vms,get_server_pool,get_server}.rb` (mock JSON) and the Go
structs of devans10/terraform-provider-ovm.

The inbound migration lock is not among the fields any stored client or fixture shows: the
Manager's read-out leaves it unknown (the inventory's `ha.inbound_lock` still gives it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from environments.manager.client import ManagerClient, ManagerUnavailable, read_password
from environments.ssh.inventory import ManagerEntry

INBOUND_LOCK_UNKNOWN = (
    "unknown: no documented REST field carries the inbound migration lock (give ha.inbound_lock)"
)


@dataclass(frozen=True)
class ManagerServer:
    id: str
    name: str
    maintenance: bool | None


@dataclass(frozen=True)
class ManagerPool:
    id: str
    name: str
    clustered: bool
    master: str | None  # the master server's name
    servers: tuple[str, ...]  # its servers' names


@dataclass(frozen=True)
class ManagerVm:
    id: str
    name: str
    ha: bool | None
    restart_on_crash: str | None
    start_policy: str | None
    server: str | None  # the name of the server it runs on (None: none)
    memory_mb: int | None
    pool_id: str | None


@dataclass(frozen=True)
class ManagerFacts:
    host: str
    servers: tuple[ManagerServer, ...]
    pools: tuple[ManagerPool, ...]
    vms: tuple[ManagerVm, ...]

    def pool_for(self, name: str, members: Sequence[str]) -> ManagerPool | None:
        """The inventory's pool: by its name, else the one that holds most of its servers."""
        for p in self.pools:
            if p.name == name:
                return p
        best = max(self.pools, key=lambda p: len(set(p.servers) & set(members)), default=None)
        return best if best is not None and set(best.servers) & set(members) else None


def _id(value: Any) -> tuple[str, str] | None:
    """(value, name) of an id object, None for null or a shape that is not one."""
    if isinstance(value, dict) and isinstance(value.get("value"), str):
        name = value.get("name")
        return value["value"], name if isinstance(name, str) else ""
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def parse_facts(
    host: str, servers: list[dict[str, Any]], pools: list[dict[str, Any]], vms: list[dict[str, Any]]
) -> ManagerFacts:
    """The Manager's objects as facts; a field that is missing or of another type is unknown."""
    names: dict[str, str] = {}
    out_servers = []
    for s in servers:
        ident = _id(s.get("id"))
        if ident is None:
            continue
        name = _text(s.get("name")) or ident[1] or ident[0]
        names[ident[0]] = name
        out_servers.append(ManagerServer(ident[0], name, _bool(s.get("maintenanceMode"))))

    def server_name(value: Any) -> str | None:
        ident = _id(value)
        if ident is None:
            return None
        return names.get(ident[0]) or ident[1] or ident[0]

    out_pools = []
    for p in pools:
        ident = _id(p.get("id"))
        if ident is None:
            continue
        members = p.get("serverIds")
        out_pools.append(
            ManagerPool(
                ident[0],
                _text(p.get("name")) or ident[1] or ident[0],
                p.get("clusterId") is not None,
                server_name(p.get("masterServerId")),
                tuple(n for n in (server_name(m) for m in members) if n) if isinstance(members, list) else (),
            )
        )
    out_vms = []
    for v in vms:
        ident = _id(v.get("id"))
        if ident is None:
            continue
        memory = v.get("memory")
        pool = _id(v.get("serverPoolId"))
        out_vms.append(
            ManagerVm(
                ident[0],
                _text(v.get("name")) or ident[1] or ident[0],
                _bool(v.get("highAvailability")),
                _text(v.get("restartActionOnCrash")),
                _text(v.get("vmStartPolicy")),
                server_name(v.get("serverId")),
                memory if isinstance(memory, int) and not isinstance(memory, bool) else None,
                pool[0] if pool else None,
            )
        )
    return ManagerFacts(host, tuple(out_servers), tuple(out_pools), tuple(out_vms))


def read_manager(client: ManagerClient) -> ManagerFacts:
    """GET Server, ServerPool and Vm; ManagerUnavailable (one line naming the host) if any fails."""
    try:
        return parse_facts(client.host, client.list("Server"), client.list("ServerPool"), client.list("Vm"))
    finally:
        client.close()


__all__ = [
    "INBOUND_LOCK_UNKNOWN",
    "ManagerFacts",
    "ManagerPool",
    "ManagerServer",
    "ManagerUnavailable",
    "ManagerVm",
    "ask_manager",
    "parse_facts",
    "read_manager",
]


def ask_manager(entry: ManagerEntry, environ: Mapping[str, str] | None = None) -> ManagerFacts:
    """Read the Manager the inventory names: ManagerUnavailable (one line naming the host) when its
    password is not where the inventory says, it does not answer, or it refuses."""
    return read_manager(ManagerClient(entry, read_password(entry, environ)))
