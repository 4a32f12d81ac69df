"""The documented service order (white paper): o2cb -> ocfs2 -> ovsrepositories -> ovs-agent."""

from __future__ import annotations

import pytest

from ovmref.cluster.services import (
    SERVICE_ORDER,
    ServiceOrderError,
    ServiceTable,
    UnknownServiceError,
    lock_file,
)
from ovmref.host.installed_pool import InstalledPool, example_servers
from ovmref.hostfs import MemoryHostFS
from ovmref.release import Release


def test_start_refuses_until_the_predecessor_runs_and_names_it() -> None:
    table = ServiceTable(MemoryHostFS())
    with pytest.raises(ServiceOrderError, match="cannot start ocfs2: o2cb is not running"):
        table.start("ocfs2")
    assert table.running() == []
    table.start("o2cb")
    with pytest.raises(ServiceOrderError, match="cannot start ovs-agent: ovsrepositories is not running"):
        table.start("ovs-agent")
    for name in SERVICE_ORDER[1:]:
        assert table.start(name)
    assert table.running() == list(SERVICE_ORDER)
    assert not table.start("o2cb")  # already running


def test_stop_refuses_while_a_successor_runs_and_state_is_lock_files() -> None:
    fs = MemoryHostFS()
    table = ServiceTable(fs)
    for name in SERVICE_ORDER:
        table.start(name)
    assert fs.exists(lock_file("ovs-agent"))
    with pytest.raises(ServiceOrderError, match="cannot stop o2cb: ocfs2 is still running"):
        table.stop("o2cb")
    for name in reversed(SERVICE_ORDER):
        assert table.stop(name)
    assert table.running() == [] and fs.listdir("/var/lock/subsys") == []
    assert not table.stop("o2cb")
    with pytest.raises(UnknownServiceError, match="unrecognized"):
        table.start("httpd")


@pytest.fixture
def pool() -> InstalledPool:
    p = InstalledPool(Release.R2_1, example_servers(2))
    p.setup_ha()
    return p


def test_service_command_accepts_both_word_orders_and_enforces_the_order(pool: InstalledPool) -> None:
    stop_first = pool.run("vmserver2", ["service", "stop", "o2cb"])
    assert stop_first.rc == 1 and "ocfs2 is still running" in stop_first.stderr
    for name in reversed(SERVICE_ORDER):
        assert pool.run("vmserver2", ["service", "stop", name]).rc == 0
    late = pool.run("vmserver2", ["service", "ovs-agent", "start"])
    assert late.rc == 1 and "ovsrepositories is not running" in late.stderr
    for name in SERVICE_ORDER:
        assert pool.run("vmserver2", ["service", "start", name]).rc == 0, name
    assert ServiceTable(pool.hosts["vmserver2"]).running() == list(SERVICE_ORDER)


def test_ocfs2_mounts_the_cluster_root_and_its_heartbeat_region(pool: InstalledPool) -> None:
    fs = pool.hosts["vmserver2"]
    region = f"/sys/kernel/config/cluster/ocfs2/heartbeat/{pool.root_volume.uuid}"
    assert fs.is_dir(region) and fs.exists("/OVS/.server_pool_hb")
    for name in ("ovs-agent", "ovsrepositories", "ocfs2"):
        assert pool.run("vmserver2", ["service", name, "stop"]).rc == 0
    assert not fs.is_dir(region)
    assert "/OVS " not in (fs.read_text("/proc/mounts") or "")
    assert not fs.exists("/OVS/.server_pool_hb")
    assert pool.run("vmserver2", ["service", "ocfs2", "start"]).rc == 0
    assert fs.is_dir(region) and fs.exists("/OVS/.server_pool_hb")


def test_status_and_unknown_services(pool: InstalledPool) -> None:
    status = pool.run("vmserver1", ["service", "o2cb", "status"])
    assert (status.rc, status.stdout) == (0, "Checking O2CB cluster ocfs2: Online\n")
    pool.run("vmserver1", ["service", "ovs-agent", "stop"])
    stopped = pool.run("vmserver1", ["service", "ovs-agent", "status"])
    assert (stopped.rc, stopped.stdout) == (3, "ovs-agent is stopped\n")
    assert (
        pool.run("vmserver1", ["service", "httpd", "start"]).stderr
        == "service: httpd: unrecognized service\n"
    )
    assert pool.run("vmserver1", ["service", "o2cb"]).rc == 2


def test_o2cb_will_not_start_unconfigured() -> None:
    p = InstalledPool(Release.R2_1, example_servers(2))
    result = p.run("vmserver1", ["service", "o2cb", "start"])
    assert result.rc == 1 and "O2CB_ENABLED" in result.stderr
