"""Where a guest starts: the Preferred Server policy.

Auto (no preferred server, the default): the available server with the
maximum free resources. Manual: among the available preferred servers, the
one with the maximum free resources. None when nothing fits: the caller
powers the guest off until a server becomes available.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from ovmref.failover.pooldb import GuestRecord, ServerRecord


def choose_server(
    guest: GuestRecord,
    servers: Mapping[str, ServerRecord],
    available: Collection[str],
    free_memory: Mapping[str, int],
) -> str | None:
    """Pick a target for `guest` among `available` servers (ties: lowest node number)."""
    candidates = [s for s in available if s in servers]
    if guest.preferred:
        wanted = set(guest.preferred)
        candidates = [s for s in candidates if s in wanted]
    fitting = [s for s in candidates if free_memory.get(s, 0) >= guest.memory_mb]
    if not fitting:
        return None
    return min(fitting, key=lambda s: (-free_memory[s], servers[s].node))
