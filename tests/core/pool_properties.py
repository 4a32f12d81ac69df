"""Property tests over random pools, guests and fault sequences, on any environment.

Invariants (issue: core conformance suite):
- a guest never runs on two servers at once;
- every HA guest of a failed server runs again within the failover bound
  when a server has room for it (otherwise it is powered off, and then no
  running server had room);
- a non-HA guest is never restarted;
- powered-off guests restart once a server frees up.
Hypothesis' stateful testing prints a failing run as a replayable script.
The simulator runs it in the test suite (test_sim_properties.py); the local
environment runs it in real time as a bounded campaign
(benchmarks/campaign_local.py), with `slack` for a real clock's jitter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from environments.base import PoolDriver
from environments.invariants import describe, double_runs
from environments.model import FaultKind, GuestSpec, PoolSpec, PoolState, ServerSpec
from ovmref.release import Release

FAULTS = ("crash", "hang", "storage", "partition")


def _available(state: PoolState) -> list[str]:
    return [s.name for s in state.servers.values() if s.state == "running"]


class PoolUnderFaults(RuleBasedStateMachine):
    """One fault at a time, each followed by its failover bound, then recovery.

    Subclasses set `make_driver`; `slack` widens the failover bound by that fraction
    (0 on the simulator's exact clock); `faults` counts what was injected."""

    make_driver: ClassVar[Callable[[Release, int], PoolDriver]]
    slack: ClassVar[float] = 0.0
    faults: ClassVar[dict[str, int]] = {}
    runs: ClassVar[list[int]] = [0]

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
        self.driver = type(self).make_driver(release, seed)
        type(self).runs[0] += 1
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
        kind: FaultKind = fault  # type: ignore[assignment]
        d.inject(kind, [server])
        type(self).faults[fault] = type(self).faults.get(fault, 0) + 1
        bound = d.failover_bound_ms(kind) + (d.failover_bound_ms("master") if was_master else 0)
        d.advance(int(bound * (1 + self.slack)))
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

    def teardown(self) -> None:
        driver = getattr(self, "driver", None)
        if driver is not None:
            driver.close()

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
        type(self).faults["guest crash"] = type(self).faults.get("guest crash", 0) + 1
        d.advance(int((d.timings.guest_boot_ms + 4 * d.timings.iteration_ms) * (1 + self.slack)))
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
        for server in self.driver.observe().servers.values():
            for guest in server.guests:
                assert guest not in seen, f"{guest} runs on {seen[guest]} and {server.name}"
                seen[guest] = server.name

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
