"""o2net: the per-peer network heartbeat (keepalive, idle timeout, handshake).

Follows fs/ocfs2/cluster/tcp.c where it matters for HA decisions and stays
simple elsewhere (no sockets, no connector/acceptor roles):

* a peer is connected only while it heartbeats on disk (o2net_accept_one
  refuses peers that do not; o2net_hb_node_down_cb disconnects them);
* a connected peer silent for idle_timeout_ms is an error (o2net_idle_timer);
* a heartbeating peer never reached within idle_timeout_ms is an error
  (o2net_connect_expired);
* a peer whose timeouts differ from ours is disconnected and not retried until
  it heartbeats again (o2net_check_handshake), because mismatched timeouts
  let one node think another dead while it is not.

Every error is reported once (ConnErr) until the peer connects again; o2quo
turns errors into quorum decisions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ovmref.heartbeat.membership import ConnChange, ConnErr, ConnUp
from ovmref.timing import O2CBTimings


@dataclass(frozen=True)
class Keepalive:
    """An o2net message carrying the handshake values (struct o2net_handshake).

    The kernel compares idle timeout, keepalive delay and heartbeat timeout;
    reconnect delay is sent but not compared, and so it is here.
    """

    dead_ms: int
    idle_timeout_ms: int
    keepalive_delay_ms: int
    reconnect_delay_ms: int

    @classmethod
    def from_timings(cls, timings: O2CBTimings) -> Keepalive:
        return cls(
            dead_ms=timings.dead_ms,
            idle_timeout_ms=timings.idle_timeout_ms,
            keepalive_delay_ms=timings.keepalive_delay_ms,
            reconnect_delay_ms=timings.reconnect_delay_ms,
        )

    def mismatch(self, ours: Keepalive) -> str:
        """The kernel's "Disconnecting." message for the first differing value, or ''."""
        for what, theirs, mine in (
            ("network idle timeout", self.idle_timeout_ms, ours.idle_timeout_ms),
            ("keepalive delay", self.keepalive_delay_ms, ours.keepalive_delay_ms),
            ("heartbeat timeout", self.dead_ms, ours.dead_ms),
        ):
            if theirs != mine:
                return f"uses a {what} of {theirs} ms, but we use {mine} ms locally. Disconnecting."
        return ""


@dataclass
class _Peer:
    heartbeating: bool = False
    connected: bool = False
    errored: bool = False  # an error was reported and the peer has not connected since
    rejected: str = ""  # handshake mismatch: no retry until it heartbeats again
    last_rx_ms: int = 0
    next_send_ms: int | None = None
    expire_ms: int | None = None  # o2net_connect_expired deadline


class NetHeartbeat:
    """o2net state of `node` towards every peer configured in cluster.conf."""

    def __init__(self, node: int, peers: Iterable[int], timings: O2CBTimings) -> None:
        self.node = node
        self.timings = timings
        self.handshake = Keepalive.from_timings(timings)
        self._peers = {p: _Peer() for p in sorted(set(peers) - {node})}

    @property
    def connected(self) -> frozenset[int]:
        return frozenset(p for p, s in self._peers.items() if s.connected)

    @property
    def rejections(self) -> dict[int, str]:
        """Why a peer is currently refused (handshake mismatch), by peer."""
        return {p: s.rejected for p, s in self._peers.items() if s.rejected}

    def add_peer(self, peer: int) -> None:
        """A node added to cluster.conf; it is contacted once it heartbeats."""
        if peer != self.node and peer not in self._peers:
            self._peers[peer] = _Peer()

    def _peer(self, peer: int) -> _Peer:
        try:
            return self._peers[peer]
        except KeyError:
            raise ValueError(
                f"node {peer} is not a peer of node {self.node} in cluster.conf "
                f"(peers: {sorted(self._peers)})"
            ) from None

    # ---- disk heartbeat callbacks (o2net_hb_node_up_cb / _down_cb) --------------------
    def hb_up(self, peer: int, now_ms: int) -> list[ConnChange]:
        """The peer heartbeats: try to connect now, give up after idle_timeout_ms."""
        s = self._peer(peer)
        s.heartbeating = True
        s.rejected = ""
        s.errored = False
        s.next_send_ms = now_ms
        if not s.connected:
            s.expire_ms = now_ms + self.timings.idle_timeout_ms
        return []

    def hb_down(self, peer: int, now_ms: int) -> list[ConnChange]:
        """The peer stopped heartbeating: drop the connection, do not reconnect."""
        s = self._peer(peer)
        was_connected = s.connected
        self._peers[peer] = _Peer()
        return [ConnErr(peer, "peer stopped heartbeating")] if was_connected else []

    # ---- traffic -----------------------------------------------------------------
    def tick(self, now_ms: int) -> list[int]:
        """Peers due a keepalive now (every keepalive_delay_ms while the peer heartbeats)."""
        due: list[int] = []
        for p, s in self._peers.items():
            if s.heartbeating and not s.rejected and s.next_send_ms is not None and s.next_send_ms <= now_ms:
                due.append(p)
                s.next_send_ms = now_ms + self.timings.keepalive_delay_ms
        return due

    def received(self, peer: int, now_ms: int, message: Keepalive) -> list[ConnChange]:
        """A keepalive from `peer`: connects (handshake ok) or disconnects (mismatch)."""
        s = self._peer(peer)
        if not s.heartbeating or s.rejected:
            return []  # "attempt to connect ... but it isn't heartbeating"
        why = message.mismatch(self.handshake)
        if why:
            s.rejected = why
            s.connected = False
            s.expire_ms = None
            if s.errored:
                return []
            s.errored = True
            return [ConnErr(peer, why)]
        s.last_rx_ms = now_ms
        if s.connected:
            return []
        s.connected = True
        s.errored = False
        s.expire_ms = None
        return [ConnUp(peer)]

    def check_idle(self, now_ms: int) -> list[ConnErr]:
        """Connections silent for idle_timeout_ms, and connections that never came up."""
        errors: list[ConnErr] = []
        idle = self.timings.idle_timeout_ms
        for p, s in self._peers.items():
            if s.connected and now_ms >= s.last_rx_ms + idle:
                s.connected = False
                s.errored = True
                errors.append(ConnErr(p, f"connection has been idle for {now_ms - s.last_rx_ms} ms"))
            elif s.expire_ms is not None and now_ms >= s.expire_ms:
                s.expire_ms = None
                if not s.connected and not s.errored:
                    s.errored = True
                    errors.append(ConnErr(p, f"no connection established after {idle} ms"))
        return errors

    def next_deadline_ms(self) -> int | None:
        """When tick/check_idle next has something to do (None: nothing pending)."""
        deadlines: list[int] = []
        for s in self._peers.values():
            if s.heartbeating and not s.rejected and s.next_send_ms is not None:
                deadlines.append(s.next_send_ms)
            if s.connected:
                deadlines.append(s.last_rx_ms + self.timings.idle_timeout_ms)
            elif s.expire_ms is not None:
                deadlines.append(s.expire_ms)
        return min(deadlines, default=None)
