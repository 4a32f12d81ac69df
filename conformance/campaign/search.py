"""One shard of a campaign: hypothesis draws schedules, runs each, and shrinks the first violation.

A shard is deterministic: the same seed, shard number, releases and count
give the same schedules, whichever process (or machine) runs it. Each
schedule runs on a fresh driver. The first schedule that breaks a property
is shrunk by hypothesis to a smallest schedule breaking the same property
(each property is its own exception class, so shrinking never trades one
for another); the shard then stops, since the rest would mostly find the
same bug again. Results per schedule are memoised: hypothesis replays
schedules while it shrinks, and a real-time environment must not pay twice.
"""

from __future__ import annotations

import time
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, reject, seed, settings
from hypothesis.errors import HypothesisException

import environments
from conformance.campaign.gherkin import Scenario, scenario, scenario_lines
from conformance.campaign.interpreter import ScenarioRun, run_scenario
from conformance.campaign.schedule import FAULT_KINDS, Schedule
from conformance.campaign.strategies import schedules
from environments.base import PoolDriver
from ovmref.release import Release

DriverFactory = Callable[[Release, int], PoolDriver]


def driver_factory(env: str, options: dict[str, Any] | None = None) -> DriverFactory:
    """Fresh drivers of environment `env`; heartbeats are not recorded (no step of a campaign reads them)."""
    extra = {"record_heartbeats": False, **(options or {})}

    def make(release: Release, seed_: int) -> PoolDriver:
        return environments.create(env, release, seed_, **extra)

    return make


@dataclass
class Outcome:
    """One schedule run: what broke (if anything) and the timeline to show it."""

    run: ScenarioRun
    timeline: list[dict[str, Any]]
    virtual_ms: int


def execute(schedule: Schedule, make_driver: DriverFactory, seed_: int = 1) -> Outcome:
    driver = make_driver(schedule.release, seed_)
    try:
        run = run_scenario(scenario_lines(schedule), driver)
        return Outcome(run, [e.as_dict() for e in driver.timeline()], driver.now_ms())
    finally:
        driver.close()


class Violated(Exception):
    """A schedule broke a property; subclasses, one per property, keep hypothesis's shrinking on it."""

    def __init__(self, schedule: Schedule, outcome: Outcome) -> None:
        first = outcome.run.violations[0]
        super().__init__(f"{first.check}: {first.message}")
        self.schedule = schedule
        self.outcome = outcome


_VIOLATION_TYPES: dict[str, type[Violated]] = {}


def violation_type(check: str) -> type[Violated]:
    if check not in _VIOLATION_TYPES:
        _VIOLATION_TYPES[check] = type(f"Violated_{len(_VIOLATION_TYPES)}", (Violated,), {"check": check})
    return _VIOLATION_TYPES[check]


@dataclass
class Found:
    """A violation, shrunk: the smallest schedule hypothesis found, its scenario, its evidence."""

    check: str
    message: str
    schedule: Schedule
    scenario: Scenario
    timeline: list[dict[str, Any]]
    first_schedule: Schedule  # as drawn, before shrinking
    found_after: int  # schedules run in this shard up to and including the one that broke it

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "message": self.message,
            "rules": [t.removeprefix("rule:") for t in self.scenario.tags if t.startswith("rule:")],
            "release": self.schedule.release.value,
            "schedule": self.schedule.to_json(),
            "first_schedule": self.first_schedule.to_json(),
            "scenario": self.scenario.text(),
            "timeline": self.timeline,
            "found_after": self.found_after,
        }


@dataclass
class ShardResult:
    shard: int
    seed: int
    requested: int
    schedules: int = 0  # run to the end and judged
    not_applicable: int = 0  # a Given/When step could not be carried out: tested nothing
    shrink_runs: int = 0
    virtual_ms: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    shapes: Counter[str] = field(default_factory=Counter)
    elapsed_s: float = 0.0
    stopped: str = ""  # why it ended before `requested` schedules ("budget", "violation")
    found: list[Found] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "shard": self.shard,
            "seed": self.seed,
            "requested": self.requested,
            "schedules": self.schedules,
            "not_applicable": self.not_applicable,
            "shrink_runs": self.shrink_runs,
            "virtual_ms": self.virtual_ms,
            "faults": dict(self.faults),
            "shapes": dict(self.shapes),
            "elapsed_s": round(self.elapsed_s, 3),
            "stopped": self.stopped,
            "violations": [f.as_dict() for f in self.found],
        }


def shard_seed(campaign_seed: int, shard: int) -> int:
    return zlib.crc32(f"ovm-campaign:{campaign_seed}:{shard}".encode())


def shapes_of(schedule: Schedule) -> list[str]:
    """What kinds of multi-failure the schedule exercises (for the report's counts)."""
    t = schedule.timings()
    found, gaps, faults = set(), [], schedule.faults()
    for i, e in enumerate(schedule.events):
        if e.kind in FAULT_KINDS and len(e.targets) > 1 and e.kind != "partition":
            found.add("several servers at once")
        if e.kind == "partition" and 1 < len(e.targets) < schedule.servers - 1:
            found.add("split with several servers each side")
        if i and e.kind in FAULT_KINDS:
            gaps.append(e.gap_s * 1000)
    if any(g < t.dead_ms for g in gaps):
        found.add("faults closer than a dead threshold")
    if any(t.dead_ms <= g <= t.failover_bound_ms("crash") for g in gaps):
        found.add("fault during a failover")
    if sum(1 for e in faults if e.kind == "master") >= 2:
        found.add("master fails during a takeover")
    if any(e.kind in ("recover", "heal") for e in schedule.events):
        found.add("recovery between faults")
    return sorted(found) or ["one fault"]


def run_shard(
    shard: int,
    count: int,
    *,
    campaign_seed: int,
    releases: Sequence[Release],
    make_driver: DriverFactory,
    deadline: float | None = None,
    on_schedule: Callable[[ShardResult], None] | None = None,
) -> ShardResult:
    """Run `count` schedules (fewer if the wall-clock `deadline` passes or a violation is found)."""
    result = ShardResult(shard, shard_seed(campaign_seed, shard), count)
    memo: dict[Schedule, Outcome] = {}
    first: list[tuple[Schedule, int]] = []
    started = time.monotonic()

    calls = [0]

    def probe(schedule: Schedule) -> None:
        calls[0] += 1
        if calls[0] == 1 and shard != 0 and not first:
            reject()  # hypothesis tries the simplest schedule first in every search: shard 0 runs it
        outcome = memo.get(schedule)
        if outcome is not None and not first:
            reject()  # drawn again: not a new schedule, so it must not count as one of `count`
        if outcome is None:
            if deadline is not None and time.time() >= deadline:
                result.stopped = result.stopped or "budget"
                reject()
            outcome = memo[schedule] = execute(schedule, make_driver, result.seed)
            if first:
                result.shrink_runs += 1
            elif not outcome.run.not_applicable:
                result.schedules += 1
                result.virtual_ms += outcome.virtual_ms
                result.faults.update(e.kind for e in schedule.faults() for _ in range(max(1, len(e.targets))))
                result.shapes.update(shapes_of(schedule))
                if on_schedule is not None:
                    on_schedule(result)
            else:
                result.not_applicable += 1
        if outcome.run.not_applicable:
            reject()
        if outcome.run.violations:
            if not first:
                first.append((schedule, result.schedules))
            raise violation_type(outcome.run.violations[0].check)(schedule, outcome)

    search = settings(
        max_examples=count,
        database=None,
        deadline=None,
        derandomize=False,
        phases=(Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        report_multiple_bugs=False,
        print_blob=False,
    )(seed(result.seed)(given(schedules(tuple(releases)))(probe)))
    try:
        search()
    except Violated as v:
        drawn, after = first[0]
        origin = f"campaign seed {campaign_seed}, shard {shard}"
        shrunk = replace(v.schedule, origin=origin)
        violation = v.outcome.run.violations[0]
        result.found.append(
            Found(
                violation.check,
                violation.message,
                shrunk,
                scenario(shrunk, violation.check),
                v.outcome.timeline,
                drawn,
                after,
            )
        )
        result.stopped = "violation"
    except HypothesisException:  # nothing valid could be drawn in time (the budget ran out first)
        result.stopped = result.stopped or "budget"
    result.elapsed_s = time.monotonic() - started
    return result
