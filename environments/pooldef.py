"""Pool definition files: a pool described in YAML, checked before anything is built.

Used by `ovm-conformance simulate` ("what happens to my pool if server2
fails?"). Every problem names the file, the line and what is wrong, so an
impossible pool (a guest preferring a server that is not in the pool, more
servers than the cluster root has node slots, a guest no server can hold)
is refused before a simulation pretends to run it.

    release: "2.2"
    storage: nfs                 # nfs | ocfs2-iscsi | ocfs2-san
    cluster_root: example.com:/OVS
    node_slots: 16
    ha: true
    servers:
      - {name: server1, memory_mb: 16384, roles: [master, utility, vm]}
      - {name: server2, memory_mb: 16384}
    guests:
      - {name: vm1, memory_mb: 2048, ha: true, preferred: [server2]}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from environments.model import GuestSpec, PoolSpec, ServerSpec
from environments.yamlreader import YamlReader
from ovmref.errors import LocatedError
from ovmref.release import Release, UnknownReleaseError

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_TOP = {"release", "name", "storage", "cluster_root", "node_slots", "ha", "servers", "guests"}
_SERVER = {"name", "domain", "ip", "memory_mb", "vcpus", "version", "roles"}
_GUEST = {"name", "memory_mb", "vcpus", "ha", "preferred"}
_STORAGE = ("nfs", "ocfs2-iscsi", "ocfs2-san")
_ROLES = ("master", "utility", "vm")


class PoolDefinitionError(LocatedError):
    """A pool definition that is wrong at a line: `path:line: problem`."""


@dataclass(frozen=True)
class PoolDefinition:
    release: Release
    pool: PoolSpec
    guests: tuple[GuestSpec, ...]


class _Reader(YamlReader):
    """A pool definition's nodes, each keeping its line."""

    error = PoolDefinitionError

    def name(self, node: yaml.Node, what: str) -> str:
        value = str(self.scalar(node))
        if not _NAME.match(value):
            raise self.fail(node, f"{what} {value!r} is not a valid short host name")
        return value

    def names(self, node: yaml.Node, what: str) -> list[tuple[str, yaml.Node]]:
        return [(str(self.scalar(item)), item) for item in self.sequence(node, what)]


def load_pool_definition(path: str | Path) -> PoolDefinition:
    return parse_pool_definition(_Reader(path).read(), str(path))


def parse_pool_definition(text: str, path: str = "<pool>") -> PoolDefinition:
    r = _Reader(path)
    root = r.compose(text)
    top = r.mapping(root, _TOP, "the pool definition")
    if "release" not in top:
        raise r.fail(root, "missing 'release' (2.1, 2.2 or 3.x)")
    try:
        release = Release.parse(str(r.scalar(top["release"])))
    except UnknownReleaseError as exc:
        raise r.fail(top["release"], str(exc)) from None
    storage = str(r.scalar(top["storage"])) if "storage" in top else "nfs"
    if storage not in _STORAGE:
        raise r.fail(top["storage"], f"storage must be one of {', '.join(_STORAGE)}, got {storage!r}")
    default_root = "example.com:/OVS" if storage == "nfs" else "/dev/sdb1"
    root_src = str(r.scalar(top["cluster_root"])) if "cluster_root" in top else default_root
    if (":/" in root_src) != (storage == "nfs"):
        raise r.fail(
            top.get("cluster_root", root), f"cluster root {root_src!r} does not suit {storage} storage"
        )
    slots = r.integer(top["node_slots"], "node_slots", 1, 255) if "node_slots" in top else 16
    servers = _servers(r, top, root, release)
    if len(servers) > slots:
        raise r.fail(
            top["servers"],
            f"{len(servers)} servers but the cluster root has {slots} node slots "
            "(mkfs.ocfs2 -N): format it with more slots or use fewer servers",
        )
    guests = _guests(r, top, {s.name: s for s in servers})
    pool = PoolSpec(
        name=str(r.scalar(top["name"])) if "name" in top else "pool1",
        storage=storage,  # type: ignore[arg-type]
        cluster_root=root_src,
        servers=tuple(servers),
        ha_enabled=r.boolean(top["ha"], "ha") if "ha" in top else True,
        node_slots=slots,
    )
    return PoolDefinition(release, pool, tuple(guests))


def _servers(r: _Reader, top: dict[str, yaml.Node], root: yaml.Node, release: Release) -> list[ServerSpec]:
    if "servers" not in top:
        raise r.fail(root, "missing 'servers': a pool needs at least one server")
    node = top["servers"]
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        raise r.fail(node, "'servers' must be a non-empty list")
    servers: list[ServerSpec] = []
    for item in node.value:
        m = r.mapping(item, _SERVER, "a server")
        if "name" not in m:
            raise r.fail(item, "a server needs a name")
        name = r.name(m["name"], "server name")
        if any(s.name == name for s in servers):
            raise r.fail(m["name"], f"server {name!r} is defined twice")
        roles = tuple(n for n, _ in r.names(m["roles"], "roles")) if "roles" in m else ("vm",)
        for role, role_node in r.names(m["roles"], "roles") if "roles" in m else []:
            if role not in _ROLES:
                raise r.fail(role_node, f"unknown role {role!r} (roles: {', '.join(_ROLES)})")
        version = str(r.scalar(m["version"])) if "version" in m else ""
        if version:
            try:
                Release.parse(version)
            except UnknownReleaseError as exc:
                raise r.fail(m["version"], str(exc)) from None
        servers.append(
            ServerSpec(
                name=name,
                domain=str(r.scalar(m["domain"])) if "domain" in m else "example.com",
                ip=str(r.scalar(m["ip"])) if "ip" in m else "",
                memory_mb=r.integer(m["memory_mb"], "memory_mb", 256, 4_194_304)
                if "memory_mb" in m
                else 16384,
                vcpus=r.integer(m["vcpus"], "vcpus", 1, 4096) if "vcpus" in m else 8,
                version=version,
                roles=roles,
            )
        )
    masters = [s.name for s in servers if "master" in s.roles]
    if len(masters) > 1:
        raise r.fail(node, f"only one Server Pool Master per pool, got {', '.join(masters)}")
    return servers


def _guests(r: _Reader, top: dict[str, yaml.Node], servers: dict[str, ServerSpec]) -> list[GuestSpec]:
    if "guests" not in top:
        return []
    node = top["guests"]
    if not isinstance(node, yaml.SequenceNode):
        raise r.fail(node, "'guests' must be a list")
    biggest = max(s.memory_mb for s in servers.values())
    guests: list[GuestSpec] = []
    for item in node.value:
        m = r.mapping(item, _GUEST, "a guest")
        if "name" not in m:
            raise r.fail(item, "a guest needs a name")
        name = r.name(m["name"], "guest name")
        if any(g.name == name for g in guests):
            raise r.fail(m["name"], f"guest {name!r} is defined twice")
        memory = r.integer(m["memory_mb"], "memory_mb", 64, 4_194_304) if "memory_mb" in m else 1024
        preferred: list[str] = []
        for server, server_node in r.names(m["preferred"], "preferred") if "preferred" in m else []:
            if server not in servers:
                raise r.fail(
                    server_node, f"guest {name!r} prefers {server!r}, which is not a server of the pool"
                )
            preferred.append(server)
        hosts = [servers[s] for s in preferred] or list(servers.values())
        if memory > max(h.memory_mb for h in hosts):
            where = "any of its preferred servers" if preferred else f"any server (largest: {biggest} MB)"
            raise r.fail(m.get("memory_mb", item), f"guest {name!r} needs {memory} MB: more than {where} has")
        guests.append(
            GuestSpec(
                name=name,
                memory_mb=memory,
                vcpus=r.integer(m["vcpus"], "vcpus", 1, 128) if "vcpus" in m else 1,
                ha=r.boolean(m["ha"], "ha") if "ha" in m else True,
                preferred=tuple(preferred),
            )
        )
    return guests
