"""SSHHostFS against a real sshd: ovmref's HostFS read side over SSH, writes refused, failures named.

A missing file is None (a check may fail on it); a file that is there but
cannot be read raises OSError naming the server, so the prerequisite checks
say "unknown" instead of guessing.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("paramiko", reason="paramiko is not installed: pip install -e '.[containers]'")

from environments.ssh.connection import READABLE_FILES, CommandRefused, RawResult, SSHHost
from environments.ssh.remotefs import SSHHostFS
from ovmref.host.names import HOSTS
from ovmref.hostfs import HostFS, ReadOnlyError
from ovmref.prereq import PoolFacts, check_pool
from ovmref.release import Release
from tests.ssh.sshd_server import Sshd

NAMES = ["plain", "vm1; touch PWNED", "$(reboot)", 'it\'s "q"', "a b", "new\nline", "-rf", "*"]


@pytest.fixture
def tree(tmp_path: Path) -> Iterator[Path]:
    """A directory of hostile names, a symlink, a FIFO (never finishes a read) and a subdirectory."""
    d = tmp_path / "tree"
    d.mkdir()
    for i, name in enumerate(NAMES):
        (d / name).write_text(f"file {i}\n")
    (d / "sub").mkdir()
    (d / "link").symlink_to("/OVS/target dir")
    os.mkfifo(d / "fifo")
    (d / "latin1").write_bytes(b"caf\xe9\n")
    yield d
    # a timed-out remote `cat` still waits on the FIFO (closing a channel stops no command): end it
    with contextlib.suppress(OSError):  # OSError: nobody reading, nothing to end
        os.close(os.open(d / "fifo", os.O_WRONLY | os.O_NONBLOCK))


def _fs(sshd: Sshd, tree: Path, **entry: object) -> SSHHostFS:
    readable = READABLE_FILES | {str(p) for p in tree.iterdir()} | {str(tree / "missing")}
    return SSHHostFS(SSHHost(sshd.entry(**entry), readable_files=readable))


@pytest.fixture
def fs(sshd: Sshd, tree: Path) -> Iterator[SSHHostFS]:
    remote = _fs(sshd, tree)
    yield remote
    remote.host.close()


def test_is_a_hostfs(fs: SSHHostFS) -> None:
    _: HostFS = fs  # mypy checks the protocol; the test checks the methods are there at run time
    assert all(callable(getattr(fs, m)) for m in ("read_text", "exists", "listdir", "readlink", "mkdir"))


def test_reads_match_the_files(fs: SSHHostFS, tree: Path) -> None:
    assert fs.read_text("/etc/hosts") == Path("/etc/hosts").read_text()
    assert fs.read_bytes("/proc/mounts") is not None
    for i, name in enumerate(NAMES):
        assert fs.read_text(str(tree / name)) == f"file {i}\n", name
    assert fs.exists(str(tree / NAMES[1])) and not fs.is_dir(str(tree / NAMES[1]))
    assert fs.is_dir(str(tree / "sub")) and fs.is_dir("/etc")
    assert fs.listdir(str(tree)) == sorted([*NAMES, "sub", "link", "fifo", "latin1"])
    assert fs.listdir(str(tree / "sub")) == []
    assert fs.readlink(str(tree / "link")) == "/OVS/target dir"
    assert fs.readlink(str(tree / "sub")) is None and fs.readlink(str(tree / "nothing")) is None
    assert not (tree / "PWNED").exists() and not (Path.home() / "PWNED").exists()


def test_missing_file_is_none(fs: SSHHostFS, tree: Path) -> None:
    assert fs.read_text(str(tree / "missing")) is None
    assert not fs.exists(str(tree / "missing")) and not fs.is_dir(str(tree / "missing"))
    if not Path("/etc/ovs-release").exists():  # not an Oracle VM Server: the release file is absent
        assert fs.read_text("/etc/ovs-release") is None
    with pytest.raises(FileNotFoundError, match="ovs1"):
        fs.listdir(str(tree / "missing"))
    with pytest.raises(NotADirectoryError, match="ovs1"):
        fs.listdir(str(tree / "plain"))


@pytest.mark.parametrize(
    ("call", "what"),
    [
        (lambda fs, p: fs.write_text(p, "x"), "write"),
        (lambda fs, p: fs.write_bytes(p, b"x"), "write"),
        (lambda fs, p: fs.remove(p), "remove"),
        (lambda fs, p: fs.mkdir(p), "create directory"),
        (lambda fs, p: fs.symlink("/etc", p), "create symlink"),
    ],
)
def test_writes_are_refused(fs: SSHHostFS, tree: Path, call: object, what: str) -> None:
    target = str(tree / "plain")
    with pytest.raises(ReadOnlyError) as caught:
        call(fs, target)  # type: ignore[operator]
    assert caught.value.errno == errno.EROFS and caught.value.filename == target
    assert "ovs1" in str(caught.value) and f"refused to {what}" in str(caught.value)
    assert (tree / "plain").read_text() == "file 0\n"
    assert not fs.host.connected  # refused without asking the server anything


def test_unreadable_is_an_error_naming_the_server(sshd: Sshd, tree: Path) -> None:
    fs = _fs(sshd, tree, command_timeout_s=0.4)
    with pytest.raises(IsADirectoryError, match=r"ovs1 \(.*\): Is a directory"):
        fs.read_text(str(tree / "sub"))
    with pytest.raises(TimeoutError, match=r"ovs1 .*timed out after 0\.4 s") as timed_out:
        fs.read_text(str(tree / "fifo"))  # a FIFO nobody writes: cat waits forever
    assert timed_out.value.filename == str(tree / "fifo")
    with pytest.raises(CommandRefused, match="ovs1") as refused:
        fs.read_text("/etc/shadow")
    assert isinstance(refused.value, PermissionError)
    with pytest.raises(OSError, match=r"ovs1.*not UTF-8") as bad_text:
        fs.read_text(str(tree / "latin1"))
    assert bad_text.value.errno == errno.EILSEQ
    assert fs.read_bytes(str(tree / "latin1")) == b"caf\xe9\n"
    fs.host.close()


def test_host_gone_is_an_error_naming_the_server(sshd: Sshd, tree: Path) -> None:
    fs = _fs(sshd, tree, port=1)
    with pytest.raises(OSError, match=r"ovs1 .*unreachable.*refused") as caught:
        fs.read_text("/etc/hosts")
    assert caught.value.errno == errno.EHOSTUNREACH
    with pytest.raises(OSError):
        fs.exists("/etc/hosts")


def test_each_answer_is_asked_once(fs: SSHHostFS, tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[tuple[str, ...]] = []
    real = fs.host.run_bytes

    def counting(argv: list[str], timeout_s: float | None = None) -> RawResult:
        sent.append(tuple(argv))
        return real(argv, timeout_s)

    monkeypatch.setattr(fs.host, "run_bytes", counting)
    for _ in range(3):
        fs.read_text("/etc/hosts")
        fs.read_text(str(tree / "missing"))
        fs.exists("/etc//hosts")
        fs.listdir(str(tree))
        with pytest.raises(IsADirectoryError):
            fs.read_text(str(tree / "sub"))
    assert len(sent) == 5 and len(set(sent)) == 5
    listing = fs.listdir(str(tree))
    listing.append("changed by the caller")
    assert "changed by the caller" not in fs.listdir(str(tree))


def test_prerequisite_checks_run_over_ssh(sshd: Sshd, tree: Path) -> None:
    """The real checks on a machine that is no Oracle VM Server: verdicts, never a crash; what cannot
    be read (here /etc/hosts, taken off the allow-list) is "unknown", not "failed"."""
    pool = PoolFacts("nfs.example.com:/OVS", "nfs", [("ovs1", "ovs1.example.com", "127.0.0.1")])
    full = SSHHostFS(SSHHost(sshd.entry()))
    no_hosts = SSHHostFS(SSHHost(sshd.entry(), readable_files=READABLE_FILES - {HOSTS}))
    try:
        findings = check_pool({"ovs1": full}, Release.R2_2, pool)
        assert findings and all(f.status in ("passed", "failed", "unknown") for f in findings)
        services = next(f for f in findings if f.rule == "PRE-SERVICES-UP")
        assert services.status == "failed" and "o2cb" in services.message
        blind = check_pool({"ovs1": no_hosts}, Release.R2_2, pool)
        name_checks = [f for f in blind if HOSTS in f.message]
        assert name_checks and all(f.status == "unknown" for f in name_checks)
        assert any("allow-list" in f.message for f in name_checks)
    finally:
        full.host.close()
        no_hosts.host.close()
