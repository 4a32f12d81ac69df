"""Turn a driver's timeline into report evidence: a bounded event list and failover marks.

Evidence travels inside pytest reports (also across pytest-xdist), so it is
plain JSON and capped: heartbeats dominate long runs and are thinned first,
every other event is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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


def failover_marks(
    events: Sequence[dict[str, Any]], bound_ms: Callable[[str], int | None] | None = None
) -> list[dict[str, Any]]:
    """Per injected fault: when it was detected, fenced, and when each guest ran again (seconds after).

    `bound_ms(fault)` gives the failover bound the environment promises for a
    fault kind (None for faults it has no bound for); it is stored as bound_s
    so the report can compare the measured times with it.
    """
    marks: list[dict[str, Any]] = []
    for fault in (e for e in events if e.get("kind") == "fault"):
        t0 = int(fault["t_ms"])
        server = fault.get("server")
        after = [e for e in events if int(e["t_ms"]) >= t0]
        mark: dict[str, Any] = {"fault": fault.get("detail") or "fault", "server": server, "at_s": t0 / 1000}
        detected = _first(after, "node_down", server)
        if detected is not None:
            mark["detected_after_s"] = (int(detected["t_ms"]) - t0) / 1000
        fenced = _first(after, "fence", server)
        if fenced is not None:
            mark["fenced_after_s"] = (int(fenced["t_ms"]) - t0) / 1000
        running: dict[str, float] = {}
        for e in after:
            guest = e.get("guest")
            if (
                e.get("kind") == "guest_running"
                and guest
                and guest not in running
                and e.get("server") != server
            ):
                running[str(guest)] = (int(e["t_ms"]) - t0) / 1000
        if running:
            mark["guests_running_after_s"] = running
        bound = bound_ms(str(mark["fault"])) if bound_ms is not None else None
        if bound is not None:
            mark["bound_s"] = bound / 1000
        marks.append(mark)
    return marks


def _first(events: Sequence[dict[str, Any]], kind: str, server: object) -> dict[str, Any] | None:
    for e in events:
        if e.get("kind") == kind and (server is None or e.get("server") == server):
            return e
    return None
