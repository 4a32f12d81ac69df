"""Tool adapter: an OCFS2 volume in a plain file, formatted like an Oracle VM heartbeat device.

Not logic: it runs ocfs2-tools (mkfs.ocfs2, debugfs.ocfs2) so real-heartbeat
environments can write o2hb blocks where the kernel would, and so tests can
check our blocks against the tools' own reading of them. The heartbeat system
file must be one extent (libocfs2 ocfs2_fill_heartbeat_desc); node N's slot
is at extent start + N * sector size (debugfs.ocfs2 assumes 512 bytes).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

LABEL = "server_pool_hb"
NODE_SLOTS = 16
BLOCK_SIZE = "2k"
CLUSTER_SIZE = "4k"
JOURNAL_SIZE = "4M"  # the smallest mkfs.ocfs2 accepts; keeps 16 journals inside a small file
MIN_SIZE_BYTES = 72 * 1024 * 1024  # 16 journals of 4 MiB plus metadata (70 MiB is the measured floor)
TOOL_TIMEOUT_S = 60


class Ocfs2ToolError(RuntimeError):
    """An ocfs2-tools command failed or printed something we cannot read."""


@dataclass(frozen=True)
class HeartbeatFileRegion:
    """Where the heartbeat system file lives inside the volume."""

    path: Path
    offset: int  # byte offset of the first slot (node 0)
    length: int  # bytes allocated to the heartbeat file
    fs_block_bytes: int
    uuid: str  # region name: the volume UUID, 32 upper-case hex digits
    label: str


def tools_missing() -> list[str]:
    """Names of the ocfs2-tools programs this adapter needs that are not installed."""
    return [tool for tool in ("mkfs.ocfs2", "debugfs.ocfs2") if _which(tool) is None]


def _which(tool: str) -> str | None:
    return shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin")


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    exe = _which(argv[0])
    if exe is None:
        raise Ocfs2ToolError(f"{argv[0]} is not installed (Debian/Ubuntu package ocfs2-tools)")
    try:
        return subprocess.run([exe, *argv[1:]], stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=TOOL_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise Ocfs2ToolError(f"{' '.join(argv)} did not finish within {TOOL_TIMEOUT_S} s") from exc


def _debugfs(path: Path, request: str) -> str:
    """debugfs.ocfs2 exits 0 even when it cannot open the device, so its stderr is checked."""
    proc = _run(["debugfs.ocfs2", "-R", request, str(path)])
    if "No device open" in proc.stderr or proc.returncode != 0:
        raise Ocfs2ToolError(
            f"debugfs.ocfs2 -R {request!r} {path}: rc={proc.returncode}: {proc.stderr.strip()}"
        )
    return proc.stdout


def format_heartbeat_file(path: str | os.PathLike[str], size_bytes: int) -> HeartbeatFileRegion:
    """Create (or overwrite) `path` as an OCFS2 volume with Oracle VM's heartbeat parameters.

    `mkfs.ocfs2 -F -L server_pool_hb -N 16 -b 2k -C 4k -J size=4M`. Where
    /sbin/modprobe is missing (containers) mkfs.ocfs2 1.8's forked helper
    carries on as a second mkfs and exits 1 after the real one succeeded, so
    success is judged by "mkfs.ocfs2 successful" and a read-back of the label.
    """
    p = Path(path)
    if size_bytes < MIN_SIZE_BYTES:
        raise ValueError(
            f"{p}: {size_bytes} bytes is too small for {NODE_SLOTS} node slots; "
            f"need at least {MIN_SIZE_BYTES} bytes"
        )
    with open(p, "wb") as fh:
        fh.truncate(size_bytes)
    proc = _run(["mkfs.ocfs2", "-F", "-L", LABEL, "-N", str(NODE_SLOTS), "-b", BLOCK_SIZE,
                 "-C", CLUSTER_SIZE, "-J", f"size={JOURNAL_SIZE}", str(p)])
    if proc.returncode != 0 and "mkfs.ocfs2 successful" not in proc.stdout:
        raise Ocfs2ToolError(f"mkfs.ocfs2 {p}: rc={proc.returncode}: "
                             f"{(proc.stderr or proc.stdout).strip()[-500:]}")
    region = heartbeat_region(p)
    if region.label != LABEL:
        raise Ocfs2ToolError(f"{p}: label after mkfs.ocfs2 is {region.label!r}, expected {LABEL!r}")
    return region


_BLOCK_BITS = re.compile(r"Block Size Bits:\s*(\d+)")
_UUID = re.compile(r"UUID:\s*([0-9A-Fa-f]{32})")
_LABEL = re.compile(r"Label:\s*(\S*)")
_SIZE = re.compile(r"\bSize:\s*(\d+)")
_FREE_REC = re.compile(r"Next Free Rec:\s*(\d+)")
_EXTENT = re.compile(r"^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+0x[0-9a-fA-F]+\s*$", re.MULTILINE)


def _field(pattern: re.Pattern[str], text: str, what: str, path: Path) -> str:
    m = pattern.search(text)
    if m is None:
        raise Ocfs2ToolError(f"{path}: debugfs.ocfs2 output has no {what}:\n{text[:400]}")
    return m.group(1)


def heartbeat_region(path: str | os.PathLike[str]) -> HeartbeatFileRegion:
    """Locate the heartbeat system file of an OCFS2 volume (must be a single extent)."""
    p = Path(path)
    stats = _debugfs(p, "stats")
    block_bits = int(_field(_BLOCK_BITS, stats, "'Block Size Bits'", p))
    uuid = _field(_UUID, stats, "UUID", p).upper()
    label = _field(_LABEL, stats, "Label", p)
    inode = _debugfs(p, "stat //heartbeat")
    if int(_field(_FREE_REC, inode, "'Next Free Rec'", p)) != 1:
        raise Ocfs2ToolError(f"{p}: the heartbeat system file is not a single extent (bad heartbeat file)")
    extents = _EXTENT.findall(inode)
    if len(extents) != 1:
        raise Ocfs2ToolError(f"{p}: expected one extent row for //heartbeat, found {len(extents)}:\n{inode}")
    _index, _offset, _clusters, blkno = (int(v) for v in extents[0])
    block_bytes = 1 << block_bits
    return HeartbeatFileRegion(
        path=p,
        offset=blkno * block_bytes,
        length=int(_field(_SIZE, inode, "Size", p)),
        fs_block_bytes=block_bytes,
        uuid=uuid,
        label=label,
    )


def heartbeat_region_offset(path: str | os.PathLike[str]) -> int:
    """Byte offset of node 0's heartbeat slot in the OCFS2 volume at `path`."""
    return heartbeat_region(path).offset


@dataclass(frozen=True)
class DumpedSlot:
    """One line of `debugfs.ocfs2 -R hb`: slot index and the fields as the tool read them."""

    slot: int
    node: int
    seq: int
    generation: int
    cksum: int
    dead_ms: int


_HB_LINE = re.compile(
    r"^\s*(\d+):\s+(\d+)\s+([0-9a-fA-F]{16})\s+([0-9a-fA-F]{16})\s+([0-9a-fA-F]{8})\s+(\d+)\s*$",
    re.MULTILINE,
)


def dump_heartbeat(path: str | os.PathLike[str]) -> list[DumpedSlot]:
    """The slots `debugfs.ocfs2 -R hb` lists (those with a non-zero seq)."""
    text = _debugfs(Path(path), "hb")
    return [
        DumpedSlot(int(s), int(n), int(seq, 16), int(gen, 16), int(ck, 16), int(dead))
        for s, n, seq, gen, ck, dead in _HB_LINE.findall(text)
    ]
