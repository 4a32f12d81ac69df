"""A schedule as a Gherkin scenario in the project's own step vocabulary (docs/steps.md).

The campaign runs exactly these lines (interpreter.py), so the scenario it
prints for a violation is not a description of what went wrong but the
very test that went wrong: saved under features/, it fails the same way on
the faulty code and passes once the code is fixed.

Every scenario has three parts: the pool and its guests (Given), the faults
at their instants with the time between them (When ... N seconds pass),
then the failover bound of the last fault and a check on the servers that
survived; then every server comes back, the pool settles, and the whole run
is judged: every HA guest back, no guest on two servers, one master at a
time, fenced servers stopped their guests, no guest without HA restarted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

from conformance.campaign.schedule import Event, Schedule
from conformance.catalog import Catalog, load_catalog
from ovmref.release import Release
from ovmref.timing import LIVE_THRESHOLD

SURVIVORS_CHECK = "every HA guest is running, or is powered off because no surviving server has room for it"
FINAL_CHECKS = (
    "every server is back in the cluster",
    "every HA guest is running, or is powered off because no server has room for it",
    "no guest ever ran on two servers at once",
    "there was never more than one server pool master at a time",
    "every server that fenced itself stopped its guests",
    "no guest without HA was restarted",
)
#: Oracle VM 2.x documents where a restart goes (Auto: most free; Manual: preferred); 3.0 does not
PLACEMENT_CHECK = (
    "every restarted guest went to the server with the most free memory its preferred-server policy allows"
)
#: the rules each check speaks for; a scenario is tagged with those stated for its release
CHECK_RULES: dict[str, tuple[str, ...]] = {
    SURVIVORS_CHECK: ("FAIL-SERVER-RESTART", "FAIL-NO-SERVER-POWER-OFF"),
    FINAL_CHECKS[0]: ("CLUS-FENCE-REBOOT",),
    FINAL_CHECKS[1]: ("FAIL-NO-SERVER-POWER-OFF", "FAIL-SERVER-RESTART"),
    FINAL_CHECKS[2]: ("CLUS-NO-DOUBLE-RUN",),
    FINAL_CHECKS[3]: ("ROLE-ONE-MASTER",),
    FINAL_CHECKS[4]: ("CLUS-FENCE-RUNAWAY",),
    FINAL_CHECKS[5]: ("HA-ENABLE-BOTH",),
    PLACEMENT_CHECK: ("PLACE-FAILOVER-POLICY", "PLACE-AUTO-MAX-RESOURCES"),
}
_FAULT_WORDS = {  # kind -> (one server, several servers)
    "crash": ("fails", "fail"),
    "hang": ("hangs", "hang"),
    "storage": ("loses access to the shared storage", "lose access to the shared storage"),
}


@dataclass(frozen=True)
class Line:
    keyword: str  # Given, When, Then, And
    text: str

    def __str__(self) -> str:
        return f"{self.keyword} {self.text}"


@dataclass(frozen=True)
class Scenario:
    name: str
    tags: tuple[str, ...]
    lines: tuple[Line, ...]

    def text(self, indent: str = "  ") -> str:
        body = [f"{indent}{' '.join('@' + t for t in self.tags)}", f"{indent}Scenario: {self.name}"]
        body += [f"{indent}  {line}" for line in self.lines]
        return "\n".join(body) + "\n"


def listed(names: list[str] | tuple[str, ...]) -> str:
    """a; a and b; a, b and c (the steps' own way of listing names)."""
    items = list(names)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def event_phrase(event: Event) -> str:
    kind, targets = event.kind, list(event.targets)
    if kind in _FAULT_WORDS:
        one, many = _FAULT_WORDS[kind]
        return f"{targets[0]} {one}" if len(targets) == 1 else f"servers {listed(targets)} {many}"
    if kind == "partition":
        return f"the network partitions {listed(targets)} from the rest"
    if kind == "master":
        return "the server pool master fails"
    if kind == "guest-crash":
        return f"guest {targets[0]} crashes"
    if kind == "recover":
        return f"{targets[0]} comes back"
    return "the network is healed"


def seconds(ms: int) -> str:
    s = math.ceil(ms / 1000)
    return f"{s} second{'s' if s != 1 else ''} pass{'es' if s == 1 else ''}"


def hold_ms(schedule: Schedule) -> int:
    """From the last event to the latest failover bound of any fault: each fault's bound runs from
    its own instant, one election iteration more in case it hit the server pool master. A server
    that comes back may become the master, and a master that has just booted judges the servers
    it does not see only once it has read the heartbeat region for a dead threshold: its restarts
    are due a crash's failover bound after it booted, which for a hung server that resumes (and so
    fences) is a reboot after it came back.

    While the network is split, o2quo holds the cut-off side's decision whenever a peer's fate is
    open: a server of that side that fails meanwhile holds it until the heartbeat declares that
    server dead, and a server that comes back (or fences and reboots) holds it for its live
    threshold, the idle timeout and the quorum delay. So an event during a split is due a split's
    bound from its own instant, and a split next to other comebacks allows for one more hold."""
    t = schedule.timings()
    split_bound = t.failover_bound_ms("partition")
    reappears = sum(1 for e in schedule.events if e.kind in ("recover", "partition", "storage")) > 1
    held = t.idle_timeout_ms + t.quorum_delay_ms + (LIVE_THRESHOLD + 1) * t.iteration_ms if reappears else 0
    now, deadline, split = 0, 0, False
    for e in schedule.events:
        now += e.gap_s * 1000
        if e.kind == "guest-crash":
            bound = t.guest_boot_ms + 5 * t.iteration_ms
        elif e.kind in ("crash", "hang", "storage", "master"):
            bound = t.failover_bound_ms(e.kind) + t.iteration_ms
        elif e.kind == "recover":  # a hung server resumes, fences, and boots a reboot later
            bound = t.reboot_ms + t.failover_bound_ms("crash") + t.iteration_ms
        elif e.kind == "partition":
            bound = split_bound + t.iteration_ms + held
        else:  # heal
            bound = 0
        if split and e.kind != "heal":
            bound = max(bound, split_bound + t.iteration_ms)
        split = (split or e.kind == "partition") and e.kind != "heal"
        deadline = max(deadline, now + bound)
    return max(0, deadline - now)


def recoveries(schedule: Schedule) -> list[str]:
    """Lines that undo every fault: each server that crashed, hung or lost its storage comes back
    (every server, once the master failed: any of them may have been the master), the network heals."""
    hit: set[str] = set()
    for e in schedule.events:
        if e.kind in _FAULT_WORDS:
            hit.update(e.targets)
        elif e.kind == "master":
            hit.update(schedule.server_names)
    lines = [f"{s} comes back" for s in schedule.server_names if s in hit]
    if any(e.kind == "partition" for e in schedule.events):
        lines.append("the network is healed")
    return lines


def given_lines(schedule: Schedule) -> list[str]:
    ha = "enabled" if schedule.pool_ha else "disabled"
    lines = [
        f"a clustered server pool of {schedule.servers} servers on {schedule.storage} shared storage "
        f"with HA {ha} on the pool and {schedule.memory_mb} MB of memory per server"
    ]
    for g in schedule.guests:
        head = f"a guest {g.name} of {g.memory_mb} MB with HA {'enabled' if g.ha else 'disabled'}"
        if g.preferred:
            lines += [f"{head} that prefers {listed(g.preferred)}", f"guest {g.name} is running"]
        else:
            lines.append(f"{head} running on {g.server}")
    return lines


def merged_events(schedule: Schedule) -> list[Event]:
    """The events in time order; those at one instant of one kind on servers merge into one."""
    merged: list[Event] = []
    for e in schedule.events:
        last = merged[-1] if merged else None
        if last is not None and e.gap_s == 0 and e.kind == last.kind and e.kind in _FAULT_WORDS:
            targets = tuple(dict.fromkeys((*last.targets, *e.targets)))
            merged[-1] = Event(last.gap_s, last.kind, tuple(sorted(targets, key=schedule.server_names.index)))
        else:
            merged.append(e)
    return merged


def _when(schedule: Schedule) -> list[str]:
    lines: list[str] = []
    for e in merged_events(schedule):
        if e.gap_s:
            lines.append(seconds(e.gap_s * 1000))
        lines.append(event_phrase(e))
    return lines


def keyworded(kind: str, texts: list[str]) -> list[Line]:
    return [Line(kind if i == 0 else "And", text) for i, text in enumerate(texts)]


def scenario_lines(schedule: Schedule) -> tuple[Line, ...]:
    when = _when(schedule)
    hold = hold_ms(schedule)
    if hold:
        when.append(seconds(hold))
    final = [*recoveries(schedule), "the pool has settled"]
    return (
        *keyworded("Given", given_lines(schedule)),
        *keyworded("When", when),
        *keyworded("Then", [SURVIVORS_CHECK]),
        *keyworded("When", final),
        *keyworded("Then", final_checks(schedule.release)),
    )


def final_checks(release: Release) -> list[str]:
    checks = list(FINAL_CHECKS)
    if release is not Release.R3:
        checks.append(PLACEMENT_CHECK)
    return checks


@cache
def _catalog() -> Catalog:
    return load_catalog()


def tags(schedule: Schedule, failed_check: str | None = None) -> tuple[str, ...]:
    """@rule tags (the failed check's rules first, then what the schedule exercises), stated for the
    schedule's release, then its @release and @destructive."""
    rules: list[str] = list(CHECK_RULES.get(failed_check or "", ()))
    kinds = {e.kind for e in schedule.events}
    if sum(len(e.targets) for e in schedule.events if e.kind in _FAULT_WORDS) >= 2:
        rules.append("FAIL-ADEQUATE-RESOURCES")
    if "partition" in kinds:
        rules.append("CLUS-QUORUM")
    if "guest-crash" in kinds:
        rules.append("FAIL-GUEST-RESTART")
    if "master" in kinds:
        rules += ["MASTER-FAIL-21", "MASTER-TAKEOVER-22"]
    if any(g.preferred for g in schedule.guests):
        rules.append("PLACE-MANUAL-PREFERRED")
    for check in (SURVIVORS_CHECK, *final_checks(schedule.release)):
        rules += CHECK_RULES[check]
    catalog = _catalog()
    stated = {r.id for r in catalog.for_release(schedule.release)}
    chosen = list(dict.fromkeys(r for r in rules if r in stated))
    return (*(f"rule:{r}" for r in chosen), f"release:{schedule.release.value}", "destructive")


def summary(schedule: Schedule) -> str:
    """A few words on what happens: the faults, and the seconds between them."""
    parts: list[str] = []
    for e in merged_events(schedule):
        if e.kind not in ("recover", "heal"):
            parts.append((f"{e.gap_s} s later " if parts and e.gap_s else "") + event_phrase(e))
    text = ", ".join(parts[:4]) + (", ..." if len(parts) > 4 else "")
    return f"{text or 'no fault'} in a pool of {schedule.servers}"


def scenario(schedule: Schedule, failed_check: str | None = None, name: str = "") -> Scenario:
    title = name or f"{summary(schedule)} ({schedule.origin or 'campaign schedule'})"
    return Scenario(title[0].upper() + title[1:], tags(schedule, failed_check), scenario_lines(schedule))


FOUND_DESCRIPTION = (
    "Each scenario is a fault schedule that broke an HA property, shrunk to the smallest that\n"
    "still does. Once the code is fixed it passes: keep it under features/ as a regression test."
)


def feature_text(
    scenarios: list[str],
    title: str = "Schedules found by ovm-conformance campaign",
    description: str = FOUND_DESCRIPTION,
) -> str:
    """A .feature file holding these scenarios (each as `Scenario.text()` gives it)."""
    about = "".join(f"  {line}\n" for line in description.splitlines())
    return f"Feature: {title}\n{about}\n" + "\n".join(scenarios)
