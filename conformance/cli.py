"""`ovm-conformance` / `python3 -m conformance`: run the suite, list the catalog, check config files,
play faults on a described pool, validate a real pool.

One module per subcommand (conformance/cli_*.py, validate_cli.py), each with
`add_parser(sub)`; this one assembles them and owns the rules every command
follows: a user's mistake is one line on stderr and exit status 2, never a
traceback, and every command returns the documented exit codes
(conformance.statuses.ExitCode).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from conformance import cli_rules, cli_run, cli_simulate, validate_cli
from conformance.catalog import CatalogError
from conformance.errors import UserError
from conformance.options import OptionError
from conformance.statuses import EXIT_CODE_HELP, ExitCode
from environments.pooldef import PoolDefinitionError
from environments.ssh.inventory import InventoryError
from environments.whatif import WhatIfError
from ovmref.errors import ConfigSyntaxError

USAGE_ERROR = ExitCode.USAGE
PROG = "ovm-conformance"

OVERVIEW = f"""{PROG}: Oracle VM server-pool HA conformance and validation

commands (each one: {PROG} COMMAND --help):
  run       run the conformance scenarios and write a report
              {PROG} run --release 2.2
  rules     list the rule catalog
              {PROG} rules --release 3.x
  check     check a cluster.conf, /etc/ovs/repositories or fstab file's syntax
              {PROG} check /etc/ocfs2/cluster.conf
  simulate  play faults on a pool you describe (YAML) and see where its guests end up
              {PROG} simulate examples/pool.yaml crash:server2
  validate  check a real pool's HA prerequisites over SSH, read-only, before an upgrade
              {PROG} validate --inventory pool.yaml

options: --version, --help

{EXIT_CODE_HELP}
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """argparse's own errors follow the same one-line, exit-2 rule."""
        raise UserError(f"{self.prog}: {message}")


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("ovm-ha-conformance")
    except PackageNotFoundError:
        return "unknown (not installed: run from a checkout)"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description=OVERVIEW.splitlines()[0],
        epilog=OVERVIEW.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {version()}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    cli_run.add_parser(sub)
    cli_rules.add_parser(sub)
    check = sub.add_parser(
        "check",
        help="check a configuration file's syntax",
        epilog=EXIT_CODE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("file", type=Path)
    check.add_argument("--kind", choices=tuple(CHECKERS), help="file format (default: from the file name)")
    check.set_defaults(handler=cmd_check)
    cli_simulate.add_parser(sub)
    validate_cli.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list:
        print(OVERVIEW, end="")
        return 0
    extra: list[str] = []
    if "--" in args_list:  # everything after `--` goes to pytest unchanged
        cut = args_list.index("--")
        args_list, extra = args_list[:cut], args_list[cut + 1 :]
    _quiet_libraries()
    try:
        args = build_parser().parse_args(args_list)
        if getattr(args, "handler", None) is None:
            print(OVERVIEW, end="")
            return 0
        handler: Callable[[argparse.Namespace, list[str]], int] = args.handler
        return handler(args, extra)
    except (CatalogError, ConfigSyntaxError, PoolDefinitionError, InventoryError) as exc:  # FILE:LINE
        print(exc, file=sys.stderr)
        return USAGE_ERROR
    except (UserError, OptionError, WhatIfError, validate_cli.ValidateUsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except validate_cli.ValidateEnvironmentError as exc:
        print(f"environment error: {exc}", file=sys.stderr)
        return ExitCode.ENVIRONMENT
    except BrokenPipeError:  # `ovm-conformance rules | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except Exception as exc:  # a defect of ours: one line, and the traceback only when asked for
        if os.environ.get("OVM_DEBUG"):
            raise
        print(
            f"internal error: {type(exc).__name__}: {exc} (OVM_DEBUG=1 shows the traceback)", file=sys.stderr
        )
        return ExitCode.SUITE


def _quiet_libraries() -> None:
    """paramiko logs a traceback of its own when a port does not speak SSH; our one line says it."""
    logger = logging.getLogger("paramiko")
    logger.addHandler(logging.NullHandler())
    logger.propagate = False


# ---- check ----------------------------------------------------------------------------------
def _check_cluster_conf(text: str, path: str) -> str:
    from ovmref.cluster.clusterconf import parse_cluster_conf

    conf = parse_cluster_conf(text, path)
    return (
        f"{len(conf.clusters)} cluster(s), {len(conf.nodes)} node(s), "
        f"{len(conf.heartbeats)} heartbeat region(s)"
    )


def _check_repositories(text: str, path: str) -> str:
    from ovmref.storage.repositories import parse_repositories

    repos = parse_repositories(text, path)
    root = repos.cluster_root
    return f"{len(repos.repositories)} repository(ies); cluster root: {root.source if root else 'none'}"


def _check_fstab(text: str, path: str) -> str:
    from ovmref.storage.fstab import parse_fstab

    entries = parse_fstab(text, path)
    ovs = sum(1 for e in entries if e.is_ovs)
    return f"{len(entries)} mount(s), {ovs} under /OVS"


CHECKERS: dict[str, Callable[[str, str], str]] = {
    "cluster.conf": _check_cluster_conf,
    "repositories": _check_repositories,
    "fstab": _check_fstab,
}


def guess_kind(path: Path) -> str:
    name = path.name
    for kind in CHECKERS:
        if name == kind or name.startswith(kind) or name.endswith(kind):
            return kind
    raise UserError(f"{path}: cannot tell the file's format from its name; use --kind {'|'.join(CHECKERS)}")


def cmd_check(args: argparse.Namespace, extra: list[str]) -> int:
    _no_extra(extra)
    path: Path = args.file
    kind = args.kind or guess_kind(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UserError(f"{path}: cannot read: {reason}") from None
    summary = CHECKERS[kind](text, str(path))
    print(f"{path}: OK ({kind}): {summary}")
    return 0


def _no_extra(extra: list[str]) -> None:
    if extra:
        raise UserError(f"unexpected arguments after '--': {' '.join(extra)}")
