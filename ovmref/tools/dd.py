"""dd if=/dev/zero of=<file> bs=<size> count=<n>: the white paper's first step of a heartbeat file by hand.

"dd if=/dev/zero of=/OVS/.server_pool_hb bs=1M count=300", then mkfs.ocfs2
formats the file. Only /dev/zero is a supported input: nothing else in the
documents is copied with dd. Sizes take dd's suffixes (c=1, w=2, b=512,
K/KiB=1024, M, G, T, and kB/MB/GB/TB in powers of 1000).

Simulated servers keep files in memory, so the file written holds exactly the
requested zeros only up to 4 MiB (WRITTEN_LIMIT); a larger request writes
4 MiB of zeros and the summary reports the requested size, which is what
the tools that follow (mkfs.ocfs2) care about: that the file exists and no
longer holds an OCFS2 file system. Writing over a file or a LUN destroys the
OCFS2 file system it held, for every server. Like the real dd, the summary
("300+0 records in") goes to stderr.
"""

from __future__ import annotations

import math
import posixpath
import re

from ovmref.hostfs import HostFS
from ovmref.storage.volume_files import volume_file
from ovmref.tools.context import ToolContext, ToolError, ToolResult

USAGE = "usage: dd if=/dev/zero of=<file> [bs=<size>] count=<blocks>"
ZERO = "/dev/zero"
DEFAULT_BS = 512
WRITTEN_LIMIT = 4 * 1024 * 1024
OPERANDS = ("if", "of", "bs", "count")
_NUMBER = re.compile(r"([0-9]+)([A-Za-z]*)")
_MULTIPLIERS = {
    "": 1,
    "c": 1,
    "w": 2,
    "b": 512,
    "k": 1 << 10,
    "K": 1 << 10,
    "KiB": 1 << 10,
    "kB": 1000,
    "KB": 1000,
    "M": 1 << 20,
    "MiB": 1 << 20,
    "MB": 1000**2,
    "G": 1 << 30,
    "GiB": 1 << 30,
    "GB": 1000**3,
    "T": 1 << 40,
    "TiB": 1 << 40,
    "TB": 1000**4,
}


def parse_dd_number(operand: str, text: str) -> int:
    m = _NUMBER.fullmatch(text)
    if m is None or m.group(2) not in _MULTIPLIERS:
        raise ToolError(
            f"invalid number '{text}' for {operand}= (use digits with c, w, b, K, M, G, T, kB, MB, GB)"
        )
    return int(m.group(1)) * _MULTIPLIERS[m.group(2)]


def human_size(size: int) -> str:
    """dd's rounded-up SI size: 314572800 -> "315 MB", 1048576 -> "1.1 MB", 512 -> "512 B"."""
    if size < 1000:
        return f"{size} B"
    amount = float(size)
    for unit in ("kB", "MB", "GB", "TB", "PB"):
        amount /= 1000
        if amount < 10:
            rounded = math.ceil(amount * 10) / 10
            if rounded < 10:
                return f"{rounded:.1f} {unit}"
        rounded = math.ceil(amount)
        if rounded < 1000:
            return f"{rounded} {unit}"
    return f"{math.ceil(amount)} PB"


def _operands(args: list[str]) -> dict[str, str]:
    if not args:
        raise ToolError(USAGE, rc=1)
    found: dict[str, str] = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        if not sep or key not in OPERANDS:
            raise ToolError(
                f"unsupported operand '{arg}': this dd takes {', '.join(o + '=' for o in OPERANDS)}"
            )
        if not value:
            raise ToolError(f"{key}= needs a value")
        found[key] = value
    return found


def _write_zeros(fs: HostFS, ctx: ToolContext, target: str, size: int) -> None:
    if target.startswith("/dev/"):
        volume = ctx.storage.resolve(target)
        if volume is None or volume.nfs:
            raise ToolError(f"opening `{target}': No such file or directory")
        if size > 0:
            volume.ocfs2.wipe_device()  # the superblock is gone
        return
    parent = posixpath.dirname(target.rstrip("/")) or "/"
    if fs.is_dir(target):
        raise ToolError(f"opening `{target}': Is a directory")
    if not fs.is_dir(parent):
        raise ToolError(f"opening `{target}': No such file or directory")
    fs.write_bytes(target, bytes(min(size, WRITTEN_LIMIT)))
    held = volume_file(fs, ctx.storage, target)
    if held is not None:
        volume, inner = held
        volume.ocfs2.forget_file(inner)
        volume.ocfs2.note_size(inner, size)


def dd(fs: HostFS, args: list[str], ctx: ToolContext) -> ToolResult:
    ops = _operands(args)
    source = ops.get("if")
    if source != ZERO:
        what = "no if= given (reading stdin)" if source is None else f"if={source}"
        raise ToolError(f"{what} is not supported: only if={ZERO} is simulated")
    target = ops.get("of")
    if target is None:
        raise ToolError("no of= given: writing to stdout is not supported")
    if "count" not in ops:
        raise ToolError(f"count= is required: {ZERO} never ends")
    block = parse_dd_number("bs", ops["bs"]) if "bs" in ops else DEFAULT_BS
    if block == 0:
        raise ToolError("invalid number '0' for bs=: the block size must be positive")
    count = parse_dd_number("count", ops["count"])
    if not target.startswith("/"):
        raise ToolError(f"of={target}: give an absolute path (there is no working directory here)")
    size = block * count
    _write_zeros(fs, ctx, target, size)
    summary = f"{count}+0 records in\n{count}+0 records out\n{size} bytes ({human_size(size)}) copied\n"
    return ToolResult(0, "", summary)
