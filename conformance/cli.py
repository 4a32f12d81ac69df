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

from conformance import check as check_files
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
  (check: 0 valid, 1 problems found, 2 usage error, 3 a file cannot be read)
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
        help="report every problem of a server's configuration file (cluster.conf, repositories, fstab)",
        description="Reads each file as the tool that uses it does (cluster.conf exactly as o2cb) and "
        "reports every problem as FILE:LINE: problem, then a summary line per file.",
        epilog=check_files.EXIT_CODES,
    )
    check.add_argument("file", type=Path, nargs="+")
    check.add_argument(
        "--kind", choices=tuple(check_files.CHECKERS), help="file format (default: from the file name)"
    )
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
def cmd_check(args: argparse.Namespace, extra: list[str]) -> int:
    """Exit status: 0 valid, 1 problems found, 3 a file cannot be read (2: usage, raised as UserError)."""
    _no_extra(extra)
    worst = check_files.VALID
    for path in args.file:
        try:
            kind, result = check_files.check_file(path, args.kind)
        except check_files.UnknownKind as exc:
            raise UserError(str(exc)) from None
        except check_files.Unreadable as exc:
            print(exc, file=sys.stderr)
            worst = check_files.UNREADABLE
            continue
        for problem in result.problems:
            print(problem.render(str(path)))
        if result.problems:
            print(f"{path}: {len(result.problems)} problem(s) ({kind}): {result.summary}")
            worst = max(worst, check_files.PROBLEMS) if worst != check_files.UNREADABLE else worst
        else:
            print(f"{path}: OK ({kind}): {result.summary}")
    return worst


def _no_extra(extra: list[str]) -> None:
    if extra:
        raise UserError(f"unexpected arguments after '--': {' '.join(extra)}")
