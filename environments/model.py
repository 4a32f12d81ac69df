"""Pool, server and guest descriptions the steps hand to a driver, and what a driver observes.

Plain data, shared by every environment, so a feature reads the same whether
the pool is simulated, made of processes, containers, or real hosts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast, get_args

from ovmref.effects import RecordKind
from ovmref.release import Release

StorageKind = Literal["nfs", "ocfs2-iscsi", "ocfs2-san"]
FaultKind = Literal["crash", "hang", "partition", "storage", "master"]
ServerStateName = Literal[
    "running",  # up, agent running, in the cluster
    "crashed",  # powered off by a fault, not coming back by itself
    "hung",  # frozen; neither heartbeats nor runs guests
    "fenced",  # fenced itself, rebooting; rejoins after the reboot delay
    "shutdown",  # cleanly shut down (Manager or command line)
    "deleted",  # removed from the pool
    "maintenance",  # up, in maintenance mode (3.x)
]
GuestStateName = Literal[
    "running",
    "stopped",  # not running, nothing pending
    "powered_off",  # HA guest waiting for a server to become available
    "migrating",
    "starting",
]


@dataclass(frozen=True)
class ServerSpec:
    """One Oracle VM Server. `version` defaults to the release family's own."""

    name: str
    domain: str = "example.com"
    ip: str = ""
    memory_mb: int = 16384
    vcpus: int = 8
    version: str = ""
    roles: tuple[str, ...] = ("vm",)  # any of "master", "utility", "vm"

    @property
    def fqdn(self) -> str:
        return f"{self.name}.{self.domain}"


@dataclass(frozen=True)
class GuestSpec:
    """A virtual machine. Empty `preferred` means the Auto preferred-server policy."""

    name: str
    memory_mb: int = 1024
    vcpus: int = 1
    ha: bool = True
    preferred: tuple[str, ...] = ()

    @property
    def policy(self) -> Literal["auto", "manual"]:
        return "manual" if self.preferred else "auto"


@dataclass(frozen=True)
class PoolSpec:
    """A server pool. `cluster_root` is the shared source: 'host:/path' (NFS) or a device."""

    name: str = "pool1"
    storage: StorageKind = "nfs"
    cluster_root: str = "example.com:/OVS"
    servers: tuple[ServerSpec, ...] = ()
    ha_enabled: bool = True
    clustered: bool = True  # 3.x: created with clustering enabled
    virtual_ip: str = "192.168.100.250"
    node_slots: int = 16  # mkfs.ocfs2 -N of the cluster root (16 in every Oracle example)
    # "pool": every server configured the documented way; "master": only the Server Pool Master
    # (User's Guide 9.3 runs on it alone), the others waiting for HA to be enabled (9.4)
    prepared: Literal["pool", "master"] = "pool"


@dataclass(frozen=True)
class OpResult:
    """Outcome of a Manager or host operation: ok, and if not, why, with rule ids if known."""

    ok: bool
    message: str = ""
    errors: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.ok


@dataclass(frozen=True)
class CommandResult:
    """A command run on a host: argv, exit status and output (testinfra's shape)."""

    argv: tuple[str, ...]
    rc: int
    stdout: str = ""
    stderr: str = ""

    @property
    def succeeded(self) -> bool:
        return self.rc == 0


@dataclass(frozen=True)
class GuestState:
    name: str
    state: GuestStateName
    server: str | None
    ha: bool | None  # None: not known (a real pool's Manager keeps the flag; environments/ssh)
    restarts: int = 0
    memory_mb: int = 0
    preferred: tuple[str, ...] = ()


@dataclass(frozen=True)
class ServerState:
    name: str
    state: ServerStateName
    node: int
    roles: tuple[str, ...]
    guests: tuple[str, ...]
    free_memory_mb: int
    inbound_lock: bool = False
    live_view: tuple[str, ...] = ()  # servers this one sees heartbeating (incl. itself)


@dataclass(frozen=True)
class PoolState:
    """A snapshot of the pool as the driver observes it, at `time_ms` of its clock."""

    time_ms: int
    release: Release
    ha_enabled: bool | None  # None: not known (a real pool read without its Manager)
    master: str | None
    servers: dict[str, ServerState] = field(default_factory=dict)
    guests: dict[str, GuestState] = field(default_factory=dict)

    def running_on(self, server: str) -> list[str]:
        return [g.name for g in self.guests.values() if g.state == "running" and g.server == server]


# what a driver itself marks on the timeline; ovmref's own records (RecordKind) come on top of these
DriverEventKind = Literal[
    "adopt",  # ssh: a scenario's server stands for a real host
    "agent_start",
    "agent_wrapper",  # local/docker: the agent is run by another program than serverd
    "command",
    "error",
    "fault",  # an injected fault; its `fault` field says which, as the step meant it
    "guest_running",
    "guest_start",
    "guest_stop",
    "heartbeat",
    "leave",
    "manager",  # ssh: what the Oracle VM Manager read-out said (or why it could not be read)
    "propagate",
    "read",  # ssh: a file read off a real host
    "reboot",
    "recover",
    "rejoin",
]
EventKind = Literal[RecordKind, DriverEventKind]
EVENT_KINDS: frozenset[str] = frozenset(get_args(EventKind))

# the faults a driver injects: a step's FaultKind ("master" is a crash of whichever server is the
# pool master, judged by the master failover bound), a guest's crash, a second pool on the storage
InjectedKind = Literal[FaultKind, "guest_crash", "second_pool"]
INJECTED_KINDS: frozenset[str] = frozenset(get_args(InjectedKind))


def event_kind(kind: str) -> EventKind:
    """A kind read from outside the type checker's sight (a server process's events file), checked."""
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown timeline event kind {kind!r}")
    return cast(EventKind, kind)


@dataclass(frozen=True)
class InjectedFault:
    """A fault as it was injected: its kind as the step meant it, and what it hit.

    `victims` are the servers it hit (a partition: every server cut off; a guest crash: the
    guest). Every fault event of one injection carries the same InjectedFault, so the report
    and the steps read the kind from here, never from the event's free-text detail.
    """

    kind: InjectedKind
    victims: tuple[str, ...] = ()

    @property
    def stops_its_server(self) -> bool:
        """Crash, master and hang stop the server at once; partition and storage faults leave it
        running until it fences itself; a guest crash or a second pool stops no server."""
        return self.kind in ("crash", "master", "hang")

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "victims": list(self.victims)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InjectedFault:
        kind = str(data["kind"])
        if kind not in INJECTED_KINDS:
            raise ValueError(f"unknown injected fault kind {kind!r}")
        return cls(cast(InjectedKind, kind), tuple(str(v) for v in data.get("victims", ())))


@dataclass(frozen=True)
class TimelineEvent:
    """One mark on a scenario's timeline (report evidence, drawn as SVG); a fault event carries
    the injected fault it marks."""

    t_ms: int
    kind: EventKind
    server: str | None = None
    guest: str | None = None
    detail: str = ""
    fault: InjectedFault | None = None

    def __post_init__(self) -> None:
        if (self.kind == "fault") != (self.fault is not None):
            having = "without" if self.fault is None else "with"
            raise ValueError(f"a {self.kind} event {having} an injected fault")

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "t_ms": self.t_ms,
            "kind": self.kind,
            "server": self.server,
            "guest": self.guest,
            "detail": self.detail,
        }
        if self.fault is not None:
            out["fault"] = self.fault.as_dict()
        return out
