"""SSHHost against a real sshd: reads work, writes are refused before sending, host keys are strict,
timeouts hold, hostile names stay words, and no secret reaches a log or a message."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("paramiko", reason="paramiko is not installed: pip install -e '.[containers]'")

from environments.ssh.connection import (
    READABLE_FILES,
    CommandRefused,
    HostUnreachable,
    SSHHost,
    check_read_only,
    redact,
)
from tests.ssh.sshd_server import Sshd

HOSTILE = [
    "vm1; touch PWNED",
    "$(touch PWNED)",
    "`touch PWNED`",
    "it's \"quoted\" 'twice'",
    "two  spaces and\ttab",
    "new\nline; touch PWNED",
    "*",
    "-rf",
    "|| touch PWNED &&",
    "> PWNED",
]


@pytest.fixture(scope="module")
def host(sshd: Sshd) -> Iterator[SSHHost]:
    """One read-only session for the module's tests (each command is still its own channel)."""
    with SSHHost(sshd.entry()) as h:
        yield h


@pytest.fixture
def root_host(sshd: Sshd) -> Iterator[SSHHost]:
    """Destructive mode: for setting up files and for `sleep` (never allowed read-only)."""
    with SSHHost(sshd.entry(), read_only=False) as h:
        yield h


# ---- reads ---------------------------------------------------------------------------------
def test_allowed_reads_work(host: SSHHost) -> None:
    hosts = host.run(["cat", "/etc/hosts"])
    assert hosts.succeeded and hosts.stdout == Path("/etc/hosts").read_text()
    assert hosts.argv == ("cat", "/etc/hosts")
    assert host.run(["id", "-u"]).stdout.strip() == str(os.geteuid())
    assert host.run(["hostname"]).stdout.strip() == socket.gethostname()
    assert host.run(["test", "-d", "/etc"]).rc == 0
    assert host.run(["stat", "-c", "%F", "/etc", "/etc/hosts"]).stdout == "directory\nregular file\n"


def test_missing_file_reads_as_failed_command(host: SSHHost) -> None:
    missing = host.run(["cat", "/etc/ovs-release"]) if not Path("/etc/ovs-release").exists() else None
    if missing is not None:
        assert missing.rc == 1 and missing.stderr.rstrip().endswith("No such file or directory")


# ---- read-only is enforced, before anything is sent -------------------------------------------
REFUSED = [
    ["rm", "-f", "VICTIM"],
    ["sh", "-c", "rm -f VICTIM"],
    ["bash", "-c", "rm -f VICTIM"],
    ["tee", "VICTIM"],
    ["dd", "if=/dev/zero", "of=VICTIM"],
    ["cp", "/etc/hosts", "VICTIM"],
    ["mv", "VICTIM", "/tmp/elsewhere"],
    ["find", "VICTIM", "-delete"],
    ["find", "-H", "VICTIM", "-mindepth", "1", "-maxdepth", "1", "-exec", "rm", "{}", ";"],
    ["cat", "VICTIM"],  # a file validation does not read
    ["cat"],
    ["cat", "/etc/shadow"],
    ["/bin/cat", "/etc/hosts"],
    ["test", "-w", "VICTIM"],
    ["test", "-e", "relative/path"],
    ["readlink", "-f", "VICTIM"],
    ["hostname", "evil"],
    ["/sbin/service", "ovs-agent", "stop"],
    ["/sbin/service", "evil; rm -f VICTIM", "status"],
    ["/usr/sbin/xm", "destroy", "vm1"],
    ["getent", "hosts", "-s", "x"],
    ["stat", "--printf", "x", "VICTIM"],
    ["id", "root"],
    ["sleep", "1"],
]


@pytest.mark.parametrize("argv", REFUSED, ids=[" ".join(a)[:40] for a in REFUSED])
def test_read_only_refuses_before_sending(sshd: Sshd, host: SSHHost, tmp_path: Path, argv: list[str]) -> None:
    victim = tmp_path / "victim"
    victim.write_text("still here\n")
    words = [a.replace("VICTIM", str(victim)) for a in argv]
    # an unreachable port: a refusal that needed the network would say HostUnreachable instead
    offline = SSHHost(sshd.entry(port=1))
    with pytest.raises(CommandRefused, match=r"ovs1 \(.*\): read-only mode refused"):
        offline.run(words)
    assert not offline.connected
    with pytest.raises(CommandRefused):
        host.run(words)
    assert victim.read_text() == "still here\n"


def test_refusal_is_a_permission_error_naming_server_and_command(host: SSHHost) -> None:
    with pytest.raises(PermissionError) as caught:
        host.run(["rm", "-rf", "/OVS/running_pool/vm1"])
    message = str(caught.value)
    assert "ovs1" in message and "rm -rf /OVS/running_pool/vm1" in message and "allow-list" in message


def test_destructive_mode_runs_anything_quoted(root_host: SSHHost, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("x")
    assert root_host.run(["rm", str(victim)]).succeeded
    assert not victim.exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["cat", "/etc/hosts", "/proc/mounts"],
        ["test", "-L", "/OVS"],
        ["readlink", "/OVS"],
        ["stat", "-L", "-c", "%s %Y", "/etc/hosts"],
        ["find", "-H", "/var/lock/subsys", "-mindepth", "1", "-maxdepth", "1", "-printf", "%f\\0"],
        ["hostname", "-f"],
        ["uname", "-r", "-m"],
        ["getent", "hosts", "ovs2.example.com"],
        ["/sbin/service", "o2cb", "status"],
        ["/usr/sbin/xm", "list"],
        ["id", "-u"],
    ],
)
def test_allow_list_lets_validation_reads_through(argv: list[str]) -> None:
    assert check_read_only(argv) is None


def test_every_readable_file_is_an_absolute_config_path() -> None:
    assert all(p.startswith(("/etc/", "/proc/")) for p in READABLE_FILES)
    assert "/etc/ovs-release" in READABLE_FILES and "/etc/shadow" not in READABLE_FILES


def test_argv_must_be_words(host: SSHHost) -> None:
    with pytest.raises(TypeError, match="list of words"):
        host.run("cat /etc/hosts")
    with pytest.raises(ValueError, match="NUL"):
        host.run(["test", "-e", "/etc/hosts\0x"])
    with pytest.raises(ValueError, match="empty"):
        host.run([])


# ---- hostile names are words, never shell --------------------------------------------------
def _no_pwned(where: Path) -> None:
    assert not (where / "PWNED").exists()
    assert not (Path.home() / "PWNED").exists()


def test_hostile_names_never_execute(tmp_path: Path, host: SSHHost) -> None:
    words = [name.replace("PWNED", str(tmp_path / "PWNED")) for name in HOSTILE]
    # stat takes many paths: every hostile word in one command, each looked up as one file name
    stat = host.run(["stat", "-c", "%n", *[f"{tmp_path}/{w}" for w in words]])
    assert stat.rc == 1 and stat.stdout == ""
    assert stat.stderr.count("No such file or directory") == len(words)
    assert host.run(["test", "-e", f"{tmp_path}/{words[0]}"]).rc == 1
    _no_pwned(tmp_path)


def test_hostile_names_round_trip(sshd: Sshd, tmp_path: Path, root_host: SSHHost) -> None:
    paths = [f"{tmp_path}/{name}" for name in HOSTILE]
    for i, path in enumerate(paths):
        Path(path).write_text(f"content {i}\n")
    with SSHHost(sshd.entry(), readable_files=READABLE_FILES | set(paths)) as reader:
        assert reader.run(["cat", *paths]).stdout == "".join(f"content {i}\n" for i in range(len(paths)))
        assert reader.run(["stat", "-c", "%n", *paths]).stdout == "".join(f"{p}\n" for p in paths)
    # and created remotely from argv: exactly one file per name, with that name
    made = tmp_path / "made"
    made.mkdir()
    assert root_host.run(["touch", *[f"{made}/{name}" for name in HOSTILE]]).succeeded
    assert sorted(p.name for p in made.iterdir()) == sorted(HOSTILE)
    _no_pwned(tmp_path)
    _no_pwned(made)


# ---- host keys: strict, never added ------------------------------------------------------------
def test_changed_host_key_is_refused(sshd: Sshd) -> None:
    before = Path(sshd.changed_known_hosts).read_text()
    with pytest.raises(HostUnreachable) as caught:
        SSHHost(sshd.entry(known_hosts=sshd.changed_known_hosts)).connect()
    assert caught.value.reason == "host key changed"
    message = str(caught.value)
    assert "host key CHANGED" in message and "ovs1" in message and "127.0.0.1" in message
    assert "SHA256:" in message and sshd.changed_known_hosts in message
    assert Path(sshd.changed_known_hosts).read_text() == before


def test_unknown_host_key_is_refused_and_not_added(sshd: Sshd) -> None:
    with pytest.raises(HostUnreachable) as caught:
        SSHHost(sshd.entry(known_hosts=sshd.empty_known_hosts)).run(["id", "-u"])
    assert caught.value.reason == "host key unknown"
    assert "host key unknown" in str(caught.value) and "SHA256:" in str(caught.value)
    assert Path(sshd.empty_known_hosts).read_text() == ""


# ---- unreachable, quickly, saying why --------------------------------------------------------
def test_refused_port(sshd: Sshd) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    start = time.monotonic()
    with pytest.raises(HostUnreachable, match=rf"ovs1 \(.*127\.0\.0\.1:{closed}\).*connection refused") as c:
        SSHHost(sshd.entry(port=closed)).connect()
    assert c.value.reason == "refused" and time.monotonic() - start < 2


def test_silent_port_times_out_at_connect_timeout(sshd: Sshd) -> None:
    """A port that accepts TCP but never speaks SSH (a hung sshd, a firewall proxy)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        start = time.monotonic()
        with pytest.raises(
            HostUnreachable, match=r"no SSH banner or handshake on port \d+ within 0\.5 s"
        ) as caught:
            SSHHost(sshd.entry(port=port, connect_timeout_s=0.5)).connect()
        assert caught.value.reason == "timeout"
        assert time.monotonic() - start < 3


def test_unknown_name(sshd: Sshd) -> None:
    with pytest.raises(HostUnreachable, match=r"DNS cannot resolve no-such-server\.invalid") as caught:
        SSHHost(sshd.entry(host="no-such-server.invalid")).connect()
    assert caught.value.reason == "dns"


def test_wrong_key_fails_authentication(sshd: Sshd) -> None:
    with pytest.raises(HostUnreachable, match="authentication failed for user") as caught:
        SSHHost(sshd.entry(key_file=str(sshd.dir / "other_host_key"))).connect()
    assert caught.value.reason == "auth failed"


# ---- timeouts ------------------------------------------------------------------------------
def test_command_past_its_timeout_gets_124_and_the_host_stays_usable(root_host: SSHHost) -> None:
    start = time.monotonic()
    result = root_host.run(["sleep", "3"], timeout_s=0.5)
    took = time.monotonic() - start
    assert result.rc == 124 and "timed out after 0.5 s" in result.stderr and "ovs1" in result.stderr
    assert 0.4 < took < 2
    assert root_host.run(["echo", "alive"]).stdout == "alive\n"


def test_default_timeout_is_the_entrys(sshd: Sshd) -> None:
    with SSHHost(sshd.entry(command_timeout_s=0.3), read_only=False) as h:
        assert h.run(["sleep", "2"]).rc == 124


def test_output_and_exit_status_come_back_whole(root_host: SSHHost) -> None:
    big = root_host.run(["sh", "-c", "head -c 300000 /dev/zero | tr '\\0' x; echo err >&2; exit 3"])
    assert (big.rc, len(big.stdout), big.stderr) == (3, 300000, "err\n")


def test_stderr_is_whole_even_when_the_exit_status_comes_first(host: SSHHost) -> None:
    """sshd may send the exit status before the last of stderr: the result waits for the close."""
    paths = [f"/no/such/dir/file{i}" for i in range(8)]
    for _ in range(25):
        result = host.run(["stat", "-c", "%n", *paths])
        assert result.rc == 1
        assert [line.rsplit(": ", 1)[-1] for line in result.stderr.splitlines()] == [
            "No such file or directory"
        ] * len(paths)


def test_lost_connection_is_host_unreachable(root_host: SSHHost) -> None:
    transport = root_host._client.get_transport() if root_host._client else None
    assert transport is not None
    threading.Timer(0.3, transport.close).start()
    with pytest.raises(HostUnreachable):
        root_host.run(["sleep", "2"])
    assert root_host.run(["echo", "back"]).stdout == "back\n"  # reconnects on the next command


# ---- secrets never appear ----------------------------------------------------------------------
def test_redact() -> None:
    block = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\nAAAA\n-----END OPENSSH PRIVATE KEY-----"
    assert redact(f"x {block} y") == "x [REDACTED PRIVATE KEY] y"
    assert redact("-----BEGIN RSA PRIVATE KEY-----\nMIIEow truncated") == "[REDACTED PRIVATE KEY]"
    assert redact("password=hunter2 user=root") == "password=[REDACTED] user=root"
    assert redact("DB_PASSWORD: 'a b' ok") == "DB_PASSWORD: [REDACTED] ok"
    assert redact("vncpasswd=abc --password s3cret -p x") == "vncpasswd=[REDACTED] --password [REDACTED] -p x"
    assert redact("cat /etc/hosts") == "cat /etc/hosts"


def test_no_secret_in_logs_or_messages(
    sshd: Sshd, tmp_path: Path, caplog: pytest.LogCaptureFixture, host: SSHHost
) -> None:
    caplog.set_level(logging.DEBUG)
    private = Path(sshd.key_file).read_text()
    body = [line for line in private.splitlines() if line and not line.startswith("-----")]
    # a key file that is not a key, full of secrets, as a careless administrator might leave it
    bogus = tmp_path / "bogus_key"
    bogus.write_text(f"password=hunter2\n{private}")
    messages: list[str] = []
    with SSHHost(sshd.entry()) as h:
        h.run(["cat", "/etc/hosts"])
        for argv in (["rm", "password=hunter2"], ["sh", "-c", f"echo '{private}'"]):
            with pytest.raises(CommandRefused) as refused:
                h.run(argv)
            messages.append(str(refused.value))
    with pytest.raises(HostUnreachable) as failed:
        SSHHost(sshd.entry(key_file=str(bogus))).connect()
    messages.append(str(failed.value))
    with SSHHost(sshd.entry(), read_only=False) as h:
        h.run(["sh", "-c", "echo password=hunter2 >&2; exit 1"])
    text = caplog.text + "\n".join(messages)
    assert "hunter2" not in text
    assert not [line for line in body if line in text]
    assert "ovs1" in caplog.text and "rc=1" in caplog.text  # the log does record commands and results


def test_known_hosts_file_unreadable(sshd: Sshd, tmp_path: Path) -> None:
    with pytest.raises(HostUnreachable, match="cannot read known_hosts file") as caught:
        SSHHost(sshd.entry(known_hosts=str(tmp_path / "gone"))).connect()
    assert caught.value.reason == "config"


def test_sshd_log_shows_key_logins_only(sshd: Sshd, host: SSHHost) -> None:
    """The server saw public-key logins and never a password attempt."""
    assert host.run(["id", "-u"]).succeeded
    log = sshd.log.read_text()
    assert "Accepted publickey" in log
    assert "Accepted password" not in log and "Failed password" not in log
