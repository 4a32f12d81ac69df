"""The o2hb block codec against the kernel's definitions (layout, crc32_le, seq 0 rule)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ovmref.heartbeat.block import (
    BLOCK_STRUCT,
    BadBlockError,
    HeartbeatBlock,
    checksum_ok,
    clean_leave_block,
    crc32_le,
    decode_block,
    encode_block,
)


def reference_crc32_le(data: bytes) -> int:
    """lib/crc32.c crc32_le(0, p, len) done bit by bit: reflected poly 0xEDB88320, no inversion."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
    return crc


def test_struct_is_the_kernel_layout() -> None:
    assert BLOCK_STRUCT.size == 28
    raw = BLOCK_STRUCT.pack(0x1122334455667788, 7, 0xAABBCCDD, 0x0102030405060708, 62000)
    assert raw[0:8] == bytes.fromhex("8877665544332211")  # hb_seq, little-endian
    assert raw[8] == 7 and raw[9:12] == b"\0\0\0"  # hb_node, hb_pad1
    assert raw[12:16] == bytes.fromhex("ddccbbaa")  # hb_cksum
    assert raw[16:24] == bytes.fromhex("0807060504030201")  # hb_generation
    assert raw[24:28] == struct.pack("<I", 62000)  # hb_dead_ms


@given(st.binary(max_size=600))
def test_crc32_le_matches_the_bitwise_definition(data: bytes) -> None:
    assert crc32_le(data) == reference_crc32_le(data)


def test_crc_of_a_zeroed_slot_is_zero() -> None:
    # why a freshly formatted (all-zero) slot passes the CRC check in the kernel too
    assert crc32_le(bytes(512)) == 0


@given(
    seq=st.integers(1, 2**64 - 1),
    node=st.integers(0, 254),
    generation=st.integers(0, 2**64 - 1),
    dead_ms=st.integers(0, 2**32 - 1),
    block_bytes=st.sampled_from([512, 1024, 4096]),
)
def test_encode_decode_round_trip(
    seq: int, node: int, generation: int, dead_ms: int, block_bytes: int
) -> None:
    buf = encode_block(HeartbeatBlock(seq, node, generation, dead_ms), block_bytes)
    assert len(buf) == block_bytes
    assert buf[BLOCK_STRUCT.size:] == bytes(block_bytes - BLOCK_STRUCT.size)
    assert checksum_ok(buf)
    got = decode_block(buf)
    assert (got.seq, got.node, got.generation, got.dead_ms) == (seq, node, generation, dead_ms)
    zeroed = bytearray(buf)
    zeroed[12:16] = b"\0\0\0\0"
    assert got.cksum == reference_crc32_le(bytes(zeroed))


def test_checksum_covers_the_whole_slot_not_only_the_fields() -> None:
    buf = bytearray(encode_block(HeartbeatBlock(5, 1, 99, 62000)))
    buf[511] ^= 0x01  # a flipped bit far past the 28 field bytes
    assert not checksum_ok(bytes(buf))


@given(st.integers(0, 511 * 8))
def test_any_single_bit_flip_fails_the_checksum(bit: int) -> None:
    buf = bytearray(encode_block(HeartbeatBlock(1234, 3, 0xDEADBEEF, 62000)))
    buf[bit // 8] ^= 1 << (bit % 8)
    assert not checksum_ok(bytes(buf))


def test_seq_zero_is_written_as_one() -> None:
    assert decode_block(encode_block(HeartbeatBlock(0, 2, 7, 62000))).seq == 1


def test_encode_ignores_a_stale_cksum_field() -> None:
    a = encode_block(HeartbeatBlock(9, 2, 7, 62000, cksum=0x12345678))
    assert a == encode_block(HeartbeatBlock(9, 2, 7, 62000))


def test_clean_leave_block_has_generation_zero() -> None:
    buf = clean_leave_block(node=4, seq=77, dead_ms=62000)
    block = decode_block(buf)
    assert checksum_ok(buf)
    assert block.is_clean_leave and (block.node, block.seq, block.dead_ms) == (4, 77, 62000)


@pytest.mark.parametrize("size", [0, 256, 513, 3000, 8192])
def test_block_size_must_be_a_sector_size(size: int) -> None:
    with pytest.raises(BadBlockError, match=f"got {size}"):
        encode_block(HeartbeatBlock(1, 0, 1, 1), size)


@pytest.mark.parametrize("node", [-1, 255, 300])
def test_node_number_out_of_range_is_refused(node: int) -> None:
    with pytest.raises(BadBlockError, match=f"got {node}"):
        encode_block(HeartbeatBlock(1, node, 1, 1))


def test_short_buffer_cannot_be_decoded() -> None:
    with pytest.raises(BadBlockError, match="at least 28 bytes, got 27"):
        decode_block(bytes(27))
    assert not checksum_ok(bytes(27))
