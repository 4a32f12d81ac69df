"""Where each Oracle VM release mounts the cluster root and the other repositories.

2.1 (User's Guide ch. 9, white paper): cluster root at /OVS, others at /OVS/<uuid>.
2.2 (Japanese User's Guide): cluster root at /var/ovs/mount/<uuid> with /OVS a
symlink to it; others at /var/ovs/mount/<uuid>.
3.x: repositories at /OVS/Repositories/<uuid> (Oracle VM 3 Concepts "/OVS/Repositories/
repository_id"; CloudStack's recorded agent answer: 32 lowercase hex digits) and the NFS share
holding the server pool file system image at /nfsmnt/<uuid> (CloudStack LinuxTest.java,
clean_primary.sh: /nfsmnt/*/*.img, /nfsmnt/*/.ovspoolfs). Where 3.x loop-mounts the pool file
system itself no stored material shows: the model puts it at /poolfsmnt/<uuid>, and readers of a
real server never rely on that path (see `names_uuid`).
An NFS cluster root carries the heartbeat file `.server_pool_hb`; an OCFS2
cluster root has none ("in-built in the file system").
"""

from __future__ import annotations

import re

from ovmref.release import Release

OVS = "/OVS"
HEARTBEAT_FILE_NAME = ".server_pool_hb"
CONFIGFS_CLUSTER = "/sys/kernel/config/cluster"
VAR_OVS_MOUNT = "/var/ovs/mount"
REPOSITORIES_3X = "/OVS/Repositories"
POOLFS_SHARES_3X = "/nfsmnt"
POOLFS_MODEL_3X = "/poolfsmnt"  # the model's own place for the mounted pool file system (unverified)
_UUID32 = re.compile(r"[0-9A-Fa-f]{32}")
_UUID_DASHED = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")


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


def uuid_of_name(name: str) -> str | None:
    """A path component that is a UUID (32 hex digits, or 8-4-4-4-12 with dashes), upper case and
    without dashes; None otherwise."""
    if _UUID32.fullmatch(name) or _UUID_DASHED.fullmatch(name):
        return name.replace("-", "").upper()
    return None


def names_uuid(mountpoint: str, uuid: str) -> bool:
    """Whether the mount point's last component is this UUID (any case, dashes or not)."""
    found = uuid_of_name(mountpoint.rstrip("/").rsplit("/", 1)[-1])
    return found is not None and found == uuid.replace("-", "").upper()


def repository_uuid(release: Release, mountpoint: str) -> str | None:
    """The repository UUID a mount point names where the release mounts repositories
    (2.1 /OVS/<uuid>, 2.2 /var/ovs/mount/<uuid>, 3.x /OVS/Repositories/<uuid>); None elsewhere."""
    parent, _, name = mountpoint.rstrip("/").rpartition("/")
    where = {Release.R2_1: OVS, Release.R2_2: VAR_OVS_MOUNT, Release.R3: REPOSITORIES_3X}[release]
    return uuid_of_name(name) if parent == where else None


def is_repository_location(release: Release, mountpoint: str) -> bool:
    """Where the release mounts storage of the pool: its repositories, 2.1's /OVS, 3.x's pool
    file system share. An NFS mount anywhere else (a backup share) is not the pool's storage."""
    path = mountpoint.rstrip("/") or "/"
    if release is Release.R2_1 and path == OVS:
        return True
    if release is Release.R3 and path.rpartition("/")[0] == POOLFS_SHARES_3X:
        return uuid_of_name(path.rpartition("/")[2]) is not None
    return repository_uuid(release, path) is not None
