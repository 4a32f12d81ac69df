"""A fault schedule: a pool, its guests, and what happens to it, second by second.

Plain data with a JSON form, so a schedule found by one process can be
written to the report, shrunk by another and replayed by a user
(`ovm-conformance campaign --replay FILE`). Names are the suite's own:
servers server1..serverN (server1 is the master), guests vm1..vmN.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from ovmref.release import Release
from ovmref.timing import O2CBTimings

EventKind = Literal["crash", "hang", "storage", "partition", "master", "guest-crash", "recover", "heal"]
EVENT_KINDS: tuple[EventKind, ...] = (
    "crash",
    "hang",
    "storage",
    "partition",
    "master",
    "guest-crash",
    "recover",
    "heal",
)
#: kinds that are faults (the rest undo them)
FAULT_KINDS: frozenset[str] = frozenset({"crash", "hang", "storage", "partition", "master", "guest-crash"})
STORAGES = ("NFS", "OCFS2 over iSCSI", "OCFS2 over SAN")


class ScheduleError(ValueError):
    """A schedule file that does not describe a schedule; the message names the file and the field."""


@dataclass(frozen=True)
class GuestPlan:
    """A guest: Auto (no preferred server) placed on `server`, or Manual, placed by its policy."""

    name: str
    memory_mb: int
    ha: bool
    preferred: tuple[str, ...] = ()
    server: str | None = None


@dataclass(frozen=True)
class Event:
    """What happens `gap_s` seconds after the previous event (0: at the same instant)."""

    gap_s: int
    kind: EventKind
    targets: tuple[str, ...] = ()


@dataclass(frozen=True)
class Schedule:
    release: Release
    servers: int
    memory_mb: int
    guests: tuple[GuestPlan, ...]
    events: tuple[Event, ...]
    storage: str = "NFS"
    pool_ha: bool = True
    origin: str = field(default="", compare=False)  # where it came from: "seed 7, shard 3, schedule 12"

    @property
    def server_names(self) -> list[str]:
        return [f"server{i}" for i in range(1, self.servers + 1)]

    def timings(self) -> O2CBTimings:
        return O2CBTimings.for_release(self.release)

    def faults(self) -> list[Event]:
        return [e for e in self.events if e.kind in FAULT_KINDS]

    def to_json(self) -> str:
        data = asdict(self)
        data["release"] = self.release.value
        return json.dumps(data, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, where: str = "schedule") -> Schedule:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ScheduleError(f"{where}:{exc.lineno}: not JSON: {exc.msg}") from None
        try:
            return cls._from_dict(data)
        except KeyError as exc:
            raise ScheduleError(f"{where}: not a campaign schedule: no field {exc}") from None
        except (TypeError, ValueError, AttributeError) as exc:
            raise ScheduleError(f"{where}: not a campaign schedule: {exc}") from None

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> Schedule:
        guests = tuple(
            GuestPlan(g["name"], int(g["memory_mb"]), bool(g["ha"]), tuple(g["preferred"]), g.get("server"))
            for g in data["guests"]
        )
        events = []
        for e in data["events"]:
            if e["kind"] not in EVENT_KINDS:
                raise ValueError(f"unknown event kind {e['kind']!r} (one of {', '.join(EVENT_KINDS)})")
            events.append(Event(int(e["gap_s"]), e["kind"], tuple(e["targets"])))
        if data.get("storage", "NFS") not in STORAGES:
            raise ValueError(f"storage must be one of {', '.join(STORAGES)}")
        schedule = cls(
            Release.parse(str(data["release"])),
            int(data["servers"]),
            int(data["memory_mb"]),
            guests,
            tuple(events),
            data.get("storage", "NFS"),
            bool(data.get("pool_ha", True)),
            str(data.get("origin", "")),
        )
        if not 2 <= schedule.servers <= 16:
            raise ValueError("servers must be between 2 and 16")
        return schedule

    @classmethod
    def load(cls, path: Path) -> Schedule:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise ScheduleError(f"{path}: cannot read: {reason}") from None
        return cls.from_json(text, str(path))
