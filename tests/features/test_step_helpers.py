"""The small pure helpers the steps rely on: name lists, numbered ranges, timeline analysis."""

from __future__ import annotations

import pytest

from environments import invariants as tl
from environments.model import TimelineEvent
from steps.records import names, numbered_range


def test_names_reads_oracle_style_lists() -> None:
    assert names("server1") == ["server1"]
    assert names("server1 and server2") == ["server1", "server2"]
    assert names("server3, server4 and server5") == ["server3", "server4", "server5"]
    with pytest.raises(ValueError, match="not a list of names"):
        names("the server pool master")


def test_numbered_range() -> None:
    assert numbered_range("vm1", "vm3") == ["vm1", "vm2", "vm3"]
    with pytest.raises(ValueError):
        numbered_range("vm3", "vm1")
    with pytest.raises(ValueError):
        numbered_range("vm1", "guest3")


def ev(t: int, kind: str, server: str, guest: str = "vm1") -> TimelineEvent:
    return TimelineEvent(t, kind, server, guest)


def test_a_restart_after_a_stop_is_not_a_double_run() -> None:
    events = [ev(0, "guest_running", "s1"), ev(10, "guest_stop", "s1"), ev(20, "guest_running", "s2")]
    assert tl.double_runs(events) == []
    assert [(i.server, i.start_ms, i.end_ms) for i in tl.run_intervals(events)] == [
        ("s1", 0, 10),
        ("s2", 20, None),
    ]


def test_overlapping_runs_on_two_servers_are_found() -> None:
    events = [ev(0, "guest_running", "s1"), ev(20, "guest_running", "s2"), ev(30, "guest_stop", "s1")]
    clashes = tl.double_runs(events)
    assert len(clashes) == 1
    assert {clashes[0][0].server, clashes[0][1].server} == {"s1", "s2"}


def test_an_instant_resume_then_kill_is_no_run() -> None:
    """A hung server resumed and fenced at the same instant never ran the guest for any time."""
    events = [
        ev(0, "guest_running", "s1"),
        ev(5, "guest_stop", "s1"),
        ev(60, "guest_running", "s2"),
        ev(90, "guest_running", "s1"),
        ev(90, "guest_stop", "s1"),
    ]
    assert tl.double_runs(events) == []
    assert tl.ran_on_after(events, "vm1", "s1", after_ms=5) == []


def test_a_guest_still_running_on_its_old_server_is_seen() -> None:
    events = [ev(0, "guest_running", "s1"), ev(60, "guest_running", "s2")]
    assert tl.ran_on_after(events, "vm1", "s1", after_ms=5)
    assert tl.double_runs(events)
