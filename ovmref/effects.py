"""What ovmref logic asks its driver to do.

The logic never performs I/O; it returns these effects and the driver (the
simulator, asyncio on real files and sockets, a container) carries them out
and feeds the results back as events (ovmref.events).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ovmref.lease import Expect


@dataclass(frozen=True)
class SetTimer:
    """(Re)arm the named timer to fire TimerFired(name) at absolute time `at_ms`."""

    name: str
    at_ms: int


@dataclass(frozen=True)
class CancelTimer:
    name: str


@dataclass(frozen=True)
class WriteSlot:
    """Write this node's o2hb slot; the driver answers SlotWritten(ok)."""

    node: int
    data: bytes


@dataclass(frozen=True)
class ReadRegion:
    """Read every configured slot of the heartbeat region; answered by RegionRead."""


@dataclass(frozen=True)
class Send:
    """Send a message to a peer node over the cluster network (o2net / agent RPC)."""

    peer: int
    message: Any


@dataclass(frozen=True)
class Fence:
    """Self-fence: stop heartbeat, kill every guest, reboot ("... sorry to be fencing ...")."""

    reason: str


@dataclass(frozen=True)
class BootGuest:
    """Start a guest domain on this server; answered by GuestBooted (or GuestExited)."""

    guest: str
    memory_mb: int
    vcpus: int
    migrated: bool = False  # arriving by live migration: resumes instead of booting


@dataclass(frozen=True)
class KillGuest:
    """Destroy a guest domain on this server at once (fence, lease loss, stop, migrate-out)."""

    guest: str
    reason: str


@dataclass(frozen=True)
class AcquireLease:
    """Compare-and-set a lease on shared storage (DLM-like lock with fencing token).

    Granted when the lease is free, already ours, or held exactly by one of
    `expect` (incarnations the requester judged dead). Answered by LeaseResult.
    """

    name: str
    node: int
    generation: int
    expect: Expect = None
    context: str = ""


@dataclass(frozen=True)
class ReleaseLease:
    name: str
    node: int
    generation: int


@dataclass(frozen=True)
class LoadPoolDB:
    """Read the pool database kept on the cluster root; answered by PoolDBLoaded."""


@dataclass(frozen=True)
class StorePoolDB:
    """Persist the pool database on the cluster root (the master's local persistence).

    `db` is the master's live object: the driver serialises or copies it now,
    or keeps the reference and copies on load (valid because the master
    persists after every change and a dead master changes nothing more).
    """

    db: Any


RecordKind = Literal[
    # the agent and the pool master (ovmref.agent, ovmref.failover.coordinator)
    "guest_not_restarted",
    "guest_powered_off",
    "ha_failed",
    "halt",
    "joined",
    "leaving",
    "lock_wait",
    "lost_report",
    "master",
    "master_lease_unreadable",
    "master_lock",
    "migrate",
    "node_down",
    "restart",
    "start_failed",
    "unknown_message",
    # the cluster stack (ovmref.cluster.node): o2cb, o2hb, o2net, o2quo
    "fence",
    "o2cb-start",
    "o2cb-stop",
    "o2hb-node-down",
    "o2hb-node-up",
    "o2hb-read-error",
    "o2hb-read-ok",
    "o2hb-warning",
    "o2hb-write-error",
    "o2hb-write-ok",
    "o2net-connected",
    "o2net-disconnected",
    "o2quo-decision",
]


@dataclass(frozen=True)
class Record:
    """Evidence for the report timeline: something the logic decided or saw."""

    kind: RecordKind
    detail: str = ""
    guest: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Propagate:
    """Copy the master's cluster.conf and repository list to a server whose agent started
    ("When an Oracle VM Agent is started in the server pool, this propagation is repeated")."""

    node: int


@dataclass(frozen=True)
class Reply:
    """Answer to a ManagerRequest (the Manager shows `message` when not ok)."""

    request_id: int
    ok: bool
    message: str = ""


@dataclass(frozen=True)
class Halt:
    """Power this server off after a clean leave; `restart` boots it again (reboot)."""

    restart: bool
    reason: str = ""


Effect = (
    SetTimer
    | CancelTimer
    | WriteSlot
    | ReadRegion
    | Send
    | Fence
    | BootGuest
    | KillGuest
    | AcquireLease
    | ReleaseLease
    | LoadPoolDB
    | StorePoolDB
    | Record
    | Reply
    | Halt
    | Propagate
)
