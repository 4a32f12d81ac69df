"""Property tests over random pools, guests and fault sequences, on any environment.

A hypothesis state machine that plays faults where multi-failure bugs live:
several servers lost at the same instant, faults closer together than one
dead threshold, a fault while a failover is under way (a pause of about a
dead threshold lands the next fault on the restarts of the previous one),
the master failing again while its successor takes over, splits with
several servers on each side, servers coming back and the network healing
between faults. Every step is a line of the project's step vocabulary, run
through the step definitions (conformance/campaign/interpreter.py), so a
failing run reads as a scenario; hypothesis prints the steps as well.

Invariants, after every step (safety, from the timeline): a guest never runs
on two servers; never more than one server pool master at a time; a server
that fences itself stops its guests; a guest without HA is never restarted.
When a rule lets the failover bound of the last fault pass: every HA guest
runs on a surviving server, or is powered off because none has room. At the
end every server comes back, the network heals and the pool settles; then
every HA guest runs unless no server has room for it (the power-off queue
drained), every server is back in the cluster, and (2.x) every restart went
where the preferred-server policy says.

The simulator runs it in the test suite (test_sim_properties.py); the local
environment runs it in real time (benchmarks/campaign_local.py), with
`slack` for a real clock's jitter.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import ClassVar

from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from conformance.campaign.gherkin import (
    SURVIVORS_CHECK,
    Line,
    event_phrase,
    final_checks,
    given_lines,
    hold_ms,
    recoveries,
    seconds,
)
from conformance.campaign.interpreter import run_scenario
from conformance.campaign.schedule import Event, EventKind, Schedule
from conformance.campaign.strategies import gaps_s, pools
from environments.base import PoolDriver
from ovmref.release import Release

SAFETY_CHECKS = (
    "no guest ever ran on two servers at once",
    "there was never more than one server pool master at a time",
    "every server that fenced itself stopped its guests",
    "no guest without HA was restarted",
)
servers_picked = st.lists(st.integers(0, 5), min_size=1, max_size=4, unique=True)


class PoolUnderFaults(RuleBasedStateMachine):
    """Subclasses set `make_driver`; `slack` stretches every wait for the failover bound by that
    fraction (0 on the simulator's exact clock); `faults` counts what was injected."""

    make_driver: ClassVar[Callable[[Release, int], PoolDriver]]
    slack: ClassVar[float] = 0.0
    faults: ClassVar[dict[str, int]] = {}
    runs: ClassVar[list[int]] = [0]

    # ---- building ------------------------------------------------------------------------
    @initialize(pool=pools(), seed=st.integers(0, 2**16))
    def build(self, pool: Schedule, seed: int) -> None:
        self.driver = type(self).make_driver(pool.release, seed)
        type(self).runs[0] += 1
        self.pool = pool
        self.events: list[Event] = []
        self.gap_s = 0
        self.lines: list[Line] = []
        self.skipped = ""  # a step that could not be carried out: nothing after it is judged
        self._run("Given", given_lines(pool))
        assume(not self.skipped)  # guests are drawn where the placement policy fits them

    def _run(self, keyword: str, texts: list[str]) -> list[str]:
        """Run lines through the step definitions; the violations of Then lines, as messages."""
        lines = [Line(keyword if i == 0 else "And", t) for i, t in enumerate(texts)]
        self.lines += lines
        run = run_scenario(lines, self.driver)
        if run.not_applicable:
            self.skipped = run.not_applicable
        return [f"{v.check}: {v.message}" for v in run.violations]

    def _scenario(self) -> str:
        return "\n".join(f"    {line}" for line in self.lines)

    def _event(self, kind: EventKind, targets: tuple[str, ...] = ()) -> None:
        if self.skipped:
            return
        event = Event(self.gap_s, kind, targets)
        self.gap_s = 0
        self.events.append(event)
        self._run("When", [event_phrase(event)])
        if self.skipped:  # e.g. no master to fail, no such guest running: nothing happened
            self.skipped, self.gap_s = "", event.gap_s
            self.events.pop()
            self.lines.pop()
        elif kind not in ("recover", "heal"):
            type(self).faults[kind] = type(self).faults.get(kind, 0) + max(1, len(targets))

    def _servers(self, picks: list[int], keep_one: bool = False) -> tuple[str, ...]:
        names = self.pool.server_names
        chosen = sorted({names[i % len(names)] for i in picks}, key=names.index)
        return tuple(chosen[: len(names) - 1]) if keep_one else tuple(chosen)

    # ---- what happens --------------------------------------------------------------------
    @precondition(lambda self: hasattr(self, "driver"))
    @rule(picks=servers_picked, kind=st.sampled_from(["crash", "hang", "storage"]))
    def servers_fail(self, picks: list[int], kind: EventKind) -> None:
        """One server, or several at the same instant."""
        self._event(kind, self._servers(picks))

    @precondition(lambda self: hasattr(self, "driver"))
    @rule(picks=servers_picked)
    def network_splits(self, picks: list[int]) -> None:
        """The named servers are cut off from the rest (several on each side, often)."""
        self._event("partition", self._servers(picks, keep_one=True))

    @precondition(lambda self: hasattr(self, "driver"))
    @rule()
    def master_fails(self) -> None:
        self._event("master")

    @precondition(lambda self: hasattr(self, "driver") and bool(self.pool.guests))
    @rule(pick=st.integers(0, 7))
    def a_guest_crashes(self, pick: int) -> None:
        self._event("guest-crash", (self.pool.guests[pick % len(self.pool.guests)].name,))

    @precondition(lambda self: hasattr(self, "driver"))
    @rule(pick=st.integers(0, 5))
    def a_server_comes_back(self, pick: int) -> None:
        self._event("recover", (self.pool.server_names[pick % self.pool.servers],))

    @precondition(lambda self: hasattr(self, "driver"))
    @rule()
    def network_heals(self) -> None:
        self._event("heal")

    @precondition(lambda self: hasattr(self, "driver"))
    @rule(which=st.integers(0, 9))
    def time_passes(self, which: int) -> None:
        """No time, a few seconds, about one dead threshold (the next fault hits a failover in
        progress), or longer: mostly less than one dead threshold."""
        gap = gaps_s(self.pool.release)[which]
        if gap and not self.skipped:
            self.gap_s += gap
            self._run("When", [seconds(gap * 1000)])

    @precondition(lambda self: hasattr(self, "driver") and bool(self.events))
    @rule()
    def failover_bound_passes(self) -> None:
        """The failover bound of every fault so far has passed: the survivors carry every HA guest."""
        if self.skipped:
            return
        hold = hold_ms(replace(self.pool, events=(*self.events, Event(self.gap_s, "heal"))))
        if hold:
            self._run("When", [seconds(math.ceil(hold * (1 + self.slack)))])
            self.gap_s += math.ceil(hold * (1 + self.slack) / 1000)
        problems = self._run("Then", [SURVIVORS_CHECK])
        assert not problems, "\n".join(problems) + "\n" + self._scenario()

    # ---- invariants and the end ------------------------------------------------------------
    @precondition(lambda self: hasattr(self, "driver"))
    @invariant()
    def safe(self) -> None:
        if self.skipped:
            return
        problems = run_scenario([Line("Then", check) for check in SAFETY_CHECKS], self.driver).violations
        assert not problems, "\n".join(f"{v.check}: {v.message}" for v in problems) + "\n" + self._scenario()

    def teardown(self) -> None:
        driver = getattr(self, "driver", None)
        if driver is None:
            return
        try:
            if not self.skipped:
                schedule = replace(self.pool, events=tuple(self.events))
                self._run("When", [*recoveries(schedule), "the pool has settled"])
                problems = self._run("Then", final_checks(self.pool.release))
                assert not problems, "\n".join(problems) + "\n" + self._scenario()
        finally:
            driver.close()
