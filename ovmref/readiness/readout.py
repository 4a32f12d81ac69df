"""What a read-only read-out found in a pool: servers with their memory, guests with their HA facts.

Every fact carries where it came from (`xm list`, `xm info`, a vm.cfg path, the inventory) or why it
is not known: None values are `unknown`, never a default.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ovmref.release import Release


@dataclass(frozen=True)
class ServerReadout:
    name: str
    reachable: bool
    free_mb: int | None = None  # `xm info` free_memory: what a new guest can have now
    total_mb: int | None = None
    maintenance: bool = False  # 3.x: not a target (known only from the inventory or the Manager)
    inbound_lock: bool = False  # 3.x: not a target for restarts or migrations
    why_unknown: str = ""  # why its memory or guests are not known


@dataclass(frozen=True)
class GuestReadout:
    name: str
    server: str
    memory_mb: int
    vcpus: int = 1
    ha: bool | None = None
    ha_source: str = "unknown"
    preferred: tuple[str, ...] | None = None  # () is Auto (no preferred server)
    preferred_source: str = "unknown"
    restart_on_crash: str | None = None  # 3.x Manager: Vm.restartActionOnCrash (RESTART, STOP, ...)
    start_policy: str | None = None  # 3.x Manager: Vm.vmStartPolicy


@dataclass(frozen=True)
class PoolReadout:
    name: str
    release: Release
    pool_ha: bool | None
    pool_ha_source: str
    servers: tuple[ServerReadout, ...]
    guests: tuple[GuestReadout, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)
    master: str | None = None  # 3.x Manager: ServerPool.masterServerId (None: not known)
    manager: str = ""  # the Manager the read-out was joined with ("" none named, or why it was not read)
    manager_read: bool = False  # whether the Manager's facts were joined

    def server(self, name: str) -> ServerReadout | None:
        return next((s for s in self.servers if s.name == name), None)
