"""Schedules, their JSON, and the scenarios they are written as: every line is a step of the library."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.campaign.gherkin import Line, event_phrase, hold_ms, scenario, scenario_lines, seconds
from conformance.campaign.interpreter import UnknownStepError, resolve
from conformance.campaign.schedule import Event, GuestPlan, Schedule, ScheduleError
from conformance.campaign.strategies import schedules
from conformance.catalog import load_catalog
from ovmref.release import Release

TWO_APART = Schedule(
    Release.R2_2,
    4,
    8192,
    (GuestPlan("vm1", 1024, True, (), "server2"), GuestPlan("vm2", 2048, False, ("server1", "server3"))),
    (Event(0, "crash", ("server2",)), Event(0, "crash", ("server3",)), Event(10, "hang", ("server4",))),
)


def test_a_schedule_round_trips_through_json() -> None:
    assert Schedule.from_json(TWO_APART.to_json()) == TWO_APART


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{", "s.json:1: not JSON"),
        ('{"release": "2.2"}', "s.json: not a campaign schedule: no field 'guests'"),
        (TWO_APART.to_json().replace('"hang"', '"explode"'), "unknown event kind 'explode'"),
        (TWO_APART.to_json().replace('"servers": 4', '"servers": 1'), "servers must be between 2 and 16"),
        (TWO_APART.to_json().replace('"2.2"', '"9.9"'), "s.json: not a campaign schedule"),
    ],
)
def test_a_bad_schedule_file_is_one_line_naming_the_file(text: str, problem: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        Schedule.from_json(text, "s.json")
    assert problem in str(caught.value) and "\n" not in str(caught.value)


def test_an_unreadable_schedule_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ScheduleError, match=r"missing\.json: cannot read"):
        Schedule.load(tmp_path / "missing.json")


def test_faults_at_one_instant_merge_and_time_between_them_is_written_out() -> None:
    lines = [str(line) for line in scenario_lines(TWO_APART)]
    assert "When servers server2 and server3 fail" in lines
    assert lines[lines.index("When servers server2 and server3 fail") + 1] == "And 10 seconds pass"
    assert "And server4 hangs" in lines
    assert "And a guest vm2 of 2048 MB with HA disabled that prefers server1 and server3" in lines
    assert "And guest vm2 is running" in lines
    assert seconds(1000) == "1 second passes" and seconds(61_500) == "62 seconds pass"


def test_the_wait_covers_the_failover_bound_of_every_fault_from_its_own_instant() -> None:
    t = TWO_APART.timings()
    # the hang 10 s after the crashes is the last fault: its bound (plus an election) runs from it
    assert hold_ms(TWO_APART) == t.failover_bound_ms("hang") + t.iteration_ms
    # a crash during a split: o2quo may hold the cut-off side's fence until the crashed server is
    # declared dead, so the crash is due a split's bound from its own instant
    split = Schedule(
        Release.R3, 3, 8192, (), (Event(0, "partition", ("server3",)), Event(2, "crash", ("server2",)))
    )
    t3 = split.timings()
    assert hold_ms(split) == t3.failover_bound_ms("partition") + t3.iteration_ms
    # once the network is healed, a crash is due its own bound again
    healed = replace(split, events=(*split.events, Event(2, "heal"), Event(2, "crash", ("server1",))))
    assert hold_ms(healed) == t3.failover_bound_ms("partition") + t3.iteration_ms - 4000


def test_every_event_kind_reads_in_the_step_vocabulary() -> None:
    phrases = {
        Event(
            0, "partition", ("server1", "server2")
        ): "the network partitions server1 and server2 from the rest",
        Event(0, "master"): "the server pool master fails",
        Event(0, "guest-crash", ("vm3",)): "guest vm3 crashes",
        Event(0, "recover", ("server2",)): "server2 comes back",
        Event(0, "heal"): "the network is healed",
        Event(0, "storage", ("server1", "server2", "server3")): (
            "servers server1, server2 and server3 lose access to the shared storage"
        ),
    }
    for event, text in phrases.items():
        assert event_phrase(event) == text
        resolve("when", text)


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(schedules())
def test_every_line_of_every_scenario_matches_exactly_one_step_definition(schedule: Schedule) -> None:
    kind = "given"
    for line in scenario_lines(schedule):
        kind = kind if line.keyword == "And" else line.keyword.lower()
        resolve(kind, line.text)  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(schedules(), st.sampled_from([None, "no guest ever ran on two servers at once"]))
def test_scenarios_are_tagged_with_rules_stated_for_their_release(
    schedule: Schedule, failed: str | None
) -> None:
    rules = {r.id: r for r in load_catalog().rules}
    written = scenario(schedule, failed)
    named = [t.removeprefix("rule:") for t in written.tags if t.startswith("rule:")]
    assert named and all(schedule.release in rules[r].releases for r in named)
    assert f"release:{schedule.release.value}" in written.tags and "destructive" in written.tags
    if failed:
        assert named[0] == "CLUS-NO-DOUBLE-RUN", "the broken property's rule comes first"


def test_a_line_no_step_matches_is_refused() -> None:
    with pytest.raises(UnknownStepError, match="matches no step definition"):
        resolve("when", "server2 explodes")
    assert str(Line("When", "server2 fails")) == "When server2 fails"
