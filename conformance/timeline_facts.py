"""What a scenario's timeline says, as stretches the SVG draws.

Where each guest ran, when it was powered off and when each server was
down, computed once here from the report's events, not guessed while
drawing. The durations the HTML caption prints (fault -> detection, fault
-> each guest running again, against the failover bound) are not worked
out here: they are the fault outcomes (environments.outcome) the plugin
stored with the evidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from environments.model import InjectedFault


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


def _t(e: Mapping[str, Any]) -> int:
    return int(e.get("t_ms", 0))


def _text(e: Mapping[str, Any], key: str) -> str:
    value = e.get(key)
    return str(value) if value else ""


def _injected(e: Mapping[str, Any]) -> InjectedFault | None:
    data = e.get("fault")
    return InjectedFault.from_dict(data) if isinstance(data, Mapping) else None


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
        fault = _injected(e)
        if fault is not None and fault.stops_its_server and not e.get("guest"):
            cause = "hung" if fault.kind == "hang" else "crashed"
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
