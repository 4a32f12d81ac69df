"""What a scenario's timeline says, as stretches and durations a reader can check.

The SVG draws these stretches (where each guest ran, when each server was
down) and the HTML caption prints the durations (fault -> detection, fault
-> each guest running again, against the failover bound), so both are
computed once here from the raw events, not guessed while drawing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# faults that stop the server at once; partition and storage faults leave it running until it fences itself
_STOPPING_FAULTS = frozenset({"crash", "master", "hang"})
# a guest outcome that says it will not run again after a fault
_NOT_RESTARTED_KINDS = frozenset({"guest_powered_off", "guest_not_restarted", "start_failed"})


@dataclass(frozen=True)
class GuestStretch:
    """One stretch a guest spends on one server: booting from start_ms, running from running_ms."""

    guest: str
    server: str
    start_ms: int | None  # None: already there when the timeline began
    running_ms: int | None  # None: never reached running (or unknown, when start_ms is None)
    end_ms: int | None  # None: still there when the timeline ended
    stop_detail: str = ""

    @property
    def handed_over(self) -> bool:
        """Stopped because it moved (live migration), not because something went wrong."""
        return self.stop_detail.startswith("live-migrated")


@dataclass(frozen=True)
class PoweredOff:
    """A guest the master powered off for want of a server, until it is started again."""

    guest: str
    start_ms: int
    end_ms: int | None
    detail: str


@dataclass(frozen=True)
class DownStretch:
    """A server not executing: crashed, hung, fenced or halted, until it rejoins (or thaws)."""

    server: str
    start_ms: int
    end_ms: int | None
    cause: str


@dataclass(frozen=True)
class GuestOutcome:
    """What became of one guest that was on the failed server."""

    guest: str
    server: str | None  # where it ran again
    after_ms: int | None  # fault -> running again
    note: str  # why it did not run again; or what held it up (powered off) before it did


@dataclass(frozen=True)
class FaultSummary:
    fault: str
    server: str | None
    at_ms: int
    detected_after_ms: int | None
    detected_by: str  # the node_down detail: who saw it
    fenced_after_ms: int | None
    guests: tuple[GuestOutcome, ...]
    bound_ms: int | None  # the failover bound for this fault kind, when the evidence has it


def _t(e: Mapping[str, Any]) -> int:
    return int(e.get("t_ms", 0))


def _text(e: Mapping[str, Any], key: str) -> str:
    value = e.get(key)
    return str(value) if value else ""


def in_time_order(events: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Sorted by time; events at the same millisecond keep the order they were recorded in."""
    return sorted((dict(e) for e in events), key=_t)


def guest_stretches(events: Sequence[Mapping[str, Any]]) -> list[GuestStretch]:
    """guest_start/guest_running on S opens a stretch, the next guest_stop on S closes it.

    A guest_stop that closes nothing is a stretch from the start of the
    timeline only if the guest was never seen on S before; a stop of a guest
    already stopped there (frozen, then killed) opens no stretch.
    """
    open_: dict[tuple[str, str], list[Any]] = {}  # (guest, server) -> [start, running]
    seen: set[tuple[str, str]] = set()
    done: list[GuestStretch] = []
    for e in events:
        kind, guest, server = e.get("kind"), _text(e, "guest"), _text(e, "server")
        if not guest or not server or kind not in ("guest_start", "guest_running", "guest_stop"):
            continue
        key = (guest, server)
        first_sight = key not in seen
        seen.add(key)
        if kind == "guest_start" and key not in open_:
            open_[key] = [_t(e), None]
        elif kind == "guest_running":
            stretch = open_.setdefault(key, [_t(e), None])
            if stretch[1] is None:
                stretch[1] = _t(e)
        elif kind == "guest_stop" and (key in open_ or first_sight):
            # a stop with nothing open: running since before the timeline began, if never seen before;
            # otherwise (a frozen guest killed later) there is no stretch, only the stop itself
            start, running = open_.pop(key, [None, None])
            done.append(GuestStretch(guest, server, start, running, _t(e), _text(e, "detail")))
    done += [GuestStretch(g, s, start, running, None) for (g, s), (start, running) in open_.items()]
    return sorted(done, key=lambda s: (s.guest, -1 if s.start_ms is None else s.start_ms))


def powered_off_stretches(events: Sequence[Mapping[str, Any]]) -> list[PoweredOff]:
    """From guest_powered_off until that guest is started again somewhere."""
    open_: dict[str, tuple[int, str]] = {}
    done: list[PoweredOff] = []
    for e in events:
        guest = _text(e, "guest")
        if not guest:
            continue
        if e.get("kind") == "guest_powered_off" and guest not in open_:
            open_[guest] = (_t(e), _text(e, "detail"))
        elif e.get("kind") in ("guest_start", "guest_running") and guest in open_:
            start, detail = open_.pop(guest)
            done.append(PoweredOff(guest, start, _t(e), detail))
    done += [PoweredOff(g, start, None, detail) for g, (start, detail) in open_.items()]
    return done


def down_stretches(events: Sequence[Mapping[str, Any]]) -> list[DownStretch]:
    """A crash, master or hang fault, a fence or a halt takes a server down; rejoin brings it back.

    A hung server that is thawed (`recover`) runs again without rebooting,
    unless it fences itself on waking, which opens a new stretch.
    """
    open_: dict[str, tuple[int, list[str]]] = {}
    done: list[DownStretch] = []
    for e in events:
        kind, server, detail = e.get("kind"), _text(e, "server"), _text(e, "detail")
        if not server:
            continue
        cause = ""
        if kind == "fault" and detail in _STOPPING_FAULTS and not e.get("guest"):
            cause = "hung" if detail == "hang" else "crashed"
        elif kind == "fence":
            cause = "fenced" + (f": {detail}" if detail else "")
        elif kind == "halt":
            cause = "halted" + (f": {detail}" if detail else "")
        if cause:
            if server in open_:
                open_[server][1].append(cause)
            else:
                open_[server] = (_t(e), [cause])
        elif server in open_ and (kind == "rejoin" or (kind == "recover" and open_[server][1] == ["hung"])):
            start, causes = open_.pop(server)
            done.append(DownStretch(server, start, _t(e), ", then ".join(causes)))
    done += [DownStretch(s, start, None, ", then ".join(causes)) for s, (start, causes) in open_.items()]
    return sorted(done, key=lambda d: (d.server, d.start_ms))


def fault_summaries(
    events: Sequence[Mapping[str, Any]], marks: Sequence[Mapping[str, Any]] = ()
) -> list[FaultSummary]:
    """Per injected fault: detection, fence and each affected guest, with the bound from the marks.

    A pool-wide fault (a partition, no server) is summarised only when no
    per-server fault was recorded with it; the per-server ones say more.
    """
    evs = in_time_order(events)
    faults = [e for e in evs if e.get("kind") == "fault"]
    if any(e.get("server") for e in faults):
        faults = [e for e in faults if e.get("server")]
    stretches = guest_stretches(evs)
    return [_summary(fault, evs, stretches, marks) for fault in faults]


def _summary(
    fault: Mapping[str, Any],
    events: list[dict[str, Any]],
    stretches: list[GuestStretch],
    marks: Sequence[Mapping[str, Any]],
) -> FaultSummary:
    t0, server, guest = _t(fault), _text(fault, "server") or None, _text(fault, "guest")
    after = [e for e in events if _t(e) >= t0]
    detected = next(
        (e for e in after if e.get("kind") == "node_down" and server in (None, e.get("server"))), None
    )
    fenced = next((e for e in after if e.get("kind") == "fence" and e.get("server") == server), None)
    if guest:  # a guest-level fault: only that guest, and it may run again on the same server
        affected = [guest]
    else:
        affected = sorted(
            {
                s.guest
                for s in stretches
                if (server is None or s.server == server)
                and (s.start_ms is None or s.start_ms <= t0)
                and (s.end_ms is None or s.end_ms >= t0)
            }
        )
    return FaultSummary(
        fault=_text(fault, "detail") or "fault",
        server=server,
        at_ms=t0,
        detected_after_ms=None if detected is None else _t(detected) - t0,
        detected_by=_text(detected, "detail") if detected is not None else "",
        fenced_after_ms=None if fenced is None else _t(fenced) - t0,
        guests=tuple(_outcome(g, t0, None if guest else server, after) for g in affected),
        bound_ms=_bound_ms(marks, server, t0),
    )


def _outcome(guest: str, t0: int, failed_server: str | None, after: list[dict[str, Any]]) -> GuestOutcome:
    """Where and when the guest ran again; a powered-off spell on the way is noted (no bound applies)."""
    setback = ""
    booted_on_failed = False  # a fresh start on the failed server once it is back counts; a resume does not
    for e in after:
        if e.get("guest") != guest:
            continue
        if e.get("kind") == "guest_start" and _t(e) > t0 and e.get("server") == failed_server:
            booted_on_failed = True
        if (
            e.get("kind") == "guest_running"
            and _t(e) > t0
            and (e.get("server") != failed_server or booted_on_failed)
        ):
            return GuestOutcome(guest, _text(e, "server"), _t(e) - t0, f"{setback} first" if setback else "")
        if e.get("kind") in _NOT_RESTARTED_KINDS:
            setback = f"{e['kind']}: {_text(e, 'detail')}".rstrip(": ")
    return GuestOutcome(guest, None, None, setback or "not running again by the end of the timeline")


def _bound_ms(marks: Sequence[Mapping[str, Any]], server: str | None, t0: int) -> int | None:
    for mark in marks:
        if mark.get("server") == server and round(float(mark.get("at_s", -1)) * 1000) == t0:
            bound = mark.get("bound_s")
            return None if bound is None else round(float(bound) * 1000)
    return None
