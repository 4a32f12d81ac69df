"""Agent-to-agent RPC between the server pool master and the other Oracle VM Agents.

The master dispatches work to agents (white paper: "dispatches to other
Oracle VM Agents"); agents report what really happened so the master's
pool database follows reality, also after a master take-over.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ovmref.lease import Incarnation


# ---- master -> agent ---------------------------------------------------------------
@dataclass(frozen=True)
class StartGuestCmd:
    """Start `guest` here. `expect`: the incarnations, judged dead by the master, that may still hold
    the guest's lease and from which it may be taken over."""

    guest: str
    memory_mb: int
    vcpus: int
    expect: frozenset[Incarnation] = field(default_factory=frozenset)


@dataclass(frozen=True)
class StopGuestCmd:
    guest: str
    reason: str


@dataclass(frozen=True)
class MigrateGuestCmd:
    """Live-migrate `guest` from this server to `target` (node number)."""

    guest: str
    target: int
    memory_mb: int
    vcpus: int


@dataclass(frozen=True)
class MigrateIn:
    """Sent by the source agent to the target: take over the guest and its lease."""

    guest: str
    memory_mb: int
    vcpus: int
    source: Incarnation


@dataclass(frozen=True)
class ShutdownCmd:
    """All guests are gone from this server: leave the cluster cleanly and power off (or reboot)."""

    restart: bool


@dataclass(frozen=True)
class MasterAnnounce:
    """A (new) server pool master; agents answer with Hello."""

    master: int


@dataclass(frozen=True)
class BecomeMaster:
    """The current master hands the role over (changing the master without stopping operations)."""

    from_node: int


# ---- agent -> master ---------------------------------------------------------------
@dataclass(frozen=True)
class Hello:
    """An agent (re)joined or answers a MasterAnnounce: its generation and running guests."""

    node: int
    generation: int
    guests: tuple[str, ...]
    started: bool = False  # the agent has just started (boot or `service ovs-agent start`)


@dataclass(frozen=True)
class GuestRunning:
    guest: str
    node: int


@dataclass(frozen=True)
class GuestStopped:
    guest: str
    node: int
    reason: str


@dataclass(frozen=True)
class GuestCrashed:
    guest: str
    node: int


@dataclass(frozen=True)
class StartFailed:
    """The guest could not start here; `holder`: the incarnation that holds its lease, if that was why."""

    guest: str
    node: int
    reason: str
    holder: Incarnation | None = None


@dataclass(frozen=True)
class Leaving:
    """Shutdown/reboot typed on the server's command line: restart my HA guests elsewhere."""

    node: int
    restart: bool
