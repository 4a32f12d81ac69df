"""ocfs2_hb_ctl -S|-K|-I -d <device> | -u <uuid>: start, kill or count a heartbeat region.

White paper: "If at any point of time you get heartbeat error ... You can kill
the heartbeat process" with `ocfs2_hb_ctl -K -d /dev/sdb1`, then start the
services again in order. A running region is its configfs directory
/sys/kernel/config/cluster/<cluster>/heartbeat/<UUID>; an NFS heartbeat file
(a loop-formatted OCFS2 file) is named by its path.
"""

from __future__ import annotations

from ovmref.hostfs import HostFS
from ovmref.storage.layout import configfs_cluster_dir, configfs_region_dir
from ovmref.storage.mounts import read_mounts
from ovmref.tools.context import ToolContext, ToolError, ToolResult
from ovmref.tools.storage_ops import boot_cluster, start_region, stop_region

USAGE = "usage: ocfs2_hb_ctl -S|-K|-I -d <device> | -u <uuid>"


def region_of(fs: HostFS, ctx: ToolContext, device: str) -> str:
    """The region UUID of a device, or of the volume holding a heartbeat file."""
    volume = ctx.storage.resolve(device)
    if volume is not None:
        return volume.uuid
    if fs.exists(device):
        holders = [m for m in read_mounts(fs) if device.startswith(m.mountpoint.rstrip("/") + "/")]
        if holders:
            holder = max(holders, key=lambda m: len(m.mountpoint))
            if (held := ctx.storage.resolve(holder.source)) is not None:
                return held.uuid
    raise ToolError(f"{device}: not an OCFS2 heartbeat device this server can reach")


def hb_ctl(fs: HostFS, args: list[str], ctx: ToolContext) -> ToolResult:
    if len(args) != 3 or args[0] not in ("-S", "-K", "-I") or args[1] not in ("-d", "-u"):
        raise ToolError(USAGE, rc=2)
    action, how, what = args
    region = what.upper() if how == "-u" else region_of(fs, ctx, what)
    cluster = boot_cluster(fs, ctx)
    if action == "-I":
        refs = 1 if fs.is_dir(configfs_region_dir(cluster, region)) else 0
        return ToolResult(0, f"{region}: {refs} refs\n")
    if action == "-K":
        if not stop_region(fs, cluster, region):
            raise ToolError(f"heartbeat region {region} is not active")
        return ToolResult(0, f"stopped heartbeat region {region}\n")
    if not fs.is_dir(configfs_cluster_dir(cluster)):
        raise ToolError(f"cluster {cluster} is not online: start o2cb first")
    start_region(fs, cluster, region)
    return ToolResult(0, f"started heartbeat region {region}\n")
