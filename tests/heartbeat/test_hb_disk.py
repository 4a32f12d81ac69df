"""DiskHeartbeat: o2hb_check_slot liveness rules, own-slot check and the self-fence deadline."""

from __future__ import annotations

import pytest

from ovmref.heartbeat.block import BadBlockError, HeartbeatBlock, decode_block, encode_block
from ovmref.heartbeat.disk import DiskHeartbeat
from ovmref.heartbeat.membership import NodeDown, NodeUp
from ovmref.timing import O2CBTimings

T = O2CBTimings(dead_threshold=5, idle_timeout_ms=4000, keepalive_delay_ms=1000,
                reconnect_delay_ms=1000, iteration_ms=1000)
PEER_GEN = 0xABC


def peer_slot(seq: int, node: int = 1, generation: int = PEER_GEN, dead_ms: int = T.dead_ms) -> bytes:
    return encode_block(HeartbeatBlock(seq, node, generation, dead_ms))


def make(node: int = 0) -> DiskHeartbeat:
    return DiskHeartbeat(node, [0, 1, 2], T, generation=0x77)


class Loop:
    """Drives one DiskHeartbeat like ClusterNode does: prepare, read (before the write lands), write."""

    def __init__(self, hb: DiskHeartbeat) -> None:
        self.hb = hb
        self.disk: dict[int, bytes] = {}
        self.now = 0
        self.own_changes: list[NodeUp | NodeDown] = []

    def iterate(self, peers: dict[int, bytes] | None = None, write_ok: bool = True,
                ) -> list[NodeUp | NodeDown]:
        """One iteration; returns the peers' membership changes (our own are kept in own_changes)."""
        self.disk.update(peers or {})
        own = self.hb.prepare_write(self.now)
        changes = self.hb.observe(self.now, dict(self.disk))
        if write_ok:
            self.disk[self.hb.node] = own
        self.hb.write_done(self.now, write_ok)
        self.now += T.iteration_ms
        self.own_changes += [c for c in changes if c.node == self.hb.node]
        return [c for c in changes if c.node != self.hb.node]


def bring_up_peer(loop: Loop) -> int:
    """Two changed reads make node 1 live, a third puts it in steady state; returns the last seq.

    (Right after NodeUp the kernel still holds the changed samples, so the
    first unchanged read is absorbed; a steady live node counts exactly.)
    """
    assert loop.iterate({1: peer_slot(10)}) == []
    assert NodeUp(1) in loop.iterate({1: peer_slot(11)})
    assert loop.iterate({1: peer_slot(12)}) == []
    return 12


def test_generation_must_be_non_zero() -> None:
    with pytest.raises(ValueError, match="non-zero"):
        DiskHeartbeat(0, [0, 1], T, generation=0)


def test_node_numbers_are_checked() -> None:
    with pytest.raises(ValueError, match=r"0\.\.254.*\[255\]"):
        DiskHeartbeat(0, [0, 255], T, generation=1)


def test_seq_strictly_increases_even_when_iterations_are_shorter_than_a_second() -> None:
    hb = make()
    seqs = [decode_block(hb.prepare_write(now)).seq for now in (0, 100, 200, 300)]
    assert seqs == [1, 2, 3, 4]


def test_seq_is_wall_clock_seconds_at_the_real_iteration() -> None:
    hb = make()
    seqs = [decode_block(hb.prepare_write(now)).seq for now in (1_700_000_000_000, 1_700_000_002_000)]
    assert seqs == [1_700_000_000, 1_700_000_002]


def test_own_block_carries_generation_node_and_dead_ms() -> None:
    block = decode_block(make(node=2).prepare_write(5000))
    assert (block.node, block.generation, block.dead_ms) == (2, 0x77, T.dead_ms)


def test_a_peer_needs_two_changed_reads_to_be_live() -> None:
    loop = Loop(make())
    assert loop.iterate({1: peer_slot(10)}) == []
    assert loop.hb.live_nodes == frozenset()
    assert loop.iterate({1: peer_slot(11)}) == [NodeUp(1)]
    assert 1 in loop.hb.live_nodes


def test_a_static_slot_never_comes_alive() -> None:
    loop = Loop(make())
    for _ in range(10):
        assert loop.iterate({1: peer_slot(10)}) == []


def test_a_live_peer_is_dead_after_exactly_dead_threshold_unchanged_reads() -> None:
    loop = Loop(make())
    seq = bring_up_peer(loop)
    for _ in range(T.dead_threshold - 1):
        assert loop.iterate({1: peer_slot(seq)}) == []
    assert loop.iterate({1: peer_slot(seq)}) == [NodeDown(1, "timeout")]
    assert 1 not in loop.hb.live_nodes


def test_one_change_resets_the_missed_count() -> None:
    loop = Loop(make())
    seq = bring_up_peer(loop)
    for _ in range(T.dead_threshold - 1):
        loop.iterate({1: peer_slot(seq)})
    seq += 1
    assert loop.iterate({1: peer_slot(seq)}) == []
    for _ in range(T.dead_threshold - 1):
        assert loop.iterate({1: peer_slot(seq)}) == []


def test_bad_crc_from_a_live_peer_counts_as_a_missed_sample() -> None:
    loop = Loop(make())
    seq = bring_up_peer(loop)
    garbled = bytearray(peer_slot(seq + 1))
    garbled[100] ^= 0xFF
    for _ in range(T.dead_threshold - 1):
        assert loop.iterate({1: bytes(garbled)}) == []
    assert loop.iterate({1: bytes(garbled)}) == [NodeDown(1, "timeout")]
    assert any("bad crc" in n for n in loop.hb.take_notes())


def test_bad_crc_and_zeroed_slots_of_never_live_nodes_are_ignored() -> None:
    loop = Loop(make())
    garbled = bytearray(peer_slot(1))
    garbled[0] ^= 0xFF
    for seq in range(5):
        assert loop.iterate({1: bytes(garbled), 2: bytes(512)}) == []
        garbled[1] = seq  # keeps changing, still junk
    assert loop.hb.take_notes() == []


def test_new_generation_is_down_at_once_and_up_on_the_next_change() -> None:
    loop = Loop(make())
    seq = bring_up_peer(loop)
    assert loop.iterate({1: peer_slot(seq + 1, generation=0xDEF)}) == [NodeDown(1, "generation")]
    assert loop.iterate({1: peer_slot(seq + 2, generation=0xDEF)}) == [NodeUp(1)]


def test_clean_leave_is_seen_on_the_next_read() -> None:
    loop = Loop(make())
    bring_up_peer(loop)
    other = DiskHeartbeat(1, [0, 1, 2], T, generation=PEER_GEN)
    assert loop.iterate({1: other.leave_block(loop.now)}) == [NodeDown(1, "clean-leave")]
    for _ in range(2 * T.dead_threshold):
        assert loop.iterate() == []  # the generation-0 block never looks alive


def test_a_wiped_slot_is_a_generation_change_not_a_clean_leave() -> None:
    loop = Loop(make())
    bring_up_peer(loop)
    assert loop.iterate({1: bytes(512)}) == [NodeDown(1, "generation")]


def test_dead_ms_mismatch_is_warned_about_but_accepted() -> None:
    loop = Loop(make())
    loop.iterate({1: peer_slot(10, dead_ms=122000)})
    assert loop.iterate({1: peer_slot(11, dead_ms=122000)}) == [NodeUp(1)]
    notes = loop.hb.take_notes()
    assert any("dead count of 122000 ms, but our count is 5000 ms" in n for n in notes)


def test_the_node_sees_itself_live_once_its_writes_are_read_back() -> None:
    loop = Loop(make())
    loop.iterate()  # reads an empty own slot
    loop.iterate()  # own block 1: first change
    assert loop.own_changes == []
    loop.iterate()
    assert loop.own_changes == [NodeUp(0)]
    assert loop.hb.live_nodes == frozenset({0})


def test_fence_deadline_is_armed_only_after_an_own_block_was_read_back() -> None:
    loop = Loop(make())
    loop.iterate()
    assert loop.hb.fence_deadline_ms is None  # first iteration: nothing of ours on disk yet
    loop.iterate()
    assert loop.hb.fence_deadline_ms == 1000 + T.max_write_timeout_ms


def test_failed_writes_do_not_rearm_the_deadline() -> None:
    loop = Loop(make())
    loop.iterate()
    loop.iterate()
    armed = loop.hb.fence_deadline_ms
    for _ in range(3):
        loop.iterate(write_ok=False)
    assert loop.hb.fence_deadline_ms == armed


def test_after_a_lost_write_the_next_good_write_does_not_rearm_either() -> None:
    # the read after a failed write finds an older block: "sequence mismatch"
    loop = Loop(make())
    loop.iterate()
    loop.iterate()
    armed = loop.hb.fence_deadline_ms
    loop.iterate(write_ok=False)
    loop.iterate(write_ok=True)
    assert loop.hb.fence_deadline_ms == armed
    assert any("sequence mismatch" in n for n in loop.hb.take_notes())
    loop.iterate(write_ok=True)
    assert loop.hb.fence_deadline_ms == loop.now - T.iteration_ms + T.max_write_timeout_ms


def test_another_node_in_our_slot_stops_rearming() -> None:
    loop = Loop(make())
    loop.iterate()
    loop.iterate()
    armed = loop.hb.fence_deadline_ms
    impostor = peer_slot(99, node=1, generation=0x5)
    for _ in range(3):
        loop.disk[0] = impostor  # a misconfigured node writes into slot 0 after each of our writes
        loop.iterate(write_ok=True)
        loop.disk[0] = impostor
    assert loop.hb.fence_deadline_ms == armed
    assert any("Another node is heartbeating on device" in n for n in loop.hb.take_notes())


def test_read_failure_prevents_rearming() -> None:
    loop = Loop(make())
    loop.iterate()
    loop.iterate()
    armed = loop.hb.fence_deadline_ms
    loop.hb.prepare_write(loop.now)
    loop.hb.read_failed(loop.now)
    loop.hb.write_done(loop.now, ok=True)
    assert loop.hb.fence_deadline_ms == armed


def test_leave_block_disarms_the_deadline() -> None:
    loop = Loop(make())
    loop.iterate()
    loop.iterate()
    block = decode_block(loop.hb.leave_block(loop.now))
    assert block.generation == 0 and loop.hb.fence_deadline_ms is None


def test_a_slot_of_the_wrong_size_names_the_node() -> None:
    hb = make()
    with pytest.raises(BadBlockError, match="slot of node 2 has 100 bytes"):
        hb.observe(0, {2: bytes(100)})


def test_added_node_is_watched_from_then_on() -> None:
    loop = Loop(make())
    loop.iterate({7: peer_slot(1, node=7)})
    loop.iterate({7: peer_slot(2, node=7)})
    assert 7 not in loop.hb.live_nodes  # not in cluster.conf: not read
    loop.hb.add_node(7)
    loop.iterate({7: peer_slot(3, node=7)})
    assert loop.iterate({7: peer_slot(4, node=7)}) == [NodeUp(7)]


def test_right_after_joining_one_unchanged_read_is_absorbed_as_in_the_kernel() -> None:
    loop = Loop(make())
    loop.iterate({1: peer_slot(10)})
    assert loop.iterate({1: peer_slot(11)}) == [NodeUp(1)]
    for _ in range(T.dead_threshold):
        assert loop.iterate({1: peer_slot(11)}) == []
    assert loop.iterate({1: peer_slot(11)}) == [NodeDown(1, "timeout")]


def test_a_node_leaving_cleanly_before_a_reader_saw_it_live_never_comes_up() -> None:
    """Real time found it: a reader that had seen one change of a just-started node read its
    clean-leave block next; counting that as the second change made a departed node live."""
    from ovmref.heartbeat.block import clean_leave_block

    loop = Loop(make())
    assert loop.iterate({1: peer_slot(10)}) == []  # one change seen: not live yet
    leave = clean_leave_block(1, 11, T.dead_ms)
    for _ in range(T.dead_threshold + 2):
        assert NodeUp(1) not in loop.iterate({1: leave})
    assert 1 not in loop.hb.live_nodes
