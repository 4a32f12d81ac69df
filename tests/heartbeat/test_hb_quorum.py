"""o2quo: the decision rule (facts s.3) and the holds that delay or cancel it."""

from __future__ import annotations

import pytest

from ovmref.cluster.quorum import (
    FenceSelf,
    Quorum,
    QuorumDecided,
    QuorumStateError,
    ScheduleQuorumCheck,
    quorum_verdict,
)
from ovmref.timing import O2CBTimings

T = O2CBTimings(dead_threshold=5, idle_timeout_ms=4000, keepalive_delay_ms=1000,
                reconnect_delay_ms=1000, iteration_ms=1000)
DELAY = T.quorum_delay_ms  # (5 + 2) * 1000


def fences(node: int, heartbeating: set[int], connected: set[int]) -> bool:
    return quorum_verdict(node, frozenset(heartbeating), frozenset(connected)).fence


# ---- the rule ---------------------------------------------------------------------------
def test_two_node_split_the_lowest_node_survives() -> None:
    assert not fences(0, {0, 1}, {0})
    assert fences(1, {0, 1}, {1})
    verdict = quorum_verdict(1, frozenset({0, 1}), frozenset({1}))
    assert "half-quorum of 1 out of 2 nodes which doesn't include the lowest active node 0" in verdict.detail


def test_two_nodes_lowest_survives_whatever_the_numbers() -> None:
    assert not fences(3, {3, 8}, {3})
    assert fences(8, {3, 8}, {8})


def test_three_nodes_isolated_one_fences_even_if_it_is_the_lowest() -> None:
    assert fences(0, {0, 1, 2}, {0})
    assert "only connected to 1 nodes and 2 is needed to make a quorum out of 3" in quorum_verdict(
        0, frozenset({0, 1, 2}), frozenset({0})).detail
    assert not fences(1, {0, 1, 2}, {1, 2})
    assert not fences(2, {0, 1, 2}, {1, 2})


def test_three_nodes_reaching_one_peer_is_enough() -> None:
    # a chain 0-1-2 with 0 and 2 unable to talk: everyone keeps quorum
    assert not fences(0, {0, 1, 2}, {0, 1})
    assert not fences(1, {0, 1, 2}, {0, 1, 2})
    assert not fences(2, {0, 1, 2}, {1, 2})


def test_four_node_even_split_the_half_with_the_lowest_node_survives() -> None:
    hb = {0, 1, 2, 3}
    assert not fences(0, hb, {0, 1})
    assert not fences(1, hb, {0, 1})
    assert fences(2, hb, {2, 3})
    assert fences(3, hb, {2, 3})


def test_four_node_even_split_other_pairing() -> None:
    hb = {0, 1, 2, 3}
    assert not fences(0, hb, {0, 3})
    assert not fences(3, hb, {0, 3})
    assert fences(1, hb, {1, 2})
    assert fences(2, hb, {1, 2})


def test_four_nodes_one_isolated_fences_three_survive() -> None:
    hb = {0, 1, 2, 3}
    assert fences(0, hb, {0})
    for n in (1, 2, 3):
        assert not fences(n, hb, {1, 2, 3})


def test_five_nodes_two_three_split() -> None:
    hb = {0, 1, 2, 3, 4}
    assert fences(0, hb, {0, 1})
    assert not fences(2, hb, {2, 3, 4})


def test_no_decision_when_alone_or_not_heartbeating() -> None:
    v = quorum_verdict(0, frozenset({0}), frozenset({0}))
    assert not v.fence and "only heartbeating node" in v.detail
    v = quorum_verdict(0, frozenset({1, 2}), frozenset({0}))
    assert not v.fence and "not heartbeating" in v.detail


# ---- holds and timing -------------------------------------------------------------------
def steady(node: int, members: list[int]) -> Quorum:
    """Everyone heartbeating and connected, as after a normal start."""
    q = Quorum(node, T)
    q.conn_up(node, 0)  # o2net_start_listening
    for n in members:
        assert not [a for a in q.hb_up(n, 0) if isinstance(a, FenceSelf)]
        if n != node:
            q.conn_up(n, 0)
    assert q.holds == frozenset()
    return q


def test_hb_up_without_connection_holds_until_connected() -> None:
    q = Quorum(0, T)
    q.conn_up(0, 0)
    q.hb_up(0, 0)
    q.hb_up(1, 0)
    assert q.holds == frozenset({1})
    q.conn_up(1, 10)
    assert q.holds == frozenset()


def test_connection_without_heartbeat_holds_until_heartbeat() -> None:
    q = Quorum(0, T)
    q.conn_up(1, 0)
    assert q.holds == frozenset({1})
    q.hb_up(1, 5)
    assert q.holds == frozenset()


def test_conn_err_decides_only_after_the_quorum_delay() -> None:
    q = steady(1, [0, 1])
    assert q.conn_err(0, 1000) == [ScheduleQuorumCheck(1000 + DELAY)]
    assert q.holds == frozenset({0})
    assert q.next_check_ms() == 1000 + DELAY
    assert q.on_timer(1000 + DELAY - 1) == [ScheduleQuorumCheck(1000 + DELAY)]  # early: re-arm only
    actions = q.on_timer(1000 + DELAY)
    decided = [a for a in actions if isinstance(a, QuorumDecided)]
    assert len(decided) == 1 and decided[0].fence and decided[0].lowest == 0
    assert any(isinstance(a, FenceSelf) for a in actions)


def test_lowest_node_of_a_two_node_split_decides_to_stay() -> None:
    q = steady(0, [0, 1])
    q.conn_err(1, 1000)
    actions = q.on_timer(1000 + DELAY)
    assert not any(isinstance(a, FenceSelf) for a in actions)
    assert q.last_decision is not None and not q.last_decision.fence


def test_peer_heartbeat_dying_first_cancels_the_decision() -> None:
    q = steady(1, [0, 1])
    q.conn_err(0, 1000)
    assert q.hb_down(0, 6000) == []
    assert q.next_check_ms() is None and q.holds == frozenset()
    assert q.on_timer(1000 + DELAY) == []
    assert q.last_decision is None


def test_reconnecting_before_the_delay_drops_the_hold_without_deciding() -> None:
    q = steady(1, [0, 1])
    q.conn_err(0, 1000)
    assert q.conn_up(0, 3000) == []
    assert q.holds == frozenset()
    assert q.on_timer(1000 + DELAY) == []  # pending is set, nothing holds: no decision (as the kernel)
    assert q.last_decision is None and q.pending


def test_decision_waits_for_every_hold() -> None:
    q = steady(3, [0, 1, 2, 3])
    q.conn_err(0, 1000)
    q.conn_err(1, 3000)
    first = q.on_timer(1000 + DELAY)
    assert first == [ScheduleQuorumCheck(3000 + DELAY)]  # node 1's hold still pending
    actions = q.on_timer(3000 + DELAY)
    decided = [a for a in actions if isinstance(a, QuorumDecided)]
    assert decided and decided[0].fence and (decided[0].heartbeating, decided[0].connected) == (4, 2)


def test_a_new_node_heartbeating_without_connection_delays_a_decision() -> None:
    q = steady(1, [0, 1])
    q.conn_err(0, 1000)
    q.hb_up(2, 2000)  # node 2 starts heartbeating, not yet connected: hold
    assert not any(isinstance(a, QuorumDecided) for a in q.on_timer(1000 + DELAY))
    actions = q.conn_up(2, 9000)
    decided = [a for a in actions if isinstance(a, QuorumDecided)]
    assert decided and (decided[0].heartbeating, decided[0].connected) == (3, 2) and not decided[0].fence


def test_conn_err_for_a_peer_that_no_longer_heartbeats_takes_no_hold() -> None:
    q = steady(0, [0, 1, 2])
    q.hb_down(2, 100)
    assert q.conn_err(2, 100) == []
    assert q.holds == frozenset() and q.next_check_ms() is None


def test_out_of_order_callbacks_are_errors() -> None:
    q = steady(0, [0, 1])
    with pytest.raises(QuorumStateError, match="node 1 reported heartbeating twice"):
        q.hb_up(1, 0)
    with pytest.raises(QuorumStateError, match="node 1 reported connected twice"):
        q.conn_up(1, 0)
    with pytest.raises(QuorumStateError, match="node 5 reported down"):
        q.hb_down(5, 0)
