"""environments.outcome: one fault outcome per fault event, read off the typed timeline."""

from __future__ import annotations

import pytest

from environments.model import InjectedFault, TimelineEvent
from environments.outcome import NOT_RUNNING_AGAIN, FaultOutcome, NextRun, fault_outcomes, next_run
from ovmref.timing import O2CBTimings

TIMINGS = O2CBTimings()


def ev(
    t: int, kind: str, server: str | None = None, guest: str | None = None, detail: str = "", **kw: object
) -> TimelineEvent:
    return TimelineEvent(t, kind, server, guest, detail, **kw)  # type: ignore[arg-type]


def fault(
    t: int, kind: str, server: str | None, victims: tuple[str, ...] = (), guest: str | None = None
) -> TimelineEvent:
    injected = InjectedFault(kind, victims or ((server,) if server else ()))  # type: ignore[arg-type]
    return ev(t, "fault", server, guest, kind, fault=injected)


def bound_of(f: InjectedFault) -> int | None:
    """The failover bound of a server fault, as the plugin asks the driver for it."""
    return None if f.kind in ("guest_crash", "second_pool") else TIMINGS.failover_bound_ms(f.kind)


# s3 crashes at 10 s; the master s1 sees it dead at 40 s and restarts vm1 on s2; vm2 (no HA) is not
# restarted; vm3 ran on s1 all along
CRASH = [
    ev(1000, "guest_start", "s3", "vm1", "boot"),
    ev(2000, "guest_start", "s3", "vm2", "boot"),
    ev(3000, "guest_start", "s1", "vm3", "boot"),
    ev(6000, "guest_running", "s3", "vm1"),
    ev(7000, "guest_running", "s3", "vm2"),
    ev(8000, "guest_running", "s1", "vm3"),
    fault(10_000, "crash", "s3"),
    ev(10_000, "guest_stop", "s3", "vm1", "crashed"),
    ev(10_000, "guest_stop", "s3", "vm2", "crashed"),
    ev(12_000, "node_down", "s2", detail="master s1 saw s2 dead"),  # another server: not this fault's
    ev(40_000, "node_down", "s3", detail="master s1 saw s3 dead"),
    ev(40_000, "guest_not_restarted", "s1", "vm2", "HA is not enabled on the guest"),
    ev(40_001, "guest_start", "s2", "vm1", "boot"),
    ev(45_001, "guest_running", "s2", "vm1"),
    ev(50_000, "guest_stop", "s1", "vm3", "live-migrated to s2"),
    ev(50_500, "guest_running", "s2", "vm3"),
]


def test_detection_fence_and_each_guest_on_the_failed_server() -> None:
    (outcome,) = fault_outcomes(CRASH, bound_of)
    assert (outcome.fault, outcome.server, outcome.at_ms) == (InjectedFault("crash", ("s3",)), "s3", 10_000)
    assert (outcome.detected_after_ms, outcome.detected_by) == (30_000, "master s1 saw s3 dead")
    assert outcome.fenced_after_ms is None
    bound = TIMINGS.failover_bound_ms("crash")
    assert outcome.bound_ms == bound
    assert outcome.guests == (
        NextRun("vm1", "s3", "s2", 45_001, "", bound),
        NextRun("vm2", "s3", None, None, "guest_not_restarted: HA is not enabled on the guest"),
    ), "vm3 never was on s3: its migration is no failover"
    assert outcome.guests[0].after_ms(outcome.at_ms) == 35_001


def test_the_master_fault_is_judged_by_the_master_bound_not_the_crash_that_carried_it_out() -> None:
    # steps/faults.py:master_fails used to inject "crash" and keep "master" in the step only: the
    # step allowed the master bound while the report compared with the crash bound
    events = [e if e.kind != "fault" else fault(e.t_ms, "master", "s3") for e in CRASH]
    (outcome,) = fault_outcomes(events, bound_of)
    master, crash = TIMINGS.failover_bound_ms("master"), TIMINGS.failover_bound_ms("crash")
    assert master > crash
    assert outcome.fault.kind == "master" and outcome.bound_ms == master
    assert outcome.guests[0].bound_ms == master


def test_only_the_guests_of_the_failed_server_count_not_every_guest_that_ran_elsewhere() -> None:
    # the old report marks took every guest_running off the failed server after the fault: vm3's
    # live migration showed as "vm3 running again after 40.5 s"
    (outcome,) = fault_outcomes(CRASH, bound_of)
    assert [g.guest for g in outcome.guests] == ["vm1", "vm2"]


def test_a_guest_crash_is_not_detected_by_a_later_failure_of_its_server() -> None:
    # the old join took the first node_down of the server after any fault on it, a guest's too
    events = [
        ev(0, "guest_start", "s1", "vm1"),
        ev(1000, "guest_running", "s1", "vm1"),
        ev(4000, "guest_stop", "s1", "vm1", "guest crashed"),
        fault(4000, "guest_crash", "s1", ("vm1",), guest="vm1"),
        ev(4500, "guest_start", "s1", "vm1"),
        ev(6500, "guest_running", "s1", "vm1"),
        fault(9000, "crash", "s1"),
        ev(9000, "guest_stop", "s1", "vm1", "crashed"),
        ev(30_000, "node_down", "s1", detail="master s2 saw s1 dead"),
    ]
    guest_crash, server_crash = fault_outcomes(events, bound_of)
    assert guest_crash.guest == "vm1" and guest_crash.bound_ms is None
    assert guest_crash.detected_ms is None, "a guest's crash is seen by its server, not by a node_down"
    assert guest_crash.guests == (NextRun("vm1", None, "s1", 6500),), "it may boot again where it was"
    assert server_crash.detected_after_ms == 21_000
    assert server_crash.guests == (NextRun("vm1", "s1", None, None, NOT_RUNNING_AGAIN),)


def test_a_guest_resumed_on_its_hung_server_has_not_failed_over_but_a_fresh_boot_there_counts() -> None:
    events = [
        ev(0, "guest_start", "s2", "vm1"),
        ev(1000, "guest_running", "s2", "vm1"),
        fault(2000, "hang", "s2"),
        ev(2000, "guest_stop", "s2", "vm1", "frozen with its hung server"),
        ev(5000, "recover", "s2"),
        ev(5000, "guest_running", "s2", "vm1", "resumed with its server"),
    ]
    (hang,) = fault_outcomes(events, bound_of)
    assert hang.guests == (NextRun("vm1", "s2", None, None, NOT_RUNNING_AGAIN),)
    rebooted = [*events, ev(9000, "guest_stop", "s2", "vm1"), ev(9500, "guest_start", "s2", "vm1"),
                ev(11_500, "guest_running", "s2", "vm1")]
    (hang,) = fault_outcomes(rebooted, bound_of)
    assert hang.guests[0].server == "s2" and hang.guests[0].running_ms == 11_500
    timeline = sorted(rebooted, key=lambda e: e.t_ms)
    assert next_run(timeline, "vm1", 2000, "s2", elsewhere=True).server is None, "elsewhere: not s2 at all"


def test_a_setback_on_the_way_is_noted_and_lifts_the_bound() -> None:
    back = [ev(75_000, "guest_start", "s3", "vm2", "boot"), ev(80_000, "guest_running", "s3", "vm2")]
    events = [*CRASH, *back]
    (outcome,) = fault_outcomes(events, bound_of)
    assert outcome.guests[1] == NextRun(
        "vm2", "s3", "s3", 80_000, "guest_not_restarted: HA is not enabled on the guest first", None
    )


def test_a_partition_is_one_outcome_per_cut_off_server_with_its_fence() -> None:
    injected = InjectedFault("partition", ("s2", "s3"))
    events = [
        ev(1000, "fault", None, detail="network partition: s2, s3 cut off from the rest", fault=injected),
        ev(1000, "fault", "s2", detail="partition", fault=injected),
        ev(1000, "fault", "s3", detail="partition", fault=injected),
        ev(9000, "fence", "s2", detail="no quorum"),
        ev(12_000, "node_down", "s2", detail="master s1 saw s2 dead"),
    ]
    s2, s3 = fault_outcomes(events, bound_of)
    assert (s2.server, s2.fault, s2.fenced_after_ms, s2.detected_after_ms) == ("s2", injected, 8000, 11_000)
    assert (s3.server, s3.fenced_ms, s3.detected_ms) == ("s3", None, None)
    assert s2.bound_ms == TIMINGS.failover_bound_ms("partition")
    pool_wide = fault_outcomes(events[:1])
    assert [o.server for o in pool_wide] == [None], "a pool-wide fault alone is summarised"


def test_a_guest_running_before_the_timeline_began_is_found_by_its_stop() -> None:
    events = [fault(1000, "crash", "s1"), ev(1000, "guest_stop", "s1", "vm1", "crashed"),
              ev(9000, "guest_running", "s2", "vm1")]
    (outcome,) = fault_outcomes(events)
    assert outcome.guests == (NextRun("vm1", "s1", "s2", 9000),)


def test_an_outcome_survives_the_report_json() -> None:
    (outcome,) = fault_outcomes(CRASH, bound_of)
    assert FaultOutcome.from_dict(outcome.as_dict()) == outcome


def test_a_fault_event_carries_its_fault_and_no_other_event_does() -> None:
    with pytest.raises(ValueError, match="without an injected fault"):
        TimelineEvent(0, "fault", "s1", detail="crash")
    with pytest.raises(ValueError, match="with an injected fault"):
        TimelineEvent(0, "recover", "s1", fault=InjectedFault("crash", ("s1",)))
