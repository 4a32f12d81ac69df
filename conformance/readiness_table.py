"""The readiness read-out and its N+1 table as JSON-ready data (conformance.json's `readiness`,
and the HTML report's "HA readiness" section)."""

from __future__ import annotations

from typing import Any

from ovmref.readiness.nplus1 import GuestOutcome, NPlusOne
from ovmref.readiness.readout import PoolReadout


def _outcome(o: GuestOutcome) -> dict[str, Any]:
    return {"guest": o.guest, "memory_mb": o.memory_mb, "action": o.action, "target": o.target, "why": o.why}


def readiness_to_dict(readout: PoolReadout, table: NPlusOne) -> dict[str, Any]:
    return {
        "pool_ha": readout.pool_ha,
        "pool_ha_source": readout.pool_ha_source,
        "master": readout.master,
        "manager": readout.manager,
        # what the read-out could not join or found disagreeing (a guest the Manager does not list ...)
        "notes": list(readout.notes),
        "servers": [
            {
                "name": s.name,
                "reachable": s.reachable,
                "free_mb": s.free_mb,
                "total_mb": s.total_mb,
                "maintenance": s.maintenance,
                "inbound_lock": s.inbound_lock,
                "why_unknown": s.why_unknown,
            }
            for s in readout.servers
        ],
        "guests": [
            {
                "name": g.name,
                "server": g.server,
                "memory_mb": g.memory_mb,
                "ha": g.ha,
                "ha_source": g.ha_source,
                "preferred": None if g.preferred is None else list(g.preferred),
                "preferred_source": g.preferred_source,
                "restart_action_on_crash": g.restart_on_crash,
                "start_policy": g.start_policy,
            }
            for g in readout.guests
        ],
        "n_plus_one": [
            {
                "server": s.server,
                "known": s.known,
                "if_failed": [_outcome(o) for o in s.failure],
                "planned": s.planned_kind,
                "if_planned": [_outcome(o) for o in s.planned],
            }
            for s in table.servers
        ],
    }
