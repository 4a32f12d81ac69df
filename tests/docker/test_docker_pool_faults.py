"""Faults on a container server as a tester sees them from this host: reboot, power off, hang, unplug.

Each test leaves the server running and connected again, since they share one pool.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("testcontainers", reason="needs the containers extra: pip install -e '.[containers]'")

from environments.docker.pool import ContainerPool, PoolError, _ssh_banner
from tests.docker.docker_support import ssh_run
from tests.realtime_lane import realtime_lane


@pytest.fixture(scope="module")
def pool1(image_tag: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ContainerPool]:
    pool = ContainerPool(1, image=image_tag)
    try:
        with realtime_lane(tmp_path_factory):  # containers start in the lane
            pool.start()
        yield pool
    finally:
        pool.close()


def _answers(pool: ContainerPool, timeout_s: float = 1.0) -> bool:
    try:
        return _ssh_banner(pool.server("vmserver1").ip, timeout_s).startswith("SSH-")
    except OSError:
        return False


def test_a_restart_keeps_address_and_host_key(pool1: ContainerPool) -> None:
    before = (pool1.server("vmserver1"), pool1.known_hosts_path.read_text())  # type: ignore[union-attr]
    ssh_run(pool1, "vmserver1", "touch /root/survives-reboot")
    pool1.restart("vmserver1")
    assert (pool1.server("vmserver1"), pool1.known_hosts_path.read_text()) == before  # type: ignore[union-attr]
    assert ssh_run(pool1, "vmserver1", "ls /root/survives-reboot")[0] == 0


def test_a_killed_server_is_unreachable_until_restarted(pool1: ContainerPool) -> None:
    pool1.kill("vmserver1")
    assert not _answers(pool1)
    with pytest.raises(PoolError, match="vmserver1"):
        pool1.exec("vmserver1", ["true"])
    pool1.restart("vmserver1")
    assert ssh_run(pool1, "vmserver1", "cat /etc/ovs-release")[1] == "Oracle VM server release 2.2.0\n"


def test_a_paused_server_hangs_until_unpaused(pool1: ContainerPool) -> None:
    pool1.pause("vmserver1")
    try:
        assert not _answers(pool1), "a frozen sshd sent its banner"
    finally:
        pool1.unpause("vmserver1")
    assert _answers(pool1, timeout_s=5)


def test_a_disconnected_server_runs_on_but_is_unreachable(pool1: ContainerPool) -> None:
    pool1.disconnect("vmserver1")
    try:
        assert not _answers(pool1)
        assert pool1.exec("vmserver1", ["true"]).rc == 0  # still running, only unplugged
    finally:
        pool1.connect("vmserver1")
    assert ssh_run(pool1, "vmserver1", "hostname")[1] == "vmserver1.example.com\n"


def test_operations_name_an_unknown_server(pool1: ContainerPool) -> None:
    with pytest.raises(PoolError, match=r"no server 'vmserver9' in pool .*vmserver1"):
        pool1.kill("vmserver9")
