"""HostFS contract, run on every implementation, plus mounts, symlinks and read-only views."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from environments.hostdir import DirectoryHostFS, DirectoryTree
from ovmref.hostfs import (
    HostFS,
    MemoryHostFS,
    MemoryTree,
    ReadOnlyError,
    ReadOnlyHostFS,
)


@pytest.fixture(params=["memory", "directory"])
def fs(request: pytest.FixtureRequest, tmp_path: Path) -> MemoryHostFS | DirectoryHostFS:
    return MemoryHostFS() if request.param == "memory" else DirectoryHostFS(tmp_path)


def test_missing_files_read_as_none(fs: HostFS) -> None:
    assert fs.read_text("/etc/hosts") is None
    assert fs.read_bytes("/etc/hosts") is None
    assert not fs.exists("/etc/hosts")
    assert fs.readlink("/etc/hosts") is None


def test_write_creates_parents_and_reads_back(fs: HostFS) -> None:
    fs.write_text("/etc/ovs/repositories", "A\n")
    assert fs.read_text("/etc/ovs/repositories") == "A\n"
    assert fs.is_dir("/etc/ovs")
    assert fs.listdir("/etc/ovs") == ["repositories"]
    fs.write_bytes("/etc/ovs/repositories", b"B")
    assert fs.read_bytes("/etc/ovs/repositories") == b"B"


def test_mkdir_is_idempotent_and_refuses_files(fs: HostFS) -> None:
    fs.mkdir("/var/lock/subsys")
    fs.mkdir("/var/lock/subsys")
    assert fs.is_dir("/var/lock")
    fs.write_text("/var/lock/subsys/o2cb", "")
    with pytest.raises(FileExistsError):
        fs.mkdir("/var/lock/subsys/o2cb")
    with pytest.raises(FileNotFoundError):
        fs.mkdir("/a/b/c", parents=False)


def test_remove_file_and_empty_directory_only(fs: HostFS) -> None:
    fs.write_text("/d/f", "x")
    with pytest.raises(OSError):
        fs.remove("/d")
    fs.remove("/d/f")
    fs.remove("/d")
    assert not fs.exists("/d")
    with pytest.raises(FileNotFoundError):
        fs.remove("/d")


def test_absolute_symlink_resolves_inside_the_host(fs: HostFS) -> None:
    fs.write_text("/var/ovs/mount/U1/file", "shared")
    fs.symlink("/var/ovs/mount/U1", "/OVS")
    assert fs.readlink("/OVS") == "/var/ovs/mount/U1"
    assert fs.read_text("/OVS/file") == "shared"
    assert fs.is_dir("/OVS")
    fs.write_text("/OVS/new", "via link")
    assert fs.read_text("/var/ovs/mount/U1/new") == "via link"
    fs.remove("/OVS")  # removes the link, not the target
    assert fs.exists("/var/ovs/mount/U1/file")


def test_relative_symlink_and_loops(fs: HostFS) -> None:
    fs.write_text("/etc/real", "r")
    fs.symlink("real", "/etc/alias")
    assert fs.read_text("/etc/alias") == "r"
    fs.symlink("/loop2", "/loop1")
    fs.symlink("/loop1", "/loop2")
    with pytest.raises(OSError) as info:
        fs.read_text("/loop1")
    assert info.value.errno == errno.ELOOP


def test_relative_paths_are_refused(fs: HostFS) -> None:
    with pytest.raises(ValueError, match="absolute"):
        fs.read_text("etc/hosts")


def test_a_shared_tree_is_seen_by_every_host_that_mounts_it(tmp_path: Path) -> None:
    export = MemoryTree("example.com:/OVS")
    a, b = MemoryHostFS(), DirectoryHostFS(tmp_path)
    for host in (a, b):
        host.mkdir("/OVS")
        host.attach("/OVS", export)
    a.write_text("/OVS/.server_pool_hb", "hb")
    assert b.read_text("/OVS/.server_pool_hb") == "hb"
    assert b.listdir("/OVS") == [".server_pool_hb"]
    assert not (tmp_path / "OVS" / ".server_pool_hb").exists()  # it lives on the export, not the host
    b.detach("/OVS")
    assert b.read_text("/OVS/.server_pool_hb") is None
    assert a.read_text("/OVS/.server_pool_hb") == "hb"


def test_mounts_through_symlinks_nested_mounts_and_busy() -> None:
    fs = MemoryHostFS()
    fs.mkdir("/var/ovs/mount/U1")
    fs.symlink("/var/ovs/mount/U1", "/OVS")
    root, repo = MemoryTree("root"), MemoryTree("repo")
    fs.attach("/OVS", root)  # the kernel mounts on the link's target
    assert fs.mounted_tree("/var/ovs/mount/U1") is root
    fs.mkdir("/OVS/R")
    fs.attach("/OVS/R", repo)
    fs.write_text("/OVS/R/img", "disk")
    assert repo.read("/img") == b"disk"
    with pytest.raises(OSError, match="mounts below"):
        fs.detach("/OVS")
    with pytest.raises(OSError, match="mount point"):
        fs.remove("/var/ovs/mount/U1/R")
    with pytest.raises(OSError, match="already"):
        fs.attach("/OVS/R", repo)
    with pytest.raises(FileNotFoundError):
        fs.attach("/nowhere", repo)
    fs.detach("/OVS/R")
    fs.detach("/OVS")
    assert fs.mountpoints() == []


def test_directory_writes_are_atomic_and_leave_no_temp_files(tmp_path: Path) -> None:
    fs = DirectoryHostFS(tmp_path)
    fs.write_text("/etc/hosts", "old\n")
    inode_before = os.stat(tmp_path / "etc" / "hosts").st_ino
    fs.write_text("/etc/hosts", "new\n")
    assert (tmp_path / "etc" / "hosts").read_text() == "new\n"
    assert os.stat(tmp_path / "etc" / "hosts").st_ino != inode_before  # replaced, not rewritten in place
    assert sorted(os.listdir(tmp_path / "etc")) == ["hosts"]


def test_directory_symlinks_keep_server_paths(tmp_path: Path) -> None:
    fs = DirectoryHostFS(tmp_path)
    fs.write_text("/var/ovs/mount/U/x", "1")
    fs.symlink("/var/ovs/mount/U", "/OVS")
    assert os.readlink(tmp_path / "OVS") == "/var/ovs/mount/U"  # as on the server
    assert fs.read_text("/OVS/x") == "1"


def test_directory_tree_needs_a_directory(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError):
        DirectoryTree(tmp_path / "missing")


def test_read_only_view_reads_but_refuses_every_write() -> None:
    inner = MemoryHostFS()
    inner.write_text("/etc/hosts", "127.0.0.1 localhost\n")
    ro = ReadOnlyHostFS(inner)
    assert ro.read_text("/etc/hosts") == "127.0.0.1 localhost\n"
    assert ro.listdir("/etc") == ["hosts"]
    writes: list[Callable[[], None]] = [
        lambda: ro.write_text("/etc/hosts", ""),
        lambda: ro.write_bytes("/x", b""),
        lambda: ro.remove("/etc/hosts"),
        lambda: ro.mkdir("/d"),
        lambda: ro.symlink("/a", "/b"),
        lambda: ro.attach("/etc", MemoryTree()),
        lambda: ro.detach("/etc"),
    ]
    for write in writes:
        with pytest.raises(ReadOnlyError):
            write()
    assert inner.read_text("/etc/hosts") == "127.0.0.1 localhost\n"
