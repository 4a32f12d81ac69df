"""The Manager's facts joined into the SSH read-out of a pool (precedence in docs/readiness.md).

Where the Manager was read, it wins: it is where Oracle VM 3.x keeps the pool's and the guests' HA
settings (it writes the guests' vm.cfg), so its `ServerPool.clusterId` gives the pool's HA (an
unclustered 3.x pool has no HA: ovm-ha-facts.md section 6), its `Vm.highAvailability` the guests'
flags (a guest is matched to the Vm whose id is its `xm list` name: environments/manager/match.py),
its `Server.maintenanceMode` the servers in maintenance. A disagreement with vm.cfg or the
inventory's `ha:` section is a note. What the Manager does not say (the inbound migration lock,
preferred servers, a guest it does not list) keeps the inventory's value, or stays unknown.
"""

from __future__ import annotations

from dataclasses import replace

from environments.manager.facts import ManagerFacts
from environments.manager.match import match_vms
from ovmref.readiness.readout import GuestReadout, PoolReadout, ServerReadout


def with_manager(readout: PoolReadout, facts: ManagerFacts) -> PoolReadout:
    where = f"Oracle VM Manager {facts.host}"
    notes = list(readout.notes)
    pool = facts.pool_for(readout.name, [s.name for s in readout.servers])
    pool_ha, pool_source = readout.pool_ha, readout.pool_ha_source
    master = None
    if pool is None:
        notes.append(f"{where}: lists no server pool named {readout.name!r} or holding its servers")
    else:
        if pool_ha is not None and pool_ha != pool.clustered and readout.pool_ha_source == "inventory":
            notes.append(
                f"pool {readout.name}: the inventory says HA {pool_ha}, {where} says "
                f"clustered {pool.clustered} (the Manager's is used)"
            )
        pool_ha, pool_source = pool.clustered, f"{where}: ServerPool.clusterId"
        master = pool.master
    by_server = {s.name: s for s in facts.servers}
    servers: list[ServerReadout] = []
    for s in readout.servers:
        known = by_server.get(s.name)
        if known is not None and known.maintenance is not None:
            if known.maintenance != s.maintenance and s.maintenance:
                notes.append(
                    f"{s.name}: the inventory says maintenance, {where} says not (the Manager's is used)"
                )
            s = replace(s, maintenance=known.maintenance)
        servers.append(s)
    read = [s.name for s in readout.servers if s.reachable and not s.why_unknown]
    matched = match_vms(((g.name, g.server) for g in readout.guests), facts.vms, read)
    notes += matched.notes(where)
    guests: list[GuestReadout] = []
    for g in readout.guests:
        vm = matched.by_guest.get(g.name)
        if vm is None:
            guests.append(g)
            continue
        ha, source = g.ha, g.ha_source
        if vm.ha is not None:
            if g.ha is not None and g.ha != vm.ha:
                notes.append(
                    f"guest {g.name!r}: {g.ha_source} says HA {g.ha}, {where} says {vm.ha} "
                    "(the Manager's is used)"
                )
            ha, source = vm.ha, f"{where}: Vm.highAvailability"
        if vm.server is not None and vm.server != g.server:
            notes.append(f"guest {g.name!r}: runs on {g.server} (xm list), {where} says {vm.server}")
        guests.append(
            replace(
                g, ha=ha, ha_source=source, restart_on_crash=vm.restart_on_crash, start_policy=vm.start_policy
            )
        )
    return replace(
        readout,
        pool_ha=pool_ha,
        pool_ha_source=pool_source,
        servers=tuple(servers),
        guests=tuple(guests),
        notes=tuple(notes),
        master=master,
        manager=where,
        manager_read=True,
    )


def manager_unavailable(readout: PoolReadout, why: str) -> PoolReadout:
    """The read-out as the servers and the inventory give it, with why the Manager said nothing."""
    return replace(readout, notes=(*readout.notes, f"{why}: its facts are unknown"), manager=why)
