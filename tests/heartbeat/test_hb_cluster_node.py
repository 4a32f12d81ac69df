"""ClusterNode in a small simulated pool: start-up, crash, hang, storage loss, partitions, clean stop."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ovmref.cluster.node import ClusterNode
from ovmref.effects import CancelTimer, Fence, ReadRegion, SetTimer, WriteSlot
from ovmref.events import LeaseResult, SlotWritten, TimerFired
from ovmref.heartbeat.membership import NodeDown, NodeUp

from .minipool import FAST, MiniPool

ITER = FAST.iteration_ms
T = FAST.dead_threshold
STEADY = 10_000  # every node up and connected well before this (asserted below)
FAULT = 20_000


def started(n: int, offsets: list[int] | None = None) -> MiniPool:
    pool = MiniPool(n, start_offsets_ms=offsets or [i * 1000 // n for i in range(n)])
    pool.run_until(STEADY)
    everyone = frozenset(range(n))
    for node in pool.nodes.values():
        assert node.live_nodes == everyone and node.connected == everyone
    return pool


# ---- single node behaviour ----------------------------------------------------------------
def test_start_reads_and_writes_at_once_and_arms_the_iteration() -> None:
    node = ClusterNode(0, [1, 2], FAST, generation=7)
    out = node.start(500)
    kinds = [type(e) for e in out.effects]
    assert kinds.index(ReadRegion) < kinds.index(WriteSlot)
    assert SetTimer("o2cb.hb", 500 + ITER) in out.effects
    assert out.membership == []


def test_timers_of_others_and_foreign_events_are_ignored() -> None:
    node = ClusterNode(0, [1], FAST, generation=7)
    node.start(0)
    assert node.handle(10, TimerFired("agent.renew")).effects == []
    assert node.handle(10, LeaseResult("guest:a", True, None, 1)).effects == []


def test_start_twice_is_an_error() -> None:
    node = ClusterNode(0, [1], FAST, generation=7)
    node.start(0)
    with pytest.raises(RuntimeError, match="start\\(\\) called twice"):
        node.start(10)


def test_no_write_deadline_before_an_own_block_was_read_back() -> None:
    node = ClusterNode(0, [1], FAST, generation=7)
    node.start(0)
    node.handle(0, SlotWritten(True))
    assert node.fence_deadline_ms is None


def test_overdue_write_deadline_fences_before_handling_the_event() -> None:
    pool = MiniPool(1)
    pool.run_until(3 * ITER)
    solo = pool.nodes[0]
    assert solo.fence_deadline_ms is not None
    out = solo.handle(solo.fence_deadline_ms, TimerFired("o2cb.hb"))
    fence = [e for e in out.effects if isinstance(e, Fence)]
    assert len(fence) == 1 and f"after {FAST.max_write_timeout_ms} milliseconds" in fence[0].reason
    assert not any(isinstance(e, WriteSlot) for e in out.effects)
    assert {e.name for e in out.effects if isinstance(e, CancelTimer)} >= {"o2cb.hb", "o2cb.fence"}
    assert solo.fenced and solo.handle(solo.fence_deadline_ms + 1, TimerFired("o2cb.hb")).effects == []


# ---- pools --------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [2, 3, 5])
def test_start_up_brings_everyone_up_and_connected_without_decisions(n: int) -> None:
    pool = started(n)
    assert pool.fenced == {}
    assert pool.records_of("o2quo-decision") == []
    for observer in range(n):
        ups = [s.change.node for s in pool.seen if s.observer == observer and isinstance(s.change, NodeUp)]
        assert sorted(ups) == list(range(n))


def test_crash_peers_declare_it_dead_after_the_threshold_and_nobody_fences() -> None:
    pool = started(3)
    pool.run_until(FAULT)
    pool.crash(2)
    pool.run_until(FAULT + 20 * ITER)
    downs = pool.downs(2)
    assert {s.observer for s in downs} == {0, 1}
    for s in downs:
        assert isinstance(s.change, NodeDown) and s.change.reason == "timeout"
        assert FAULT + (T - 1) * ITER < s.at_ms <= FAULT + (T + 1) * ITER
    assert pool.fenced == {}
    assert pool.records_of("o2quo-decision") == []  # the hold from the lost connection was dropped
    assert pool.nodes[0].live_nodes == frozenset({0, 1})


def test_hung_node_is_declared_dead_and_fences_itself_when_it_resumes() -> None:
    pool = started(3)
    pool.run_until(FAULT)
    pool.hang(1)
    slot_at_hang = pool.slots[1]
    pool.run_until(FAULT + 20 * ITER)
    assert {s.observer for s in pool.downs(1)} == {0, 2}
    assert 1 not in pool.fenced
    pool.resume(1)
    assert pool.fenced[1].at_ms == FAULT + 20 * ITER
    assert "Heartbeat write timeout" in pool.fenced[1].reason
    assert pool.slots[1] == slot_at_hang  # it fenced before writing anything more
    pool.run_until(FAULT + 30 * ITER)
    assert set(pool.fenced) == {1}


def test_short_hang_resumes_without_fencing() -> None:
    pool = started(3)
    pool.run_until(FAULT)
    pool.hang(1)
    pool.run_until(FAULT + 2 * ITER)
    pool.resume(1)
    pool.run_until(FAULT + 30 * ITER)
    assert pool.fenced == {} and pool.downs(1) == []


def test_storage_loss_self_fence_comes_strictly_before_peers_declare_it_dead() -> None:
    pool = started(3)
    pool.run_until(FAULT)
    pool.lose_storage(1)
    pool.run_until(FAULT + 20 * ITER)
    fenced = pool.fenced[1]
    assert "Heartbeat write timeout" in fenced.reason
    last_write = max(t for t, n in pool.writes if n == 1)
    assert fenced.at_ms == last_write + (T - 1) * ITER
    downs = pool.downs(1)
    assert {s.observer for s in downs} == {0, 2}
    for s in downs:
        assert fenced.at_ms < s.at_ms <= FAULT + (T + 1) * ITER
    assert set(pool.fenced) == {1}


def test_failing_writes_with_working_reads_also_fence_before_peers_decide() -> None:
    pool = started(3)
    pool.run_until(FAULT)
    pool.fail_writes(2)
    pool.run_until(FAULT + 20 * ITER)
    fenced = pool.fenced[2]
    assert fenced.at_ms == max(t for t, n in pool.writes if n == 2) + (T - 1) * ITER
    assert all(fenced.at_ms < s.at_ms for s in pool.downs(2)) and len(pool.downs(2)) == 2
    own_view = [s for s in pool.seen if s.observer == 2 and s.change == NodeDown(2, "timeout")]
    assert own_view == []  # it fenced before it could see its own slot go stale


def _partition_fence_window(pool: MiniPool) -> tuple[int, int]:
    t = pool.timings
    nominal = FAULT + t.idle_timeout_ms + t.quorum_delay_ms
    return nominal - t.keepalive_delay_ms, nominal + pool.latency_ms


def test_two_node_partition_the_lowest_node_survives() -> None:
    pool = started(2)
    pool.run_until(FAULT)
    pool.isolate([1])
    pool.run_until(FAULT + 40 * ITER)
    assert set(pool.fenced) == {1}
    lo, hi = _partition_fence_window(pool)
    assert lo <= pool.fenced[1].at_ms <= hi
    assert "doesn't include the lowest active node 0" in pool.fenced[1].reason
    down = pool.first_down(0, 1)
    assert down is not None and down.at_ms > pool.fenced[1].at_ms
    assert not pool.nodes[0].fenced


def test_two_node_partition_isolating_the_lowest_node_still_fences_the_higher() -> None:
    pool = started(2)
    pool.run_until(FAULT)
    pool.isolate([0])  # same cut seen from the other side
    pool.run_until(FAULT + 40 * ITER)
    assert set(pool.fenced) == {1}


def test_three_node_partition_the_isolated_node_fences_even_when_lowest() -> None:
    pool = started(3)
    pool.run_until(FAULT)
    pool.isolate([0])
    pool.run_until(FAULT + 40 * ITER)
    assert set(pool.fenced) == {0}
    assert "only connected to 1 nodes and 2 is needed to make a quorum out of 3" in pool.fenced[0].reason
    survivors = [pool.nodes[1], pool.nodes[2]]
    for node in survivors:
        assert node.quorum.last_decision is not None and not node.quorum.last_decision.fence
        assert node.live_nodes == frozenset({1, 2})


def test_four_node_even_split_the_half_without_the_lowest_node_fences() -> None:
    pool = started(4)
    pool.run_until(FAULT)
    pool.isolate([2, 3])
    pool.run_until(FAULT + 40 * ITER)
    assert set(pool.fenced) == {2, 3}
    assert pool.nodes[0].live_nodes == pool.nodes[1].live_nodes == frozenset({0, 1})


def test_partition_healed_within_the_quorum_delay_decides_nothing() -> None:
    pool = started(3)
    pool.run_until(FAULT)
    pool.isolate([2])
    pool.run_until(FAULT + FAST.idle_timeout_ms + 2 * ITER)  # connections errored, holds taken
    assert pool.records_of("o2net-disconnected")
    pool.heal()
    pool.run_until(FAULT + 40 * ITER)
    assert pool.fenced == {}
    assert all(not r.data["fence"] for _, _, r in pool.records_of("o2quo-decision"))


def test_clean_stop_is_seen_within_one_iteration_and_decides_nothing() -> None:
    pool = started(3)
    pool.run_until(FAULT)
    pool.stop(2)
    pool.run_until(FAULT + 20 * ITER)
    downs = pool.downs(2)
    assert {s.observer for s in downs} == {0, 1}
    for s in downs:
        assert s.change == NodeDown(2, "clean-leave")
        assert FAULT < s.at_ms <= FAULT + ITER
    assert pool.fenced == {} and pool.records_of("o2quo-decision") == []


def test_quick_restart_is_a_generation_change_then_up_again() -> None:
    pool = started(3)
    pool.run_until(FAULT)
    pool.crash(2)
    pool.run_until(FAULT + 2 * ITER)
    pool.restart(2, generation=0xBEEF)
    pool.run_until(FAULT + 10 * ITER)
    seen_by_0 = [(s.change) for s in pool.seen if s.observer == 0 and s.at_ms > FAULT]
    assert seen_by_0[:2] == [NodeDown(2, "generation"), NodeUp(2)]
    assert pool.fenced == {}
    assert pool.nodes[0].connected == frozenset({0, 1, 2})


def test_mismatched_timeouts_disconnect_and_the_higher_node_of_two_fences() -> None:
    other = replace(FAST, idle_timeout_ms=5000)
    pool = MiniPool(2, start_offsets_ms=[0, 500], node_timings={1: other})
    pool.run_until(40 * ITER)
    reasons = [r.data["reason"] for _, _, r in pool.records_of("o2net-disconnected")]
    assert any("uses a network idle timeout of 4000 ms, but we use 5000 ms locally" in r for r in reasons)
    assert set(pool.fenced) == {1}


def test_stop_then_events_do_nothing() -> None:
    pool = started(2)
    node = pool.nodes[1]
    out = node.stop(STEADY)
    assert any(isinstance(e, WriteSlot) for e in out.effects)
    assert node.handle(STEADY + ITER, TimerFired("o2cb.hb")).effects == []
    assert node.stop(STEADY + ITER).effects == []
