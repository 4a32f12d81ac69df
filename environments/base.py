"""The port every environment implements and the steps call.

Steps speak Oracle VM's words ("server1 fails"); they translate them into
these calls. The simulator, real processes, containers and real hosts over
SSH each implement this class, so features run unchanged on all of them.
A driver that cannot do something raises EnvironmentLimitation, which the
steps turn into a skip with that reason, never a pass.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence

from environments.errors import EnvironmentBroken, EnvironmentLimitation, ReadOnlyViolation, TooSlowToJudge
from environments.latency import Judgement, LatencyLedger
from environments.model import (
    CommandResult,
    FaultKind,
    GuestSpec,
    OpResult,
    PoolSpec,
    PoolState,
    ServerSpec,
    TimelineEvent,
)
from ovmref.failover.requests import ManagerOp
from ovmref.release import Release
from ovmref.timing import O2CBTimings

__all__ = [
    "EnvironmentBroken",
    "EnvironmentLimitation",
    "PoolDriver",
    "ReadOnlyViolation",
    "TooSlowToJudge",
]


class PoolDriver(abc.ABC):
    """One pool under test, for one scenario.

    Time: `advance` and `wait_until` move the driver's clock (virtual on the
    simulator, real elsewhere); `now_ms` reads it. Nothing else sleeps.
    """

    name: str = "abstract"
    #: what this driver can do: "destructive", "faults", "host-commands", "manager"
    capabilities: frozenset[str] = frozenset()

    def __init__(self, release: Release, seed: int, timings: O2CBTimings | None = None) -> None:
        self.release = release
        self.seed = seed
        self.timings = timings or O2CBTimings.for_release(release)
        self._judgements: list[Judgement] = []

    # ---- lifecycle -----------------------------------------------------------------
    @abc.abstractmethod
    def build_pool(self, spec: PoolSpec) -> OpResult:
        """Install the servers, create shared storage and the cluster the documented way,
        start services in order, and (if spec.ha_enabled) enable HA on the pool."""

    @abc.abstractmethod
    def add_server(self, spec: ServerSpec) -> OpResult:
        """Add a freshly installed server to the existing pool (configuration is propagated)."""

    def close(self) -> None:  # noqa: B027 - drivers without resources need not override it
        """Release every resource (processes, containers, connections)."""

    # ---- Manager operations ----------------------------------------------------------
    @abc.abstractmethod
    def enable_pool_ha(self) -> OpResult:
        """Enable HA on the pool; the setup is verified and errors are returned."""

    @abc.abstractmethod
    def disable_pool_ha(self) -> OpResult: ...

    @abc.abstractmethod
    def create_guest(self, spec: GuestSpec) -> OpResult: ...

    @abc.abstractmethod
    def set_guest_ha(self, guest: str, enabled: bool) -> OpResult: ...

    @abc.abstractmethod
    def start_guest(self, guest: str) -> OpResult:
        """Start a guest; the server is chosen by its preferred-server policy."""

    def start_guests(self, guests: Sequence[str]) -> list[OpResult]:
        """Start several guests; drivers may overlap their boots."""
        return [self.start_guest(g) for g in guests]

    @abc.abstractmethod
    def stop_guest(self, guest: str) -> OpResult: ...

    @abc.abstractmethod
    def migrate_guest(self, guest: str, target: str) -> OpResult: ...

    @abc.abstractmethod
    def shutdown_server(self, server: str, *, migrate: bool, restart: bool = False) -> OpResult:
        """Shut down (or restart) a server from the Manager; `migrate` answers its migrate prompt."""

    @abc.abstractmethod
    def delete_server(self, server: str, *, migrate: bool) -> OpResult: ...

    @abc.abstractmethod
    def set_maintenance(self, server: str, on: bool) -> OpResult: ...

    @abc.abstractmethod
    def set_inbound_migration_lock(self, server: str, locked: bool) -> OpResult: ...

    @abc.abstractmethod
    def set_master(self, server: str) -> OpResult:
        """Hand the server pool master role to another server without stopping operations."""

    # ---- host-level operations -------------------------------------------------------
    @abc.abstractmethod
    def shutdown_from_command_line(self, server: str, *, restart: bool = False) -> OpResult:
        """`shutdown -h now` / `reboot` typed on the server itself."""

    @abc.abstractmethod
    def run(self, server: str, argv: Sequence[str]) -> CommandResult:
        """Run a command on a server (Oracle VM tools at Oracle's paths, `service`, ...)."""

    @abc.abstractmethod
    def read_file(self, server: str, path: str) -> str | None:
        """A file's text on a server (bytes that are not UTF-8 replaced), or None when it does not exist."""

    @abc.abstractmethod
    def write_file(self, server: str, path: str, text: str) -> None:
        """Change a file on a server (to set up a misconfiguration a rule must catch)."""

    def remove_file(self, server: str, path: str) -> None:
        """Remove a file from a server (a file an administrator deleted); a no-op when absent."""
        raise EnvironmentLimitation(f"the {self.name} environment cannot remove {path} on {server}")

    # ---- faults ----------------------------------------------------------------------
    @abc.abstractmethod
    def inject(self, fault: FaultKind, servers: Sequence[str]) -> int:
        """crash, hang, storage (loss) on each server; partition: cut `servers` off from the rest.

        Returns the instant (driver time) the fault took effect: on a real clock
        that is a moment after the call began, and "after the fault" means after it."""

    def request_from_manager(self, manager: str, op: ManagerOp) -> OpResult:
        """Send an Oracle VM Manager operation to the server pool master as another Manager (or
        Enterprise Manager) named `manager` would. Only the simulator can play a second Manager."""
        raise EnvironmentLimitation(
            f"a second Manager ({manager}) is only simulated: this environment's pool has one Manager"
        )

    def second_pool_on_the_storage(self, servers: int) -> int:
        """Another server pool of `servers` servers (nodes 0..servers-1, as a pool numbers them) starts
        heartbeating on this pool's cluster root, as a second pool made on the same shared storage
        would; returns the instant it started. Only the simulator can build that second pool."""
        raise EnvironmentLimitation(
            "a second server pool on the same shared storage is only simulated: this environment "
            "has no second pool to build on the pool's storage"
        )

    @abc.abstractmethod
    def recover(self, server: str) -> None:
        """Undo a fault on a server: power a crashed one on, resume a hung one, give storage back."""

    @abc.abstractmethod
    def heal_network(self) -> None: ...

    @abc.abstractmethod
    def crash_guest(self, guest: str) -> None:
        """The guest's domain dies unexpectedly (the server stays up)."""

    # ---- time and observation --------------------------------------------------------
    @abc.abstractmethod
    def now_ms(self) -> int: ...

    @abc.abstractmethod
    def advance(self, ms: int) -> None:
        """Let `ms` of the driver's time pass."""

    def wait_until(self, predicate: Callable[[PoolState], bool], timeout_ms: int, step_ms: int = 250) -> bool:
        """Poll `predicate` on observations until true or `timeout_ms` passed (instant on sim)."""
        deadline = self.now_ms() + timeout_ms
        while True:
            if predicate(self.observe()):
                return True
            if self.now_ms() >= deadline:
                return False
            self.advance(min(step_ms, max(1, deadline - self.now_ms())))

    @abc.abstractmethod
    def observe(self) -> PoolState: ...

    @abc.abstractmethod
    def timeline(self) -> list[TimelineEvent]:
        """Everything recorded since the pool was built, in time order (report evidence)."""

    def failover_bound_ms(self, fault: FaultKind) -> int:
        return self.timings.failover_bound_ms(fault)

    # ---- what an adopted pool is, and what a driver cannot see --------------------------
    def effective_spec(self, spec: PoolSpec) -> PoolSpec:
        """The pool as it actually is once built: `spec` itself where the driver builds pools; an
        adopted real pool's own cluster root and domains on ssh."""
        return spec

    def known_as(self, server: str) -> str | None:
        """The real host name a scenario's server stands for on an adopted pool (None: its own)."""
        return None

    def require(self, *aspects: str) -> None:  # noqa: B027 - drivers that see everything need not override it
        """Raise EnvironmentLimitation if this driver cannot observe one of these aspects of the pool
        ("master": which server is the Server Pool Master; "roles": every server's roles; "heartbeat":
        each server's live view; "pool-ha": whether HA is on for the pool)."""

    def file_exists(self, server: str, path: str) -> bool:
        """Whether the path exists on the server (without reading it where a driver can avoid that)."""
        return self.read_file(server, path) is not None

    # ---- real-time latency -------------------------------------------------------------------
    def latency(self) -> LatencyLedger | None:
        """What this run's real machine added to its timings (None: an exact clock, the simulator).

        Real-time drivers record how late their servers' timers fired, how long guest boots and
        control round trips took, and how long a fault's instant stayed uncertain; timing checks
        are granted what was measured on their chain of steps (environments/latency.py, steps/timing.py),
        and the report shows it."""
        return None

    def record_judgement(self, judgement: Judgement) -> None:
        """Keep a timing check's verdict, limit and grant for the report."""
        self._judgements.append(judgement)

    def judgements(self) -> list[Judgement]:
        return list(self._judgements)
