"""Scale figures for the simulated pool (prints them; not a test).

1. A 32-server pool with 1,000 HA guests loses one server: wall time the
   master's HA logic takes to place every stranded guest (target < 1 s),
   and wall time to simulate the whole failover until every guest runs again.
2. Simulated-to-wall speedup of the 60 s heartbeat dead threshold of
   Oracle VM 2.x (31 iterations of 2 s) in a 3-server pool.

Run: python benchmarks/bench_failover_scale.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from environments.model import GuestSpec, PoolSpec, ServerSpec
from environments.sim.driver import SimDriver
from ovmref.failover.coordinator import Coordinator
from ovmref.release import Release


def build(n_servers: int, n_guests: int, release: Release = Release.R2_2) -> SimDriver:
    d = SimDriver(release, seed=7)
    servers = tuple(
        ServerSpec(
            f"server{i}", memory_mb=65536, vcpus=32, roles=("master", "utility", "vm") if i == 1 else ("vm",)
        )
        for i in range(1, n_servers + 1)
    )
    result = d.build_pool(PoolSpec(servers=servers, node_slots=64))  # mkfs.ocfs2 -N 64
    assert result.ok, result
    names = [f"vm{i}" for i in range(1, n_guests + 1)]
    for name in names:
        assert d.create_guest(GuestSpec(name, memory_mb=1024, ha=True)).ok
    results = d.start_guests(names)
    assert all(r.ok for r in results)
    return d


def scale() -> None:
    t0 = time.perf_counter()
    d = build(32, 1000)
    print(f"build 32 servers + start 1000 HA guests: {time.perf_counter() - t0:.2f} s wall")
    state = d.observe()
    victim = "server7"
    stranded = state.running_on(victim)

    # (a) the HA placement itself: the master's coordinator handling the node-down
    master = d.hosts[state.master or "server1"].agent
    assert master is not None and master.coordinator is not None
    probe = Coordinator(master.coordinator.db.snapshot(), master.name)
    probe.live = set(master.coordinator.live)
    t1 = time.perf_counter()
    effects = probe.node_down(victim)
    place_s = time.perf_counter() - t1
    starts = sum(1 for e in effects if type(e).__name__ == "Send")
    print(
        f"placing the {len(stranded)} guests of {victim}: {place_s * 1000:.1f} ms wall "
        f"({starts} start commands)  [target < 1000 ms]"
    )

    # (b) the whole simulated failover
    t2 = time.perf_counter()
    fault_ms = d.now_ms()
    d.inject("crash", [victim])
    ok = d.wait_until(
        lambda s: all(s.guests[g].state == "running" for g in stranded),
        d.failover_bound_ms("crash"),
        step_ms=1000,
    )
    wall = time.perf_counter() - t2
    print(
        f"simulated failover of {len(stranded)} guests: {(d.now_ms() - fault_ms) / 1000:.0f} s simulated, "
        f"{wall:.2f} s wall, all running again: {ok}"
    )


def speedup(repeats: int = 7) -> None:
    """Median over a few runs: one crash in a 3-server pool, simulated past the dead threshold."""
    samples: list[tuple[float, int, int]] = []
    for seed in range(repeats):
        d = SimDriver(Release.R2_2, seed=seed)
        servers = tuple(
            ServerSpec(f"server{i}", roles=("master", "vm") if i == 1 else ("vm",)) for i in (1, 2, 3)
        )
        assert d.build_pool(PoolSpec(servers=servers)).ok
        t0 = time.perf_counter()
        fault = d.now_ms()
        d.inject("crash", ["server3"])
        d.advance(d.timings.dead_ms + 2 * d.timings.iteration_ms)
        samples.append((time.perf_counter() - t0, d.now_ms() - fault, d.timings.dead_ms))
    wall, simulated, dead_ms = sorted(samples)[len(samples) // 2]
    print(
        f"{simulated / 1000:.0f} s of simulated time around a {dead_ms / 1000:.0f} s dead threshold: "
        f"median {wall * 1000:.1f} ms wall over {repeats} runs, speedup x{simulated / 1000 / wall:,.0f}"
    )


if __name__ == "__main__":
    scale()
    speedup()
