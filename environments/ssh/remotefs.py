"""A real server's files, read over SSH: the read side of ovmref's HostFS, never the write side.

ovmref's prerequisite checks read a server through `HostFS`; this one answers
them with allow-listed commands on an `SSHHost` (`cat`, `test`, `readlink`,
`find -printf`), so the same checks that judge the simulator judge a live
pool. The distinction the checks rely on is kept: a missing file is None (the
check can say "failed: does not exist"), while a file that is there but
cannot be read (permission, refused by the allow-list, timeout, host gone)
raises OSError naming the server, so the check says "unknown" instead of
guessing. Every answer is cached: one validation run asks each thing once.
"""

from __future__ import annotations

import errno
import posixpath
from collections.abc import Callable
from typing import TypeVar

from environments.ssh.connection import LISTDIR_FORMAT, TIMEOUT_RC, HostUnreachable, RawResult, SSHHost
from ovmref.hostfs import ReadOnlyError

__all__ = ["SSHHostFS"]

T = TypeVar("T")

# strerror texts under LC_ALL=C (SSHHost sets it), matched at the end of a message so a path
# that itself contains such words cannot fool the match
_MISSING = ("No such file or directory", "Not a directory")
_ERRORS = {
    "No such file or directory": errno.ENOENT,
    "Not a directory": errno.ENOTDIR,
    "Permission denied": errno.EACCES,
    "Is a directory": errno.EISDIR,
}


def _normalize(path: str) -> str:
    if not path.startswith("/"):
        raise ValueError(f"host paths are absolute POSIX paths, got {path!r}")
    if "\0" in path:
        raise ValueError(f"host paths cannot contain NUL: {path!r}")
    return posixpath.normpath(path).replace("//", "/")


def _strerror_at_end(stderr: bytes) -> str | None:
    text = stderr.decode("utf-8", "replace").rstrip()
    return next((s for s in _ERRORS if text.endswith(": " + s)), None)


class SSHHostFS:
    """Read-only HostFS over one SSHHost; writes raise ReadOnlyError naming the path and the server."""

    def __init__(self, host: SSHHost) -> None:
        self.host = host
        self._cache: dict[tuple[str, str], object] = {}

    @property
    def server(self) -> str:
        return self.host.name

    def __repr__(self) -> str:
        return f"SSHHostFS({self.host!r})"

    # ---- plumbing ------------------------------------------------------------------------
    def _where(self) -> str:
        return f"{self.host.name} ({self.host.entry.address})"

    def _cached(self, kind: str, path: str, compute: Callable[[], T]) -> T:
        key = (kind, path)
        if key in self._cache:
            hit = self._cache[key]
            if isinstance(hit, OSError):
                raise hit
            return hit  # type: ignore[return-value]
        try:
            value: object = compute()
        except OSError as exc:
            self._cache[key] = exc  # a host that timed out once is not asked again in this run
            raise
        self._cache[key] = value
        return value  # type: ignore[return-value]

    def _run(self, argv: list[str], path: str) -> RawResult:
        try:
            result = self.host.run_bytes(argv)
        except HostUnreachable as exc:
            raise OSError(errno.EHOSTUNREACH, str(exc), path) from None
        if result.rc == TIMEOUT_RC:
            raise TimeoutError(
                errno.ETIMEDOUT,
                f"{self._where()}: `{argv[0]}` timed out after {self.host.entry.command_timeout_s:g} s",
                path,
            )
        return result

    def _error(self, result: RawResult, path: str) -> OSError:
        """The OSError a failed command stands for, named after the server."""
        known = _strerror_at_end(result.stderr)
        if known is not None:
            return OSError(_ERRORS[known], f"{self._where()}: {known}", path)
        detail = result.stderr.decode("utf-8", "replace").strip()[-200:] or "no message"
        message = f"{self._where()}: `{result.argv[0]}` failed (rc {result.rc}): {detail}"
        return OSError(errno.EIO, message, path)

    # ---- HostFS reads -----------------------------------------------------------------------
    def read_bytes(self, path: str) -> bytes | None:
        p = _normalize(path)

        def read() -> bytes | None:
            result = self._run(["cat", p], p)
            if result.rc == 0:
                return result.stdout
            if _strerror_at_end(result.stderr) in _MISSING:
                return None
            raise self._error(result, p)

        return self._cached("read", p, read)

    def read_text(self, path: str) -> str | None:
        data = self.read_bytes(path)
        if data is None:
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise OSError(
                errno.EILSEQ, f"{self._where()}: not UTF-8 text (byte {exc.start})", _normalize(path)
            ) from None

    def _test(self, flag: str, path: str) -> bool:
        p = _normalize(path)

        def test() -> bool:
            result = self._run(["test", flag, p], p)
            if result.rc in (0, 1):
                return result.rc == 0
            raise self._error(result, p)

        return self._cached(f"test{flag}", p, test)

    def exists(self, path: str) -> bool:
        return self._test("-e", path)

    def is_dir(self, path: str) -> bool:
        return self._test("-d", path)

    def listdir(self, path: str) -> list[str]:
        p = _normalize(path)

        def listdir() -> list[str]:
            argv = ["find", "-H", p, "-mindepth", "1", "-maxdepth", "1", "-printf", LISTDIR_FORMAT]
            result = self._run(argv, p)
            if result.rc != 0:
                raise self._error(result, p)
            names = sorted(n.decode("utf-8", "surrogateescape") for n in result.stdout.split(b"\0") if n)
            if not names and not self.is_dir(p):  # find lists nothing for a file, ls-like tools fail
                if self.exists(p):
                    raise NotADirectoryError(errno.ENOTDIR, f"{self._where()}: Not a directory", p)
                raise FileNotFoundError(errno.ENOENT, f"{self._where()}: No such file or directory", p)
            return names

        return list(self._cached("listdir", p, listdir))

    def readlink(self, path: str) -> str | None:
        p = _normalize(path)

        def readlink() -> str | None:
            result = self._run(["readlink", p], p)
            if result.rc == 0:
                out = result.stdout[:-1] if result.stdout.endswith(b"\n") else result.stdout
                return out.decode("utf-8", "surrogateescape")
            # not a link, or missing: readlink says nothing (or EINVAL/ENOENT with -v builds)
            why = _strerror_at_end(result.stderr)
            text = result.stderr.decode("utf-8", "replace").rstrip()
            if result.rc == 1 and (not text or why in _MISSING or text.endswith(": Invalid argument")):
                return None
            raise self._error(result, p)

        return self._cached("readlink", p, readlink)

    # ---- HostFS writes: never ----------------------------------------------------------------
    def _refuse(self, what: str, path: str) -> ReadOnlyError:
        return ReadOnlyError(errno.EROFS, f"read-only host {self._where()}: refused to {what}", path)

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
