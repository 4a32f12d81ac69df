"""Our o2hb blocks, written into a real mkfs.ocfs2 volume, as debugfs.ocfs2 reads them."""

from __future__ import annotations

from pathlib import Path

import pytest

from environments.ocfs2file import (
    LABEL,
    MIN_SIZE_BYTES,
    Ocfs2ToolError,
    dump_heartbeat,
    format_heartbeat_file,
    heartbeat_region,
    heartbeat_region_offset,
    tools_missing,
)
from ovmref.heartbeat.block import HeartbeatBlock, decode_block, encode_block

needs_tools = pytest.mark.skipif(
    bool(tools_missing()), reason=f"ocfs2-tools not installed (missing: {', '.join(tools_missing())})"
)

SLOT = 512  # debugfs.ocfs2 -R hb reads slots at a 512-byte stride
O2NM_MAX_NODES = 255


@pytest.fixture(scope="module")
def volume(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ocfs2") / "server_pool_hb.img"
    format_heartbeat_file(path, MIN_SIZE_BYTES)
    return path


@needs_tools
def test_heartbeat_file_is_one_extent_sized_for_every_node(volume: Path) -> None:
    region = heartbeat_region(volume)
    assert region.label == LABEL
    assert len(region.uuid) == 32 and region.uuid == region.uuid.upper()
    assert region.fs_block_bytes == 2048  # -b 2k
    assert region.offset > 0 and region.offset % region.fs_block_bytes == 0
    # mkfs allocates (O2NM_MAX_NODES + 1) filesystem blocks for the heartbeat file
    assert region.length == (O2NM_MAX_NODES + 1) * region.fs_block_bytes
    assert heartbeat_region_offset(volume) == region.offset
    assert dump_heartbeat(volume) == []  # freshly formatted: every seq is 0


@needs_tools
def test_debugfs_reads_our_slots_where_the_kernel_would_put_them(volume: Path) -> None:
    offset = heartbeat_region_offset(volume)
    written = {
        0: HeartbeatBlock(seq=0x6B025A7F, node=0, generation=0x0123456789ABCDEF, dead_ms=62000),
        1: HeartbeatBlock(seq=0x6B025A80, node=1, generation=0xFEDCBA9876543210, dead_ms=62000),
        5: HeartbeatBlock(seq=0x00000002, node=5, generation=0x1, dead_ms=122000),
    }
    encoded = {n: encode_block(b) for n, b in written.items()}
    with open(volume, "r+b") as fh:
        for n, raw in encoded.items():
            fh.seek(offset + n * SLOT)
            fh.write(raw)
    dumped = {d.slot: d for d in dump_heartbeat(volume)}
    assert sorted(dumped) == [0, 1, 5]
    for n, block in written.items():
        d = dumped[n]
        assert (d.node, d.seq, d.generation, d.dead_ms) == (block.node, block.seq, block.generation,
                                                            block.dead_ms)
        assert d.cksum == decode_block(encoded[n]).cksum


@needs_tools
def test_a_file_that_is_not_ocfs2_is_reported_with_its_path(tmp_path: Path) -> None:
    junk = tmp_path / "not-ocfs2.img"
    junk.write_bytes(bytes(1 << 20))
    with pytest.raises(Ocfs2ToolError, match=r"not-ocfs2\.img"):
        heartbeat_region_offset(junk)


def test_too_small_a_file_is_refused_before_running_mkfs(tmp_path: Path) -> None:
    path = tmp_path / "tiny.img"
    with pytest.raises(ValueError, match=r"tiny\.img.*too small"):
        format_heartbeat_file(path, 8 * 1024 * 1024)
    assert not path.exists()
