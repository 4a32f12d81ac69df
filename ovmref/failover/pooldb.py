"""The server pool database the master keeps (and persists on the cluster root).

Records what the Manager configured (HA flags, preferred servers, memory)
and where guests are; the master's HA decisions read and update it. A new
master loads it from shared storage and reconciles it with agents' Hellos.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Literal

from ovmref.lease import Incarnation
from ovmref.release import Release

ServerRecState = Literal["active", "joining", "down", "draining", "shutdown", "deleted"]
GuestRecState = Literal["running", "starting", "migrating", "stopped", "powered_off"]


# the Manager a pool is created by; a request from any other Manager is refused (CONS-ONE-MANAGER)
DEFAULT_MANAGER = "Oracle VM Manager"


@dataclass
class ServerRecord:
    name: str
    node: int
    memory_mb: int
    vcpus: int
    roles: set[str] = field(default_factory=lambda: {"vm"})
    state: ServerRecState = "joining"
    generation: int = 0
    maintenance: bool = False
    inbound_lock: bool = False
    # set while a planned shutdown/restart/delete drains the server
    drain_restart: bool = False
    drain_delete: bool = False


@dataclass
class GuestRecord:
    name: str
    memory_mb: int
    vcpus: int
    ha: bool
    preferred: tuple[str, ...] = ()
    server: str | None = None
    state: GuestRecState = "stopped"
    restarts: int = 0
    # a guest stopped on a draining server that is to be restarted elsewhere
    restart_elsewhere: bool = False
    # the incarnations (node, generation) that hold or may hold the guest's lease: the one it runs
    # on, and each one a start was sent to since; narrowed only by what agents report (running
    # there, or could not start there). A restart takes the lease over from those judged dead.
    lease_holders: frozenset[Incarnation] = field(default_factory=frozenset)


@dataclass
class PoolDB:
    name: str
    release: Release
    ha_enabled: bool = False
    master: str | None = None
    servers: dict[str, ServerRecord] = field(default_factory=dict)
    guests: dict[str, GuestRecord] = field(default_factory=dict)
    manager: str = DEFAULT_MANAGER  # the one Oracle VM Manager (or Enterprise Manager) that manages it

    def snapshot(self) -> PoolDB:
        return copy.deepcopy(self)

    def server_by_node(self, node: int) -> ServerRecord | None:
        for rec in self.servers.values():
            if rec.node == node:
                return rec
        return None

    def guests_on(self, server: str) -> list[GuestRecord]:
        return sorted((g for g in self.guests.values() if g.server == server), key=lambda g: g.name)

    def used_memory(self) -> dict[str, int]:
        used = dict.fromkeys(self.servers, 0)
        for g in self.guests.values():
            if g.server is not None and g.state in ("running", "starting", "migrating"):
                used[g.server] = used.get(g.server, 0) + g.memory_mb
        return used

    def ha_protected(self, guest: GuestRecord) -> bool:
        """HA applies only when enabled on both the pool and the guest."""
        return self.ha_enabled and guest.ha
