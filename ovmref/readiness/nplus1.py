"""The N+1 what-if: for each server, what HA would do with its guests if it failed now, and if it
were taken down on purpose (maintenance or a restart), computed on a read-out pool.

The decisions are ovmref's own: the master's (ovmref.failover.coordinator) over a pool database
built from the read-out, with the same placement (ovmref.failover.placement.choose_server: the
available preferred server, or any available server when the guest has none, with the most free
memory) and the same rule that HA protects a guest only when the pool and the guest both have it on
(PoolDB.ha_protected). For a failure that is exactly Coordinator._stranded_guests: its guests in
name order, each restarted on the chosen server (whose free memory it then takes) or powered off
when none fits, guests without HA not restarted (tests/readiness checks it against the Coordinator).
For a planned operation on 3.x every running guest is migrated first (PLAN-MIGRATE-FIRST-3X), each
taking the memory of its target as it is placed; one that fits nowhere is powered off if HA protects
it (the Manager refuses a restart while it runs there), stopped if not. On 2.x the Manager restarts
the server's HA guests elsewhere and stops the others (PLAN-MANAGER-PROMPT-2X).

A server's capacity is its `xm info` free memory plus the memory of the guests it runs now; a
server whose memory is not known is no target. A guest whose HA is not known gets `unknown`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from ovmref.failover.placement import choose_server
from ovmref.failover.pooldb import GuestRecord, PoolDB, ServerRecord
from ovmref.readiness.readout import PoolReadout
from ovmref.release import Release

Action = Literal["restarted", "powered_off", "not_restarted", "migrated", "stopped", "unknown"]


@dataclass(frozen=True)
class GuestOutcome:
    guest: str
    memory_mb: int
    action: Action
    target: str | None
    why: str


@dataclass(frozen=True)
class ServerWhatIf:
    server: str
    known: bool  # its guests were read; False: nothing can be said about them
    failure: tuple[GuestOutcome, ...]
    planned: tuple[GuestOutcome, ...]
    planned_kind: str


@dataclass(frozen=True)
class NPlusOne:
    release: Release
    servers: tuple[ServerWhatIf, ...]

    def of(self, server: str) -> ServerWhatIf:
        return next(s for s in self.servers if s.server == server)


def pool_database(readout: PoolReadout) -> PoolDB:
    """The read-out as the master's pool database: servers active (memory = free + what runs there),
    guests running where `xm list` shows them, HA as read (unknown counts as off here; the what-if
    reports it as unknown)."""
    db = PoolDB(readout.name, readout.release, ha_enabled=bool(readout.pool_ha))
    used: dict[str, int] = {}
    for g in readout.guests:
        used[g.server] = used.get(g.server, 0) + g.memory_mb
    for node, s in enumerate(readout.servers):
        known = s.reachable and s.free_mb is not None
        db.servers[s.name] = ServerRecord(
            s.name,
            node,
            (s.free_mb or 0) + used.get(s.name, 0) if known else 0,
            0,
            state="active" if known else "down",
            maintenance=s.maintenance,
            inbound_lock=s.inbound_lock,
        )
    for g in readout.guests:
        db.guests[g.name] = GuestRecord(
            g.name, g.memory_mb, g.vcpus, bool(g.ha), g.preferred or (), server=g.server, state="running"
        )
    return db


def n_plus_one(readout: PoolReadout) -> NPlusOne:
    db = pool_database(readout)
    ha_known = {g.name: g.ha is not None and readout.pool_ha is not None for g in readout.guests}
    used = db.used_memory()
    free = {n: r.memory_mb - used.get(n, 0) for n, r in db.servers.items()}
    targets = [
        n for n, r in db.servers.items() if r.state == "active" and not r.maintenance and not r.inbound_lock
    ]
    on: dict[str, list[GuestRecord]] = {n: [] for n in db.servers}
    for g in sorted(db.guests.values(), key=lambda g: g.name):
        if g.server in on:
            on[g.server].append(g)
    r3 = readout.release is Release.R3
    out = []
    for s in readout.servers:
        known = db.servers[s.name].state == "active"
        avail = [n for n in targets if n != s.name]
        guests = on[s.name] if known else []
        failure = _failure(db, guests, avail, free, ha_known)
        planned = _planned(db, guests, avail, free, ha_known, migrate=r3)
        kind = "maintenance or restart, migrating first" if r3 else "restart, guests not migrated"
        out.append(ServerWhatIf(s.name, known, failure, planned, kind))
    return NPlusOne(readout.release, tuple(out))


def _failure(
    db: PoolDB,
    guests: list[GuestRecord],
    avail: list[str],
    base: Mapping[str, int],
    known: Mapping[str, bool],
) -> tuple[GuestOutcome, ...]:
    free = dict(base)
    out = []
    for g in guests:
        if not known[g.name]:
            out.append(
                GuestOutcome(g.name, g.memory_mb, "unknown", None, "its HA (or the pool's) is not known")
            )
        elif db.ha_protected(g):
            out.append(_restart(g, db, avail, free))
        else:
            out.append(
                GuestOutcome(
                    g.name, g.memory_mb, "not_restarted", None, "HA not enabled on both pool and guest"
                )
            )
    return tuple(out)


def _restart(g: GuestRecord, db: PoolDB, avail: list[str], free: dict[str, int]) -> GuestOutcome:
    target = choose_server(g, db.servers, avail, free)
    if target is None:
        where = "preferred or available server" if g.preferred else "available server"
        return GuestOutcome(
            g.name, g.memory_mb, "powered_off", None, f"no {where} with {g.memory_mb} MB free"
        )
    free[target] -= g.memory_mb
    return GuestOutcome(
        g.name, g.memory_mb, "restarted", target, f"{free[target] + g.memory_mb} MB free there"
    )


def _planned(
    db: PoolDB,
    guests: list[GuestRecord],
    avail: list[str],
    base: Mapping[str, int],
    known: Mapping[str, bool],
    *,
    migrate: bool,
) -> tuple[GuestOutcome, ...]:
    free = dict(base)
    out = []
    for g in guests:
        protected = db.ha_protected(g) if known[g.name] else None
        if migrate:
            target = choose_server(g, db.servers, avail, free)
            if target is not None:
                free[target] -= g.memory_mb
                out.append(GuestOutcome(g.name, g.memory_mb, "migrated", target, "live migration"))
                continue
            if protected is None:
                out.append(
                    GuestOutcome(g.name, g.memory_mb, "unknown", None, "no room to migrate; HA not known")
                )
            elif protected:
                out.append(
                    GuestOutcome(
                        g.name,
                        g.memory_mb,
                        "powered_off",
                        None,
                        "no server with room to migrate or restart it",
                    )
                )
            else:
                out.append(
                    GuestOutcome(g.name, g.memory_mb, "stopped", None, "no server with room to migrate it")
                )
        elif protected is None:
            out.append(
                GuestOutcome(g.name, g.memory_mb, "unknown", None, "its HA (or the pool's) is not known")
            )
        elif protected:
            out.append(_restart(g, db, avail, free))
        else:
            out.append(GuestOutcome(g.name, g.memory_mb, "stopped", None, "not migrated, HA off: stopped"))
    return tuple(out)


def _said(outcomes: tuple[GuestOutcome, ...]) -> str:
    words = {
        "restarted": "restarted on",
        "migrated": "migrated to",
        "powered_off": "POWERED OFF",
        "not_restarted": "not restarted (HA off)",
        "stopped": "stopped",
        "unknown": "unknown",
    }
    return (
        ", ".join(f"{o.guest!r} {words[o.action]}" + (f" {o.target}" if o.target else "") for o in outcomes)
        or "no guest"
    )


def render_table(table: NPlusOne) -> list[str]:
    """The table as console lines: per server, if it failed now, and if taken down on purpose."""
    lines = []
    for s in table.servers:
        if not s.known:
            lines.append(f"{s.server}: unknown (its guests and memory were not read)")
            continue
        lines.append(f"{s.server} fails: {_said(s.failure)}")
        lines.append(f"{s.server} {s.planned_kind}: {_said(s.planned)}")
    return lines
