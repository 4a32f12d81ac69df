"""A server's files on a real directory: the file adapters of the real-process environments.

ovmref is sans-IO: its host code reads and writes through the HostFS port and its trees, never
the real filesystem. The local and docker environments give each server a real directory
(`root/etc/hosts` is the server's /etc/hosts), so real tools (mkfs.ocfs2, a server process)
can work on the same files; these are the adapters that do it.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from ovmref.host.trees import Kind
from ovmref.hostfs import HostView

__all__ = ["DirectoryHostFS", "DirectoryTree"]


class DirectoryTree:
    """A file tree on a real directory; symlinks keep server-absolute targets, never followed by the OS."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "tree root is not a directory", str(root))

    def __repr__(self) -> str:
        return f"DirectoryTree({str(self.root)!r})"

    def _real(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    def real_location(self, path: str) -> Path | None:
        return self._real(path)

    def kind(self, path: str) -> Kind | None:
        real = self._real(path)
        if real.is_symlink():
            return "link"
        if real.is_dir():
            return "dir"
        return "file" if real.exists() else None

    def read(self, path: str) -> bytes:
        return self._real(path).read_bytes()

    def write(self, path: str, data: bytes) -> None:
        real = self._real(path)
        if real.is_dir() and not real.is_symlink():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
        fd, tmp = tempfile.mkstemp(dir=real.parent, prefix=f".{real.name}.")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, real)  # atomic: readers see the old or the new file, never half
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def remove(self, path: str) -> None:
        real = self._real(path)
        if real.is_dir() and not real.is_symlink():
            real.rmdir()
        else:
            real.unlink()

    def listdir(self, path: str) -> list[str]:
        return sorted(os.listdir(self._real(path)))

    def mkdir(self, path: str) -> None:
        self._real(path).mkdir()

    def symlink(self, target: str, path: str) -> None:
        os.symlink(target, self._real(path))

    def readlink(self, path: str) -> str:
        return os.readlink(self._real(path))


class DirectoryHostFS(HostView):
    """A server's files under a real directory (`root/etc/hosts` is the server's /etc/hosts)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        super().__init__(DirectoryTree(self.root))
