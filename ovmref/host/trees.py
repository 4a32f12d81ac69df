"""File trees that a host view mounts: the Tree protocol and the in-memory tree.

A tree on a real directory is an adapter of the environments that run real processes
(environments.hostdir.DirectoryTree): ovmref itself touches no real file.

A tree knows nothing of symlink resolution or mounts; `ovmref.hostfs` walks
paths across trees. Paths given to a tree are absolute within the tree
("/" is its root) and never contain symlinks except, maybe, the last part.
Shared storage (an NFS export, an OCFS2 volume) is one tree attached on
several hosts, so a write by one host is seen by all of them.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

Kind = Literal["file", "dir", "link"]


class Tree(Protocol):
    """Raw operations on one file tree; symlinks are never followed."""

    def kind(self, path: str) -> Kind | None: ...

    def read(self, path: str) -> bytes: ...

    def write(self, path: str, data: bytes) -> None: ...

    def remove(self, path: str) -> None: ...

    def listdir(self, path: str) -> list[str]: ...

    def mkdir(self, path: str) -> None: ...

    def symlink(self, target: str, path: str) -> None: ...

    def readlink(self, path: str) -> str: ...

    def real_location(self, path: str) -> Path | None:
        """Where `path` really is on this machine, for a tree on a real directory (a real tool such as
        mkfs.ocfs2 can work on it there); None for a tree that has no real place."""
        ...


def parent_of(path: str) -> str:
    head = path.rsplit("/", 1)[0]
    return head or "/"


def _oserror(code: int, path: str) -> OSError:
    return OSError(code, os.strerror(code), path)


@dataclass(frozen=True)
class _Link:
    target: str


class _DirMarker:
    """The value stored for a directory in a MemoryTree."""


_DIR = _DirMarker()


class MemoryTree:
    """A file tree held in a dict: the content of a simulated disk or NFS export."""

    def __init__(self, label: str = "") -> None:
        self.label = label
        self._nodes: dict[str, bytes | _Link | _DirMarker] = {"/": _DIR}

    def __repr__(self) -> str:
        return f"MemoryTree({self.label!r}, {len(self._nodes)} entries)"

    def real_location(self, path: str) -> Path | None:
        return None

    def kind(self, path: str) -> Kind | None:
        node = self._nodes.get(path)
        if node is None:
            return None
        if isinstance(node, bytes):
            return "file"
        return "link" if isinstance(node, _Link) else "dir"

    def _require_parent_dir(self, path: str) -> None:
        parent = parent_of(path)
        kind = self.kind(parent)
        if kind is None:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), parent)
        if kind != "dir":
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), parent)

    def read(self, path: str) -> bytes:
        node = self._nodes.get(path)
        if node is None:
            self._require_parent_dir(path)
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
        if not isinstance(node, bytes):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
        return node

    def write(self, path: str, data: bytes) -> None:
        self._require_parent_dir(path)
        if self.kind(path) == "dir":
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
        self._nodes[path] = bytes(data)  # one assignment: readers never see half a file

    def remove(self, path: str) -> None:
        kind = self.kind(path)
        if kind is None:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
        if path == "/":
            raise _oserror(errno.EBUSY, path)
        if kind == "dir" and self.listdir(path):
            raise _oserror(errno.ENOTEMPTY, path)
        del self._nodes[path]

    def listdir(self, path: str) -> list[str]:
        kind = self.kind(path)
        if kind is None:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
        if kind != "dir":
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), path)
        prefix = path.rstrip("/") + "/"
        names = (p[len(prefix) :] for p in self._nodes if p != path and p.startswith(prefix))
        return sorted(n for n in names if "/" not in n)

    def mkdir(self, path: str) -> None:
        if self.kind(path) is not None:
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), path)
        self._require_parent_dir(path)
        self._nodes[path] = _DIR

    def symlink(self, target: str, path: str) -> None:
        if self.kind(path) is not None:
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), path)
        self._require_parent_dir(path)
        self._nodes[path] = _Link(target)

    def readlink(self, path: str) -> str:
        node = self._nodes.get(path)
        if not isinstance(node, _Link):
            raise _oserror(errno.EINVAL if node is not None else errno.ENOENT, path)
        return node.target
