"""Safety and liveness properties checked on any environment's timeline.

Driver-agnostic: they read only TimelineEvents, so the simulator, real
processes and containers are judged by the same code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from environments.model import TimelineEvent


@dataclass(frozen=True)
class Overlap:
    guest: str
    first: str
    second: str
    t_ms: int

    def __str__(self) -> str:
        return f"{self.guest} ran on {self.first} and {self.second} at once (t={self.t_ms / 1000:.3f} s)"


def double_runs(timeline: Iterable[TimelineEvent]) -> list[Overlap]:
    """Every instant a guest was running on two servers (guest_running .. guest_stop per server)."""
    running: dict[str, set[str]] = {}
    found: list[Overlap] = []
    for e in sorted(timeline, key=lambda x: x.t_ms):  # stable: same-instant order is kept
        if e.guest is None or e.server is None:
            continue
        where = running.setdefault(e.guest, set())
        if e.kind == "guest_running":
            others = where - {e.server}
            found.extend(Overlap(e.guest, other, e.server, e.t_ms) for other in sorted(others))
            where.add(e.server)
        elif e.kind == "guest_stop":
            where.discard(e.server)
    return found


def first_time(
    timeline: Iterable[TimelineEvent],
    kind: str,
    *,
    server: str | None = None,
    guest: str | None = None,
    after_ms: int = 0,
) -> int | None:
    """When the first event of `kind` (for that server/guest) happened at or after `after_ms`."""
    for e in sorted(timeline, key=lambda x: x.t_ms):
        if e.t_ms < after_ms or e.kind != kind:
            continue
        if server is not None and e.server != server:
            continue
        if guest is not None and e.guest != guest:
            continue
        return e.t_ms
    return None
