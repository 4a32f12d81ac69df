"""Supervised processes and forwarded ports over SSH, as the docker environment runs its agents.

`SSHHost.start()` runs a command whose exit status comes back as the channel's (a fence, a halt
or a reboot reads like a local child's); `forward()` reaches a port on the server's loopback.
Both are refused in read-only mode, and a failed forward never drops a live session: the
processes that session carries would die with it.
"""

from __future__ import annotations

import errno
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from environments.ssh.connection import CommandRefused, SSHHost
from environments.ssh.remoteproc import KILLED_RC
from tests.ssh.sshd_server import Sshd


@pytest.fixture
def root_host(sshd: Sshd) -> Iterator[SSHHost]:
    with SSHHost(sshd.entry(), read_only=False) as h:
        yield h


def test_a_started_process_reports_its_pid_and_exit_status(root_host: SSHHost, tmp_path: Path) -> None:
    log = tmp_path / "out.log"
    proc = root_host.start(["sh", "-c", "echo hello; exit 11"], log_file=str(log))
    assert proc.pid > 0
    assert proc.wait(timeout=20) == 11
    assert proc.poll() == 11
    assert log.read_text() == "hello\n"


def test_a_running_process_polls_none_and_can_be_killed_by_its_group(
    root_host: SSHHost, tmp_path: Path
) -> None:
    proc = root_host.start(["sleep", "60"], log_file=str(tmp_path / "log"))
    assert proc.poll() is None
    assert root_host.run(["kill", "-KILL", "--", f"-{proc.pid}"]).rc == 0
    assert proc.wait(timeout=20) != 0


def test_a_process_whose_session_is_gone_reads_as_killed(sshd: Sshd, tmp_path: Path) -> None:
    host = SSHHost(sshd.entry(), read_only=False)
    proc = host.start(["sleep", "60"], log_file=str(tmp_path / "log"))
    host.close()
    assert proc.wait(timeout=20) == KILLED_RC


def test_read_only_refuses_starting_and_forwarding_before_sending(sshd: Sshd, tmp_path: Path) -> None:
    marker = tmp_path / "must-not-exist"
    with SSHHost(sshd.entry()) as host:
        with pytest.raises(CommandRefused):
            host.start(["touch", str(marker)], log_file=str(tmp_path / "log"))
        with pytest.raises(CommandRefused):
            host.forward(22, 5)
    assert not marker.exists()


def test_forward_reaches_a_loopback_port_and_a_refused_one_keeps_the_session(
    root_host: SSHHost, tmp_path: Path
) -> None:
    proc = root_host.start(["sleep", "60"], log_file=str(tmp_path / "log"))
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]

        def echo() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.sendall(conn.recv(100).upper())

        server = threading.Thread(target=echo, daemon=True)
        server.start()
        chan = root_host.forward(port, timeout_s=10)
        chan.sendall(b"ping\n")
        assert chan.recv(100) == b"PING\n"
        chan.close()
        server.join(timeout=10)
    with pytest.raises(ConnectionRefusedError) as refused:
        root_host.forward(port, timeout_s=10)  # nothing listens there any more
    assert refused.value.errno == errno.ECONNREFUSED
    assert root_host.connected, "a refused forward dropped the session"
    assert proc.poll() is None, "the supervised process died with a refused forward"
    root_host.run(["kill", "-KILL", str(proc.pid)])
