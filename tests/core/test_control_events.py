"""The agent's side doors are ovmref.control events, taken by one entry, Agent.control: the
simulator delivers them in-process and the local supervisor sends the same objects to serverd."""

from __future__ import annotations

from environments.model import GuestSpec, PoolSpec, ServerSpec
from environments.sim.driver import SimDriver
from ovmref import control as ctl
from ovmref import effects as fx
from ovmref.release import Release


def _pool() -> SimDriver:
    d = SimDriver(Release.R2_2, seed=4)
    roles = {1: ("master", "vm")}
    servers = tuple(ServerSpec(f"server{i}", roles=roles.get(i, ("vm",))) for i in (1, 2, 3))
    assert d.build_pool(PoolSpec(servers=servers)).ok
    return d


def test_a_peer_added_is_named_and_heartbeated_with() -> None:
    d = _pool()
    agent = d.hosts["server2"].agent
    assert agent is not None
    assert agent.control(d.now_ms(), ctl.PeerAdded(7, "server8")) == []
    assert agent.node_names[7] == "server8"


def test_an_agent_daemon_that_starts_again_says_hello_to_the_master_and_one_that_stops_says_nothing() -> None:
    d = _pool()
    agent = d.hosts["server2"].agent
    assert agent is not None
    assert agent.control(d.now_ms(), ctl.AgentDaemon(running=False)) == []
    started = agent.control(d.now_ms(), ctl.AgentDaemon(running=True))
    master = d.hosts["server1"].node
    to_master = [type(e.message).__name__ for e in started if isinstance(e, fx.Send) and e.peer == master]
    assert to_master == ["Hello"]


def test_stopped_cluster_services_kill_the_guests_and_the_agent_leaves_the_cluster() -> None:
    d = _pool()
    assert d.create_guest(GuestSpec("vm1", preferred=("server2",))).ok and d.start_guest("vm1").ok
    agent = d.hosts["server2"].agent
    assert agent is not None and "vm1" in agent.guests
    left = agent.control(d.now_ms(), ctl.ClusterServicesStopped())
    assert fx.KillGuest("vm1", "cluster storage went away") in left
    assert agent.halted and not agent.guests
