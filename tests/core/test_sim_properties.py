"""Property tests over random pools, guests and fault sequences on the simulator.

Invariants (issue: core conformance suite):
- a guest never runs on two servers at once;
- every HA guest of a failed server runs again within the failover bound
  when a server has room for it (otherwise it is powered off, and then no
  running server had room);
- a non-HA guest is never restarted;
- powered-off guests restart once a server frees up.
Hypothesis' stateful testing prints a failing run as a replayable script.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from environments.invariants import describe, double_runs
from environments.model import GuestSpec, PoolSpec, PoolState, ServerSpec
from environments.sim.driver import SimDriver
from ovmref.release import Release

FAULTS = ("crash", "hang", "storage", "partition")


def _available(state: PoolState) -> list[str]:
    return [s.name for s in state.servers.values() if s.state == "running"]


class PoolUnderFaults(RuleBasedStateMachine):
    """One fault at a time, each followed by its failover bound, then recovery."""

    @initialize(
        release=st.sampled_from(list(Release)),
        seed=st.integers(0, 2**16),
        n_servers=st.integers(2, 5),
        memory=st.sampled_from([4096, 8192]),
        guests=st.lists(st.tuples(st.sampled_from([512, 1024, 2048]), st.booleans()), min_size=1, max_size=8),
        pool_ha=st.booleans(),
    )
    def build(
        self,
        release: Release,
        seed: int,
        n_servers: int,
        memory: int,
        guests: list[tuple[int, bool]],
        pool_ha: bool,
    ) -> None:
        self.driver = SimDriver(release, seed, record_heartbeats=False)
        servers = tuple(
            ServerSpec(
                f"server{i}", memory_mb=memory, roles=("master", "utility", "vm") if i == 1 else ("vm",)
            )
            for i in range(1, n_servers + 1)
        )
        result = self.driver.build_pool(PoolSpec(servers=servers, ha_enabled=pool_ha))
        assert result.ok, result
        self.pool_ha = pool_ha
        for i, (mem, ha) in enumerate(guests, 1):
            assert self.driver.create_guest(GuestSpec(f"vm{i}", memory_mb=mem, ha=ha)).ok
            self.driver.start_guest(f"vm{i}")  # may not fit: then it stays stopped

    @rule(victim=st.integers(0, 4), fault=st.sampled_from(FAULTS))
    def fail_one_server(self, victim: int, fault: str) -> None:
        d = self.driver
        before = d.observe()
        up = _available(before)
        if len(up) < 2:
            return
        server = up[victim % len(up)]
        was_master = before.master == server
        on_victim = [g for g in before.guests.values() if g.server == server and g.state == "running"]
        restarts_before = {g.name: g.restarts for g in before.guests.values()}
        if fault == "partition":
            d.inject("partition", [server])
        else:
            d.inject(fault, [server])  # type: ignore[arg-type]
        bound = d.failover_bound_ms(fault) + (d.failover_bound_ms("master") if was_master else 0)  # type: ignore[arg-type]
        d.advance(bound)
        after = d.observe()
        # 2.1: "If the Server Pool Master fails, HA also fails" (until the master is back)
        ha_down = after.master is None and d.release is Release.R2_1
        for g in on_victim:
            now = after.guests[g.name]
            if not (self.pool_ha and g.ha):
                assert now.restarts == restarts_before[g.name], f"non-HA guest {g.name} was restarted"
                continue
            if ha_down:
                continue
            if now.state == "running":
                assert now.server != server or fault == "partition", f"{g.name} still on failed {server}"
                continue
            assert now.state == "powered_off", (
                f"HA guest {g.name} of failed {server} is {now.state} "
                f"{d.failover_bound_ms(fault)} ms after a {fault}"
            )
            roomy = [
                s.name
                for s in after.servers.values()
                if s.state == "running" and s.name != server and s.free_memory_mb >= g.memory_mb
            ]
            assert not roomy, f"{g.name} powered off although {roomy} had room for it"
        # recovery: the server comes back (and the network heals)
        if fault == "partition":
            d.heal_network()
        else:
            d.recover(server)
        d.advance(d.timings.reboot_ms + 10 * d.timings.iteration_ms + d.timings.guest_boot_ms)

    @precondition(lambda self: hasattr(self, "driver"))
    @rule(pick=st.integers(0, 7))
    def a_guest_crashes(self, pick: int) -> None:
        d = self.driver
        running = sorted(g.name for g in d.observe().guests.values() if g.state == "running")
        if not running:
            return
        name = running[pick % len(running)]
        before = d.observe().guests[name]
        master_up = d.observe().master is not None
        d.crash_guest(name)
        d.advance(d.timings.guest_boot_ms + 4 * d.timings.iteration_ms)
        after = d.observe().guests[name]
        if self.pool_ha and before.ha and master_up:
            assert after.state in ("running", "powered_off"), (
                f"HA guest {name} is {after.state} after it crashed"
            )
        else:
            assert after.restarts == before.restarts and after.state == "stopped"

    @precondition(lambda self: hasattr(self, "driver"))
    @invariant()
    def never_on_two_servers(self) -> None:
        overlaps = double_runs(self.driver.timeline())
        assert not overlaps, "; ".join(f"{describe(a)} overlaps {describe(b)}" for a, b in overlaps)
        seen: dict[str, str] = {}
        for host in self.driver.hosts.values():
            if not host.executing:
                continue
            for guest in host.running_guests():
                assert guest not in seen, f"{guest} runs on {seen[guest]} and {host.name}"
                seen[guest] = host.name

    @precondition(lambda self: hasattr(self, "driver"))
    @invariant()
    def non_ha_guests_never_restarted(self) -> None:
        for g in self.driver.observe().guests.values():
            if not (self.pool_ha and g.ha):
                assert g.restarts == 0, f"non-HA guest {g.name} restarted {g.restarts} times"

    @precondition(lambda self: hasattr(self, "driver"))
    @invariant()
    def powered_off_only_while_no_server_has_room(self) -> None:
        """Checked when the pool is quiet: every server back, nothing starting."""
        state = self.driver.observe()
        if state.master is None:
            return  # 2.1 without its master: HA is down, nothing is restarted
        if any(s.state != "running" for s in state.servers.values()):
            return
        if any(g.state in ("starting", "migrating") for g in state.guests.values()):
            return
        for g in state.guests.values():
            if g.state == "powered_off":
                roomy = [s.name for s in state.servers.values() if s.free_memory_mb >= g.memory_mb]
                assert not roomy, f"{g.name} still powered off although {roomy} freed up"


TestPoolUnderFaults = PoolUnderFaults.TestCase
TestPoolUnderFaults.settings = settings(
    max_examples=int(os.environ.get("OVM_PROPERTY_EXAMPLES", "80")),  # raise it for a deeper campaign
    stateful_step_count=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
