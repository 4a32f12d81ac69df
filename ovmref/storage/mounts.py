"""Mounting shared trees on a host and keeping /proc/mounts true to it.

A mount is two facts that must agree: the tree is attached in the host FS
(so its files are visible at the mount point) and a line in /proc/mounts
says so (so tools and checks can read it as on a real server).
"""

from __future__ import annotations

from ovmref.host.trees import Tree
from ovmref.hostfs import HostFS, Mountable
from ovmref.storage.fstab import PROC_MOUNTS, MountEntry, parse_fstab, render_fstab


class MountError(Exception):
    """mount/umount refused; the message reads like the command's own error."""


def read_mounts(fs: HostFS) -> list[MountEntry]:
    text = fs.read_text(PROC_MOUNTS)
    return parse_fstab(text, PROC_MOUNTS) if text is not None else []


def mount_at(fs: HostFS, mountpoint: str) -> MountEntry | None:
    return next((m for m in read_mounts(fs) if m.mountpoint == mountpoint), None)


def mount(fs: HostFS, entry: MountEntry, tree: Tree) -> None:
    """Attach `tree` at entry.mountpoint (created if missing) and record the mount."""
    if mount_at(fs, entry.mountpoint) is not None:
        raise MountError(f"mount: {entry.mountpoint} is already mounted")
    if not isinstance(fs, Mountable):
        raise MountError(f"mount: this host view cannot mount ({type(fs).__name__})")
    fs.mkdir(entry.mountpoint, parents=True)
    fs.attach(entry.mountpoint, tree)
    fs.write_text(PROC_MOUNTS, render_fstab([*read_mounts(fs), entry]))


def unmount(fs: HostFS, mountpoint: str) -> MountEntry:
    """umount: refused when not mounted or when something is mounted below it."""
    mounts = read_mounts(fs)
    entry = next((m for m in mounts if m.mountpoint == mountpoint), None)
    if entry is None:
        raise MountError(f"umount: {mountpoint}: not mounted")
    below = [m.mountpoint for m in mounts if m.mountpoint.startswith(mountpoint.rstrip("/") + "/")]
    if below:
        raise MountError(f"umount: {mountpoint}: device is busy ({below[0]} is mounted below it)")
    if isinstance(fs, Mountable) and fs.mounted_tree(mountpoint) is not None:
        fs.detach(mountpoint)
    fs.write_text(PROC_MOUNTS, render_fstab([m for m in mounts if m is not entry]))
    return entry
