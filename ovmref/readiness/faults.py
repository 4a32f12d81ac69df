"""Faults played on a read-out pool, one after the other, with the N+1 engine's decisions.

`simulate --inventory` uses it: nothing is done to the real pool. Each fault takes its server out
of the pool as HA would see it once the server is declared dead (a crash, a hang, lost storage
and a partition all end with the server fenced: FAIL-SERVER-RESTART, HB-SELF-FENCE-STORAGE), its
guests are handled as `n_plus_one` handles a failure, and the next fault is played on the pool
that results (restarted guests on their new servers, taking their memory; the dead server gone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from ovmref.readiness.nplus1 import GuestOutcome, n_plus_one
from ovmref.readiness.readout import PoolReadout

FAULT_KINDS: tuple[str, ...] = ("crash", "hang", "storage", "partition")


class FaultError(ValueError):
    """A fault that cannot be played (bad form, unknown server, a server already down)."""


@dataclass(frozen=True)
class PlayedFault:
    kind: str
    server: str
    outcomes: tuple[GuestOutcome, ...]


def parse_fault(text: str) -> tuple[str, str]:
    kind, sep, server = text.partition(":")
    if not sep or kind not in FAULT_KINDS or not server:
        raise FaultError(f"bad fault {text!r}: write KIND:SERVER with KIND one of {', '.join(FAULT_KINDS)}")
    return kind, server


def play_faults(
    readout: PoolReadout, faults: Sequence[tuple[str, str]]
) -> tuple[PoolReadout, list[PlayedFault]]:
    played = []
    pool = readout
    for kind, server in faults:
        s = pool.server(server)
        if s is None:
            names = ", ".join(x.name for x in pool.servers)
            raise FaultError(f"no server named {server!r} (servers: {names})")
        if not s.reachable or s.free_mb is None:
            raise FaultError(f"{server} is already out of the pool ({s.why_unknown or 'not read'})")
        outcomes = n_plus_one(pool).of(server).failure
        played.append(PlayedFault(kind, server, outcomes))
        moved = {o.guest: o.target for o in outcomes if o.action == "restarted" and o.target is not None}
        taken: dict[str, int] = {}
        for o in outcomes:
            if o.target is not None:
                taken[o.target] = taken.get(o.target, 0) + o.memory_mb
        guests = tuple(
            replace(g, server=moved[g.name]) if g.name in moved else g
            for g in pool.guests
            if g.server != server or g.name in moved
        )
        servers = tuple(
            replace(x, reachable=False, free_mb=None, why_unknown=f"{kind} (simulated)")
            if x.name == server
            else replace(x, free_mb=x.free_mb - taken[x.name])
            if x.name in taken and x.free_mb is not None
            else x
            for x in pool.servers
        )
        pool = replace(pool, servers=servers, guests=guests)
    return pool, played


_SAID = {
    "restarted": "restarted on",
    "powered_off": "POWERED OFF (no server with room)",
    "not_restarted": "not restarted (HA off on the pool or the guest)",
    "unknown": "unknown (its HA, or the pool's, is not known)",
}


def render_played(before: PoolReadout, after: PoolReadout, played: Sequence[PlayedFault]) -> list[str]:
    """What happened at each fault, then every guest before and after (the simulate console)."""
    lines = []
    for p in played:
        lines.append(f"after {p.kind} of {p.server} (declared dead, fenced):")
        lines += [
            f"  {o.guest!r}: {_SAID[o.action]}" + (f" {o.target}" if o.target else "") for o in p.outcomes
        ]
        if not p.outcomes:
            lines.append("  no guest ran there")
    lines.append("")
    lines.append(f"{'guest':<34} {'before':<14} after")
    now = {g.name: g.server for g in after.guests}
    for g in sorted(before.guests, key=lambda g: g.name):
        lines.append(f"{g.name!r:<34} {g.server:<14} {now.get(g.name, 'not running')}")
    lines.append("read-only: nothing was done to the real pool")
    return lines
