"""Safety facts read off any environment's timeline: where each guest really ran, and when.

Driver-agnostic: they read only TimelineEvents, so the simulator, real
processes and containers are judged by the same code ("a guest never runs
on two servers at once" is checked here, for steps and property tests alike).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from environments.model import TimelineEvent

# where guests ran is read in environments.outcome; re-exported for the steps that ask it here
from environments.outcome import RunInterval as RunInterval
from environments.outcome import run_intervals as run_intervals
from environments.outcome import runs_after


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
    return [i for i in runs_after(events, guest, after_ms) if i.server == server]


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


# ---- whole-run properties: what every fault schedule must leave true ------------------------------
#: timeline marks after which a server runs nothing until it boots again
DOWN_FAULTS = frozenset({"crash", "hang", "storage", "master"})  # injected kinds (a partition: fence)
DOWN_KINDS = frozenset({"fence", "halt", "leave"})


def first_fault_ms(events: Iterable[TimelineEvent]) -> int | None:
    """When the first fault of the run was injected (None: no fault yet)."""
    return first_time(events, "fault")


def went_down(event: TimelineEvent) -> bool:
    """The event takes its server down: a crash, hang or storage loss injected, a fence, a halt."""
    if event.server is None or event.guest is not None:
        return False
    return event.kind in DOWN_KINDS or (event.fault is not None and event.fault.kind in DOWN_FAULTS)


def servers_down_since(events: Iterable[TimelineEvent], since_ms: int) -> set[str]:
    """Every server that went down (crashed, hung, lost its storage, fenced, halted) since `since_ms`."""
    return {e.server for e in events if e.t_ms >= since_ms and went_down(e) and e.server is not None}


@dataclass(frozen=True)
class MasterInterval:
    """`server` acted as server pool master from `start_ms` until `end_ms` (None: still does)."""

    server: str
    start_ms: int
    end_ms: int | None


def _ends_mastership(e: TimelineEvent) -> bool:
    if e.kind == "master":
        return "steps down" in e.detail or "hands the master role" in e.detail
    return went_down(e)


def master_intervals(events: Iterable[TimelineEvent]) -> list[MasterInterval]:
    """From each "<server> is the server pool master" to that server stepping down or going down."""
    open_at: dict[str, int] = {}
    done: list[MasterInterval] = []
    for e in sorted(events, key=lambda e: e.t_ms):
        if e.server is None:
            continue
        if e.kind == "master" and e.detail.endswith("is the server pool master"):
            open_at.setdefault(e.server, e.t_ms)
        elif e.server in open_at and _ends_mastership(e):
            done.append(MasterInterval(e.server, open_at.pop(e.server), e.t_ms))
    done.extend(MasterInterval(s, t, None) for s, t in open_at.items())
    return sorted(done, key=lambda i: (i.start_ms, i.server))


def two_masters(events: Iterable[TimelineEvent]) -> list[tuple[MasterInterval, MasterInterval]]:
    """Every pair of servers that both acted as server pool master at some common instant."""
    intervals = master_intervals(events)
    clashes = []
    for i, a in enumerate(intervals):
        end_a = a.end_ms if a.end_ms is not None else float("inf")
        for b in intervals[i + 1 :]:
            end_b = b.end_ms if b.end_ms is not None else float("inf")
            if a.server != b.server and a.start_ms < end_b and b.start_ms < end_a:
                clashes.append((a, b))
    return clashes


def guests_left_running(events: Sequence[TimelineEvent]) -> list[tuple[TimelineEvent, RunInterval]]:
    """Each fence whose server kept a guest running past the instant it fenced itself."""
    intervals = run_intervals(events)
    leftovers = []
    for fence in (e for e in events if e.kind == "fence" and e.server is not None):
        leftovers += [
            (fence, i)
            for i in intervals
            if i.server == fence.server
            and i.start_ms <= fence.t_ms
            and (i.end_ms is None or i.end_ms > fence.t_ms)
        ]
    return leftovers


def starts_after(
    events: Iterable[TimelineEvent], guests: Iterable[str], since_ms: int
) -> list[TimelineEvent]:
    """Every start (boot or arrival by migration) of one of `guests` at or after `since_ms`."""
    wanted = set(guests)
    return [e for e in events if e.kind == "guest_start" and e.guest in wanted and e.t_ms >= since_ms]


# ---- where restarts went: replaying the master's placement from the timeline ----------------------
SETTLED_MS = 20_000  # two resync periods: every server joined that long ago has reported to the master


@dataclass(frozen=True)
class Misplaced:
    at_ms: int
    guest: str
    target: str
    why: str


def _joined_long_enough(
    server: str, t: int, joined: dict[str, int], down: dict[str, int], masters: list[MasterInterval]
) -> bool:
    """The master surely counts `server` as available at `t`: it joined (and said Hello) at least
    SETTLED_MS ago, has not gone down since, and the master has been master that long too."""
    since = joined.get(server)
    if since is None or since > t - SETTLED_MS or down.get(server, -1) >= since:
        return False
    return any(m.start_ms <= t - SETTLED_MS and (m.end_ms is None or m.end_ms > t) for m in masters)


def _peer_node(detail: str) -> str:
    """'node 3: connected ...' / 'connected to node 3' -> '3' (o2net's records name the peer's node)."""
    words = detail.replace(":", " ").split()
    return words[words.index("node") + 1] if "node" in words[:-1] else ""


def misplaced_restarts(
    events: Sequence[TimelineEvent],
    memory: Mapping[str, int],
    preferred: Mapping[str, tuple[str, ...]],
    capacity: Mapping[str, int],
    nodes: Mapping[str, int],
) -> list[Misplaced]:
    """Restarts that did not go to the available server with the most free memory that the guest's
    preferred servers allow (Auto: any server). Memory in use is replayed from the timeline as the
    master accounts it (running, starting, or sent a start); a restart is judged only where the
    master's view of its servers is sure (see `_joined_long_enough`), and a target outside the
    guest's preferred servers is always wrong. Candidates are the servers the master had an o2net
    connection to (`nodes`: each server's node number, as o2net's records name peers)."""
    masters = master_intervals(events)
    on: dict[str, str] = {}  # guest -> the server the master counts its memory on
    joined: dict[str, int] = {}
    down: dict[str, int] = {}
    links: dict[tuple[str, str], bool] = {}  # (server, peer node as written) -> o2net connected
    wrong: list[Misplaced] = []
    for e in sorted(events, key=lambda e: e.t_ms):
        if e.server is not None and e.guest is None:
            if e.kind == "joined":
                joined[e.server] = e.t_ms
            elif went_down(e):
                down[e.server] = e.t_ms
            elif e.kind in ("o2net-connected", "o2net-disconnected"):
                links[(e.server, _peer_node(e.detail))] = e.kind == "o2net-connected"
        if e.guest is None:
            continue
        g = e.guest
        if e.kind in ("guest_start", "guest_running") and e.server is not None:
            on[g] = e.server
        elif e.kind == "guest_stop" and on.get(g) == e.server and "crashed" not in e.detail:
            on.pop(g, None)  # stopped, migrated away (a crash leaves it counted until the master hears)
        elif e.kind in ("start_failed", "guest_powered_off", "guest_not_restarted"):
            on.pop(g, None)
        elif e.kind == "restart" and e.server is not None:
            on.pop(g, None)
            acting = [m.server for m in masters if m.start_ms <= e.t_ms and (m.end_ms or e.t_ms + 1) > e.t_ms]
            master = acting[0] if acting else None
            reach = {
                s for s in capacity if s == master or links.get((master or "", str(nodes.get(s))), False)
            }
            wrong += _judge(e, memory, preferred, capacity, on, joined, down, masters, reach)
            on[g] = e.server
    return wrong


def _crashed_on(detail: str) -> str | None:
    """The server a restart's guest crashed on, from the master's record ("vm1 crashed on server2;
    restarting on server1"); None for a restart after a server's failure."""
    head, sep, _ = detail.partition(";")
    words = head.split()
    if not sep or len(words) != 4 or words[1:3] != ["crashed", "on"]:
        return None
    return words[3]


def _judge(
    e: TimelineEvent,
    memory: Mapping[str, int],
    preferred: Mapping[str, tuple[str, ...]],
    capacity: Mapping[str, int],
    on: Mapping[str, str],
    joined: dict[str, int],
    down: dict[str, int],
    masters: list[MasterInterval],
    reachable: set[str],
) -> list[Misplaced]:
    g, target, t = e.guest or "", e.server or "", e.t_ms
    allowed = preferred.get(g, ())
    if allowed and target not in allowed:
        return [Misplaced(t, g, target, f"{target} is not one of its preferred servers {', '.join(allowed)}")]
    # a server the master has no o2net connection to is out of its reach: not a candidate
    sure = [s for s in capacity if s in reachable and _joined_long_enough(s, t, joined, down, masters)]
    if target not in sure:
        return []  # the master may know better (a server it has not heard from yet, or one dead)
    used = {s: 0 for s in capacity}
    for guest, server in on.items():
        used[server] = used.get(server, 0) + memory.get(guest, 0)
    free = {s: capacity[s] - used[s] for s in sure}
    fitting = [s for s in sure if free[s] >= memory.get(g, 0) and (not allowed or s in allowed)]
    crashed_on = _crashed_on(e.detail)
    if crashed_on is not None and any(s != crashed_on for s in fitting):
        # a crashed guest goes to another server; its own only when no other has room
        if target == crashed_on:
            return [Misplaced(t, g, target, f"it crashed on {target} and another server had room")]
        fitting = [s for s in fitting if s != crashed_on]
    best = max((free[s] for s in fitting), default=None)
    if best is not None and free[target] < best:
        others = ", ".join(f"{s} {free[s]} MB" for s in fitting if free[s] == best)
        return [Misplaced(t, g, target, f"{target} had {free[target]} MB free, {others}")]
    return []
