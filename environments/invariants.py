"""Safety facts read off any environment's timeline: where each guest really ran, and when.

Driver-agnostic: they read only TimelineEvents, so the simulator, real
processes and containers are judged by the same code ("a guest never runs
on two servers at once" is checked here, for steps and property tests alike).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from environments.model import TimelineEvent


@dataclass(frozen=True)
class RunInterval:
    """A guest running on one server from `start_ms` until `end_ms` (None: still running)."""

    guest: str
    server: str
    start_ms: int
    end_ms: int | None

    def overlaps(self, other: RunInterval) -> bool:
        """True when both ran at some common instant of positive length."""
        if not (self.lasted and other.lasted):
            return False
        end_a = self.end_ms if self.end_ms is not None else float("inf")
        end_b = other.end_ms if other.end_ms is not None else float("inf")
        return self.start_ms < end_b and other.start_ms < end_a

    @property
    def lasted(self) -> bool:
        return self.end_ms is None or self.end_ms > self.start_ms


def run_intervals(events: Iterable[TimelineEvent]) -> list[RunInterval]:
    """Per guest and server: from `guest_running` to the next `guest_stop` of that guest on that server."""
    open_at: dict[tuple[str, str], int] = {}
    done: list[RunInterval] = []
    for e in sorted(events, key=lambda e: e.t_ms):
        if e.guest is None or e.server is None:
            continue
        key = (e.guest, e.server)
        if e.kind == "guest_running" and key not in open_at:
            open_at[key] = e.t_ms
        elif e.kind == "guest_stop" and key in open_at:
            done.append(RunInterval(e.guest, e.server, open_at.pop(key), e.t_ms))
    done.extend(RunInterval(g, s, t, None) for (g, s), t in open_at.items())
    return sorted(done, key=lambda i: (i.guest, i.start_ms, i.server))


def double_runs(events: Iterable[TimelineEvent]) -> list[tuple[RunInterval, RunInterval]]:
    """Every pair of intervals in which one guest ran on two servers at the same time."""
    by_guest: dict[str, list[RunInterval]] = {}
    for interval in run_intervals(events):
        by_guest.setdefault(interval.guest, []).append(interval)
    clashes: list[tuple[RunInterval, RunInterval]] = []
    for intervals in by_guest.values():
        for i, a in enumerate(intervals):
            clashes.extend((a, b) for b in intervals[i + 1 :] if a.server != b.server and a.overlaps(b))
    return clashes


def ran_on_after(
    events: Sequence[TimelineEvent], guest: str, server: str, after_ms: int
) -> list[RunInterval]:
    """Intervals of positive length in which `guest` ran on `server` at some instant after `after_ms`."""
    return [
        i
        for i in run_intervals(events)
        if i.guest == guest and i.server == server and i.lasted and (i.end_ms is None or i.end_ms > after_ms)
    ]


def describe(interval: RunInterval) -> str:
    end = "still running" if interval.end_ms is None else f"{interval.end_ms} ms"
    return f"{interval.guest} on {interval.server} from {interval.start_ms} ms to {end}"


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
