"""Where each Oracle VM release mounts the cluster root and the other repositories.

2.1 (User's Guide ch. 9, white paper): cluster root at /OVS, others at /OVS/<uuid>.
2.2 (Japanese User's Guide): cluster root at /var/ovs/mount/<uuid> with /OVS a
symlink to it; others at /var/ovs/mount/<uuid>.
3.x: repositories at /OVS/Repositories/<uuid> and the server pool file system
at /poolfsmnt/<uuid>. These 3.x paths are Oracle VM 3 practice, not stated in
the seed documents.
An NFS cluster root carries the heartbeat file `.server_pool_hb`; an OCFS2
cluster root has none ("in-built in the file system").
"""

from __future__ import annotations

from ovmref.release import Release

OVS = "/OVS"
HEARTBEAT_FILE_NAME = ".server_pool_hb"
CONFIGFS_CLUSTER = "/sys/kernel/config/cluster"
VAR_OVS_MOUNT = "/var/ovs/mount"


def is_nfs_source(source: str) -> bool:
    """`host:/export` is NFS; anything else (a /dev path) is a block device."""
    return ":/" in source


def is_nfs_kind(storage_kind: str) -> bool:
    return storage_kind == "nfs"


def cluster_root_mountpoint(release: Release, uuid: str) -> str:
    if release is Release.R2_1:
        return OVS
    if release is Release.R2_2:
        return f"{VAR_OVS_MOUNT}/{uuid}"
    return f"/poolfsmnt/{uuid}"


def repository_mountpoint(release: Release, uuid: str) -> str:
    if release is Release.R2_1:
        return f"{OVS}/{uuid}"
    if release is Release.R2_2:
        return f"{VAR_OVS_MOUNT}/{uuid}"
    return f"{OVS}/Repositories/{uuid}"


def ovs_symlink_target(release: Release, uuid: str) -> str | None:
    """2.2 links /OVS to the mounted cluster root; other releases have no such link."""
    return cluster_root_mountpoint(release, uuid) if release is Release.R2_2 else None


def heartbeat_file(release: Release, uuid: str, nfs: bool) -> str | None:
    """The NFS heartbeat file as seen on a server; None for OCFS2 (built into the file system)."""
    return f"{cluster_root_mountpoint(release, uuid)}/{HEARTBEAT_FILE_NAME}" if nfs else None


def configfs_cluster_dir(cluster: str) -> str:
    return f"{CONFIGFS_CLUSTER}/{cluster}"


def configfs_region_dir(cluster: str, region: str) -> str:
    """Where the kernel shows an active heartbeat region (region = file system UUID, uppercase)."""
    return f"{CONFIGFS_CLUSTER}/{cluster}/heartbeat/{region.upper()}"
