"""The filesystem port: a server's files, wherever the server lives.

Everything host-side in ovmref (configuration files, mounts, tools, checks)
reads and writes through `HostFS`, so the same code runs on the simulator
(`MemoryHostFS`), on a real directory per server (environments.hostdir.DirectoryHostFS,
an adapter: ovmref touches no real file) and,
read-only, over SSH (`ReadOnlyHostFS`). Paths are absolute POSIX paths as on
the server. Symlinks are resolved here, across mounts, the way the kernel
does, so 2.2's `/OVS -> /var/ovs/mount/<uuid>` behaves as on a real server.
"""

from __future__ import annotations

import errno
import os
import posixpath
from pathlib import Path
from typing import Protocol, runtime_checkable

from ovmref.host.trees import MemoryTree, Tree, parent_of

__all__ = [
    "HostFS",
    "HostView",
    "MemoryHostFS",
    "MemoryTree",
    "Mountable",
    "ReadOnlyError",
    "ReadOnlyHostFS",
    "Tree",
]

_MAX_SYMLINK_HOPS = 40  # Linux MAXSYMLINKS


class ReadOnlyError(PermissionError):
    """A write through a read-only view of a host (pre-upgrade validation must not change anything)."""


class HostFS(Protocol):
    """A server's files. Reads of missing files give None; writes are whole-file and atomic."""

    def read_text(self, path: str) -> str | None: ...

    def read_bytes(self, path: str) -> bytes | None: ...

    def write_text(self, path: str, text: str) -> None: ...

    def write_bytes(self, path: str, data: bytes) -> None: ...

    def exists(self, path: str) -> bool: ...

    def is_dir(self, path: str) -> bool: ...

    def remove(self, path: str) -> None: ...

    def listdir(self, path: str) -> list[str]: ...

    def mkdir(self, path: str, parents: bool = True) -> None: ...

    def symlink(self, target: str, link: str) -> None: ...

    def readlink(self, path: str) -> str | None: ...


@runtime_checkable
class Mountable(Protocol):
    """A host view on which trees can be mounted (what `mount`/`umount` need)."""

    def attach(self, mountpoint: str, tree: Tree) -> None: ...

    def detach(self, mountpoint: str) -> None: ...

    def mounted_tree(self, mountpoint: str) -> Tree | None: ...


def _normalize(path: str) -> str:
    if not path.startswith("/"):
        raise ValueError(f"host paths are absolute POSIX paths, got {path!r}")
    return posixpath.normpath(path).replace("//", "/")


class HostView:
    """A root tree plus trees mounted on it, with kernel-like path resolution."""

    def __init__(self, root: Tree) -> None:
        self._mounts: dict[str, Tree] = {"/": root}

    # ---- mounts ----------------------------------------------------------------------
    def attach(self, mountpoint: str, tree: Tree) -> None:
        """Mount `tree` on an existing directory; symlinks in `mountpoint` are resolved first."""
        canonical = self._canonical(mountpoint)
        if canonical in self._mounts:
            raise OSError(errno.EBUSY, f"{canonical} is already a mount point", canonical)
        if not self.is_dir(canonical):
            raise FileNotFoundError(errno.ENOENT, "mount point is not a directory", canonical)
        self._mounts[canonical] = tree

    def detach(self, mountpoint: str) -> None:
        canonical = self._canonical(mountpoint)
        if canonical == "/" or canonical not in self._mounts:
            raise OSError(errno.EINVAL, f"{canonical} is not a mount point", canonical)
        if any(m.startswith(canonical.rstrip("/") + "/") for m in self._mounts):
            raise OSError(errno.EBUSY, f"{canonical} has mounts below it", canonical)
        del self._mounts[canonical]

    def mounted_tree(self, mountpoint: str) -> Tree | None:
        if mountpoint == "/":
            return None
        return self._mounts.get(self._canonical(mountpoint))

    def mountpoints(self) -> list[str]:
        return sorted(m for m in self._mounts if m != "/")

    # ---- resolution ------------------------------------------------------------------
    def _locate(self, canonical: str) -> tuple[Tree, str]:
        best = "/"
        for m in self._mounts:
            if (canonical == m or canonical.startswith(m.rstrip("/") + "/")) and len(m) > len(best):
                best = m
        rel = "/" + canonical[len(best) :].lstrip("/") if best != "/" else canonical
        return self._mounts[best], rel

    def _canonical(self, path: str, follow_last: bool = True) -> str:
        """The path with every symlink replaced by its target (the last one only if follow_last)."""
        pending = [p for p in _normalize(path).split("/") if p]
        resolved = "/"
        hops = 0
        while pending:
            name = pending.pop(0)
            if name == "..":
                resolved = parent_of(resolved)
                continue
            candidate = posixpath.join(resolved, name)
            if pending or follow_last:
                tree, rel = self._locate(candidate)
                if tree.kind(rel) == "link":
                    hops += 1
                    if hops > _MAX_SYMLINK_HOPS:
                        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), path)
                    target = tree.readlink(rel)
                    if target.startswith("/"):
                        resolved = "/"
                    pending = [p for p in target.split("/") if p and p != "."] + pending
                    continue
            resolved = candidate
        return resolved

    def _resolve(self, path: str, follow_last: bool = True) -> tuple[Tree, str]:
        return self._locate(self._canonical(path, follow_last))

    # ---- HostFS ----------------------------------------------------------------------
    def read_bytes(self, path: str) -> bytes | None:
        tree, rel = self._resolve(path)
        try:
            return tree.read(rel)
        except (FileNotFoundError, NotADirectoryError):
            return None

    def read_text(self, path: str) -> str | None:
        data = self.read_bytes(path)
        return None if data is None else data.decode("utf-8")

    def write_bytes(self, path: str, data: bytes) -> None:
        """Write a whole file atomically; missing parent directories are created (like `install -D`)."""
        canonical = self._canonical(path)
        self.mkdir(parent_of(canonical), parents=True)
        tree, rel = self._locate(canonical)
        tree.write(rel, data)

    def write_text(self, path: str, text: str) -> None:
        self.write_bytes(path, text.encode("utf-8"))

    def exists(self, path: str) -> bool:
        try:
            tree, rel = self._resolve(path)
            return tree.kind(rel) is not None
        except (FileNotFoundError, NotADirectoryError):
            return False

    def is_dir(self, path: str) -> bool:
        try:
            tree, rel = self._resolve(path)
            return tree.kind(rel) == "dir"
        except (FileNotFoundError, NotADirectoryError):
            return False

    def remove(self, path: str) -> None:
        """Remove a file, a symlink (not its target) or an empty directory."""
        canonical = self._canonical(path, follow_last=False)
        if canonical in self._mounts:
            raise OSError(errno.EBUSY, f"{canonical} is a mount point", canonical)
        tree, rel = self._locate(canonical)
        tree.remove(rel)

    def listdir(self, path: str) -> list[str]:
        tree, rel = self._resolve(path)
        return tree.listdir(rel)

    def mkdir(self, path: str, parents: bool = True) -> None:
        """Create a directory; an existing directory is fine, an existing file is an error."""
        canonical = self._canonical(path)
        if self.is_dir(canonical):
            return
        if parents and canonical != "/":
            self.mkdir(parent_of(canonical), parents=True)
        tree, rel = self._locate(canonical)
        tree.mkdir(rel)

    def symlink(self, target: str, link: str) -> None:
        tree, rel = self._resolve(link, follow_last=False)
        tree.symlink(target, rel)

    def readlink(self, path: str) -> str | None:
        try:
            tree, rel = self._resolve(path, follow_last=False)
            return tree.readlink(rel) if tree.kind(rel) == "link" else None
        except (FileNotFoundError, NotADirectoryError):
            return None

    def real_path(self, path: str) -> Path | None:
        """Where a host path really is on this machine, when its tree is a real directory
        (so a real tool such as mkfs.ocfs2 can work on it); None for in-memory trees."""
        tree, rel = self._resolve(path)
        return tree.real_location(rel)


class MemoryHostFS(HostView):
    """A simulated server's files, in memory; shared trees are attached at their mount points."""

    def __init__(self, root: MemoryTree | None = None) -> None:
        self.root = root if root is not None else MemoryTree("root")
        super().__init__(self.root)


class ReadOnlyHostFS:
    """Reads pass through; every write raises ReadOnlyError (validation of a live pool)."""

    def __init__(self, inner: HostFS) -> None:
        self.inner = inner

    def _refuse(self, what: str, path: str) -> ReadOnlyError:
        return ReadOnlyError(errno.EROFS, f"read-only host: refused to {what}", path)

    def read_text(self, path: str) -> str | None:
        return self.inner.read_text(path)

    def read_bytes(self, path: str) -> bytes | None:
        return self.inner.read_bytes(path)

    def exists(self, path: str) -> bool:
        return self.inner.exists(path)

    def is_dir(self, path: str) -> bool:
        return self.inner.is_dir(path)

    def listdir(self, path: str) -> list[str]:
        return self.inner.listdir(path)

    def readlink(self, path: str) -> str | None:
        return self.inner.readlink(path)

    def write_text(self, path: str, text: str) -> None:
        raise self._refuse("write", path)

    def write_bytes(self, path: str, data: bytes) -> None:
        raise self._refuse("write", path)

    def remove(self, path: str) -> None:
        raise self._refuse("remove", path)

    def mkdir(self, path: str, parents: bool = True) -> None:
        raise self._refuse("create directory", path)

    def symlink(self, target: str, link: str) -> None:
        raise self._refuse("create symlink", link)

    def attach(self, mountpoint: str, tree: Tree) -> None:
        raise self._refuse("mount on", mountpoint)

    def detach(self, mountpoint: str) -> None:
        raise self._refuse("unmount", mountpoint)

    def mounted_tree(self, mountpoint: str) -> Tree | None:
        return self.inner.mounted_tree(mountpoint) if isinstance(self.inner, Mountable) else None
