"""The o2hb on-disk heartbeat block, byte for byte.

Peers judge liveness only from these bytes, so the layout and checksum must
match the kernel's (fs/ocfs2/cluster/ocfs2_heartbeat.h, heartbeat.c
o2hb_prepare_block / o2hb_compute_block_crc_le) exactly; that lets real
tools (debugfs.ocfs2 -R hb) read what this module writes.
"""

from __future__ import annotations

import binascii
import struct
from dataclasses import dataclass

#: struct o2hb_disk_heartbeat_block: hb_seq, hb_node, hb_pad1[3], hb_cksum, hb_generation, hb_dead_ms
BLOCK_STRUCT = struct.Struct("<QB3xIQI")
CKSUM_OFFSET = 12  # offset of hb_cksum inside the block
MIN_BLOCK_BYTES = 512
MAX_BLOCK_BYTES = 4096
MAX_NODE = 254  # O2NM_MAX_NODES 255, and 255 is O2NM_INVALID_NODE_NUM


class BadBlockError(ValueError):
    """Bytes that cannot be a heartbeat slot (too short, wrong slot size)."""


@dataclass(frozen=True)
class HeartbeatBlock:
    """Decoded fields of one node's slot; `cksum` is what was stored (0 when building one)."""

    seq: int
    node: int
    generation: int
    dead_ms: int
    cksum: int = 0

    @property
    def is_clean_leave(self) -> bool:
        """Generation 0 is the "explicit down notification" a cleanly stopping node writes."""
        return self.generation == 0


def crc32_le(data: bytes) -> int:
    """Linux crc32_le(0, data, len): reflected CRC-32, seed 0, no final XOR.

    binascii.crc32 pre- and post-inverts, so seeding it with ~0 and inverting
    the result cancels both and leaves the kernel's raw CRC.
    """
    return binascii.crc32(data, 0xFFFFFFFF) ^ 0xFFFFFFFF


def check_block_bytes(block_bytes: int) -> None:
    """The region's block size is the device sector size: a power of two, 512..4096."""
    if not (MIN_BLOCK_BYTES <= block_bytes <= MAX_BLOCK_BYTES) or block_bytes & (block_bytes - 1):
        raise BadBlockError(
            f"block_bytes must be a power of two between {MIN_BLOCK_BYTES} and {MAX_BLOCK_BYTES}, "
            f"got {block_bytes}"
        )


def encode_block(block: HeartbeatBlock, block_bytes: int = 512) -> bytes:
    """Build a whole slot the way o2hb_prepare_block does.

    The slot is zero-filled, the fields packed, and the CRC taken over the
    whole slot with hb_cksum = 0. `block.cksum` is ignored (always recomputed).
    A seq of 0 becomes 1, as in the kernel, because 0 reads as "never written".
    """
    check_block_bytes(block_bytes)
    if not 0 <= block.node <= MAX_NODE:
        raise BadBlockError(f"node number must be 0..{MAX_NODE}, got {block.node}")
    seq = block.seq or 1
    buf = bytearray(block_bytes)
    BLOCK_STRUCT.pack_into(buf, 0, seq, block.node, 0, block.generation, block.dead_ms)
    cksum = crc32_le(bytes(buf))
    struct.pack_into("<I", buf, CKSUM_OFFSET, cksum)
    return bytes(buf)


def decode_block(buf: bytes) -> HeartbeatBlock:
    """Read the fields of a slot without judging its checksum (see checksum_ok)."""
    if len(buf) < BLOCK_STRUCT.size:
        raise BadBlockError(
            f"a heartbeat slot needs at least {BLOCK_STRUCT.size} bytes, got {len(buf)}"
        )
    seq, node, cksum, generation, dead_ms = BLOCK_STRUCT.unpack_from(buf, 0)
    return HeartbeatBlock(seq=seq, node=node, generation=generation, dead_ms=dead_ms, cksum=cksum)


def checksum_ok(buf: bytes) -> bool:
    """o2hb_verify_crc: the stored hb_cksum equals the CRC of the slot with hb_cksum zeroed."""
    if len(buf) < BLOCK_STRUCT.size:
        return False
    stored = struct.unpack_from("<I", buf, CKSUM_OFFSET)[0]
    zeroed = bytearray(buf)
    struct.pack_into("<I", zeroed, CKSUM_OFFSET, 0)
    return bool(crc32_le(bytes(zeroed)) == stored)


def clean_leave_block(node: int, seq: int, dead_ms: int, block_bytes: int = 512) -> bytes:
    """The final block of a clean stop: generation 0 tells peers "down" on their next read."""
    return encode_block(HeartbeatBlock(seq=seq, node=node, generation=0, dead_ms=dead_ms), block_bytes)
