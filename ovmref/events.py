"""What drivers feed into ovmref logic: timers, I/O completions, messages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TimerFired:
    name: str


@dataclass(frozen=True)
class RegionRead:
    """The heartbeat region as read: node number -> raw slot bytes (block_bytes each)."""

    slots: Mapping[int, bytes]


@dataclass(frozen=True)
class RegionReadFailed:
    """The region could not be read (storage lost for this server)."""

    error: str


@dataclass(frozen=True)
class SlotWritten:
    ok: bool
    error: str = ""


@dataclass(frozen=True)
class Received:
    peer: int
    message: Any


@dataclass(frozen=True)
class LeaseResult:
    name: str
    granted: bool
    holder: tuple[int, int] | None
    token: int
    context: str = ""


@dataclass(frozen=True)
class PoolDBLoaded:
    db: Any


@dataclass(frozen=True)
class GuestBooted:
    guest: str


@dataclass(frozen=True)
class GuestExited:
    """A guest domain ended by itself; crashed=True for an unexpected failure."""

    guest: str
    crashed: bool


@dataclass(frozen=True)
class Resumed:
    """The server was frozen (hang) and runs again; overdue deadlines are checked first."""


@dataclass(frozen=True)
class ManagerRequest:
    """An Oracle VM Manager operation delivered to the server pool master's agent."""

    request_id: int
    request: Any
    manager: str | None = None  # which Manager sent it; None: the pool's own (every driver's default)


@dataclass(frozen=True)
class LocalShutdown:
    """`shutdown`/`reboot` typed on the server's command line (not through the Manager)."""

    restart: bool


Event = (
    TimerFired
    | RegionRead
    | RegionReadFailed
    | SlotWritten
    | Received
    | LeaseResult
    | PoolDBLoaded
    | GuestBooted
    | GuestExited
    | Resumed
    | ManagerRequest
    | LocalShutdown
)
