"""/usr/lib/ovs/ovs-makerepo <source> C "<description>": register and mount a repository.

User's Guide 9.3 and the white paper: run on the Server Pool Master with `C`
to make the source the cluster root. It records the repository in
/etc/ovs/repositories, mounts it where the release says and, on NFS, creates
the heartbeat file `.server_pool_hb` ("the ovs-makerepo utility will create
an OCFS2 heartbeat file for you"). Refusals come from the same documents: a
local /OVS still mounted (white paper: unmount it first), an unreachable
source, and in 2.2 the default local OCFS2 partition as cluster root.
Without `C` (`ovs-makerepo <source> "<description>"`) the source becomes an
ordinary repository.
"""

from __future__ import annotations

from ovmref.cluster.clusterconf import CLUSTER_CONF, HeartbeatStanza, parse_cluster_conf, render_cluster_conf
from ovmref.hostfs import HostFS
from ovmref.release import Release
from ovmref.storage.layout import HEARTBEAT_FILE_NAME, OVS
from ovmref.storage.repositories import Repository
from ovmref.tools.context import ToolContext, ToolError, ToolResult
from ovmref.tools.storage_ops import (
    load_repositories,
    local_ovs_mount,
    mount_repository,
    mountpoint_for,
    reach,
    require_file_system,
    save_repositories,
)

USAGE = 'usage: ovs-makerepo <source> C "<description>"  |  ovs-makerepo <source> "<description>"'


def _parse(args: list[str]) -> tuple[str, bool, str]:
    if len(args) == 3 and args[1] == "C":
        return args[0], True, args[2]
    if len(args) == 2 and args[1] != "C":
        return args[0], False, args[1]
    raise ToolError(USAGE, rc=2)


def _add_global_region(fs: HostFS, region: str) -> str | None:
    """3.x: the pool file system is the cluster's global heartbeat region (o2cb add-heartbeat)."""
    text = fs.read_text(CLUSTER_CONF)
    if text is None:
        return None
    conf = parse_cluster_conf(text)
    clusters = [
        c for c in conf.clusters if c.heartbeat_mode == "global" and region not in conf.regions_of(c.name)
    ]
    if not clusters:
        return None
    beats = conf.heartbeats + tuple(HeartbeatStanza(region, c.name) for c in clusters)
    fs.write_text(CLUSTER_CONF, render_cluster_conf(type(conf)(conf.clusters, conf.nodes, beats)))
    return f"added heartbeat region {region} to {CLUSTER_CONF}"


def makerepo(fs: HostFS, args: list[str], ctx: ToolContext) -> ToolResult:
    source, cluster_root, description = _parse(args)
    volume = reach(ctx, source)
    require_file_system(volume)
    repos = load_repositories(fs)
    if cluster_root:
        local = local_ovs_mount(fs, ctx)
        if local is not None:
            raise ToolError(f"local {OVS} ({local.source}) is still mounted: run 'umount {OVS}' first")
        if ctx.release is Release.R2_2 and volume.local_disk and not volume.nfs:
            raise ToolError(
                f"{source} is this server's default local OCFS2 partition: "
                "it cannot be the cluster root for HA"
            )
        existing = repos.cluster_root
        if existing is not None and existing.source != volume.source:
            raise ToolError(f"the cluster root is already {existing.source}")
    known = repos.by_source(volume.source)
    if known is not None and known.cluster_root != cluster_root:
        role = "the cluster root" if known.cluster_root else "a repository"
        raise ToolError(f"{source} is already registered as {role}")
    lines: list[str] = []
    repo = known or Repository(volume.uuid, volume.source, cluster_root, description)
    if known is None:
        save_repositories(fs, repos.with_added(repo))
        lines.append(f"registered {repo.source} as {repo.uuid} in /etc/ovs/repositories")
    lines.append(mount_repository(fs, ctx, repo))
    if cluster_root and volume.nfs:
        hb = f"{mountpoint_for(ctx.release, repo)}/{HEARTBEAT_FILE_NAME}"
        if not fs.exists(hb):
            ctx.format_heartbeat_file(hb)
            if not fs.exists(hb):
                raise ToolError(f"could not create the heartbeat file {hb}")
            lines.append(f"created heartbeat file {hb}")
    if cluster_root and ctx.release is Release.R3 and (added := _add_global_region(fs, repo.uuid)):
        lines.append(added)
    return ToolResult(0, "".join(f"{line}\n" for line in lines))
