"""The docker environment: agents inside lookalike containers, reached over SSH, faults for real.

These check what the feature suite cannot see from the Manager's view: that
the agent really runs inside its server's container, that the cluster root
is mounted there at the path the release documents, that a fenced server's
container is restarted (its guests die with it), that partitions are cut on
the cluster network while SSH stays up, and that nothing outlives the driver.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from environments.model import GuestSpec, PoolSpec, ServerSpec
from ovmref.release import Release
from tests.docker.docker_support import ssh_run

SERVERS = tuple(ServerSpec(f"server{i}", roles=("master", "vm") if i == 1 else ("vm",)) for i in (1, 2, 3))


def _driver(image_tag: str, release: Release = Release.R2_2, servers: int = 3) -> Any:
    from environments.docker.driver import DockerDriver

    return DockerDriver(release, seed=7, image=image_tag)


@pytest.fixture
def pool3(image_tag: str) -> Iterator[Any]:
    driver = _driver(image_tag)
    try:
        built = driver.build_pool(PoolSpec(servers=SERVERS))
        assert built.ok, built.message
        yield driver
    finally:
        driver.close()


def _started_at(driver: Any, server: str) -> str:
    wrapped = driver.pool._wrapped(server)
    wrapped.reload()
    return str(wrapped.attrs["State"]["StartedAt"])


def test_the_agent_runs_inside_its_container_on_the_documented_mount(pool3: Any) -> None:
    rc, out, err = ssh_run(pool3.pool, "server2", "hostname; ps -eo args; cat /proc/mounts")
    assert rc == 0, err
    assert out.splitlines()[0] == "server2.example.com"
    assert "environments.local.serverd /ovm/server" in out
    mounts = [line.split() for line in out.splitlines() if line.startswith("/")]
    mountpoints = {fields[1] for fields in mounts if len(fields) > 2}
    documented = [m for m in mountpoints if m.startswith("/var/ovs/mount/")]  # 2.2: /var/ovs/mount/<uuid>
    assert documented, f"no cluster root under /var/ovs/mount in {sorted(mountpoints)}"
    rc, out, _ = ssh_run(pool3.pool, "server2", f"test -s {documented[0]}/.server_pool_hb && echo yes")
    assert out.strip() == "yes", "the heartbeat file is not reachable through the documented mount"


def test_a_fenced_server_is_restarted_with_its_guests_dead_and_rejoins(pool3: Any) -> None:
    assert pool3.create_guest(GuestSpec("vm1", preferred=("server2",))).ok
    assert pool3.start_guest("vm1").ok
    assert pool3.observe().guests["vm1"].server == "server2"
    before = _started_at(pool3, "server2")
    pool3.inject("storage", ["server2"])  # loses the heartbeat: fences itself
    assert pool3.wait_until(lambda s: s.servers["server2"].state == "fenced", 3 * 62_000)
    kinds = [e.kind for e in pool3.timeline() if e.server == "server2"]
    assert "fence" in kinds
    pool3.recover("server2")
    assert pool3.wait_until(
        lambda s: s.servers["server2"].state == "running" and "server2" in s.servers["server1"].live_view,
        10 * 62_000,
    )
    assert _started_at(pool3, "server2") != before, "the fenced server's container was not restarted"
    rc, out, _ = ssh_run(pool3.pool, "server2", "ps -eo args")
    assert rc == 0 and "sleep infinity" not in out.replace("environments", ""), "a guest survived the fence"
    state = pool3.observe()
    assert state.guests["vm1"].state == "running" and state.guests["vm1"].server != "server2"


def test_a_partition_cuts_the_cluster_network_and_leaves_ssh_up(image_tag: str) -> None:
    from environments.docker.network import ContainerNetwork

    driver = _driver(image_tag)
    try:
        servers = tuple(ServerSpec(f"server{i}") for i in range(1, 5))
        assert driver.build_pool(PoolSpec(servers=servers)).ok
        network = driver.network
        assert isinstance(network, ContainerNetwork)
        driver.inject("partition", ["server3", "server4"])  # two against two: routes
        assert network.blackholed["server1"] == {driver.hosts["server3"].ip, driver.hosts["server4"].ip}
        ip3, ip2 = driver.hosts["server3"].ip, driver.hosts["server2"].ip
        rc, _, _ = ssh_run(driver.pool, "server1", f"ip route get {ip3} | grep -q blackhole")
        assert rc == 0, "server1 still routes to server3"
        rc, _, _ = ssh_run(driver.pool, "server1", f"ip route get {ip2} | grep -q blackhole")
        assert rc != 0, "server1 lost its own side"
        driver.heal_network()
        rc, _, _ = ssh_run(driver.pool, "server1", f"ip route get {ip3} | grep -q blackhole")
        assert rc != 0, "the partition was not healed"
        driver.inject("partition", ["server4"])  # one alone: unplugged from the cluster network
        assert network.unplugged == {"server4"}
        rc, out, _ = ssh_run(driver.pool, "server4", f"ip -o addr show | grep -c {driver.hosts['server4'].ip}")
        assert out.strip() == "0", "server4 still has its cluster address"
        driver.heal_network()
        rc, out, _ = ssh_run(driver.pool, "server4", f"ip -o addr show | grep -c {driver.hosts['server4'].ip}")
        assert out.strip() == "1", "server4 did not get its cluster address back"
    finally:
        driver.close()


def test_nothing_outlives_the_driver_also_after_a_failure(image_tag: str) -> None:
    from environments.docker.owner import LABEL_POOL
    from environments.docker.pool import labelled_resources

    driver = _driver(image_tag)
    pool_id = None
    try:
        assert driver.build_pool(PoolSpec(servers=SERVERS[:2])).ok
        pool_id = driver.pool.pool_id
        run_dir = driver.run_dir
        assert labelled_resources(f"{LABEL_POOL}={pool_id}")["containers"]
        raise RuntimeError("a scenario failed")
    except RuntimeError:
        pass
    finally:
        driver.close()
    assert pool_id is not None
    assert labelled_resources(f"{LABEL_POOL}={pool_id}") == {"containers": [], "networks": [], "volumes": []}
    assert not run_dir.exists()
