"""Read-out pools for the readiness tests: servers with free memory, guests with HA flags."""

from __future__ import annotations

from collections.abc import Sequence

from ovmref.readiness.readout import GuestReadout, PoolReadout, ServerReadout
from ovmref.release import Release


def pool(
    servers: Sequence[tuple[str, int]],
    guests: Sequence[tuple[str, str, int, bool]],
    *,
    pool_ha: bool | None = True,
    release: Release = Release.R3,
    preferred: dict[str, tuple[str, ...]] | None = None,
    maintenance: Sequence[str] = (),
    locked: Sequence[str] = (),
    restart_on_crash: dict[str, str | None] | None = None,
    manager: str = "Oracle VM Manager (test)",
) -> PoolReadout:
    """servers: (name, free MB); guests: (name, server, MB, HA). As read with a Manager (`manager`
    "" for none) whose guests all say restartActionOnCrash RESTART unless `restart_on_crash` says."""
    crash = restart_on_crash or {}
    prefs = preferred or {}
    return PoolReadout(
        "p",
        release,
        pool_ha,
        "inventory",
        tuple(ServerReadout(n, True, free, free * 2, n in maintenance, n in locked) for n, free in servers),
        tuple(
            GuestReadout(
                n,
                s,
                mb,
                1,
                ha,
                "vm.cfg",
                prefs.get(n, ()),
                "inventory",
                crash.get(n, "RESTART") if manager else None,
            )
            for n, s, mb, ha in guests
        ),
        manager=manager,
        manager_read=bool(manager),
    )
