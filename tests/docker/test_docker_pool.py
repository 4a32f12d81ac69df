"""A pool of lookalike servers answers real SSH, with host keys checked strictly, and looks like OVM.

Every check goes over SSH from this host to the server's address on the pool network, the way
the validator will reach a real pool; docker exec is used only where a test says why.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest

paramiko = pytest.importorskip(
    "paramiko", reason="needs the containers extra: pip install -e '.[containers]'"
)

from environments.docker.image import TOOLS  # noqa: E402
from tests.docker.docker_support import ssh_client, ssh_run  # noqa: E402


def test_every_server_has_its_own_name_address_and_container(pool2: Any) -> None:
    servers = list(pool2.servers.values())
    assert [s.name for s in servers] == ["vmserver1", "vmserver2"]
    assert len({s.ip for s in servers}) == len({s.container_id for s in servers}) == 2
    for server in servers:
        rc, out, _ = ssh_run(pool2, server.name, "hostname -f")
        assert (rc, out.strip()) == (0, server.fqdn)


def test_the_release_file_names_the_pools_release(pool2: Any) -> None:
    for name in pool2.servers:
        rc, out, err = ssh_run(pool2, name, "cat /etc/ovs-release")
        assert (rc, out, err) == (0, "Oracle VM server release 2.1.5\n", "")


def test_sshd_answers_on_each_address_with_the_pool_key_and_known_host_keys(pool2: Any) -> None:
    known = pool2.known_hosts_path.read_text().splitlines()
    assert len(known) == 2 and all(line.split()[1] == "ssh-ed25519" for line in known)
    for name in pool2.servers:
        client = ssh_client(pool2, name)  # RejectPolicy: an unknown or changed host key fails here
        try:
            transport = client.get_transport()
            assert transport is not None and transport.is_authenticated()
            assert transport.getpeername()[0] == pool2.server(name).ip
        finally:
            client.close()


def test_a_host_key_not_in_known_hosts_is_refused(pool2: Any, tmp_path: Path) -> None:
    one, two = (pool2.server(n) for n in ("vmserver1", "vmserver2"))
    own_keys = {
        line.split(",")[0]: line.split(" ", 1)[1] for line in pool2.known_hosts_path.read_text().splitlines()
    }
    assert own_keys[one.ip] != own_keys[two.ip], "the servers share a host key"
    swapped = tmp_path / "known_hosts"
    swapped.write_text(f"{two.ip} {own_keys[one.ip]}\n")  # vmserver1's key claimed for vmserver2
    with pytest.raises(paramiko.BadHostKeyException):
        ssh_client(pool2, "vmserver2", known_hosts=str(swapped))
    empty = tmp_path / "empty"
    empty.write_text("")
    with pytest.raises(paramiko.SSHException, match="not found in known_hosts"):
        ssh_client(pool2, "vmserver1", known_hosts=str(empty))


def test_the_pool_key_files_are_private(pool2: Any) -> None:
    for path in (pool2.key_path, pool2.known_hosts_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert pool2.public_key.startswith("ssh-ed25519 ")


def test_oracles_tool_paths_exist_and_are_executable(pool2: Any) -> None:
    for path in TOOLS:
        rc, out, err = ssh_run(pool2, "vmserver1", f"test -f {path} && test -x {path} && echo ok")
        assert (rc, out) == (0, "ok\n"), f"{path}: {err}"
    rc, out, err = ssh_run(pool2, "vmserver1", "/usr/lib/ovs/ovs-cluster-check")
    # no OCFS2 kernel stack in a container: the path says so rather than pretending (the harness
    # carries the tools out on each server's file tree)
    assert rc == 127 and "ovs-cluster-check: not available inside this lookalike" in err, (rc, out, err)


def test_a_server_can_mount_a_tmpfs_as_the_validator_tests_will(pool2: Any) -> None:
    command = "mkdir -p /mnt/probe && mount -t tmpfs tmpfs /mnt/probe && grep ' /mnt/probe ' /proc/mounts"
    rc, out, err = ssh_run(pool2, "vmserver2", command + " && umount /mnt/probe")
    assert rc == 0 and out.startswith("tmpfs /mnt/probe tmpfs"), (rc, out, err)


def test_exec_reports_output_status_and_timeouts(pool2: Any) -> None:
    result = pool2.exec("vmserver1", ["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert (result.rc, result.stdout, result.stderr) == (3, "out\n", "err\n")
    slow = pool2.exec("vmserver1", ["sleep", "30"], timeout_s=0.5)
    assert slow.rc == 124 and "timed out after 0.5 s on vmserver1" in slow.stderr
