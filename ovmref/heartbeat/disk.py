"""o2hb: one node's disk heartbeat on the shared heartbeat region.

Mirrors fs/ocfs2/cluster/heartbeat.c (o2hb_do_disk_heartbeat,
o2hb_check_slot, o2hb_check_own_slot, o2hb_arm_timeout) without I/O: the
driver reads the region and writes our slot, this class judges the bytes.
Two promises come from here and the HA design rests on both:

* peers are declared dead only after `dead_threshold` unchanged reads, and
* a node whose own writes stop reaching the disk fences itself after
  (dead_threshold - 1) iterations, i.e. before anyone can declare it dead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ovmref.heartbeat.block import (
    MAX_NODE,
    BadBlockError,
    HeartbeatBlock,
    check_block_bytes,
    checksum_ok,
    clean_leave_block,
    decode_block,
    encode_block,
)
from ovmref.heartbeat.membership import MembershipChange, NodeDown, NodeUp
from ovmref.timing import LIVE_THRESHOLD, O2CBTimings

MAX_GENERATION = 2**64 - 1


@dataclass
class _SlotState:
    """o2hb_disk_slot: what we remember about one node's slot between reads."""

    live: bool = False
    last_seq: int = 0
    last_generation: int = 0
    changed_samples: int = 0
    equal_samples: int = 0


class DiskHeartbeat:
    """The o2hb region as seen and written by `node`."""

    def __init__(
        self,
        node: int,
        nodes: Iterable[int],
        timings: O2CBTimings,
        generation: int,
        block_bytes: int = 512,
    ) -> None:
        check_block_bytes(block_bytes)
        if not 0 < generation <= MAX_GENERATION:
            raise ValueError(
                f"generation must be a non-zero 64-bit number (0 means clean leave), got {generation}"
            )
        configured = set(nodes) | {node}
        bad = sorted(n for n in configured if not 0 <= n <= MAX_NODE)
        if bad:
            raise ValueError(f"node numbers must be 0..{MAX_NODE}, got {bad}")
        self.node = node
        self.timings = timings
        self.generation = generation
        self.block_bytes = block_bytes
        self.fence_deadline_ms: int | None = None
        self._slots = {n: _SlotState() for n in sorted(configured)}
        self._last_seq = 0
        # (seq, generation) of the blocks prepared in the previous and the current iteration
        self._recent_writes: list[tuple[int, int]] = []
        self._own_slot_ok = False
        self._notes: list[str] = []

    # ---- what peers and the agent ask ----------------------------------------------
    def generation_of(self, node: int) -> int:
        """The generation last read in `node`'s slot (0 when none or after a clean leave)."""
        slot = self._slots.get(node)
        return slot.last_generation if slot is not None else 0

    @property
    def live_nodes(self) -> frozenset[int]:
        return frozenset(n for n, s in self._slots.items() if s.live)

    def take_notes(self) -> list[str]:
        """Kernel-style warnings seen since the last call (own slot mismatch, dead_ms mismatch)."""
        notes, self._notes = self._notes, []
        return notes

    def add_node(self, node: int) -> None:
        """A node added to cluster.conf: its slot is read from the next iteration on."""
        if not 0 <= node <= MAX_NODE:
            raise ValueError(f"node numbers must be 0..{MAX_NODE}, got {node}")
        if node not in self._slots:
            self._slots = dict(sorted({**self._slots, node: _SlotState()}.items()))

    # ---- writing -----------------------------------------------------------------
    def _next_seq(self, now_ms: int) -> int:
        """hb_seq is wall-clock seconds in the kernel, and peers count only *changed* values.

        Scaled timings run iterations shorter than a second, so plain seconds
        would repeat and a healthy node would look dead: the seq therefore
        never repeats (max(last + 1, seconds)). At the real 2 s iteration this
        is exactly the kernel's seconds value.
        """
        self._last_seq = max(self._last_seq + 1, now_ms // 1000)
        return self._last_seq

    def prepare_write(self, now_ms: int) -> bytes:
        """o2hb_prepare_block: this iteration's own block, to be written by the driver."""
        seq = self._next_seq(now_ms)
        self._recent_writes = [*self._recent_writes[-1:], (seq, self.generation)]
        block = HeartbeatBlock(seq=seq, node=self.node, generation=self.generation,
                               dead_ms=self.timings.dead_ms)
        return encode_block(block, self.block_bytes)

    def write_done(self, now_ms: int, ok: bool) -> None:
        """The driver finished writing our slot.

        Only a successful write whose previous block was found intact on disk
        (o2hb_check_own_slot) re-arms the self-fence timer: after an I/O error
        or with someone else scribbling on our slot we cannot be sure peers
        see us, so the deadline keeps running.
        """
        if ok and self._own_slot_ok:
            self.fence_deadline_ms = now_ms + self.timings.max_write_timeout_ms

    def leave_block(self, now_ms: int) -> bytes:
        """The explicit down notification of a clean stop (generation 0); disarms the fence timer."""
        self.fence_deadline_ms = None
        return clean_leave_block(self.node, self._next_seq(now_ms), self.timings.dead_ms,
                                 self.block_bytes)

    # ---- reading -----------------------------------------------------------------
    def read_failed(self, now_ms: int) -> None:
        """The region could not be read: the kernel bails before writing, so nothing re-arms."""
        self._own_slot_ok = False

    def observe(self, now_ms: int, slots: Mapping[int, bytes]) -> list[MembershipChange]:
        """One read of the region: check our own slot, then every configured slot in order."""
        zero = bytes(self.block_bytes)
        for n, buf in slots.items():
            if len(buf) != self.block_bytes:
                raise BadBlockError(
                    f"slot of node {n} has {len(buf)} bytes, the region's block size is {self.block_bytes}"
                )
        self._own_slot_ok = self._check_own_slot(slots.get(self.node, zero))
        changes: list[MembershipChange] = []
        for n, state in self._slots.items():
            change = self._check_slot(n, state, slots.get(n, zero))
            if change is not None:
                changes.append(change)
        return changes

    def _check_own_slot(self, buf: bytes) -> bool:
        """o2hb_check_own_slot: does the disk hold one of our last two blocks?

        The read of an iteration may be served before or after that
        iteration's write, so both the previous and the current block count.
        """
        if len(self._recent_writes) < 2:
            return False  # "Don't check on our 1st timestamp": nothing of ours can be on disk yet
        block = decode_block(buf)
        if block.node == self.node and (block.seq, block.generation) in self._recent_writes:
            return True
        expected_seq, expected_gen = self._recent_writes[-1]
        if block.node != self.node:
            what = "Another node is heartbeating on device"
        elif block.generation != expected_gen:
            what = "Heartbeat generation mismatch on device"
        else:
            what = "Heartbeat sequence mismatch on device"
        self._notes.append(
            f"{what}: expected({self.node}:0x{expected_gen:x}, 0x{expected_seq:x}), "
            f"ondisk({block.node}:0x{block.generation:x}, 0x{block.seq:x})"
        )
        return False

    def _check_slot(self, node: int, s: _SlotState, buf: bytes) -> MembershipChange | None:
        """o2hb_check_slot: count changed/unchanged samples and decide up/down."""
        if not checksum_ok(buf):
            if not s.live:
                return None  # freshly formatted or junk: ignored silently
            self._notes.append(f"Node {node} has written a bad crc")
            s.equal_samples += 1  # a transient miss from a live node
            return self._maybe_down(node, s, gen_changed=False, wiped=False)
        block = decode_block(buf)
        wiped = buf == bytes(len(buf))
        if wiped and not s.live:
            return None
        if block.seq != s.last_seq:
            s.changed_samples += 1
        else:
            s.equal_samples += 1
        s.last_seq = block.seq
        gen_changed = block.generation != s.last_generation
        if gen_changed:
            # it dropped off and came back (or left cleanly): down now, but keep the
            # changed samples so it can come back up without waiting a whole cycle
            s.equal_samples = 0
        s.last_generation = block.generation

        # a clean-leave block (generation 0) announces a departure: it never brings a node to life,
        # even for a reader that had not yet seen that node live when it left
        if not s.live and s.changed_samples >= LIVE_THRESHOLD and block.generation != 0:
            s.live = True
            s.equal_samples = 0
            if block.dead_ms and block.dead_ms != self.timings.dead_ms:
                self._notes.append(
                    f"Node {node} has a dead count of {block.dead_ms} ms, but our count is "
                    f"{self.timings.dead_ms} ms. Please double check your configuration values "
                    f"for 'O2CB_HEARTBEAT_THRESHOLD'"
                )
            return NodeUp(node)
        if not s.live:
            return None
        return self._maybe_down(node, s, gen_changed, wiped)

    def _maybe_down(self, node: int, s: _SlotState, gen_changed: bool, wiped: bool) -> NodeDown | None:
        if s.equal_samples >= self.timings.dead_threshold or gen_changed:
            s.live = False
            if not gen_changed:
                s.changed_samples = 0  # a restart keeps them: it is still writing
                return NodeDown(node, "timeout")
            clean = s.last_generation == 0 and not wiped
            return NodeDown(node, "clean-leave" if clean else "generation")
        if s.changed_samples:
            s.changed_samples = 0
            s.equal_samples = 0
        return None
