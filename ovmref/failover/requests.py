"""Oracle VM Manager operations, as delivered to the server pool master."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SetPoolHA:
    enabled: bool


@dataclass(frozen=True)
class CreateGuest:
    name: str
    memory_mb: int
    vcpus: int
    ha: bool
    preferred: tuple[str, ...]


@dataclass(frozen=True)
class SetGuestHA:
    guest: str
    enabled: bool


@dataclass(frozen=True)
class StartGuest:
    guest: str


@dataclass(frozen=True)
class StopGuest:
    guest: str


@dataclass(frozen=True)
class MigrateGuest:
    guest: str
    target: str


@dataclass(frozen=True)
class ShutdownServer:
    """Restart, shut down or delete a server; `migrate` is the answer to the Manager's prompt."""

    server: str
    migrate: bool
    restart: bool = False
    delete: bool = False


@dataclass(frozen=True)
class SetMaintenance:
    server: str
    on: bool


@dataclass(frozen=True)
class SetInboundLock:
    server: str
    locked: bool


@dataclass(frozen=True)
class SetMaster:
    server: str


@dataclass(frozen=True)
class AddServer:
    name: str
    node: int
    memory_mb: int
    vcpus: int
    roles: tuple[str, ...]


ManagerOp = (
    SetPoolHA
    | CreateGuest
    | SetGuestHA
    | StartGuest
    | StopGuest
    | MigrateGuest
    | ShutdownServer
    | SetMaintenance
    | SetInboundLock
    | SetMaster
    | AddServer
)
