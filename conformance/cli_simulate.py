"""`ovm-conformance simulate`: what would your pool do if ...? Faults played on the simulator."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from conformance.errors import UserError
from conformance.file_kinds import INVENTORY_HINT, looks_like_inventory
from conformance.statuses import EXIT_CODE_HELP
from environments.pooldef import PoolDefinitionError, load_pool_definition
from environments.whatif import Fault, play, render

EXAMPLES = """\
examples:
  ovm-conformance simulate examples/pool.yaml crash:server2
  ovm-conformance simulate examples/pool.yaml hang:server1 partition:server3 --seed 7

POOL.yaml is a pool definition (servers, guests, preferred servers; see examples/pool.yaml),
not the inventory of a real pool that `validate` reads.
"""


def add_parser(sub: Any) -> None:
    sim = sub.add_parser(
        "simulate",
        help="play faults on a pool you describe (YAML) and see where its guests end up",
        description="What happens to this pool if ...? Builds the pool described in POOL.yaml on the "
        "simulator, starts its guests, injects each fault in turn (KIND:SERVER, KIND one of crash, hang, "
        "storage, partition) and prints the HA decisions and where every guest ends up. Exit status 1 "
        "when an HA invariant was violated on the way.",
        epilog=EXAMPLES + "\n" + EXIT_CODE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sim.add_argument("pool", type=Path, help="pool definition (see examples/pool.yaml)")
    sim.add_argument("faults", nargs="*", metavar="KIND:SERVER")
    sim.add_argument("--seed", type=int, default=1)
    sim.set_defaults(handler=cmd_simulate)


def cmd_simulate(args: argparse.Namespace, extra: list[str]) -> int:
    if extra:
        raise UserError(f"unexpected arguments after '--': {' '.join(extra)}")
    try:
        definition = load_pool_definition(args.pool)
    except PoolDefinitionError as exc:
        if looks_like_inventory(args.pool):
            raise UserError(f"{exc}; {INVENTORY_HINT}") from None
        raise
    faults = [Fault.parse(f) for f in args.faults]
    result = play(definition, faults, seed=args.seed)
    print(render(result))
    return 1 if result.violations else 0
