"""A guest domain of a local server: a forked child of the server process that waits until killed.

A guest must be a process of its server (it dies with the server's process group, a crash
or a kill of it is seen at once), but it need not be a program: forking the server process
costs a millisecond, whereas starting `sleep` means an exec, which inside a container reads the
binary through the image's storage driver (fuse-overlayfs here: tens to hundreds of
milliseconds on a busy machine, during which the server's event loop, waiting for the exec,
runs no heartbeat). The child drops everything it inherited (signal handlers, the event loop's
wakeup descriptor, every open file), names itself `ovm-guest` (what `ps -o comm` and `pkill -x`
see) and sleeps; it dies with its server (PR_SET_PDEATHSIG) even when only the server is killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
from typing import NoReturn

GUEST_COMM = "ovm-guest"
_PR_SET_PDEATHSIG = 1
_PR_SET_NAME = 15


def _prctl(option: int, arg: int | bytes) -> None:
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(option, arg, 0, 0, 0)


def die_with_parent() -> None:
    """Linux prctl(PR_SET_PDEATHSIG, SIGKILL): when our parent dies, so do we."""
    _prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))


def _be_the_guest() -> NoReturn:
    """In the forked child: forget the server, then wait to be killed."""
    try:
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGCONT, signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        die_with_parent()
        _prctl(_PR_SET_NAME, GUEST_COMM.encode())
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        for name in os.listdir("/proc/self/fd"):
            fd = int(name)
            if fd > 2:
                with contextlib.suppress(OSError):
                    os.close(fd)
        while True:
            signal.pause()
    finally:
        os._exit(0)


class GuestProcess:
    """The child as its server sees it: pid, kill(), wait() and the returncode (-signal when killed)."""

    def __init__(self, pid: int, loop: asyncio.AbstractEventLoop) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._exited: asyncio.Future[int] = loop.create_future()
        self._pidfd = os.pidfd_open(pid)
        self._loop = loop
        loop.add_reader(self._pidfd, self._reap)

    @classmethod
    def start(cls, loop: asyncio.AbstractEventLoop) -> GuestProcess:
        pid = os.fork()
        if pid == 0:
            _be_the_guest()
        return cls(pid, loop)

    def kill(self) -> None:
        if self.returncode is None:
            os.kill(self.pid, signal.SIGKILL)

    async def wait(self) -> int:
        return await asyncio.shield(self._exited)

    def _reap(self) -> None:
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = self.pid, 0
        if pid == 0:
            return  # readable, yet not reaped: it is in the middle of exiting
        self._loop.remove_reader(self._pidfd)
        os.close(self._pidfd)
        self.returncode = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        if not self._exited.done():
            self._exited.set_result(self.returncode)
