"""Does the campaign catch real bugs? Each deliberate mutant, and how many schedules it takes.

    python benchmarks/campaign_mutants.py [--within 1000] [--seed 1] [--mutant NAME ...]

For each mutant of tests/campaign/mutants.py (the multi-failure defect of
issue 10 put back; a restart skipped; placement onto the least free server;
a fence that leaves the guests running), runs the campaign on the simulator,
all releases, in this process with the mutant applied, until the first
violation; prints the schedules it took, the property broken, how long
shrinking took and the shrunk scenario. Exit status 1 if a mutant survives
`--within` schedules (the bar: 1,000).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from conformance.campaign.search import driver_factory, run_shard
from ovmref.release import ALL_RELEASES
from tests.campaign.mutants import MUTANTS, apply

SHARD = 200


def hunt(mutant: str, within: int, seed: int) -> bool:
    ran, shard = 0, 0
    started = time.monotonic()
    with apply(mutant):
        while ran < within:
            result = run_shard(
                shard,
                min(SHARD, within - ran),
                campaign_seed=seed,
                releases=ALL_RELEASES,
                make_driver=driver_factory("sim"),
            )
            if result.found:
                found = result.found[0]
                took = time.monotonic() - started
                print(
                    f"{mutant}: found after {ran + found.found_after} schedules ({took:.0f} s, "
                    f"{result.shrink_runs} runs to shrink)"
                )
                print(f"  broken: {found.check}")
                print(f"  {found.message.splitlines()[0]}")
                lines = found.scenario.text().splitlines()
                print(f"  shrunk to {len(lines) - 2} steps:")
                print("\n".join("  " + line for line in lines))
                return True
            ran += result.schedules
            shard += 1
    print(f"{mutant}: NOT found in {ran} schedules")
    return False


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--within", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mutant", action="append", choices=sorted(MUTANTS))
    args = parser.parse_args()
    survivors = [m for m in (args.mutant or list(MUTANTS)) if not hunt(m, args.within, args.seed)]
    print(f"mutants found: {len(args.mutant or MUTANTS) - len(survivors)} of {len(args.mutant or MUTANTS)}")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
