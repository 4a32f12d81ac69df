"""What every driver whose servers run ovmref agents decides the same way.

The simulator and the local environment differ in how time passes and how
effects are carried out, not in what a pool spec may hold, which server an
agent starts believing is master, or how the Manager's view (PoolState) is
put together from the pool database and what each server runs. Those live here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from environments.model import (
    GuestState,
    GuestStateName,
    OpResult,
    PoolSpec,
    PoolState,
    ServerSpec,
    ServerState,
    ServerStateName,
)
from ovmref.failover.pooldb import PoolDB, ServerRecord
from ovmref.release import Release

O2CB_MAX_NODES = 255


def spec_problem(spec: PoolSpec) -> OpResult | None:
    """Why a pool cannot be built from `spec`, or None."""
    if not spec.servers:
        return OpResult(False, f"pool {spec.name!r} has no servers")
    names = [s.name for s in spec.servers]
    if len(set(names)) != len(names):
        return OpResult(False, f"pool {spec.name!r} names a server twice: {names}")
    if len(spec.servers) > O2CB_MAX_NODES:
        return OpResult(False, f"an O2CB cluster holds at most {O2CB_MAX_NODES} nodes")
    return None


def build_problem(held: PoolSpec | None, spec: PoolSpec) -> OpResult | None:
    """Why a driver cannot build `spec`: it already holds a pool, or the spec itself is unusable."""
    if held is not None:
        return OpResult(False, "this driver already holds a pool")
    return spec_problem(spec)


def initial_pooldb(spec: PoolSpec, nodes: Mapping[str, int], release: Release) -> PoolDB:
    """The pool database the Manager writes when the pool is created: every server joining."""
    db = PoolDB(spec.name, release)
    for server in spec.servers:
        db.servers[server.name] = ServerRecord(
            server.name, nodes[server.name], server.memory_mb, server.vcpus, set(server.roles)
        )
    return db


def master_to_expect(
    db: PoolDB | None, nodes: Mapping[str, int], specs: Mapping[str, ServerSpec], master_running: bool
) -> int | None:
    """The node a starting agent first believes is master: the database's, else (no master yet and
    none running) the lowest-numbered server with the master role, or the lowest of all."""
    if db is None:
        return None
    if db.master is not None:
        return nodes.get(db.master)
    if master_running:
        return None
    candidates = [n for n, s in specs.items() if "master" in s.roles] or list(specs)
    return min(nodes[n] for n in candidates)


@dataclass(frozen=True)
class ServerView:
    """One server as the driver sees it at this instant."""

    spec: ServerSpec
    node: int
    state: ServerStateName
    live_view: tuple[str, ...]


def pool_state(
    now_ms: int,
    release: Release,
    db: PoolDB | None,
    servers: Sequence[ServerView],
    master: str | None,
    where: Mapping[str, tuple[str, str]],
) -> PoolState:
    """The Manager's view. `where`: guest -> (server, phase) for the domains really present and not
    frozen ("running", or booting under any other name)."""
    used: dict[str, int] = {}
    for guest, (server, _) in where.items():
        rec = db.guests.get(guest) if db else None
        used[server] = used.get(server, 0) + (rec.memory_mb if rec else 0)
    states: dict[str, ServerState] = {}
    for view in servers:
        name = view.spec.name
        srec = db.servers.get(name) if db else None
        roles = set(srec.roles) if srec else set(view.spec.roles)
        roles.discard("master")
        if master == name:
            roles.add("master")
        state = view.state
        if state == "running" and srec is not None and srec.maintenance:
            state = "maintenance"
        states[name] = ServerState(
            name=name,
            state=state,
            node=view.node,
            roles=tuple(sorted(roles)),
            guests=tuple(sorted(g for g, (s, phase) in where.items() if s == name and phase == "running")),
            free_memory_mb=view.spec.memory_mb - used.get(name, 0),
            inbound_lock=bool(srec and srec.inbound_lock),
            live_view=view.live_view,
        )
    guests: dict[str, GuestState] = {}
    for name, g in db.guests.items() if db else ():
        on: str | None = None
        if name in where:
            on, phase = where[name]
            gstate: GuestStateName = "running" if phase == "running" else "starting"
        elif g.state == "powered_off":
            gstate = "powered_off"
        elif g.state == "starting" and master is not None:
            gstate = "starting"
        else:
            gstate = "stopped"
        guests[name] = GuestState(name, gstate, on, g.ha, g.restarts, g.memory_mb, g.preferred)
    return PoolState(now_ms, release, bool(db and db.ha_enabled), master, states, guests)
