"""NetHeartbeat: o2net connect/keepalive/idle/handshake rules, one peer at a time."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ovmref.heartbeat.membership import ConnErr, ConnUp
from ovmref.heartbeat.network import Keepalive, NetHeartbeat
from ovmref.timing import O2CBTimings

T = O2CBTimings(dead_threshold=5, idle_timeout_ms=4000, keepalive_delay_ms=1000,
                reconnect_delay_ms=1000, iteration_ms=1000)
OK = Keepalive.from_timings(T)


def make() -> NetHeartbeat:
    return NetHeartbeat(0, [0, 1, 2], T)


def connected_at(now: int) -> NetHeartbeat:
    net = make()
    net.hb_up(1, now)
    assert net.received(1, now, OK) == [ConnUp(1)]
    return net


def test_self_is_not_a_peer() -> None:
    net = make()
    with pytest.raises(ValueError, match="node 0 is not a peer of node 0"):
        net.hb_up(0, 0)


def test_unknown_node_is_refused_with_the_configured_peers() -> None:
    with pytest.raises(ValueError, match=r"node 9 .*peers: \[1, 2\]"):
        make().received(9, 0, OK)


def test_nothing_is_sent_to_peers_that_do_not_heartbeat() -> None:
    net = make()
    assert net.tick(0) == [] and net.next_deadline_ms() is None


def test_keepalive_from_a_peer_not_yet_heartbeating_is_refused() -> None:
    net = make()
    assert net.received(1, 0, OK) == []
    assert net.connected == frozenset()


def test_heartbeating_peer_is_contacted_at_once_then_every_keepalive_delay() -> None:
    net = make()
    net.hb_up(1, 500)
    assert net.next_deadline_ms() == 500
    assert net.tick(500) == [1]
    assert net.tick(1499) == []
    assert net.tick(1500) == [1]


def test_matching_handshake_connects_once() -> None:
    net = make()
    net.hb_up(1, 0)
    assert net.received(1, 10, OK) == [ConnUp(1)]
    assert net.received(1, 20, OK) == []
    assert net.connected == frozenset({1})


def test_idle_connection_errors_exactly_at_the_idle_timeout() -> None:
    net = connected_at(0)
    net.received(1, 1000, OK)
    assert net.check_idle(4999) == []
    assert net.check_idle(5000) == [ConnErr(1, "connection has been idle for 4000 ms")]
    assert net.connected == frozenset()
    assert net.check_idle(9000) == []  # reported once


def test_traffic_after_an_idle_error_reconnects() -> None:
    net = connected_at(0)
    net.check_idle(4000)
    assert 1 in net.tick(4000)  # still trying while it heartbeats
    assert net.received(1, 4500, OK) == [ConnUp(1)]


def test_heartbeating_peer_never_reached_errors_after_the_idle_timeout() -> None:
    net = make()
    net.hb_up(2, 100)
    assert net.check_idle(4099) == []
    assert net.check_idle(4100) == [ConnErr(2, "no connection established after 4000 ms")]
    assert net.check_idle(9000) == []


@pytest.mark.parametrize(
    ("field", "value", "text"),
    [
        ("idle_timeout_ms", 30000, "uses a network idle timeout of 30000 ms, but we use 4000 ms"),
        ("keepalive_delay_ms", 2000, "uses a keepalive delay of 2000 ms, but we use 1000 ms"),
        ("dead_ms", 62000, "uses a heartbeat timeout of 62000 ms, but we use 5000 ms"),
    ],
)
def test_mismatched_handshake_disconnects_and_says_why(field: str, value: int, text: str) -> None:
    net = make()
    net.hb_up(1, 0)
    changes = net.received(1, 10, replace(OK, **{field: value}))
    assert changes == [ConnErr(1, f"{text} locally. Disconnecting.")]
    assert isinstance(changes[0], ConnErr)
    assert net.rejections == {1: changes[0].reason}
    assert net.tick(5000) == []  # no retry while it keeps heartbeating
    assert net.received(1, 20, OK) == []
    net.hb_down(1, 30)
    net.hb_up(1, 40)  # heartbeats again (restarted, maybe reconfigured): try again
    assert net.received(1, 50, OK) == [ConnUp(1)]


def test_reconnect_delay_is_sent_but_not_compared_like_the_kernel() -> None:
    net = make()
    net.hb_up(1, 0)
    assert net.received(1, 10, replace(OK, reconnect_delay_ms=5000)) == [ConnUp(1)]


def test_peer_that_stops_heartbeating_is_disconnected_and_left_alone() -> None:
    net = connected_at(0)
    assert net.hb_down(1, 100) == [ConnErr(1, "peer stopped heartbeating")]
    assert net.tick(10_000) == [] and net.next_deadline_ms() is None
    assert net.received(1, 200, OK) == []


def test_next_deadline_is_the_earliest_send_or_idle_or_expiry() -> None:
    net = connected_at(0)
    assert net.next_deadline_ms() == 0  # first keepalive due
    net.tick(0)
    assert net.next_deadline_ms() == 1000
    net.hb_up(2, 200)
    assert net.next_deadline_ms() == 200


def test_added_peer_is_contacted_once_it_heartbeats() -> None:
    net = make()
    net.add_peer(7)
    net.hb_up(7, 0)
    assert net.tick(0) == [7]
