"""The small pure helpers the steps rely on: name lists, numbered ranges, timeline analysis."""

from __future__ import annotations

import pytest

from environments import invariants as tl
from environments.model import OpResult, PoolState, TimelineEvent
from ovmref.release import Release
from steps.records import Fault, ManagerAction, latest, names, numbered_range, required_action, required_fault


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


def test_the_pool_reacts_to_the_later_of_the_fault_and_the_operation() -> None:
    before = PoolState(0, Release.R2_2, True, None)
    fault = Fault("crash", ("server2",), 1000, before)
    action = ManagerAction("enable HA", None, OpResult(True), 2000, before)
    assert latest(fault, action) is action
    assert latest(fault, None) is fault
    assert latest(None, action) is action
    assert latest(None, None) is None


def test_a_then_step_without_its_when_step_says_which_one_is_missing() -> None:
    with pytest.raises(AssertionError, match="add a When step that injects one"):
        required_fault(None)
    with pytest.raises(AssertionError, match="add a When step that performs one"):
        required_action(None)


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


class _RealServers:
    """What a real pool of this release answers the host steps: no /etc/ovs/repositories, and an
    init without an ovsrepositories script (both unknown for 2.2 in the stored material)."""

    def __init__(self, release: str) -> None:
        from ovmref.release import Release

        self.release = Release.parse(release)

    def observe(self) -> object:
        from types import SimpleNamespace

        return SimpleNamespace(servers={"server1": SimpleNamespace(name="server1", state="running")})

    def file_exists(self, server: str, path: str) -> bool:
        return False

    def read_file(self, server: str, path: str) -> str | None:
        return None

    def run(self, server: str, argv: list[str]) -> object:
        from environments.model import CommandResult

        if argv[1] == "ovsrepositories":
            return CommandResult(tuple(argv), 1, "", "ovsrepositories: unrecognized service\n")
        return CommandResult(tuple(argv), 0, "", "")


def test_what_2_2_may_not_have_is_not_observed_rather_than_failed() -> None:
    from environments.base import EnvironmentLimitation
    from environments.model import PoolSpec
    from steps.host import file_lists, services_running

    pool = PoolSpec(cluster_root="example.com:/OVS")
    with pytest.raises(EnvironmentLimitation, match=r"whether Oracle VM 2\.2 keeps this file is not known"):
        file_lists(_RealServers("2.2"), pool, "/etc/ovs/repositories", "every server", "lists", "x")  # type: ignore[arg-type]
    with pytest.raises(AssertionError, match="does not exist"):
        file_lists(_RealServers("2.1"), pool, "/etc/ovs/repositories", "every server", "lists", "x")  # type: ignore[arg-type]
    services_running(_RealServers("2.2"), "o2cb, ocfs2, ovsrepositories and ovs-agent", "every server")  # type: ignore[arg-type]
    with pytest.raises(AssertionError, match="ovsrepositories is not running"):
        services_running(_RealServers("2.1"), "o2cb, ovsrepositories", "every server")  # type: ignore[arg-type]
