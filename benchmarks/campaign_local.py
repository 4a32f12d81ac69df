"""A randomized fault campaign in real time on the local environment.

Runs the same property machine as the simulator's property tests
(tests/core/pool_properties.py: a guest never on two servers, one master at
a time, fenced servers stop their guests, non-HA guests never restarted;
the survivors carry every HA guest once the failover bound passed, and once
every server is back and the pool settled every HA guest runs unless no
server has room) on pools of real processes, over seeded sequences of crash,
hang, partition, storage loss and guest crash, several at once or closer
than a dead threshold, with recoveries. Prints runs, faults and violations.
`ovm-conformance campaign --env local --budget 10m` runs the campaign's own
schedules in real time the same way.

    python benchmarks/campaign_local.py [--examples 12] [--steps 6] [--seed 1]

Exit status 1 when an invariant is violated (hypothesis prints the sequence).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from hypothesis import HealthCheck, Phase, seed, settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from environments.local.driver import LocalDriver
from ovmref.release import Release
from tests.core.pool_properties import PoolUnderFaults

SLACK = 0.2  # a real clock's jitter on top of the failover bound (the benchmark measures the ratio)


class LocalPoolUnderFaults(PoolUnderFaults):
    slack = SLACK
    faults: dict[str, int] = {}  # noqa: RUF012 - counters shared by the campaign's runs
    runs: list[int] = [0]  # noqa: RUF012

    @staticmethod
    def make_driver(release: Release, seed: int) -> LocalDriver:  # type: ignore[override]
        return LocalDriver(release, seed, record_heartbeats=False)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--examples", type=int, default=12, help="fault sequences to run")
    parser.add_argument("--steps", type=int, default=6, help="faults per sequence at most")
    parser.add_argument("--seed", type=int, default=1, help="the campaign's seed (same seed, same sequences)")
    args = parser.parse_args()
    started = time.monotonic()
    violation = ""
    test = LocalPoolUnderFaults.TestCase
    test.settings = settings(
        max_examples=args.examples,
        stateful_step_count=args.steps,
        deadline=None,
        database=None,
        phases=[Phase.generate],  # shrinking would replay minutes of real time; the sequence is printed
        suppress_health_check=list(HealthCheck),
    )
    test.runTest = seed(args.seed)(test.runTest)  # type: ignore[method-assign]
    try:
        test("runTest").runTest()
    except AssertionError as exc:
        violation = str(exc)
    took = time.monotonic() - started
    faults = LocalPoolUnderFaults.faults
    print(
        f"campaign: {LocalPoolUnderFaults.runs[0]} runs (pools built), "
        f"{sum(faults.values())} faults injected "
        f"in {took:.0f} s real time (seed {args.seed})"
    )
    for kind, count in sorted(faults.items()):
        print(f"  {kind:12} {count}")
    print(f"violations: {1 if violation else 0}")
    if violation:
        print(violation)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
