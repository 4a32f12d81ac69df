"""What each injected fault led to, read once off the typed timeline: the master's detection, the
fence, and where and when each guest on the failed server ran again, against the bound that applies.

The steps, the whole-run properties and the report all ask "when was the fault detected and fenced,
and when did each guest run again?". They ask it here: the fault's kind comes from the event's
InjectedFault as the step meant it ("master", not the "crash" that carried it out), and the report
stores the FaultOutcome objects themselves, so nothing joins figures back to faults by time.
It lives in environments/ because the steps and invariants need it and conformance/ builds on
environments/, never the other way round.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from environments.model import InjectedFault, TimelineEvent

# what the master records when it will not (or cannot yet) run a guest again
SETBACK_KINDS = frozenset({"guest_powered_off", "guest_not_restarted", "start_failed"})
# every kind an outcome reads: the rest (heartbeats above all) is skipped before the walk
_OUTCOME_KINDS = SETBACK_KINDS | {"fault", "node_down", "fence", "guest_start", "guest_running", "guest_stop"}
NOT_RUNNING_AGAIN = "not running again by the end of the timeline"

BoundOf = Callable[[InjectedFault], int | None]


# ---- where guests ran --------------------------------------------------------------------------
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


def runs_after(events: Iterable[TimelineEvent], guest: str, after_ms: int) -> list[RunInterval]:
    """Every interval of positive length in which `guest` ran (anywhere) at some instant after `after_ms`."""
    return [
        i
        for i in run_intervals(events)
        if i.guest == guest and i.lasted and (i.end_ms is None or i.end_ms > after_ms)
    ]


# ---- a guest's next run --------------------------------------------------------------------------
@dataclass(frozen=True)
class NextRun:
    """Where and when a guest hit by a fault reached running again, and the bound that applies.

    `setback`: what held it up on the way (the master powered it off, or would not restart it), or
    why it never ran again. A guest held up has no bound: the failover bound promises a restart
    only while a server has room.
    """

    guest: str
    was_on: str | None  # the server it was on when the fault hit (None: a pool-wide fault)
    server: str | None  # where it ran again (None: it did not)
    running_ms: int | None  # when it reached running there
    setback: str = ""
    bound_ms: int | None = None  # fault -> running again may take this long

    def after_ms(self, fault_at_ms: int) -> int | None:
        return None if self.running_ms is None else self.running_ms - fault_at_ms

    def as_dict(self) -> dict[str, Any]:
        return {
            "guest": self.guest,
            "was_on": self.was_on,
            "server": self.server,
            "running_ms": self.running_ms,
            "setback": self.setback,
            "bound_ms": self.bound_ms,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NextRun:
        return cls(
            guest=str(data["guest"]),
            was_on=_opt_str(data.get("was_on")),
            server=_opt_str(data.get("server")),
            running_ms=_opt_int(data.get("running_ms")),
            setback=str(data.get("setback") or ""),
            bound_ms=_opt_int(data.get("bound_ms")),
        )


def next_run(
    events: Sequence[TimelineEvent],
    guest: str,
    since_ms: int,
    failed: str | None,
    *,
    elsewhere: bool = False,
    bound_ms: int | None = None,
) -> NextRun:
    """The guest's first `guest_running` at or after `since_ms` that is a run again after the fault.

    On the `failed` server only a fresh boot there counts (a hung server's guests resuming with it
    have not failed over), and with `elsewhere` not even that. `failed=None`: any server counts
    (a guest crash, where the guest may boot again where it was). `events` in time order.
    """
    setback = ""
    booted_on_failed = False
    for e in events[_first_at(events, since_ms) :]:
        if e.guest != guest:
            continue
        if e.kind == "guest_start" and failed is not None and e.server == failed:
            booted_on_failed = True
        elif e.kind == "guest_running" and e.server is not None:
            if failed is None or e.server != failed or (booted_on_failed and not elsewhere):
                note = f"{setback} first" if setback else ""
                return NextRun(guest, failed, e.server, e.t_ms, note, None if setback else bound_ms)
        elif e.kind in SETBACK_KINDS:
            setback = f"{e.kind}: {e.detail}".rstrip(": ")
    return NextRun(guest, failed, None, None, setback or NOT_RUNNING_AGAIN)


# ---- a fault's outcome -----------------------------------------------------------------------------
@dataclass(frozen=True)
class FaultOutcome:
    """One injected fault on one server (or the whole pool): who detected it, the fence, each guest."""

    fault: InjectedFault
    server: str | None  # the victim this outcome is about (None: a pool-wide fault)
    at_ms: int
    guest: str | None = None  # a guest's own fault (a guest crash)
    detected_ms: int | None = None  # the server pool master saw the server dead (node_down)
    detected_by: str = ""  # the master's words for it
    fenced_ms: int | None = None  # the server fenced itself
    bound_ms: int | None = None  # the failover bound of the fault's kind, as the step meant it
    guests: tuple[NextRun, ...] = ()

    @property
    def detected_after_ms(self) -> int | None:
        return None if self.detected_ms is None else self.detected_ms - self.at_ms

    @property
    def fenced_after_ms(self) -> int | None:
        return None if self.fenced_ms is None else self.fenced_ms - self.at_ms

    @property
    def bound_ends_ms(self) -> int | None:
        return None if self.bound_ms is None else self.at_ms + self.bound_ms

    def as_dict(self) -> dict[str, Any]:
        return {
            "fault": self.fault.as_dict(),
            "server": self.server,
            "guest": self.guest,
            "at_ms": self.at_ms,
            "detected_ms": self.detected_ms,
            "detected_by": self.detected_by,
            "fenced_ms": self.fenced_ms,
            "bound_ms": self.bound_ms,
            "guests": [g.as_dict() for g in self.guests],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FaultOutcome:
        return cls(
            fault=InjectedFault.from_dict(data["fault"]),
            server=_opt_str(data.get("server")),
            at_ms=int(data["at_ms"]),
            guest=_opt_str(data.get("guest")),
            detected_ms=_opt_int(data.get("detected_ms")),
            detected_by=str(data.get("detected_by") or ""),
            fenced_ms=_opt_int(data.get("fenced_ms")),
            bound_ms=_opt_int(data.get("bound_ms")),
            guests=tuple(NextRun.from_dict(g) for g in data.get("guests", ())),
        )


def fault_outcomes(events: Iterable[TimelineEvent], bound_of: BoundOf | None = None) -> list[FaultOutcome]:
    """Per fault event: its outcome. A pool-wide event (a partition's, no server) is kept only when
    no fault event names a server; the per-server ones say more. `bound_of` gives the bound the
    environment promises for an injected fault (None: no bound)."""
    timeline = sorted((e for e in events if e.kind in _OUTCOME_KINDS), key=lambda e: e.t_ms)
    faults = [e for e in timeline if e.fault is not None]
    if any(e.server for e in faults):
        faults = [e for e in faults if e.server]
    return [_outcome(e, timeline, bound_of) for e in faults]


def _outcome(
    event: TimelineEvent, timeline: Sequence[TimelineEvent], bound_of: BoundOf | None
) -> FaultOutcome:
    assert event.fault is not None
    t0, server = event.t_ms, event.server
    bound = bound_of(event.fault) if bound_of is not None else None
    if event.guest is not None:  # only that guest, and it may run again on the same server
        runs = (next_run(timeline, event.guest, t0, None, bound_ms=bound),)
        return FaultOutcome(event.fault, server, t0, event.guest, bound_ms=bound, guests=runs)
    after = timeline[_first_at(timeline, t0) :]
    detected = next((e for e in after if e.kind == "node_down" and server in (None, e.server)), None)
    fenced = next((e for e in after if e.kind == "fence" and e.server == server), None) if server else None
    guests = tuple(
        next_run(timeline, g, t0, server, bound_ms=bound) for g in sorted(_guests_on_at(timeline, server, t0))
    )
    return FaultOutcome(
        event.fault,
        server,
        t0,
        detected_ms=None if detected is None else detected.t_ms,
        detected_by="" if detected is None else detected.detail,
        fenced_ms=None if fenced is None else fenced.t_ms,
        bound_ms=bound,
        guests=guests,
    )


def _guests_on_at(timeline: Sequence[TimelineEvent], server: str | None, t0: int) -> set[str]:
    """Guests booting or running on `server` (any server, if None) at `t0`: started there by then and
    not stopped before it. A guest whose first record there is a stop at or after `t0` was there
    before the timeline began."""
    on: set[tuple[str, str]] = set()
    seen: set[tuple[str, str]] = set()
    for e in timeline:
        if e.guest is None or e.server is None or (server is not None and e.server != server):
            continue
        if e.kind not in ("guest_start", "guest_running", "guest_stop"):
            continue
        key = (e.guest, e.server)
        if e.t_ms > t0 and key in seen:
            continue
        first_sight = key not in seen
        seen.add(key)
        if e.kind == "guest_stop" and e.t_ms < t0:
            on.discard(key)
        elif (e.kind != "guest_stop" and e.t_ms <= t0) or (e.kind == "guest_stop" and first_sight):
            on.add(key)
    return {guest for guest, _ in on}


def _first_at(timeline: Sequence[TimelineEvent], t_ms: int) -> int:
    return bisect_left(timeline, t_ms, key=lambda e: e.t_ms)


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


def _opt_int(value: object) -> int | None:
    return None if value is None else int(str(value))
