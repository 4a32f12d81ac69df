"""`ovm-conformance simulate`: what would your pool do if ...? Faults played on the simulator."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from conformance.errors import UserError
from conformance.file_kinds import (
    DEFINITION_HINT,
    INVENTORY_HINT,
    looks_like_inventory,
    looks_like_pool_definition,
)
from conformance.statuses import EXIT_CODE_HELP, ExitCode
from environments.manager.join import join_manager
from environments.pooldef import PoolDefinitionError, load_pool_definition
from environments.whatif import Fault, play, render
from ovmref.readiness.faults import FaultError, parse_fault, play_faults, render_played
from ovmref.readiness.readout import PoolReadout

EXAMPLES = """\
examples:
  ovm-conformance simulate examples/pool.yaml crash:server2
  ovm-conformance simulate examples/pool.yaml hang:server1 partition:server3 --seed 7
  ovm-conformance simulate --inventory inventory.yaml crash:ovs2 crash:ovs3

With --inventory, the real pool is read out read-only over SSH (its guests, their memory and HA
flags, as `validate --readiness` reads them; docs/readiness.md) and, when the inventory names an
Oracle VM Manager 3.x with credentials, joined with its facts (GET only; the Manager's over vm.cfg
over the inventory's ha:). The faults are played on that read-out: nothing is done to the real
pool. A Manager that does not answer is one line, its facts unknown. Exit status 4 when no server
answers.

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
    sim.add_argument("pool", nargs="?", help="pool definition (see examples/pool.yaml)")
    sim.add_argument("faults", nargs="*", metavar="KIND:SERVER")
    sim.add_argument(
        "--inventory",
        type=Path,
        help="play the faults on this real pool's read-out (read-only, over SSH), joined with its "
        "Oracle VM Manager's facts (GET only) when the inventory names one with credentials",
    )
    sim.add_argument("--seed", type=int, default=1)
    sim.set_defaults(handler=cmd_simulate)


def cmd_simulate(args: argparse.Namespace, extra: list[str]) -> int:
    if extra:
        raise UserError(f"unexpected arguments after '--': {' '.join(extra)}")
    if args.inventory is not None:
        return _on_inventory(args.inventory, ([args.pool] if args.pool else []) + list(args.faults))
    if args.pool is None:
        raise UserError("give a pool definition (POOL.yaml) or --inventory INVENTORY.yaml")
    args.pool = Path(args.pool)
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


def _on_inventory(path: Path, texts: list[str]) -> int:
    """The faults played on a real pool's read-out (ovmref.readiness.faults): nothing is sent to the
    servers but allow-listed reading commands."""
    try:
        from environments.ssh.guest_readout import ReadoutError, read_inventory
        from environments.ssh.inventory import InventoryError, load_inventory
    except ImportError as exc:
        raise UserError(
            f"--inventory needs the SSH driver's dependencies ({exc.name}): "
            "pip install 'ovm-ha-conformance[ssh]'"
        ) from exc
    try:
        faults = [parse_fault(t) for t in texts]
    except FaultError as exc:
        raise UserError(str(exc)) from None
    if not faults:
        raise UserError("give at least one fault, KIND:SERVER")
    try:
        inventory = load_inventory(path)  # InventoryError: FILE:LINE: problem (exit 2)
    except InventoryError as exc:
        if looks_like_pool_definition(path):
            raise UserError(f"{exc}; {DEFINITION_HINT}") from None
        raise
    print(f"reading pool {inventory.pool} out, read-only: {len(inventory.servers)} servers", flush=True)
    try:
        readout = read_inventory(inventory)
    except ReadoutError as exc:
        print(f"environment error: {exc}", file=sys.stderr)
        return int(ExitCode.ENVIRONMENT)
    readout = join_manager(readout, inventory.manager)  # the Manager's facts, as validate joins them
    print(_pool_ha_line(readout))
    try:
        after, played = play_faults(readout, faults)
    except FaultError as exc:
        raise UserError(str(exc)) from None
    for line in render_played(readout, after, played):
        print(line)
    return 0


def _pool_ha_line(readout: PoolReadout) -> str:
    """Where the pool's HA setting, on which every restart depends, was read (or why it is unknown)."""
    if readout.pool_ha is None:
        return f"pool HA: {readout.pool_ha_source}"
    return f"pool HA: {'on' if readout.pool_ha else 'off'} ({readout.pool_ha_source})"
