"""Hypothesis strategies for fault schedules, aimed where multi-failure bugs live.

A schedule starts with one of a few shapes, then random events follow:
several servers lost at the same instant; a second fault while the first
one's failover is in flight (a few seconds either side of one dead
threshold, when the master restarts guests); the master failing and then
the server taking over from it; a split with several servers on each side;
or nothing special. Gaps between events are mostly shorter than one dead
threshold. Guests fit where they are put (Auto: on a server with room;
Manual: where the policy puts them), so every schedule can be set up.
Every choice shrinks towards the simplest: NFS, HA on, Auto guests, one
crash, no gap; hypothesis then shrinks a violation to a few lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from hypothesis import strategies as st

from conformance.campaign.schedule import STORAGES, Event, EventKind, GuestPlan, Schedule
from ovmref.release import ALL_RELEASES, Release
from ovmref.timing import O2CBTimings

SHAPES = ("random", "together", "during-failover", "master-takeover", "split")
RANDOM_KINDS: tuple[EventKind, ...] = (
    "crash",
    "partition",
    "hang",
    "storage",
    "master",
    "guest-crash",
    "recover",
    "heal",
    "crash",
)
GUEST_MEMORY = (1024, 512, 2048, 3072, 4096)
SERVER_MEMORY = (8192, 4096, 16384)
SERVER_COUNTS = (2, 3, 4, 3, 4, 5, 6)  # small pools more often: they cost less and fail as readily


def gaps_s(release: Release) -> tuple[int, ...]:
    """Seconds between events: at once, well within a dead threshold, around it (the restarts of
    the first fault are on their way), and beyond."""
    t = O2CBTimings.for_release(release)
    dead = t.dead_ms // 1000
    it = t.iteration_ms // 1000
    return (0, 10, 2, 30, dead - 2 * it, dead, dead + it, dead + 2 * it, dead + 4 * it, dead + 10 * it)


def _subset(draw: st.DrawFn, names: Sequence[str], low: int, high: int) -> tuple[str, ...]:
    picked = draw(st.lists(st.sampled_from(list(names)), min_size=low, max_size=high, unique=True))
    return tuple(sorted(picked, key=list(names).index))


def _guests(draw: st.DrawFn, names: list[str], memory: int) -> tuple[GuestPlan, ...]:
    """Guests that fit: Auto ones on a server with room, Manual ones where their policy puts them
    (the preferred server with the most free memory, ties to the lowest node)."""
    free = dict.fromkeys(names, memory)
    guests: list[GuestPlan] = []
    for _ in range(draw(st.integers(1, 8))):
        name = f"vm{len(guests) + 1}"
        mem = draw(st.sampled_from(GUEST_MEMORY))
        ha = draw(st.sampled_from((True, True, True, False)))
        if draw(st.sampled_from((False, False, False, True))):
            preferred = _subset(draw, names, 1, len(names))
            fits = [s for s in preferred if free[s] >= mem]
            if not fits:
                continue
            where = min(fits, key=lambda s: (-free[s], names.index(s)))
            guests.append(GuestPlan(name, mem, ha, preferred))
        else:
            fits = [s for s in names if free[s] >= mem]
            if not fits:
                continue
            where = fits[draw(st.integers(0, len(fits) - 1))]
            guests.append(GuestPlan(name, mem, ha, (), where))
        free[where] -= mem
    return tuple(guests)


def _event(draw: st.DrawFn, kind: EventKind, gap: int, names: list[str], guests: list[str]) -> Event | None:
    if kind in ("crash", "hang", "storage"):
        return Event(gap, kind, _subset(draw, names, 1, len(names)))
    if kind == "partition":
        return Event(gap, kind, _subset(draw, names, 1, len(names) - 1))
    if kind == "guest-crash":
        return Event(gap, kind, (draw(st.sampled_from(guests)),)) if guests else None
    if kind == "recover":
        return Event(gap, kind, (draw(st.sampled_from(names)),))
    return Event(gap, kind)


def _shape(draw: st.DrawFn, shape: str, release: Release, names: list[str]) -> list[Event]:
    n = len(names)
    t = O2CBTimings.for_release(release)
    dead, it = t.dead_ms // 1000, t.iteration_ms // 1000
    in_flight = st.sampled_from(tuple(dead + k * it for k in (0, 1, 2, 3, 4, -1)))
    if shape == "together":
        return [Event(0, "crash", _subset(draw, names, 2, max(2, n - 1)))]
    if shape == "during-failover":
        first = draw(st.sampled_from(names))
        second = draw(st.sampled_from([s for s in names if s != first]))
        return [Event(0, "crash", (first,)), Event(draw(in_flight), "crash", (second,))]
    if shape == "master-takeover":
        return [Event(0, "master"), Event(draw(in_flight), "master")]
    if shape == "split" and n >= 4:
        return [Event(0, "partition", _subset(draw, names, 2, n - 2))]
    return []


@st.composite
def pools(draw: st.DrawFn, releases: Sequence[Release] = ALL_RELEASES) -> Schedule:
    """A pool and its guests, nothing happening to it yet."""
    release = draw(st.sampled_from(list(releases)))
    n = draw(st.sampled_from(SERVER_COUNTS))
    names = [f"server{i}" for i in range(1, n + 1)]
    memory = draw(st.sampled_from(SERVER_MEMORY))
    storage = draw(st.sampled_from(STORAGES))
    pool_ha = draw(st.sampled_from((True, True, True, False)))
    return Schedule(release, n, memory, _guests(draw, names, memory), (), storage, pool_ha)


@st.composite
def schedules(draw: st.DrawFn, releases: Sequence[Release] = ALL_RELEASES) -> Schedule:
    pool = draw(pools(releases))
    names = pool.server_names
    events = _shape(draw, draw(st.sampled_from(SHAPES)), pool.release, names)
    gaps = st.sampled_from(gaps_s(pool.release))
    for _ in range(draw(st.integers(0 if events else 1, 3))):
        kind = draw(st.sampled_from(RANDOM_KINDS))
        event = _event(draw, kind, draw(gaps) if events else 0, names, [g.name for g in pool.guests])
        if event is not None:
            events.append(event)
    if not any(e.kind not in ("recover", "heal") for e in events):
        events.append(Event(0, "crash", (draw(st.sampled_from(names)),)))
    return replace(pool, events=tuple(events))
