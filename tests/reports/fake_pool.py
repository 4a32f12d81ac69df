"""A tiny deterministic pool driver for testing the plugin and reports without the simulator.

Servers heartbeat every iteration; a crashed server stops, is declared
down after `dead_threshold` missed iterations, fenced, and its HA guests
restart on the first other running server. Only what the plugin tests
need is modelled; everything else is an EnvironmentLimitation.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from environments.base import EnvironmentLimitation, PoolDriver
from environments.model import (
    CommandResult,
    EventKind,
    FaultKind,
    GuestSpec,
    GuestState,
    InjectedFault,
    OpResult,
    PoolSpec,
    PoolState,
    ServerSpec,
    ServerState,
    TimelineEvent,
)
from ovmref.release import Release
from ovmref.timing import O2CBTimings

FAST = O2CBTimings(dead_threshold=5, idle_timeout_ms=10000, iteration_ms=1000, guest_boot_ms=2000)


class FakeDriver(PoolDriver):
    name = "fake"
    capabilities = frozenset({"faults"})

    def __init__(self, release: Release, seed: int, timings: O2CBTimings | None = None) -> None:
        super().__init__(release, seed, timings or FAST)
        self._now = 0
        self._phase = random.Random(seed).randrange(self.timings.iteration_ms)
        self._servers: dict[str, str] = {}  # name -> state
        self._guests: dict[str, str | None] = {}  # name -> server
        self._down_since: dict[str, int] = {}
        self._boots: dict[str, int] = {}  # guest -> time it reports running
        self._events: list[TimelineEvent] = []
        self.closed = False

    # ---- lifecycle -------------------------------------------------------------------
    def build_pool(self, spec: PoolSpec) -> OpResult:
        for server in spec.servers:
            self._servers[server.name] = "running"
        return OpResult(True)

    def add_server(self, spec: ServerSpec) -> OpResult:
        self._servers[spec.name] = "running"
        return OpResult(True)

    def close(self) -> None:
        self.closed = True

    def create_guest(self, spec: GuestSpec) -> OpResult:
        self._guests[spec.name] = spec.preferred[0] if spec.preferred else next(iter(self._servers))
        self._record("guest_start", self._guests[spec.name], spec.name)
        self._boots[spec.name] = self._now + self.timings.guest_boot_ms
        return OpResult(True)

    # ---- faults and time ---------------------------------------------------------------
    def inject(self, fault: FaultKind, servers: Sequence[str]) -> None:
        if fault != "crash":
            raise EnvironmentLimitation(f"the fake pool only crashes servers, not {fault}")
        for server in servers:
            self._servers[server] = "crashed"
            self._down_since[server] = self._now
            self._record("fault", server, detail="crash", fault=InjectedFault("crash", tuple(servers)))

    def now_ms(self) -> int:
        return self._now

    def advance(self, ms: int) -> None:
        end = self._now + ms
        while self._now < end:
            self._now = min(end, self._next_event_ms())
            self._tick()

    def _next_event_ms(self) -> int:
        """Jump straight to the next heartbeat, death or boot (trio MockClock style)."""
        it = self.timings.iteration_ms
        beat = self._now + 1 + (self._phase - self._now - 1) % it
        deaths = [since + self.timings.dead_ms for since in self._down_since.values()]
        return min([beat, *deaths, *self._boots.values()])

    def _tick(self) -> None:
        t = self._now
        if (t - self._phase) % self.timings.iteration_ms == 0:
            for server, state in self._servers.items():
                if state == "running":
                    self._record("heartbeat", server)
        for server, since in list(self._down_since.items()):
            if t - since >= self.timings.dead_ms:
                del self._down_since[server]
                self._record("node_down", server)
                self._record("fence", server)
                self._servers[server] = "fenced"
                self._fail_over(server)
        for guest, at in list(self._boots.items()):
            if t >= at:
                del self._boots[guest]
                self._record("guest_running", self._guests[guest], guest)

    def _fail_over(self, dead: str) -> None:
        target = next((s for s, st in self._servers.items() if st == "running"), None)
        for guest, server in self._guests.items():
            if server != dead:
                continue
            self._record("guest_stop", dead, guest)
            self._guests[guest] = target
            if target is not None:
                self._record("guest_start", target, guest)
                self._boots[guest] = self._now + self.timings.guest_boot_ms

    def _record(
        self,
        kind: EventKind,
        server: str | None,
        guest: str | None = None,
        detail: str = "",
        fault: InjectedFault | None = None,
    ) -> None:
        self._events.append(TimelineEvent(self._now, kind, server, guest, detail, fault))

    # ---- observation -------------------------------------------------------------------
    def observe(self) -> PoolState:
        servers = {
            name: ServerState(
                name=name,
                state="running" if state == "running" else "crashed",
                node=i,
                roles=("vm",),
                guests=tuple(g for g, s in self._guests.items() if s == name),
                free_memory_mb=4096,
            )
            for i, (name, state) in enumerate(self._servers.items())
        }
        guests = {
            name: GuestState(
                name=name,
                state="starting" if name in self._boots else "running",
                server=server,
                ha=True,
            )
            for name, server in self._guests.items()
        }
        master = next(iter(self._servers), None)
        return PoolState(self._now, self.release, True, master, servers, guests)

    def timeline(self) -> list[TimelineEvent]:
        return list(self._events)

    # ---- everything the plugin tests never need -------------------------------------------
    def _unsupported(self, what: str) -> EnvironmentLimitation:
        return EnvironmentLimitation(f"the fake pool cannot {what}")

    def enable_pool_ha(self) -> OpResult:
        raise self._unsupported("enable HA")

    def disable_pool_ha(self) -> OpResult:
        raise self._unsupported("disable HA")

    def set_guest_ha(self, guest: str, enabled: bool) -> OpResult:
        raise self._unsupported("change guest HA")

    def start_guest(self, guest: str) -> OpResult:
        raise self._unsupported("start guests")

    def stop_guest(self, guest: str) -> OpResult:
        raise self._unsupported("stop guests")

    def migrate_guest(self, guest: str, target: str) -> OpResult:
        raise self._unsupported("migrate guests")

    def shutdown_server(self, server: str, *, migrate: bool, restart: bool = False) -> OpResult:
        raise self._unsupported("shut servers down")

    def delete_server(self, server: str, *, migrate: bool) -> OpResult:
        raise self._unsupported("delete servers")

    def set_maintenance(self, server: str, on: bool) -> OpResult:
        raise self._unsupported("set maintenance mode")

    def set_inbound_migration_lock(self, server: str, locked: bool) -> OpResult:
        raise self._unsupported("lock inbound migration")

    def set_master(self, server: str) -> OpResult:
        raise self._unsupported("move the master role")

    def shutdown_from_command_line(self, server: str, *, restart: bool = False) -> OpResult:
        raise self._unsupported("shut down from the command line")

    def run(self, server: str, argv: Sequence[str]) -> CommandResult:
        raise self._unsupported("run commands")

    def read_file(self, server: str, path: str) -> str | None:
        raise self._unsupported("read files")

    def write_file(self, server: str, path: str, text: str) -> None:
        raise self._unsupported("write files")

    def recover(self, server: str) -> None:
        raise self._unsupported("recover servers")

    def heal_network(self) -> None:
        raise self._unsupported("heal the network")

    def crash_guest(self, guest: str) -> None:
        raise self._unsupported("crash guests")
