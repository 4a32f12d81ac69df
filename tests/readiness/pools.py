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
) -> PoolReadout:
    """servers: (name, free MB); guests: (name, server, MB, HA)."""
    prefs = preferred or {}
    return PoolReadout(
        "p",
        release,
        pool_ha,
        "inventory",
        tuple(ServerReadout(n, True, free, free * 2, n in maintenance, n in locked) for n, free in servers),
        tuple(
            GuestReadout(n, s, mb, 1, ha, "vm.cfg", prefs.get(n, ()), "inventory") for n, s, mb, ha in guests
        ),
    )
