"""The safety property guests rely on, over random pools and single faults.

A node that peers declare dead by timeout was crashed or hung at that
moment, or had already fenced itself: so when the master restarts its
guests elsewhere, the old copies cannot still be running and writing.
Also: only the nodes the quorum rules name ever fence.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from ovmref.heartbeat.membership import NodeDown

from .minipool import FAST, MiniPool

ITER = FAST.iteration_ms
RUN_AFTER_FAULT = (FAST.idle_timeout_ms + FAST.quorum_delay_ms + (FAST.dead_threshold + 4) * ITER) * 2


@dataclass(frozen=True)
class Scenario:
    n: int
    offsets: list[int]
    fault: str
    victim: int
    fault_at: int
    hang_ms: int


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    n = draw(st.integers(2, 8))
    return Scenario(
        n=n,
        offsets=draw(st.lists(st.integers(0, ITER - 1), min_size=n, max_size=n)),
        fault=draw(st.sampled_from(["crash", "hang", "storage", "writes", "partition", "stop"])),
        victim=draw(st.integers(0, n - 1)),
        fault_at=draw(st.integers(8 * ITER, 15 * ITER)),
        hang_ms=draw(st.integers(ITER, 3 * FAST.dead_threshold * ITER)),
    )


def run(sc: Scenario) -> MiniPool:
    pool = MiniPool(sc.n, start_offsets_ms=sc.offsets)
    pool.run_until(sc.fault_at)
    if sc.fault == "crash":
        pool.crash(sc.victim)
    elif sc.fault == "hang":
        pool.hang(sc.victim)
        pool.run_until(sc.fault_at + sc.hang_ms)
        pool.resume(sc.victim)
    elif sc.fault == "storage":
        pool.lose_storage(sc.victim)
    elif sc.fault == "writes":
        pool.fail_writes(sc.victim)
    elif sc.fault == "partition":
        pool.isolate([sc.victim])
    else:
        pool.stop(sc.victim)
    pool.run_until(sc.fault_at + RUN_AFTER_FAULT)
    return pool


def expected_fencers(sc: Scenario) -> set[int]:
    if sc.fault == "partition":
        return {1} if sc.n == 2 else {sc.victim}  # two nodes: the lowest (0) always survives
    if sc.fault in ("storage", "writes", "hang"):
        return {sc.victim}  # a short hang may end without fencing
    return set()


def unresponsive_at(pool: MiniPool, node: int, t: int) -> bool:
    if node in pool.crashed and pool.crashed[node] <= t:
        return True
    if node in pool.hung and pool.hung[node] <= t:
        return True
    return any(n == node and began <= t <= (end if end is not None else t) for n, began, end in pool.hangs)


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_declared_dead_means_crashed_hung_or_already_fenced(sc: Scenario) -> None:
    pool = run(sc)
    for seen in pool.seen:
        change = seen.change
        if not isinstance(change, NodeDown) or change.reason != "timeout" or change.node == seen.observer:
            continue
        fenced = pool.fenced.get(change.node)
        assert unresponsive_at(pool, change.node, seen.at_ms) or (
            fenced is not None and fenced.at_ms < seen.at_ms
        ), f"node {seen.observer} declared node {change.node} dead at {seen.at_ms} while it ran: {sc}"


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_only_the_nodes_the_rules_name_fence_and_the_fault_is_noticed(sc: Scenario) -> None:
    pool = run(sc)
    allowed = expected_fencers(sc)
    assert set(pool.fenced) <= allowed, f"unexpected fence {pool.fenced}: {sc}"
    if sc.fault in ("storage", "writes", "partition"):
        assert set(pool.fenced) == allowed, f"expected {allowed} to fence: {sc}"
    gone = allowed if sc.fault == "partition" else {sc.victim}
    if sc.fault == "hang" and sc.victim not in pool.fenced:
        gone = set()
    for node in set(range(sc.n)) - gone:
        for dead in gone:
            assert any(s.observer == node for s in pool.downs(dead)), (
                f"node {node} never noticed node {dead} leave: {sc}")
