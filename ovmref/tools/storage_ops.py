"""Steps the tools share: the repository list, mounting repositories, configfs regions.

ovs-makerepo, the ocfs2 and ovsrepositories services and ovs-cluster-check all
mount and check the same things; keeping them here makes them agree.
"""

from __future__ import annotations

from ovmref.cluster.services import ServiceTable
from ovmref.host.sysconfig import O2CB_SYSCONFIG, parse_o2cb_sysconfig
from ovmref.hostfs import HostFS
from ovmref.release import Release
from ovmref.storage.fstab import MountEntry
from ovmref.storage.layout import (
    OVS,
    cluster_root_mountpoint,
    configfs_region_dir,
    ovs_symlink_target,
    repository_mountpoint,
)
from ovmref.storage.mounts import MountError, mount, mount_at, unmount
from ovmref.storage.repositories import (
    REPOSITORIES,
    REPOSITORIES_OPTIONS,
    Repository,
    RepositoryList,
    parse_repositories,
    parse_repository_options,
    render_repositories,
)
from ovmref.tools.context import SharedVolume, ToolContext, ToolError


def load_repositories(fs: HostFS) -> RepositoryList:
    text = fs.read_text(REPOSITORIES)
    return parse_repositories(text, REPOSITORIES) if text is not None else RepositoryList()


def save_repositories(fs: HostFS, repos: RepositoryList) -> None:
    fs.write_text(REPOSITORIES, render_repositories(repos))


def boot_cluster(fs: HostFS, ctx: ToolContext) -> str:
    """O2CB_BOOTCLUSTER from /etc/sysconfig/o2cb, else the pool's cluster name."""
    text = fs.read_text(O2CB_SYSCONFIG)
    name = parse_o2cb_sysconfig(text).cluster if text is not None else ""
    return name or ctx.cluster_name


def reach(ctx: ToolContext, source: str) -> SharedVolume:
    volume = ctx.storage.resolve(source)
    if volume is None:
        raise ToolError(f"cannot reach {source}: check the storage and the network")
    return volume


def require_file_system(volume: SharedVolume) -> None:
    """mount.ocfs2 finds no superblock on a LUN nobody formatted (or one dd wiped)."""
    if not volume.formatted:
        raise ToolError(
            f"mount.ocfs2: {volume.source} holds no OCFS2 file system: format it with mkfs.ocfs2 first"
        )


def mountpoint_for(release: Release, repo: Repository) -> str:
    if repo.cluster_root:
        return cluster_root_mountpoint(release, repo.uuid)
    return repository_mountpoint(release, repo.uuid)


def _options(fs: HostFS, repo: Repository, volume: SharedVolume, release: Release) -> str:
    text = fs.read_text(REPOSITORIES_OPTIONS)
    extra = parse_repository_options(text).get(repo.uuid, ()) if text is not None else ()
    if volume.nfs:
        base: tuple[str, ...] = ("rw",)
    elif volume.local_disk:
        base = ("rw", "heartbeat=none")  # a local OCFS2 volume: no cluster heartbeat
    else:
        base = ("rw", "_netdev", "heartbeat=global" if release is Release.R3 else "heartbeat=local")
    return ",".join(dict.fromkeys(base + extra))


def local_ovs_mount(fs: HostFS, ctx: ToolContext) -> MountEntry | None:
    """A mount at /OVS that is not a registered repository: the installer's local /OVS."""
    entry = mount_at(fs, OVS)
    if entry is None:
        return None
    return None if load_repositories(fs).by_source(entry.source) else entry


def mount_repository(fs: HostFS, ctx: ToolContext, repo: Repository) -> str:
    """Mount a registered repository where the release wants it; return what was done."""
    target = mountpoint_for(ctx.release, repo)
    current = mount_at(fs, target)
    if current is not None:
        if current.source != repo.source:
            raise ToolError(f"{target} is busy: {current.source} is mounted there")
        return f"{repo.source} already mounted on {target}"
    volume = reach(ctx, repo.source)
    require_file_system(volume)
    if not volume.nfs and not volume.local_disk and not ServiceTable(fs).is_running("o2cb"):
        raise ToolError(
            f"mount.ocfs2: cluster stack is not running: start o2cb before mounting {repo.source}"
        )
    entry = MountEntry(
        repo.source, target, "nfs" if volume.nfs else "ocfs2", _options(fs, repo, volume, ctx.release), 0, 0
    )
    try:
        mount(fs, entry, volume.tree)
    except MountError as exc:
        raise ToolError(str(exc)) from None
    link = ovs_symlink_target(ctx.release, repo.uuid) if repo.cluster_root else None
    if link is not None:
        _link_ovs(fs, link)
    return f"mounted {repo.source} on {target}" + (f" ({OVS} -> {link})" if link else "")


def _link_ovs(fs: HostFS, target: str) -> None:
    """2.2: /OVS becomes a symlink to the mounted cluster root (it must not be a mount itself)."""
    if fs.readlink(OVS) == target:
        return
    if mount_at(fs, OVS) is not None:
        raise ToolError(f"{OVS} is still mounted: umount {OVS} first")
    if fs.readlink(OVS) is not None or fs.is_dir(OVS):
        if fs.is_dir(OVS) and fs.readlink(OVS) is None and fs.listdir(OVS):
            raise ToolError(f"{OVS} is a non-empty directory; move its content away first")
        fs.remove(OVS)
    fs.symlink(target, OVS)


def unmount_repository(fs: HostFS, ctx: ToolContext, repo: Repository) -> str:
    target = mountpoint_for(ctx.release, repo)
    if mount_at(fs, target) is None:
        return f"{target} not mounted"
    try:
        unmount(fs, target)
    except MountError as exc:
        raise ToolError(str(exc)) from None
    return f"unmounted {target}"


def start_region(fs: HostFS, cluster: str, region: str) -> bool:
    path = configfs_region_dir(cluster, region)
    if fs.is_dir(path):
        return False
    fs.mkdir(path, parents=True)
    return True


def stop_region(fs: HostFS, cluster: str, region: str) -> bool:
    path = configfs_region_dir(cluster, region)
    if not fs.is_dir(path):
        return False
    remove_tree(fs, path)
    return True


def remove_tree(fs: HostFS, path: str) -> None:
    if fs.is_dir(path) and fs.readlink(path) is None:
        for name in fs.listdir(path):
            remove_tree(fs, f"{path.rstrip('/')}/{name}")
    fs.remove(path)
