"""The master lease decides: a server that believes it is master without holding the lease steps down."""

from __future__ import annotations

from environments.model import GuestSpec, PoolSpec, ServerSpec
from environments.sim.driver import SimDriver
from ovmref.agent import SYNC_ITERATIONS
from ovmref.release import Release


def test_a_rival_master_without_the_lease_steps_down_and_the_holder_stays() -> None:
    d = SimDriver(Release.R2_2, seed=5)
    roles = {1: ("master", "vm")}
    servers = tuple(ServerSpec(f"server{i}", roles=roles.get(i, ("vm",))) for i in (1, 2, 3))
    assert d.build_pool(PoolSpec(servers=servers)).ok
    assert d.create_guest(GuestSpec("vm1")).ok and d.start_guest("vm1").ok
    rival = d.hosts["server2"].agent
    assert rival is not None and not rival.is_master
    db = d.storage.load_pooldb()
    assert db is not None
    # corrupt state on purpose: server2 believes it is master although server1 holds the lease
    d._execute(d.hosts["server2"], rival._become_master(d.now_ms(), db))
    assert rival.is_master
    d.advance(2 * SYNC_ITERATIONS * d.timings.iteration_ms)
    masters = [h.name for h in d.hosts.values() if h.agent is not None and h.agent.is_master]
    assert masters == ["server1"], masters
    assert d.observe().master == "server1"
    assert d.observe().guests["vm1"].state == "running"
