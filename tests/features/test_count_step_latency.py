"""'N of the guests … are powered off / running' on a real-time clock: a restart the load delayed
past the horizon is granted the lag measured meanwhile, and too slow to judge beyond the share a
verdict can bear; a wrong count on a quiet machine still fails.

The pool here is a stand-in with a real-time latency ledger: the step is judged on what it
observes at the instants it asks, so the test decides when vm2's late restart shows up."""

from __future__ import annotations

import pytest

from environments.base import TooSlowToJudge
from environments.latency import Judgement, LatencyLedger
from environments.model import GuestState, PoolState
from ovmref.release import Release
from ovmref.timing import O2CBTimings
from steps.guest_state import count_in_state
from steps.records import Fault

SCALE = 0.03
TIMINGS = O2CBTimings.for_release(Release.R2_2)


class LaggingPool:
    """A clock that only moves when asked, two guests (vm1 running; vm2 restarting, running from
    `vm2_runs_at_ms` on, never if None) and one timer-lag sample of `lag_real_ms`."""

    def __init__(self, vm2_runs_at_ms: int | None, lag_real_ms: float) -> None:
        self.now = 0
        self.timings = TIMINGS
        self.vm2_runs_at_ms = vm2_runs_at_ms
        self.ledger = LatencyLedger(SCALE, TIMINGS.iteration_ms)
        self.ledger.note("timer", 10_000, lag_real_ms, "server1")
        self.judgements: list[Judgement] = []

    def now_ms(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += max(0, ms)

    def failover_bound_ms(self, kind: str) -> int:
        return 100_000

    def observe(self) -> PoolState:
        late = self.vm2_runs_at_ms is None or self.now < self.vm2_runs_at_ms
        vm2 = GuestState("vm2", "powered_off", None, True)
        if not late:
            vm2 = GuestState("vm2", "running", "server1", True)
        guests = {"vm1": GuestState("vm1", "running", "server1", True), "vm2": vm2}
        return PoolState(self.now, Release.R2_2, True, "server1", guests=guests)

    def wait_until(self, predicate: object, timeout_ms: int) -> bool:
        assert callable(predicate)
        end = self.now + timeout_ms
        while self.now < end:
            if predicate(self.observe()):
                return True
            self.advance(min(TIMINGS.iteration_ms, end - self.now))
        return bool(predicate(self.observe()))

    def latency(self) -> LatencyLedger:
        return self.ledger

    def record_judgement(self, judgement: Judgement) -> None:
        self.judgements.append(judgement)


def judge(pool: LaggingPool) -> None:
    fault = Fault("crash", ("server2",), 0, pool.observe())
    count_in_state(pool, fault, None, "2", "vm1", "vm2", "running")  # type: ignore[arg-type]


HORIZON = 100_000 + TIMINGS.iteration_ms  # the fault's failover bound and one iteration


def test_a_restart_delayed_within_the_measured_lag_is_counted() -> None:
    pool = LaggingPool(vm2_runs_at_ms=HORIZON + 3_000, lag_real_ms=150.0)  # 150 ms real = 5000 ms pool
    judge(pool)
    assert not pool.judgements  # passed once it ran: nothing late to judge


def test_a_restart_missing_with_little_lag_measured_fails_and_says_what_was_granted() -> None:
    pool = LaggingPool(vm2_runs_at_ms=None, lag_real_ms=3.0)  # 100 ms of pool time
    with pytest.raises(AssertionError, match=r"1 running, expected 2: .*granted"):
        judge(pool)
    assert [j.verdict for j in pool.judgements] == ["failed"]


def test_a_restart_missing_after_more_lag_than_a_verdict_can_bear_is_too_slow_to_judge() -> None:
    pool = LaggingPool(vm2_runs_at_ms=None, lag_real_ms=600.0)  # 20 s of pool time: 20 % of 102 s
    with pytest.raises(TooSlowToJudge, match="too slow to judge: 2 of vm1 to vm2 running"):
        judge(pool)
    assert [j.verdict for j in pool.judgements] == ["too slow to judge"]


def test_a_restart_later_than_the_lag_measured_is_not_waited_for() -> None:
    pool = LaggingPool(vm2_runs_at_ms=HORIZON + 9_000, lag_real_ms=150.0)  # 9 s late, 5 s granted
    with pytest.raises(AssertionError, match="1 running, expected 2"):
        judge(pool)
    assert pool.now < HORIZON + 9_000
