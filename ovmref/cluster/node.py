"""One server's whole O2CB stack (o2hb + o2net + o2quo) as a single sans-IO machine.

The HA agent embeds this: it forwards the events whose names start with
"o2cb." (and heartbeat I/O completions and keepalives) and executes the
effects. The wiring follows the kernel's callbacks: o2hb node up/down feed
o2net (connect/disconnect) and o2quo (heartbeating set); o2net connection
changes feed o2quo; o2quo and the o2hb write timer can fence the node.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ovmref.cluster.quorum import FenceSelf, Quorum, QuorumAction, QuorumDecided
from ovmref.effects import CancelTimer, Effect, Fence, ReadRegion, Record, Send, SetTimer, WriteSlot
from ovmref.events import Event, Received, RegionRead, RegionReadFailed, SlotWritten, TimerFired
from ovmref.heartbeat.disk import DiskHeartbeat
from ovmref.heartbeat.membership import ConnChange, ConnUp, MembershipChange, NodeUp
from ovmref.heartbeat.network import Keepalive, NetHeartbeat
from ovmref.timing import O2CBTimings

TIMER_HB = "o2cb.hb"
TIMER_NET = "o2cb.net"
TIMER_FENCE = "o2cb.fence"
TIMER_QUORUM = "o2cb.quorum"
TIMER_PREFIX = "o2cb."
SORRY = "*** ocfs2 is very sorry to be fencing this system by restarting ***"


@dataclass
class NodeOutput:
    """What one step produced: effects for the driver, membership changes for the agent."""

    effects: list[Effect] = field(default_factory=list)
    membership: list[MembershipChange] = field(default_factory=list)


class ClusterNode:
    """The O2CB stack of server `node`; `peers` are the other nodes of cluster.conf."""

    def __init__(
        self,
        node: int,
        peers: Iterable[int],
        timings: O2CBTimings,
        generation: int,
        block_bytes: int = 512,
    ) -> None:
        members = sorted(set(peers) | {node})
        self.node = node
        self.generation = generation
        self.timings = timings
        self._disk = DiskHeartbeat(node, members, timings, generation, block_bytes)
        self._net = NetHeartbeat(node, members, timings)
        self._quorum = Quorum(node, timings)
        self._armed: dict[str, int] = {}
        self._next_iteration_ms: int | None = None
        self._running = False
        self._write_failing = False
        self._read_failing = False
        self.fenced = False
        self.fence_reason = ""

    # ---- views -------------------------------------------------------------------------
    @property
    def live_nodes(self) -> frozenset[int]:
        """Nodes heartbeating on disk in this node's view (itself included once its writes land)."""
        return self._disk.live_nodes

    @property
    def connected(self) -> frozenset[int]:
        """Nodes o2quo counts as connected: o2net peers plus this node while it runs."""
        return self._quorum.connected

    @property
    def running(self) -> bool:
        return self._running and not self.fenced

    @property
    def fence_deadline_ms(self) -> int | None:
        return self._disk.fence_deadline_ms

    @property
    def quorum(self) -> Quorum:
        return self._quorum

    def peer_generation(self, node: int) -> int:
        """The generation of the incarnation last read in `node`'s heartbeat slot."""
        return self._disk.generation_of(node)

    def add_peer(self, node: int) -> None:
        """A server joined the pool: cluster.conf gained `node` (o2cb_ctl -C -i ... on every member)."""
        self._disk.add_node(node)
        self._net.add_peer(node)

    # ---- lifecycle ---------------------------------------------------------------------
    def start(self, now_ms: int) -> NodeOutput:
        """Start heartbeating (first iteration at once) and listening (self counts as connected)."""
        if self._running or self.fenced:
            raise RuntimeError(f"node {self.node}: start() called twice; build a new ClusterNode to rejoin")
        self._running = True
        out = NodeOutput()
        out.effects.append(Record("o2cb-start", f"node {self.node} starts heartbeating",
                                  data={"node": self.node, "generation": self.generation}))
        self._apply_quorum(now_ms, self._quorum.conn_up(self.node, now_ms), out)
        self._iteration(now_ms, out)
        self._sync_timers(out)
        return out

    def stop(self, now_ms: int) -> NodeOutput:
        """Clean stop: the generation-0 block tells peers at once; every timer is cancelled."""
        out = NodeOutput()
        if not self.running:
            return out
        self._running = False
        out.effects.append(WriteSlot(self.node, self._disk.leave_block(now_ms)))
        out.effects.append(Record("o2cb-stop", f"node {self.node} leaves the heartbeat region cleanly",
                                  data={"node": self.node}))
        self._cancel_all(out)
        return out

    def resumed(self, now_ms: int) -> NodeOutput:
        """After a hang: an overdue self-fence deadline fires before anything else happens."""
        out = NodeOutput()
        if self.running:
            self._fence_if_overdue(now_ms, out)
        return out

    # ---- events ------------------------------------------------------------------------
    def handle(self, now_ms: int, event: Event) -> NodeOutput:
        out = NodeOutput()
        if not self.running or self._fence_if_overdue(now_ms, out):
            return out
        if isinstance(event, TimerFired):
            if not event.name.startswith(TIMER_PREFIX):
                return out
            self._armed.pop(event.name, None)
            self._on_timer(now_ms, event.name, out)
        elif isinstance(event, RegionRead):
            self._on_region_read(now_ms, event, out)
        elif isinstance(event, RegionReadFailed):
            self._disk.read_failed(now_ms)
            if not self._read_failing:
                out.effects.append(Record("o2hb-read-error", event.error, data={"node": self.node}))
            self._read_failing = True
        elif isinstance(event, SlotWritten):
            self._on_slot_written(now_ms, event, out)
        elif isinstance(event, Received) and isinstance(event.message, Keepalive):
            self._apply_conn(now_ms, self._net.received(event.peer, now_ms, event.message), out)
        if not self.fenced:
            self._sync_timers(out)
        return out

    def _on_timer(self, now_ms: int, name: str, out: NodeOutput) -> None:
        if name == TIMER_HB:
            self._iteration(now_ms, out)
        elif name == TIMER_NET:
            self._apply_conn(now_ms, self._net.check_idle(now_ms), out)
            if not self.fenced:
                message = self._net.handshake
                out.effects.extend(Send(peer, message) for peer in self._net.tick(now_ms))
        elif name == TIMER_QUORUM:
            self._apply_quorum(now_ms, self._quorum.on_timer(now_ms), out)
        # TIMER_FENCE: _fence_if_overdue already ran; an early fire (deadline moved) is ignored

    def _iteration(self, now_ms: int, out: NodeOutput) -> None:
        """One o2hb iteration: read every slot, write ours; the next one in iteration_ms."""
        out.effects.append(ReadRegion())
        out.effects.append(WriteSlot(self.node, self._disk.prepare_write(now_ms)))
        # The period is kept on the schedule, not on when the timer fired: o2hb's thread
        # subtracts the iteration's own duration from its sleep, and a real clock's wake-up
        # latency must not add up over the dead threshold's iterations. After a stall longer
        # than an iteration (a hang) the schedule restarts from now instead of catching up.
        due = self._next_iteration_ms
        base = due if due is not None and 0 <= now_ms - due < self.timings.iteration_ms else now_ms
        self._next_iteration_ms = base + self.timings.iteration_ms

    def _on_region_read(self, now_ms: int, event: RegionRead, out: NodeOutput) -> None:
        if self._read_failing:
            out.effects.append(Record("o2hb-read-ok", "heartbeat region readable again",
                                      data={"node": self.node}))
        self._read_failing = False
        changes = self._disk.observe(now_ms, event.slots)
        for note in self._disk.take_notes():
            out.effects.append(Record("o2hb-warning", note, data={"node": self.node}))
        for change in changes:
            if self.fenced:
                return
            out.membership.append(change)
            if isinstance(change, NodeUp):
                out.effects.append(Record("o2hb-node-up", f"node {change.node} joined the region",
                                          data={"observer": self.node, "node": change.node}))
                self._apply_quorum(now_ms, self._quorum.hb_up(change.node, now_ms), out)
                if change.node != self.node:
                    self._apply_conn(now_ms, self._net.hb_up(change.node, now_ms), out)
            else:
                out.effects.append(Record(
                    "o2hb-node-down", f"node {change.node} left the region ({change.reason})",
                    data={"observer": self.node, "node": change.node, "reason": change.reason}))
                self._apply_quorum(now_ms, self._quorum.hb_down(change.node, now_ms), out)
                if change.node != self.node:
                    self._apply_conn(now_ms, self._net.hb_down(change.node, now_ms), out)

    def _on_slot_written(self, now_ms: int, event: SlotWritten, out: NodeOutput) -> None:
        self._disk.write_done(now_ms, event.ok)
        if not event.ok and not self._write_failing:
            out.effects.append(Record("o2hb-write-error", event.error or "heartbeat write failed",
                                      data={"node": self.node}))
        elif event.ok and self._write_failing:
            out.effects.append(Record("o2hb-write-ok", "heartbeat writes succeed again",
                                      data={"node": self.node}))
        self._write_failing = not event.ok

    # ---- wiring ------------------------------------------------------------------------
    def _apply_conn(self, now_ms: int, changes: Sequence[ConnChange], out: NodeOutput) -> None:
        for change in changes:
            if self.fenced:
                return
            if isinstance(change, ConnUp):
                out.effects.append(Record("o2net-connected", f"connected to node {change.node}",
                                          data={"node": self.node, "peer": change.node}))
                self._apply_quorum(now_ms, self._quorum.conn_up(change.node, now_ms), out)
            else:
                out.effects.append(Record(
                    "o2net-disconnected", f"node {change.node}: {change.reason}",
                    data={"node": self.node, "peer": change.node, "reason": change.reason}))
                self._apply_quorum(now_ms, self._quorum.conn_err(change.node, now_ms), out)

    def _apply_quorum(self, now_ms: int, actions: list[QuorumAction], out: NodeOutput) -> None:
        # ScheduleQuorumCheck needs nothing here: _sync_timers follows quorum.next_check_ms()
        for action in actions:
            if self.fenced:
                return
            if isinstance(action, QuorumDecided):
                out.effects.append(Record("o2quo-decision", action.detail, data={
                    "node": self.node, "heartbeating": action.heartbeating,
                    "connected": action.connected, "quorum": action.quorum,
                    "lowest": action.lowest, "fence": action.fence}))
            elif isinstance(action, FenceSelf):
                self._fence(action.reason, out)

    # ---- fencing and timers ----------------------------------------------------------
    def _fence_if_overdue(self, now_ms: int, out: NodeOutput) -> bool:
        deadline = self._disk.fence_deadline_ms
        if deadline is None or now_ms < deadline:
            return False
        self._fence(
            f"Heartbeat write timeout to device after {self.timings.max_write_timeout_ms} milliseconds",
            out,
        )
        return True

    def _fence(self, reason: str, out: NodeOutput) -> None:
        """o2quo_fence_self: stop heartbeating (no clean-leave block) and reset the machine."""
        self.fenced = True
        self.fence_reason = reason
        out.effects.append(Record("fence", reason, data={"node": self.node}))
        self._cancel_all(out)
        out.effects.append(Fence(f"{reason}; {SORRY}"))

    def _cancel_all(self, out: NodeOutput) -> None:
        for name in sorted(self._armed):
            out.effects.append(CancelTimer(name))
        self._armed.clear()
        self._next_iteration_ms = None

    def _sync_timers(self, out: NodeOutput) -> None:
        """Arm, move or cancel each o2cb timer so it matches the deadline its layer wants."""
        wanted = {
            TIMER_HB: self._next_iteration_ms,
            TIMER_NET: self._net.next_deadline_ms(),
            TIMER_QUORUM: self._quorum.next_check_ms(),
            TIMER_FENCE: self._disk.fence_deadline_ms,
        }
        for name, at in wanted.items():
            if at is None:
                if self._armed.pop(name, None) is not None:
                    out.effects.append(CancelTimer(name))
            elif self._armed.get(name) != at:
                self._armed[name] = at
                out.effects.append(SetTimer(name, at))
