"""`ovm-conformance` / `python -m conformance`: run the suite, list the catalog, check config files.

Every user mistake (unknown release or environment, unreadable file, bad
catalog, malformed configuration) ends with one line on stderr and exit
status 2, never a traceback; `run` otherwise returns pytest's exit status.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from conformance import validate_cli
from conformance.catalog import Catalog, CatalogError, Rule, load_catalog
from conformance.options import OptionError, check_environment, check_real_pool, new_run_id, parse_releases
from conformance.report_files import HTML_NAME, JSON_NAME
from environments.pooldef import PoolDefinitionError, load_pool_definition
from environments.ssh.inventory import InventoryError
from environments.whatif import Fault, WhatIfError, play, render
from ovmref.errors import ConfigSyntaxError

USAGE_ERROR = 2
REPO = Path(__file__).resolve().parent.parent
FEATURES_MODULE = "features/test_features.py"
CATALOG = "features/rules.yaml"


class UserError(Exception):
    """A mistake on the command line or in an input file; printed as one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """argparse's own errors follow the same one-line, exit-2 rule."""
        raise UserError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ovm-conformance", description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="run the conformance scenarios and write a report")
    run.add_argument("--env", default="sim", help="environment (default: sim)")
    run.add_argument("--release", default="all", help="2.1, 2.2, 3.x, a comma list or all (default)")
    run.add_argument("--seed", type=int, default=1, help="base seed (default 1)")
    run.add_argument(
        "--scenario",
        action="extend",
        nargs="+",
        default=[],
        metavar="NODEID_OR_TEXT",
        help="a pytest node id (as printed in replay commands) or words of a scenario name",
    )
    run.add_argument("-n", dest="workers", metavar="auto|N", help="run in parallel with pytest-xdist")
    run.add_argument("--report-dir", default="reports", help="where run directories go (default: reports)")
    run.add_argument("--run-id", help="name of the run directory (default: UTC time + random)")
    run.add_argument("--allure", metavar="DIR", help="also write allure results to DIR")
    run.add_argument("-q", "--quiet", action="store_true", help="less pytest output")
    run.add_argument(
        "--inventory", type=Path, help="the real pool's inventory (YAML), for --env ssh (read-only)"
    )
    run.add_argument(
        "--allow-destructive",
        metavar="POOL",
        help="let destructive scenarios start on the real pool of this name (--env ssh)",
    )
    run.add_argument("--project", default=str(REPO), help=argparse.SUPPRESS)  # a checkout to run (tests)
    run.set_defaults(handler=cmd_run)

    rules = sub.add_parser("rules", help="list the rule catalog")
    rules.add_argument("--release", help="only rules stated for this release")
    rules.add_argument("--format", choices=("table", "json"), default="table")
    rules.add_argument("--catalog", type=Path, help="catalog file (default: features/rules.yaml)")
    rules.set_defaults(handler=cmd_rules)

    check = sub.add_parser("check", help="check a configuration file's syntax")
    check.add_argument("file", type=Path)
    check.add_argument("--kind", choices=tuple(CHECKERS), help="file format (default: from the file name)")
    check.set_defaults(handler=cmd_check)
    sim = sub.add_parser(
        "simulate",
        help="play faults on a pool you describe (YAML) and see where its guests end up",
        description="What happens to this pool if ...? Builds the pool described in POOL.yaml on the "
        "simulator, starts its guests, injects each fault in turn (KIND:SERVER, KIND one of crash, hang, "
        "storage, partition) and prints the HA decisions and where every guest ends up.",
    )
    sim.add_argument("pool", type=Path, help="pool definition (see environments/pooldef.py)")
    sim.add_argument("faults", nargs="*", metavar="KIND:SERVER")
    sim.add_argument("--seed", type=int, default=1)
    sim.set_defaults(handler=cmd_simulate)
    validate_cli.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in args_list:  # everything after `--` goes to pytest unchanged
        cut = args_list.index("--")
        args_list, extra = args_list[:cut], args_list[cut + 1 :]
    try:
        args = build_parser().parse_args(args_list)
        handler: Callable[[argparse.Namespace, list[str]], int] = args.handler
        return handler(args, extra)
    except (CatalogError, ConfigSyntaxError, PoolDefinitionError, InventoryError) as exc:  # FILE:LINE
        print(exc, file=sys.stderr)
        return USAGE_ERROR
    except (UserError, OptionError, WhatIfError, validate_cli.ValidateUsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except BrokenPipeError:  # `ovm-conformance rules | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


# ---- run ------------------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace, extra: list[str]) -> int:
    releases = parse_releases(args.release)
    env = check_environment(args.env)
    project = Path(args.project).resolve()
    if not (project / FEATURES_MODULE).is_file():
        raise UserError(f"{project / FEATURES_MODULE}: no feature test module to run")
    if (project / CATALOG).is_file():
        load_catalog(project / CATALOG)  # a broken catalog stops here with FILE:LINE, not mid-collection
    inventory = args.inventory.resolve() if args.inventory else None
    check_real_pool(env, inventory, args.allow_destructive)  # before pytest starts: one clear line
    run_id = args.run_id or new_run_id()
    report_dir = Path(args.report_dir).resolve()
    command = pytest_command(args, env, ",".join(r.value for r in releases), run_id, report_dir) + extra
    completed = subprocess.run(command, cwd=project, env=_child_env(), check=False)
    _print_outcome(report_dir / run_id, completed.returncode)
    return completed.returncode


def pytest_command(
    args: argparse.Namespace, env: str, releases: str, run_id: str, report_dir: Path
) -> list[str]:
    nodeids = [s for s in args.scenario if "::" in s]
    texts = [s for s in args.scenario if "::" not in s]
    if nodeids and texts:
        raise UserError("--scenario: give either node ids or scenario names, not both")
    command = [sys.executable, "-m", "pytest", *(nodeids or [FEATURES_MODULE])]
    if texts:
        command += ["-k", " or ".join(scenario_keyword(t) for t in texts)]
    command += [
        f"--ovm-env={env}",
        f"--ovm-release={releases}",
        f"--ovm-seed={args.seed}",
        f"--ovm-report-dir={report_dir}",
        f"--ovm-run-id={run_id}",
    ]
    if args.inventory:
        command += [f"--ovm-inventory={args.inventory.resolve()}"]
    if args.allow_destructive:
        command += [f"--ovm-allow-destructive={args.allow_destructive}"]
    if args.workers:
        if not (args.workers == "auto" or args.workers.isdigit()):
            raise UserError(f"-n: expected 'auto' or a number, got {args.workers!r}")
        command += ["-n", args.workers]
    if args.allure:
        if importlib.util.find_spec("allure_pytest") is None:
            raise UserError("--allure needs allure-pytest: pip install 'ovm-ha-conformance[allure]'")
        command += [f"--alluredir={Path(args.allure).resolve()}"]
    if args.quiet:
        command += ["-q"]
    return command


def scenario_keyword(text: str) -> str:
    """Scenario words -> the `-k` keyword pytest-bdd's generated test name contains."""
    word = re.sub(r"\W", "", text.strip().replace(" ", "_")).lower()
    word = re.sub(r"^\d+_*", "", word)
    if not word:
        raise UserError(f"--scenario {text!r}: no letters to match a scenario name with")
    return word


def _child_env() -> dict[str, str]:
    """pytest must import this checkout's packages even when it is not installed."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


def _print_outcome(run_dir: Path, returncode: int) -> None:
    report_json = run_dir / JSON_NAME
    if not report_json.is_file():
        print(f"no conformance report was written (pytest exit status {returncode})", file=sys.stderr)
        return
    data = json.loads(report_json.read_text(encoding="utf-8"))
    summary = data["summary"]
    counts = ", ".join(f"{summary[s]} {s}" for s in ("passed", "failed", "skipped", "not-applicable"))
    print(f"report: {run_dir / HTML_NAME}")
    print(f"json:   {report_json}")
    slow = summary.get("too_slow_to_judge", 0)
    tail = f"; {slow} scenario runs too slow to judge" if slow else ""
    print(f"{data['verdict']}: {summary['rules']} rules ({counts}){tail}")


# ---- rules ----------------------------------------------------------------------------------
def cmd_rules(args: argparse.Namespace, extra: list[str]) -> int:
    _no_extra(extra)
    catalog = load_catalog(args.catalog)
    rules = catalog.rules
    if args.release:
        releases = parse_releases(args.release)
        if len(releases) != 1:
            raise UserError(f"--release: give one release, not {args.release!r}")
        rules = catalog.for_release(releases[0])
    if args.format == "json":
        print(json.dumps([_rule_dict(r) for r in rules], indent=2, ensure_ascii=False))
    else:
        print(_rule_table(catalog, rules))
    return 0


def _rule_dict(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "statement": rule.statement,
        "releases": [r.value for r in rule.releases],
        "kind": rule.kind,
        "checks": rule.checks,
        "source": rule.source_text,
        "sources": [{"doc": s.doc.key, "section": s.section, "quote": s.quote} for s in rule.sources],
    }


def _rule_table(catalog: Catalog, rules: Sequence[Rule]) -> str:
    rows = [("ID", "RELEASES", "KIND", "CHECKS", "STATEMENT")]
    rows += [(r.id, ",".join(x.value for x in r.releases), r.kind, r.checks, r.statement) for r in rules]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths, strict=True)) + "  " + row[4]
        for row in rows
    ]
    lines.append(f"{len(rules)} of {len(catalog.rules)} rules")
    return "\n".join(lines)


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


# ---- simulate -------------------------------------------------------------------------------
def cmd_simulate(args: argparse.Namespace, extra: list[str]) -> int:
    _no_extra(extra)
    definition = load_pool_definition(args.pool)
    faults = [Fault.parse(f) for f in args.faults]
    result = play(definition, faults, seed=args.seed)
    print(render(result))
    return 1 if result.violations else 0


def _no_extra(extra: list[str]) -> None:
    if extra:
        raise UserError(f"unexpected arguments after '--': {' '.join(extra)}")
