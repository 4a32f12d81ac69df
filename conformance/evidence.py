"""Turn a driver's timeline into report evidence: a bounded event list.

Evidence travels inside pytest reports (also across pytest-xdist), so it is
plain JSON and capped: heartbeats dominate long runs and are thinned first,
every other event is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

MAX_TIMELINE_EVENTS = 4000


def cap_timeline(
    events: Sequence[dict[str, Any]], limit: int = MAX_TIMELINE_EVENTS
) -> tuple[list[dict[str, Any]], bool]:
    """At most `limit` events; returns (events, truncated). Heartbeats are thinned evenly."""
    if len(events) <= limit:
        return list(events), False
    others = [e for e in events if e.get("kind") != "heartbeat"][:limit]
    heartbeats = [e for e in events if e.get("kind") == "heartbeat"]
    room = limit - len(others)
    kept: list[dict[str, Any]] = []
    if room > 0 and heartbeats:
        stride = len(heartbeats) / room
        kept = [heartbeats[int(i * stride)] for i in range(room)]
    merged = sorted(others + kept, key=lambda e: int(e.get("t_ms", 0)))
    return merged, True
