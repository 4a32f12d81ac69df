"""The N+1 what-if at scale (prints its figures; not a test).

A read-out pool of 64 servers and 5,000 guests (78 or 79 per server, 512 to 4,096 MB, 90 % with HA
on, a fifth with two or three preferred servers; some servers full, so some guests do not fit):
wall time of ovmref.readiness.nplus1.n_plus_one (for every server, if it failed now and if taken
down on purpose) and of the readiness findings on it. Target: under 2 s.

Run: python benchmarks/bench_readiness.py
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ovmref.readiness.findings import readiness_findings
from ovmref.readiness.nplus1 import n_plus_one
from ovmref.readiness.readout import GuestReadout, PoolReadout, ServerReadout
from ovmref.release import Release

TARGET_S = 2.0


def readout(n_servers: int = 64, n_guests: int = 5000, seed: int = 7) -> PoolReadout:
    rng = random.Random(seed)
    names = [f"ovs{i:02d}" for i in range(1, n_servers + 1)]
    servers = tuple(ServerReadout(n, True, rng.choice([0, 2048, 8192, 32768]), 262144) for n in names)
    guests = []
    for j in range(n_guests):
        preferred = tuple(rng.sample(names, rng.randint(2, 3))) if rng.random() < 0.2 else ()
        guests.append(
            GuestReadout(
                f"vm{j:05d}",
                names[j % n_servers],
                rng.choice([512, 1024, 2048, 4096]),
                1,
                rng.random() < 0.9,
                "bench",
                preferred,
                "bench",
            )
        )
    return PoolReadout("bench", Release.R3, True, "bench", servers, tuple(guests))


def main() -> int:
    pool = readout()
    best = float("inf")
    for _ in range(3):
        clock = time.perf_counter()
        table = n_plus_one(pool)
        findings = readiness_findings(pool, table)
        best = min(best, time.perf_counter() - clock)
    outcomes = [o for s in table.servers for o in s.failure]
    off = sum(o.action == "powered_off" for o in outcomes)
    failed = sum(f.status == "failed" for f in findings)
    print(
        f"N+1 of {len(pool.servers)} servers x {len(pool.guests)} guests: {best:.3f} s "
        f"(best of 3; target < {TARGET_S:.0f} s): {len(outcomes)} failure outcomes, {off} powered off, "
        f"{failed} readiness findings failed"
    )
    return 0 if best < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
