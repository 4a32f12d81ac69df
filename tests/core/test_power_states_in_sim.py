"""The simulator moves its servers' power through ovmref/states/power.py: what used to be side flags
(a boot waiting for storage, a reboot pending) are states, and the Manager still sees its own names."""

from __future__ import annotations

import pytest

from environments.model import PoolSpec, ServerSpec
from environments.sim.driver import SimDriver
from ovmref.release import Release
from ovmref.states.table import IllegalTransition


def _pool(release: Release = Release.R2_2) -> SimDriver:
    d = SimDriver(release, seed=3)
    roles = {1: ("master", "vm")}
    servers = tuple(ServerSpec(f"server{i}", roles=roles.get(i, ("vm",))) for i in (1, 2, 3))
    assert d.build_pool(PoolSpec(servers=servers)).ok
    return d


def test_a_server_that_fenced_for_lost_storage_waits_for_it_and_boots_when_it_returns() -> None:
    d = _pool()
    d.inject("storage", ["server2"])
    host = d.hosts["server2"]
    assert d.wait_until(lambda s: s.servers["server2"].state == "fenced", 2 * d.timings.dead_ms)
    assert host.power.state == "fenced"
    d.advance(d.timings.reboot_ms + d.timings.iteration_ms)  # the reboot finds no cluster root
    assert host.power.state == "fenced_awaiting_storage" and host.agent is None
    assert d.observe().servers["server2"].state == "fenced", "the Manager still sees a fenced server"
    d.advance(10 * d.timings.reboot_ms)
    assert host.power.state == "fenced_awaiting_storage", "nothing boots it but its storage"
    d.recover("server2")
    assert host.power.state == "running" and host.agent is not None
    assert any(e.kind == "rejoin" and e.server == "server2" for e in d.timeline())


def test_a_server_restarted_from_the_manager_is_restarting_until_it_boots() -> None:
    d = _pool()
    assert d.shutdown_server("server3", migrate=True, restart=True).ok
    host = d.hosts["server3"]
    assert d.wait_until(lambda s: s.servers["server3"].state == "shutdown", 10 * d.timings.iteration_ms)
    assert host.power.state == "restarting"
    assert d.wait_until(lambda s: s.servers["server3"].state == "running", 2 * d.timings.reboot_ms)
    assert host.power.state == "running"


def test_a_server_shut_down_from_the_manager_stays_off_and_a_crash_fault_on_it_crashes_it() -> None:
    d = _pool()
    assert d.shutdown_server("server3", migrate=True).ok
    assert d.wait_until(lambda s: s.servers["server3"].state == "shutdown", 10 * d.timings.iteration_ms)
    d.advance(3 * d.timings.reboot_ms)
    assert d.hosts["server3"].power.state == "shutdown"
    d.inject("hang", ["server3"])  # an off server does not hang
    assert d.hosts["server3"].power.state == "shutdown"
    d.inject("crash", ["server3"])
    assert d.hosts["server3"].power.state == "crashed"


def test_a_deleted_server_cannot_be_crashed_and_stays_deleted() -> None:
    d = _pool()
    assert d.delete_server("server3", migrate=True).ok
    assert d.wait_until(lambda s: s.servers["server3"].state == "deleted", 10 * d.timings.iteration_ms)
    with pytest.raises(IllegalTransition, match="'crash' cannot happen in state 'deleted'"):
        d.inject("crash", ["server3"])
    assert d.hosts["server3"].power.state == "deleted"
