"""debugfs.ocfs2 -R stats <device|file>: read back the superblock mkfs.ocfs2 wrote.

Only the `stats` request is simulated, and of its output the lines that name
what mkfs.ocfs2 sets, in ocfs2-tools' words and layout ("Block Size Bits: 12
  Cluster Size Bits: 13", "Max Node Slots: 16", "Label: server_pool_hb",
"UUID: ...", and the superblock inode's "Clusters: 76800", the volume's size
in clusters, where mkfs.ocfs2 knew it: for a file dd made). Like the real
tool, a target that holds no OCFS2 file system is an error naming the target.
"""

from __future__ import annotations

from ovmref.hostfs import HostFS
from ovmref.storage.shared import Ocfs2Format
from ovmref.storage.volume_files import volume_file
from ovmref.tools.context import ToolContext, ToolError, ToolResult

USAGE = "usage: debugfs.ocfs2 -R stats <device|file>"


def _bits(size: int) -> int:
    return size.bit_length() - 1


def render_stats(fmt: Ocfs2Format) -> str:
    lines = [
        "\tRevision: 0.90",
        f"\tBlock Size Bits: {_bits(fmt.block_size)}   Cluster Size Bits: {_bits(fmt.cluster_size)}",
        f"\tMax Node Slots: {fmt.node_slots}",
        f"\tLabel: {fmt.label}",
        f"\tUUID: {fmt.uuid}",
        "\tCluster stack: classic o2cb",
    ]
    if fmt.clusters is not None:
        lines.append(f"\tLinks: 0   Clusters: {fmt.clusters}")
    return "".join(f"{line}\n" for line in lines)


def _file_system(fs: HostFS, ctx: ToolContext, target: str) -> Ocfs2Format | None:
    if target.startswith("/dev/"):
        volume = ctx.storage.resolve(target)
        if volume is None or volume.nfs:
            raise ToolError(f"No such file or directory while opening device {target}")
        return volume.ocfs2.device
    if not fs.exists(target):
        raise ToolError(f"No such file or directory while opening device {target}")
    held = volume_file(fs, ctx.storage, target)
    if held is None:
        return None
    volume, inner = held
    return volume.ocfs2.file(inner)


def debugfs_ocfs2(fs: HostFS, args: list[str], ctx: ToolContext) -> ToolResult:
    if len(args) != 3 or args[0] != "-R" or args[1] != "stats":
        raise ToolError(f"only the stats request is simulated; {USAGE}", rc=1)
    target = args[2]
    found = _file_system(fs, ctx, target)
    if found is None:
        raise ToolError(f"Bad magic number in superblock while opening device {target}")
    return ToolResult(0, render_stats(found))
