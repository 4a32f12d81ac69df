"""Oracle VM Manager operations for drivers whose servers run ovmref agents.

The simulator and the local environment both deliver Manager operations to
the server pool master's agent and then wait, on their own clock, for what
the operation promises (a guest running, a server gone). Only how a request
reaches the master and how time passes differ, so the operations live here.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any

from environments.base import PoolDriver
from environments.hostsetup import PoolHostSetup, run_in_order
from environments.model import EventKind, GuestSpec, OpResult, PoolState
from ovmref.failover import requests as rq
from ovmref.prereq import Finding


class ManagedPoolDriver(PoolDriver):
    """A driver whose Manager talks to ovmref agents; subclasses say how requests reach the master."""

    @abc.abstractmethod
    def _manager(self, op: rq.ManagerOp) -> OpResult:
        """Deliver a Manager operation to the server pool master's agent and return its reply."""

    #: the pool's servers by name (each with .name, .state, .incarnation) and their files and tools
    hosts: Mapping[str, Any]
    setup: PoolHostSetup | None

    def _incarnation(self, server: str) -> int:
        """Changes whenever the server powers off, fences, or boots (a planned shutdown completed)."""
        return int(self.hosts[server].incarnation)

    def _knows(self, server: str) -> bool:
        return server in self.hosts

    def hosts_running(self) -> list[str]:
        return [h.name for h in self.hosts.values() if h.state in ("running", "maintenance")]

    def _verify_setup(self) -> list[Finding]:
        """What the Manager checks when HA is enabled on the pool ("The server pool setup is verified")."""
        assert self.setup is not None
        return self.setup.verify(self.hosts_running())

    @abc.abstractmethod
    def _running_agent(self, server: str) -> bool:
        """The server is up and its agent runs (it can take a command typed on it)."""

    @abc.abstractmethod
    def _local_shutdown(self, server: str, restart: bool) -> None:
        """Deliver `shutdown -h now` / `reboot` typed on the server to its agent."""

    @abc.abstractmethod
    def _mark(self, kind: EventKind, server: str | None, guest: str | None = None, detail: str = "") -> None:
        """Add an event to the timeline at the driver's present time."""

    def shutdown_from_command_line(self, server: str, *, restart: bool = False) -> OpResult:
        if not self._running_agent(server):
            return OpResult(False, f"{server} is not running")
        incarnation = self._incarnation(server)
        self._mark(
            "command", server, detail=f"{'reboot' if restart else 'shutdown -h now'} on the command line"
        )
        self._local_shutdown(server, restart)
        self.wait_until(
            lambda s: self._incarnation(server) != incarnation,
            20 * self.timings.iteration_ms + 2 * self.timings.guest_boot_ms,
        )
        self._settle()
        return OpResult(True, f"{server} {'rebooting' if restart else 'shut down'}")

    def enable_pool_ha(self) -> OpResult:
        """User's Guide 9.4, in its order: the master's agent configures the cluster and starts the
        heartbeat, the setup is verified (every error shown), then the master propagates the
        repositories and cluster.conf and the servers it had not configured join; HA goes on."""
        assert self.setup is not None
        clustered = self.setup.spec.clustered
        prepared = run_in_order(self.setup.enabling_commands(), self.run) if clustered else OpResult(True)
        if not prepared.ok:
            why = prepared.message
            return OpResult(False, f"the Server Pool Master could not configure the cluster: {why}")
        findings = self._verify_setup()
        failed = tuple(sorted({f.rule for f in findings if f.status != "passed"}))
        if failed:
            detail = "; ".join(
                f"{f.rule} on {f.server or 'pool'}: {f.message}" for f in findings if f.status != "passed"
            )
            return OpResult(False, f"server pool setup check failed: {detail}", failed)
        joining = self.setup.propagation_commands(self.hosts_running()) if clustered else []
        propagated = run_in_order(joining, self.run)
        if not propagated.ok:
            return OpResult(False, f"propagating the cluster configuration failed: {propagated.message}")
        if len(joining) > 1 and not self.wait_until(self._joined, self._formation_timeout_ms()):
            return OpResult(False, "the servers did not join the cluster after the propagation")
        return self._manager(rq.SetPoolHA(True))

    def _joined(self, state: PoolState) -> bool:
        """The pool is formed and every server that is up sees every other one heartbeating."""
        up = {name for name, s in state.servers.items() if s.state in ("running", "maintenance")}
        return self._pool_formed(state) and all(up <= set(state.servers[n].live_view) for n in up)

    def _pool_formed(self, state: PoolState) -> bool:
        """Every server whose agent runs is an active member and seen by the master."""
        raise NotImplementedError

    def _formation_timeout_ms(self) -> int:
        return 30 * self.timings.iteration_ms + 10_000

    def remove_file(self, server: str, path: str) -> None:
        fs = self.hosts[server].fs
        if fs.exists(path):
            fs.remove(path)

    def disable_pool_ha(self) -> OpResult:
        return self._manager(rq.SetPoolHA(False))

    def create_guest(self, spec: GuestSpec) -> OpResult:
        return self._manager(rq.CreateGuest(spec.name, spec.memory_mb, spec.vcpus, spec.ha, spec.preferred))

    def set_guest_ha(self, guest: str, enabled: bool) -> OpResult:
        return self._manager(rq.SetGuestHA(guest, enabled))

    def start_guest(self, guest: str) -> OpResult:
        result = self._manager(rq.StartGuest(guest))
        if result.ok:
            self.wait_until(
                lambda s: s.guests[guest].state == "running",
                self.timings.guest_boot_ms + 5 * self.timings.iteration_ms,
            )
        return result

    def start_guests(self, guests: Sequence[str]) -> list[OpResult]:
        results = [self._manager(rq.StartGuest(g)) for g in guests]
        started = [g for g, r in zip(guests, results, strict=True) if r.ok]
        self.wait_until(
            lambda s: all(s.guests[g].state == "running" for g in started),
            self.timings.guest_boot_ms + 5 * self.timings.iteration_ms,
        )
        return results

    def stop_guest(self, guest: str) -> OpResult:
        result = self._manager(rq.StopGuest(guest))
        if result.ok:
            self.wait_until(lambda s: s.guests[guest].state != "running", 5 * self.timings.iteration_ms)
        return result

    def migrate_guest(self, guest: str, target: str) -> OpResult:
        result = self._manager(rq.MigrateGuest(guest, target))
        if result.ok:
            self.wait_until(
                lambda s: s.guests[guest].state == "running" and s.guests[guest].server == target,
                5 * self.timings.iteration_ms,
            )
        return result

    def shutdown_server(self, server: str, *, migrate: bool, restart: bool = False) -> OpResult:
        return self._planned(rq.ShutdownServer(server, migrate, restart=restart))

    def delete_server(self, server: str, *, migrate: bool) -> OpResult:
        return self._planned(rq.ShutdownServer(server, migrate, delete=True))

    def _planned(self, op: rq.ShutdownServer) -> OpResult:
        if not self._knows(op.server):
            return OpResult(False, f"no server named {op.server}")
        incarnation = self._incarnation(op.server)
        result = self._manager(op)
        if result.ok:
            self.wait_until(
                lambda s: self._incarnation(op.server) != incarnation,
                20 * self.timings.iteration_ms + 2 * self.timings.guest_boot_ms,
            )
            self._settle()
        return result

    def _settle(self) -> None:
        """Let guests that are being restarted or migrated finish (bounded)."""
        self.wait_until(
            lambda s: not any(g.state in ("starting", "migrating") for g in s.guests.values()),
            self.timings.guest_boot_ms + 5 * self.timings.iteration_ms,
        )

    def set_maintenance(self, server: str, on: bool) -> OpResult:
        result = self._manager(rq.SetMaintenance(server, on))
        if result.ok and on:
            self.wait_until(lambda s: not s.running_on(server), 10 * self.timings.iteration_ms)
        return result

    def set_inbound_migration_lock(self, server: str, locked: bool) -> OpResult:
        return self._manager(rq.SetInboundLock(server, locked))

    def set_master(self, server: str) -> OpResult:
        result = self._manager(rq.SetMaster(server))
        if result.ok:
            self.wait_until(lambda s: s.master == server, 5 * self.timings.iteration_ms)
        return result
