"""The ssh environment observes through the read-out: on 3.x with a Manager named, the Server Pool
Master and the pool's HA are the Manager's (read once a scenario, GET only); without it, or on 2.x,
they stay unknown and the steps that need them are skipped, saying why. The server is the loopback
sshd (it has no `xm`: its guests are not known, which the read-out says)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from environments.base import EnvironmentLimitation
from environments.model import PoolSpec, ServerSpec
from environments.ssh.driver import SSHDriver
from ovmref.release import Release
from tests.manager.lookalike import PASSWORD, PASSWORD_ENV, Lookalike, loopback_inventory, pool, server


def _spec() -> PoolSpec:
    return PoolSpec(storage="nfs", servers=(ServerSpec(name="server1"),), ha_enabled=True)


@pytest.fixture
def adopted(
    tmp_path: Path, sshd: Any, manager: Lookalike, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SSHDriver]:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    manager.objects["Server"] = [server("vmserver1")]
    manager.objects["ServerPool"] = [pool("pool1", True, "vmserver1", ["vmserver1"])]
    driver = SSHDriver(
        Release.R3, seed=1, inventory=loopback_inventory(tmp_path / "pool.yaml", sshd, manager)
    )
    assert driver.build_pool(_spec()).ok
    yield driver
    driver.close()


def test_the_master_and_the_pools_ha_come_from_the_manager_read_once(
    adopted: SSHDriver, manager: Lookalike
) -> None:
    first, second = adopted.observe(), adopted.observe()
    assert (first.master, first.ha_enabled) == ("server1", True)
    assert first.servers["server1"].roles == ("master",) and second.master == "server1"
    adopted.require("master", "pool-ha")  # established: nothing to skip
    with pytest.raises(EnvironmentLimitation, match="server roles are Oracle VM Manager's records"):
        adopted.require("roles")  # the Manager read-out gives the master, not every role
    assert [(m, p) for m, p, _ in manager.seen] == [
        ("GET", "/ovm/core/wsapi/rest/Server"),
        ("GET", "/ovm/core/wsapi/rest/ServerPool"),
        ("GET", "/ovm/core/wsapi/rest/Vm"),
    ]
    marks = [e.detail for e in adopted.timeline() if e.kind == "manager"]
    assert marks and "(GET only)" in marks[0] and not any(PASSWORD in m for m in marks)


def test_a_refusing_manager_leaves_the_master_unknown_and_says_why(
    tmp_path: Path, sshd: Any, manager: Lookalike, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    manager.status = 401
    driver = SSHDriver(
        Release.R3, seed=1, inventory=loopback_inventory(tmp_path / "pool.yaml", sshd, manager)
    )
    assert driver.build_pool(_spec()).ok  # the SSH observations still run
    state = driver.observe()
    assert (state.master, state.ha_enabled) == (None, None)
    with pytest.raises(EnvironmentLimitation, match=r"ServerPool.masterServerId\): .*HTTP 401"):
        driver.require("master")
    with pytest.raises(EnvironmentLimitation, match=r"give ha\.pool in the inventory"):
        driver.require("pool-ha")
    driver.close()
    asked = len(manager.seen)
    # the next scenario says why at once: a Manager that does not answer is not waited for again
    later = SSHDriver(Release.R3, seed=2, inventory=tmp_path / "pool.yaml")
    assert later.build_pool(_spec()).ok
    with pytest.raises(EnvironmentLimitation, match=r"HTTP 401"):
        later.require("master")
    assert len(manager.seen) == asked
    assert any("found so earlier in this run" in e.detail for e in later.timeline() if e.kind == "manager")
    later.close()


def test_a_pool_the_manager_says_is_unclustered_is_not_adopted_for_an_ha_scenario(
    tmp_path: Path, sshd: Any, manager: Lookalike, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    manager.objects["ServerPool"] = [pool("pool1", False, "vmserver1", ["vmserver1"])]
    driver = SSHDriver(
        Release.R3, seed=1, inventory=loopback_inventory(tmp_path / "pool.yaml", sshd, manager)
    )
    with pytest.raises(EnvironmentLimitation, match=r"pool1 has HA off \(Oracle VM Manager 127.0.0.1: "):
        driver.build_pool(_spec())


def test_on_2x_the_master_is_unknown_and_the_pools_ha_is_the_inventorys(tmp_path: Path, sshd: Any) -> None:
    inventory = tmp_path / "pool.yaml"
    inventory.write_text(
        "pool: lab\nstorage: nfs\ncluster_root: nfs.example.com:/OVS\nrelease: '2.2'\n"
        f"ssh: {{user: {sshd.user}, known_hosts: {sshd.known_hosts}, key_file: {sshd.key_file}, "
        f"port: {sshd.port}, connect_timeout_s: 5}}\n"
        "servers:\n  - {name: ovs1, host: 127.0.0.1, fqdn: ovs1.example.com, ip: 127.0.0.1}\n"
        "ha:\n  pool: true\n"
    )
    driver = SSHDriver(Release.R2_2, seed=1, inventory=inventory)
    assert driver.build_pool(_spec()).ok
    state = driver.observe()
    assert (state.master, state.ha_enabled, state.guests) == (None, True, {})
    driver.require("pool-ha")
    with pytest.raises(EnvironmentLimitation, match=r"Oracle VM Manager 2\.x's record"):
        driver.require("master")
    driver.close()
