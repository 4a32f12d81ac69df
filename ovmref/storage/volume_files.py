"""Which volume holds a host path: /OVS/.server_pool_hb is `/.server_pool_hb` on the cluster root.

Tools that change a file's on-disk identity (mkfs.ocfs2 formatting the NFS
heartbeat file, dd overwriting it) record that on the volume, which every
server shares, so they need the volume and the path inside it. Symlinks are
followed first: on 2.2, /OVS links to /var/ovs/mount/<uuid>.
"""

from __future__ import annotations

import posixpath

from ovmref.hostfs import HostFS
from ovmref.storage.mounts import read_mounts
from ovmref.storage.shared import SharedStorage, SharedVolume

MAX_SYMLINK_HOPS = 40  # Linux MAXSYMLINKS


class SymlinkLoopError(OSError):
    """Too many symbolic links while resolving a path (ELOOP)."""


def real_path(fs: HostFS, path: str) -> str:
    """`path` with every symlink replaced by its target, as realpath(3) would."""
    pending = [p for p in posixpath.normpath(path).split("/") if p]
    current = "/"
    hops = 0
    while pending:
        name = pending.pop(0)
        if name == ".":
            continue
        if name == "..":
            current = posixpath.dirname(current)
            continue
        candidate = posixpath.join(current, name)
        target = fs.readlink(candidate)
        if target is None:
            current = candidate
            continue
        hops += 1
        if hops > MAX_SYMLINK_HOPS:
            raise SymlinkLoopError(f"{path}: too many levels of symbolic links")
        if target.startswith("/"):
            current = "/"
        pending = [p for p in target.split("/") if p] + pending
    return current


def volume_file(fs: HostFS, storage: SharedStorage, path: str) -> tuple[SharedVolume, str] | None:
    """The reachable volume mounted under `path` and the path inside it; None if `path` is on no volume."""
    real = real_path(fs, path)
    holders = [m for m in read_mounts(fs) if real.startswith(m.mountpoint.rstrip("/") + "/")]
    if not holders:
        return None
    holder = max(holders, key=lambda m: len(m.mountpoint))
    volume = storage.resolve(holder.source)
    if volume is None:
        return None
    return volume, "/" + real[len(holder.mountpoint.rstrip("/")) :].lstrip("/")
