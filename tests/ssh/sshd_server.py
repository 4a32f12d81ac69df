"""A real OpenSSH server on loopback for the SSH driver's tests, with throwaway keys.

One sshd per test session (per xdist worker): its own host key, an
authorized_keys file holding a throwaway client key, passwords off, and a
known_hosts file naming `[127.0.0.1]:PORT`.
"""

from __future__ import annotations

import ctypes
import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from environments.ssh.inventory import ServerEntry

SSHD = "/usr/sbin/sshd"


class SshdUnavailable(Exception):
    """sshd is not installed or would not start here (the tests skip with this reason)."""


@dataclass(frozen=True)
class Sshd:
    """The running test server and everything a client needs to reach it."""

    port: int
    user: str
    dir: Path
    key_file: str  # the client's private key (authorized on the server)
    known_hosts: str  # the server's real host key
    changed_known_hosts: str  # another key for [127.0.0.1]:PORT: a "changed" host key
    empty_known_hosts: str  # nothing: the host key is unknown
    log: Path

    def entry(self, **changes: Any) -> ServerEntry:
        base = ServerEntry(
            name="ovs1",
            host="127.0.0.1",
            port=self.port,
            user=self.user,
            key_file=self.key_file,
            known_hosts=self.known_hosts,
            fqdn="ovs1.example.com",
            ip="127.0.0.1",
            connect_timeout_s=5.0,
            command_timeout_s=5.0,
        )
        return replace(base, **changes)


def _keygen(path: Path) -> str:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ovm-conformance-test", "-f", str(path)],
        check=True,
        capture_output=True,
    )
    kind, b64 = Path(f"{path}.pub").read_text().split()[:2]
    return f"{kind} {b64}"


def _die_with_parent() -> None:
    """In the child: SIGTERM when the test process dies, even by SIGKILL (prctl PR_SET_PDEATHSIG)."""
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(proc: subprocess.Popen[bytes], port: int, log: Path) -> str | None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return f"sshd exited with status {proc.returncode}: {log.read_text().strip()[-500:]}"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                if s.recv(4) == b"SSH-":
                    return None
        except OSError:
            time.sleep(0.05)
    return f"sshd did not listen on 127.0.0.1:{port} within 10 s: {log.read_text().strip()[-500:]}"


@contextmanager
def running_sshd(d: Path) -> Iterator[Sshd]:
    """Start sshd with keys and configuration under `d`; stop it on leaving."""
    if not os.path.exists(SSHD) or shutil.which("ssh-keygen") is None:
        raise SshdUnavailable(
            f"{SSHD} or ssh-keygen is missing: install openssh-server (bash .ci/run does, as root)"
        )
    host_pub = _keygen(d / "host_key")
    client_pub = _keygen(d / "client_key")
    other_pub = _keygen(d / "other_host_key")
    (d / "authorized_keys").write_text(client_pub + "\n")
    port = _free_port()
    config = d / "sshd_config"
    config.write_text(
        f"Port {port}\n"
        "ListenAddress 127.0.0.1\n"
        f"HostKey {d / 'host_key'}\n"
        f"AuthorizedKeysFile {d / 'authorized_keys'}\n"
        "PubkeyAuthentication yes\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "UsePAM no\n"
        "StrictModes no\n"
        "PidFile none\n"
        "PermitRootLogin prohibit-password\n"
        "MaxSessions 50\n"
        "LogLevel VERBOSE\n"
        # a clean HOME: Debian's bash sources ~/.bashrc for ssh commands, and a developer's
        # (pyenv init, say) can cost half a second a command
        f"SetEnv HOME={d / 'home'}\n"
    )
    (d / "home").mkdir()
    if os.geteuid() == 0:
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # privilege separation dir (systemd makes it)
    log = d / "sshd.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(config)], stdout=err, stderr=err, preexec_fn=_die_with_parent
        )
    try:
        problem = _wait_listening(proc, port, log)
        if problem is not None:
            raise SshdUnavailable(f"cannot start a test sshd: {problem}")
        (d / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_pub}\n")
        (d / "changed_known_hosts").write_text(f"[127.0.0.1]:{port} {other_pub}\n")
        (d / "empty_known_hosts").write_text("")
        yield Sshd(
            port=port,
            user=getpass.getuser(),
            dir=d,
            key_file=str(d / "client_key"),
            known_hosts=str(d / "known_hosts"),
            changed_known_hosts=str(d / "changed_known_hosts"),
            empty_known_hosts=str(d / "empty_known_hosts"),
            log=log,
        )
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
