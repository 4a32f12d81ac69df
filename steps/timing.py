"""Judging a time limit on any clock: Oracle's limit, plus what a real-time run is granted for its latency.

Then-steps that bound an instant (a failover bound, the dead threshold, a fence timeout) read it
from the servers' own records and hand it here with the documented limit and the grant the
driver measured (environments/latency.py; nothing on the simulator). Every verdict is kept for
the report with its grant; a result the measured latency makes meaningless raises
TooSlowToJudge (an environment error), a late one an AssertionError that says what was granted.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from environments.base import PoolDriver, TooSlowToJudge
from environments.latency import EXACT, TOO_SLOW_SHARE, Grant, Judgement, judge_late, too_slow_message
from environments.model import PoolState, TimelineEvent
from steps.records import Fault


@dataclass(frozen=True)
class ChainStep:
    """One step of the chain of events that leads to a judged instant, where a busy machine can
    delay it: what it is, when it happened (None: not recorded, so the lag of the whole window
    counts) and on which servers (None: any of them). `counting_since_ms`: the step ends a count
    of heartbeat iterations begun then (o2hb's unchanged reads), whose schedule a stall longer
    than an iteration shifts by as much, so such stalls count too."""

    what: str
    at_ms: int | None
    servers: Sequence[str] | None = None
    counting_since_ms: int | None = None


def grant_for(
    driver: PoolDriver,
    steps: Sequence[ChainStep],
    window: tuple[int, int],
    *,
    guests: Iterable[str] | None = None,
    fault_at_ms: int | None = None,
) -> Grant:
    """What a check is granted on this driver's clock: nothing on an exact one; on a real one the
    lag measured at each step of its chain, the extra boot time of `guests` in the window, and
    the uncertainty of the fault injected at `fault_at_ms`."""
    ledger = driver.latency()
    if ledger is None:
        return EXACT
    start, end = window
    lags = []
    for step in steps:
        servers = step.servers
        if step.at_ms is not None:
            lag = ledger.lag_at(step.at_ms, servers)
        else:
            lag = ledger.lag_between(start, end, servers)
        if step.counting_since_ms is not None:
            lag += ledger.slips(step.counting_since_ms, end if step.at_ms is None else step.at_ms, servers)
        lags.append((step.what, lag))
    boot = ledger.worst(("boot",), start, end, guests=guests) if guests is not None else 0.0
    return Grant(ledger.scale, tuple(lags), boot, ledger.fault_uncertainty(fault_at_ms), exact=False)


def clock_resolution_ms(driver: PoolDriver) -> int:
    """How much earlier than the pool's own clock says an agent may act (0 on an exact clock): a
    real-time agent's clock ticks in whole real milliseconds, so a deadline it sets may fall up to
    one of them before the instant it was computed from."""
    ledger = driver.latency()
    return 0 if ledger is None else math.ceil(1 / ledger.scale)


def first(events: Iterable[TimelineEvent], after_ms: int, kind: str, **where: object) -> TimelineEvent | None:
    """The first event of that kind at or after `after_ms` whose fields match `where`."""
    return next(
        (
            e
            for e in events
            if e.kind == kind and e.t_ms >= after_ms and all(getattr(e, k) == v for k, v in where.items())
        ),
        None,
    )


def master_after(events: list[TimelineEvent], fault: Fault) -> str | None:
    """The server pool master that handled the fault: the one before it, or the one elected after."""
    if fault.before.master is not None and fault.before.master not in fault.servers:
        return fault.before.master
    elected = first(events, fault.at_ms, "master")
    return elected.server if elected else None


def failover_steps(
    events: list[TimelineEvent], fault: Fault, guest: str, iteration_ms: int
) -> list[ChainStep]:
    """The chain from a fault to `guest` booting elsewhere, each step where the timeline shows it: on
    a network split the cut-off side's o2net idle timeout and its quorum fence; the master's
    heartbeat reads that declare the server dead; the new master's election when the master was
    lost; and the start command's arrival where the guest boots (its boot is granted apart)."""
    steps: list[ChainStep] = []
    cut = list(fault.servers)
    if fault.kind == "partition":
        idle = [e.t_ms for s in cut if (e := first(events, fault.at_ms, "o2net-disconnected", server=s))]
        steps.append(ChainStep("o2net idle timeout", max(idle) if idle else None, cut))
        fences = [e.t_ms for s in cut if (e := first(events, fault.at_ms, "fence", server=s))]
        steps.append(ChainStep("quorum fence", max(fences) if fences else None, cut))
    master = master_after(events, fault)
    down = [e.t_ms for s in cut if (e := first(events, fault.at_ms, "node_down", server=s))]
    observer = [master] if master else None
    steps.append(ChainStep("detection", min(down) if down else None, observer, fault.at_ms - iteration_ms))
    if fault.kind == "master" or fault.before.master in cut:
        elected = first(events, fault.at_ms, "master")
        steps.append(ChainStep("master election", elected.t_ms if elected else None, observer))
    elsewhere = [e for e in events if e.guest == guest and e.server not in cut]
    start = first(elsewhere, fault.at_ms, "guest_start")
    where = [start.server] if start is not None and start.server else None
    steps.append(ChainStep("start command", start.t_ms if start else None, where))
    return steps
def wait_granted(
    driver: PoolDriver,
    done: Callable[[PoolState], bool] | None,
    deadline_ms: int,
    bound_ms: int,
    grant_of: Callable[[], Grant],
) -> Grant:
    """Wait for `done` (or, without one, let time pass) until the deadline; then on for as long as
    the latency measured so far is granted, never past the share of the bound a verdict can bear
    (beyond it a late result is too slow to judge however long one waits). Returns the grant for
    everything measured by the end of the wait."""
    cap = deadline_ms + int(TOO_SLOW_SHARE * bound_ms)
    limit = deadline_ms
    for _ in range(4):  # the grant grows with what the wait itself measures; it settles at once
        left = limit - driver.now_ms()
        if left > 0:
            if done is None:
                driver.advance(left)
            elif driver.wait_until(done, left):
                break
        longer = min(cap, deadline_ms + grant_of().pool_ms)
        if longer <= limit:
            break
        limit = longer
    return grant_of()


def check_late(
    driver: PoolDriver,
    check: str,
    measured_ms: int | None,
    bound_ms: int,
    grant: Grant,
    failure: str,
    evidence: str = "",
) -> Judgement:
    """An event that must come no later than `bound_ms` after its reference came `measured_ms` after
    it (None: never). Records the judgement; raises TooSlowToJudge, or AssertionError with the
    failure, what was granted, and `evidence` (a history of events, say) last."""
    __tracebackhide__ = True
    judgement = Judgement(check, bound_ms, measured_ms, grant, judge_late(measured_ms, bound_ms, grant))
    driver.record_judgement(judgement)
    if judgement.verdict == "too slow to judge":
        raise TooSlowToJudge(too_slow_message(judgement))
    assert judgement.verdict == "passed", failure + granted(grant) + evidence
    return judgement


def granted(grant: Grant) -> str:
    """', granted ...' for a failure message on a real-time clock; nothing on an exact one."""
    return "" if grant.exact else f"; {grant.describe()}"
