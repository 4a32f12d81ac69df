"""Deliberately broken versions of the reference implementation, for proving the campaign finds bugs.

Each mutant is a context manager that patches one thing for its duration
and nothing in ovmref's own code paths knows about it. `apply(name)` enters
one by name (`OVM_CAMPAIGN_MUTANT` in a sandbox conftest does the same):

- multi-failure: the defect of issue 10 put back: dead servers handled one
  at a time, and a restart takes the lease over only from the last server
  the guest was assigned to (a target that died with its old server leaves
  the old one holding it forever);
- restart-skipped: the last HA guest of a failed server is never restarted
  (an off-by-one in the loop over its guests);
- least-free: a restart goes to the server with the least free memory that
  fits instead of the most;
- fence-keeps-guests: a server that fences itself is reset, but its guest
  domains go on running (the simulated machine reset forgets to stop them).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from typing import Any
from unittest import mock

from environments.sim.driver import SimDriver, forget_configured_pools
from ovmref import effects as fx
from ovmref.failover import coordinator as coordinator_module
from ovmref.failover import messages as msg
from ovmref.failover.coordinator import Coordinator
from ovmref.failover.pooldb import GuestRecord, ServerRecord


@contextlib.contextmanager
def multi_failure() -> Iterator[None]:
    original_start_on = Coordinator._start_on
    original_start_failed = Coordinator._on_start_failed

    def nodes_down(self: Coordinator, servers: Iterable[str]) -> list[fx.Effect]:
        for name in servers:  # one at a time: the others still look alive
            self.live.discard(name)
            if name in self.db.servers:
                self._servers_failed([self.db.servers[name]])
        return self._flush()

    def stranded(self: Coordinator, rec: ServerRecord) -> None:
        for g in self.db.guests_on(rec.name):
            if g.state not in coordinator_module._ACTIVE_GUEST:
                continue
            g.lease_holders = frozenset({(rec.node, rec.generation)})  # only the server that just failed
            if self.db.ha_protected(g):
                self._restart(g)
            else:
                self._set_stopped(g, f"{rec.name} failed; HA not enabled on both pool and guest")

    def start_on(self: Coordinator, g: GuestRecord, target: str) -> None:
        holders = g.lease_holders
        original_start_on(self, g, target)
        g.lease_holders = holders  # the target is not remembered as a possible holder

    def start_failed(self: Coordinator, m: msg.StartFailed) -> None:
        original_start_failed(self, msg.StartFailed(m.guest, m.node, m.reason))  # the holder is not read

    with (
        mock.patch.object(Coordinator, "nodes_down", nodes_down),
        mock.patch.object(Coordinator, "_stranded_guests", stranded),
        mock.patch.object(Coordinator, "_start_on", start_on),
        mock.patch.object(Coordinator, "_on_start_failed", start_failed),
    ):
        yield


@contextlib.contextmanager
def restart_skipped() -> Iterator[None]:
    def stranded(self: Coordinator, rec: ServerRecord) -> None:
        guests = [g for g in self.db.guests_on(rec.name) if g.state in coordinator_module._ACTIVE_GUEST]
        for g in guests[:-1] if len(guests) > 1 else guests:  # off by one
            g.lease_holders |= {(rec.node, rec.generation)}
            if self.db.ha_protected(g):
                self._restart(g)
            else:
                self._set_stopped(g, f"{rec.name} failed; HA not enabled on both pool and guest")

    with mock.patch.object(Coordinator, "_stranded_guests", stranded):
        yield


@contextlib.contextmanager
def least_free() -> Iterator[None]:
    def choose(
        guest: GuestRecord,
        servers: Mapping[str, ServerRecord],
        available: Collection[str],
        free_memory: Mapping[str, int],
    ) -> str | None:
        candidates = [s for s in available if s in servers]
        if guest.preferred:
            candidates = [s for s in candidates if s in set(guest.preferred)]
        fitting = [s for s in candidates if free_memory.get(s, 0) >= guest.memory_mb]
        return min(fitting, key=lambda s: (free_memory[s], servers[s].node)) if fitting else None

    with mock.patch.object(coordinator_module, "choose_server", choose):
        yield


@contextlib.contextmanager
def fence_keeps_guests() -> Iterator[None]:
    original = SimDriver._fx_fence

    def fence(self: SimDriver, host: Any, e: fx.Fence) -> None:
        kept = dict(host.guests)
        host.guests.clear()  # nothing to stop: the reset below leaves the domains alone
        original(self, host, e)
        host.guests.update(kept)

    with (
        mock.patch.object(SimDriver, "_fx_fence", fence),
        mock.patch.dict(SimDriver._handlers, {fx.Fence: fence}),
    ):
        yield


MUTANTS: dict[str, Callable[[], contextlib.AbstractContextManager[None]]] = {
    "multi-failure": multi_failure,
    "restart-skipped": restart_skipped,
    "least-free": least_free,
    "fence-keeps-guests": fence_keeps_guests,
}


@contextlib.contextmanager
def apply(name: str) -> Iterator[None]:
    """The mutant patched in; no pool the simulator configured before or under it is reused."""
    try:
        patch = MUTANTS[name]
    except KeyError:
        raise ValueError(f"unknown mutant {name!r}: one of {', '.join(MUTANTS)}") from None
    forget_configured_pools()
    try:
        with patch():
            yield
    finally:
        forget_configured_pools()
