"""The latency ledger, the agent's lateness meter and the verdicts drawn from them, without a pool."""

from __future__ import annotations

import pytest

from environments.latency import (
    EXACT,
    LAG,
    TOO_SLOW_SHARE,
    Grant,
    Judgement,
    LatencyLedger,
    judge_late,
    too_slow_message,
)
from environments.local.lateness import LatenessMeter

SCALE = 0.03
ITERATION = 2000  # pool ms


def ledger() -> LatencyLedger:
    return LatencyLedger(SCALE, ITERATION)


def grant(real_ms: float) -> Grant:
    return Grant(SCALE, (("detection", real_ms),), exact=False)


# ---- verdicts --------------------------------------------------------------------------------
def test_within_the_documented_bound_is_a_pass_however_slow_the_machine() -> None:
    huge = grant(10_000)
    assert judge_late(71_000, 71_000, huge) == "passed"


def test_past_the_bound_the_measured_latency_decides() -> None:
    g = grant(60)  # 2000 ms of pool time at scale 0.03: under a tenth of 71 s
    assert g.pool_ms == 2000
    assert judge_late(73_000, 71_000, g) == "passed"
    assert judge_late(73_001, 71_000, g) == "failed"
    assert judge_late(None, 71_000, g) == "failed"


def test_a_grant_above_the_share_of_the_bound_is_too_slow_to_judge_never_failed() -> None:
    bound = 71_000
    g = grant(TOO_SLOW_SHARE * bound * SCALE + 1)
    assert g.pool_ms > TOO_SLOW_SHARE * bound
    assert judge_late(bound + 1, bound, g) == "too slow to judge"
    assert judge_late(None, bound, g) == "too slow to judge"
    message = too_slow_message(Judgement("vm1 running elsewhere", bound, None, g, "too slow to judge"))
    assert message.startswith("too slow to judge: vm1 running elsewhere: the measured latency (214.0 ms")
    assert "at scale 0.03" in message and "more than the 10% a verdict can bear" in message


def test_the_simulator_grants_nothing_and_says_so() -> None:
    assert EXACT.pool_ms == 0
    assert EXACT.describe() == "no allowance (exact clock)"
    assert judge_late(71_001, 71_000, EXACT) == "failed"


def test_a_grant_says_where_it_comes_from() -> None:
    g = Grant(SCALE, (("detection", 12.0), ("start command", 3.0)), boot_ms=4.5, fault_ms=0.6, exact=False)
    assert g.real_ms == pytest.approx(20.1)
    assert g.pool_ms == 670
    assert g.describe() == (
        "granted 670 ms (detection 12.0 ms, start command 3.0 ms, guest boot 4.5 ms, fault round trip 0.6 ms "
        "of real time, at scale 0.03)"
    )


# ---- the ledger ------------------------------------------------------------------------------
def test_lag_is_read_around_the_moment_of_the_step_on_its_servers() -> None:
    book = ledger()
    book.note("timer", 10_000, 3.0, "server1")
    book.note("message", 11_000, 5.0, "server2")
    book.note("timer", 30_000, 40.0, "server1")  # a stall long after the step
    assert book.lag_at(10_500, ["server1"]) == 3.0
    assert book.lag_at(10_500, ["server2"]) == 5.0
    assert book.lag_at(10_500) == 5.0
    assert book.lag_between(0, 40_000, ["server1"]) == 40.0
    assert book.lag_at(50_000) == 0.0  # nothing measured there


def test_a_hung_server_catching_up_is_the_fault_not_the_machine() -> None:
    book = ledger()
    book.note("timer", 1_000, 2.0, "server2")
    book.exclude("server2", LAG, 5_000)
    book.note("timer", 6_000, 900.0, "server2")
    book.note("timer", 6_000, 4.0, "server1")
    book.include("server2", 60_000)
    book.note("timer", 61_000, 60_000 * SCALE, "server2")  # its first iterations after SIGCONT
    book.note("timer", 70_000, 1.0, "server2")
    assert [(s.server, s.t_ms) for s in book.samples] == [
        ("server2", 1_000),
        ("server1", 6_000),
        ("server2", 70_000),
    ]


def test_messages_held_up_by_a_partition_are_not_counted_until_it_has_healed() -> None:
    book = ledger()
    book.exclude(None, ("message",), 1_000)
    book.note("message", 2_000, 500.0, "server1")
    book.note("timer", 2_000, 3.0, "server1")
    book.include(None, 10_000)
    book.note("message", 12_000, 800.0, "server3")
    book.note("message", 20_000, 2.0, "server3")
    assert [(s.source, s.t_ms) for s in book.samples] == [("timer", 2_000), ("message", 20_000)]


def test_fault_uncertainty_belongs_to_its_fault_and_boots_to_their_guests() -> None:
    book = ledger()
    book.note("fault", 5_000, 40.0, "server2")
    book.note("boot", 70_000, 8.0, "server1", "vm1")
    book.note("boot", 70_000, 90.0, "server1", "vm2")
    assert book.fault_uncertainty(5_000) == 40.0
    assert book.fault_uncertainty(5_001) == 0.0
    assert book.fault_uncertainty(None) == 0.0
    assert book.worst(("boot",), 5_000, 80_000, guests=["vm1"]) == 8.0


def test_summary_per_source() -> None:
    book = ledger()
    for ms in (1.0, 2.0, 9.0):
        book.note("rpc", 0, ms, "server1")
    assert book.summary() == {"rpc": {"count": 3, "median_ms": 2.0, "max_ms": 9.0}}
    with pytest.raises(ValueError, match="unknown latency source"):
        book.note("cosmic rays", 0, 1.0)


# ---- the agent's meter -----------------------------------------------------------------------
def test_the_meter_reports_the_worst_lateness_once_per_period() -> None:
    meter = LatenessMeter(period_s=0.06)
    assert meter.note(0.002, now_s=100.0) is None
    assert meter.note(0.015, now_s=100.03) is None
    assert meter.note(-0.0001, now_s=100.05) is None  # asyncio ran a timer a hair early
    assert meter.note(0.001, now_s=100.07) == 0.015
    assert meter.note(0.0, now_s=100.08) is None
    assert meter.note(0.004, now_s=100.2) == 0.004
    with pytest.raises(ValueError):
        LatenessMeter(period_s=0)
