"""A long-running command on a server over SSH, supervised like a local child process.

The docker environment runs each server's agent (`serverd`) this way: the SSH
channel's exit status is the process's, so the supervisor reads a fence, a
halt or a reboot request exactly as it reads a local child's. A channel that
closes with no status (the server lost power: its sshd died with it) reads as
killed. The remote shell prints its pid first, so the process group can be
signalled on the server.
"""

from __future__ import annotations

import subprocess
import time

import paramiko

KILLED_RC = -9  # what subprocess reports for SIGKILL: the channel ended without an exit status


class RemoteProcess:
    """`pid`, `poll()` and `wait()` as subprocess.Popen has them, for one SSH exec channel."""

    def __init__(self, server: str, channel: paramiko.Channel, pid: int) -> None:
        self.server = server
        self.channel = channel
        self.pid = pid
        self.returncode: int | None = None

    def __repr__(self) -> str:
        return f"RemoteProcess({self.server}, pid {self.pid}, rc {self.returncode})"

    def poll(self) -> int | None:
        if self.returncode is not None:
            return self.returncode
        chan = self.channel
        transport = chan.get_transport()
        if chan.exit_status_ready() or chan.closed or transport is None or not transport.is_active():
            # paramiko gives -1 for a channel that closed without an exit status
            rc = chan.recv_exit_status() if chan.exit_status_ready() else -1
            self.returncode = KILLED_RC if rc < 0 else rc
            chan.close()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            rc = self.poll()
            if rc is not None:
                return rc
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise subprocess.TimeoutExpired(f"{self.server}: pid {self.pid}", timeout or 0)
            self.channel.status_event.wait(0.05 if left is None else min(0.05, left))
