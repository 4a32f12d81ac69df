"""`ovm-conformance run`: the feature suite on an environment, as one pytest run, and its report.

Everything that can be wrong with the command line is found before pytest
starts (an unknown release, an unwritable report directory, a run id that
would replace an earlier run, a --scenario that matches nothing), so a run
is never lost at its end. pytest runs with the suite's own settings
(conformance/suite.ini), whichever directory it is started from.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from conformance.catalog import load_catalog
from conformance.errors import UserError
from conformance.options import (
    check_environment,
    check_real_pool,
    check_run_id,
    check_writable_dir,
    new_run_id,
    parse_releases,
)
from conformance.report_files import HTML_NAME, JSON_NAME, SUMMARY_NAME
from conformance.statuses import EXIT_CODE_HELP, ExitCode
from conformance.suite import PACKAGE_ROOT, SUITE_INI, default_catalog, feature_files

EXAMPLES = """\
examples:
  ovm-conformance run --release 2.2                      the suite for Oracle VM 2.2 on the simulator
  ovm-conformance run --release all -n auto              every release, in parallel
  ovm-conformance run --release 2.2 --scenario master    only scenarios whose names contain 'master'
  ovm-conformance run --features ./my-features           your own .feature files, with the suite's steps
  ovm-conformance run --env ssh --inventory pool.yaml    the observation scenarios on a real pool, read-only
  ovm-conformance run --release 2.2 -- -x --tb=short     anything after -- goes to pytest
"""


def add_parser(sub: Any) -> None:
    run = sub.add_parser(
        "run",
        help="run the conformance scenarios and write a report",
        description="Runs the Gherkin scenarios of the suite (or of --features DIR) once per release on "
        "the environment, then writes reports/<run-id>/ (index.html, conformance.json, junit.xml, "
        "cucumber.json) and prints a short summary.",
        epilog=EXAMPLES + "\n" + EXIT_CODE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("--env", default="sim", help="environment: sim (default), local, docker, ssh")
    run.add_argument("--release", default="all", help="2.1, 2.2, 3.x, a comma list, or all (default)")
    run.add_argument("--seed", type=int, default=1, help="base seed (default 1)")
    run.add_argument(
        "--scenario",
        action="extend",
        nargs="+",
        default=[],
        metavar="NODEID_OR_WORDS",
        help="a node id (as printed in replay commands) or words of a scenario's name",
    )
    run.add_argument("-n", dest="workers", metavar="auto|N", help="run in parallel with pytest-xdist")
    run.add_argument("--features", type=Path, metavar="DIR", help="run the .feature files of DIR instead")
    run.add_argument("--catalog", type=Path, help="rule catalog (default: DIR/rules.yaml, else the suite's)")
    run.add_argument("--report-dir", default="reports", help="where run directories go (default: reports)")
    run.add_argument("--run-id", help="name of the run directory (default: UTC time + random)")
    run.add_argument("--force", action="store_true", help="let --run-id replace an existing run directory")
    run.add_argument(
        "--latest",
        action="store_true",
        help="point reports/latest at this run even though it is a selection (a replay)",
    )
    run.add_argument("--allure", metavar="DIR", type=Path, help="also write allure results to DIR")
    run.add_argument("-q", "--quiet", action="store_true", help="less pytest output")
    run.add_argument("--inventory", type=Path, help="the real pool's inventory (YAML), for --env ssh")
    run.add_argument(
        "--allow-destructive",
        metavar="POOL",
        help="let destructive scenarios start on the real pool of this name (--env ssh)",
    )
    run.add_argument("--project", type=Path, help=argparse.SUPPRESS)  # another suite root (tests)
    run.set_defaults(handler=cmd_run)


def cmd_run(args: argparse.Namespace, extra: list[str]) -> int:
    releases = parse_releases(args.release)
    env = check_environment(args.env)
    root = (args.project or PACKAGE_ROOT).resolve()
    module = root / "features" / "test_features.py"
    if not module.is_file():
        raise UserError(f"{module}: the suite's feature test module is missing (a broken install?)")
    features_dir = args.features.resolve() if args.features else None
    if features_dir is not None and not features_dir.is_dir():
        raise UserError(f"--features {args.features}: not a directory")
    if features_dir is not None and not feature_files(features_dir):
        raise UserError(f"--features {args.features}: no .feature file in it")
    if args.catalog:
        catalog = args.catalog.resolve()
    elif args.project:
        catalog = root / "features" / "rules.yaml"
    else:
        catalog = default_catalog(features_dir)
    load_catalog(catalog)  # a broken catalog stops here with FILE:LINE, not mid-collection
    inventory = args.inventory.resolve() if args.inventory else None
    check_real_pool(env, inventory, args.allow_destructive, prefix="--")
    run_id = check_run_id(args.run_id) or new_run_id()
    report_dir = check_writable_dir(Path(args.report_dir).resolve(), "--report-dir")
    run_dir = report_dir / run_id
    if run_dir.exists() and not args.force:
        raise UserError(f"{run_dir} already exists: choose another --run-id, or add --force to replace it")
    allure = check_writable_dir(args.allure.resolve(), "--allure") if args.allure else None
    targets, selection = _selection(args.scenario, module, features_dir or module.parent)
    command = [
        sys.executable,
        "-m",
        "pytest",
        *targets,
        "-c",
        str(SUITE_INI),
        f"--rootdir={root}",
        f"--confcutdir={module.parent}",
        "-p",
        "conformance.plugin",
        "-p",
        "steps",
        f"--ovm-env={env}",
        f"--ovm-release={','.join(r.value for r in releases)}",
        f"--ovm-seed={args.seed}",
        f"--ovm-report-dir={report_dir}",
        f"--ovm-run-id={run_id}",
        f"--ovm-catalog={catalog}",
        "--ovm-caller=cli",
        f"--ovm-latest={'yes' if args.latest else 'auto'}",
    ]
    if args.force:
        command.append("--ovm-force")
    if selection:
        command.append(f"--ovm-selection={selection}")
    if features_dir is not None:
        command.append(f"--ovm-features={features_dir}")
    if inventory is not None:
        command.append(f"--ovm-inventory={inventory}")
    if args.allow_destructive:
        command.append(f"--ovm-allow-destructive={args.allow_destructive}")
    if args.workers:
        if not (args.workers == "auto" or args.workers.isdigit()):
            raise UserError(f"-n: expected 'auto' or a number, got {args.workers!r}")
        command += ["-n", args.workers]
    if allure is not None:
        command.append(f"--ovm-allure={allure}")
    if args.quiet:
        command.append("-q")
    if not any(a.startswith("--tb") for a in extra):
        command += ["--tb=no", "-rN"]  # the plugin prints each failure short: step, message, replay command
    completed = subprocess.run([*command, *extra], env=_child_env(), check=False)
    return _outcome(run_dir, completed.returncode)


def _selection(scenarios: list[str], module: Path, features_dir: Path) -> tuple[list[str], str]:
    """pytest's targets (node ids, or the module and a -k expression) and the selection's words."""
    nodeids = [s for s in scenarios if "::" in s]
    words = [s for s in scenarios if "::" not in s]
    if nodeids and words:
        raise UserError("--scenario: give either node ids or words of scenario names, not both")
    if nodeids:
        for nodeid in nodeids:
            path = nodeid.split("::", 1)[0]
            if Path(path).name != module.name:
                raise UserError(
                    f"--scenario {nodeid}: not a scenario of the suite (node ids start with "
                    f"features/{module.name}::)"
                )
        targets = [
            str(module.parent.parent / n) if not Path(n.split("::")[0]).is_absolute() else n for n in nodeids
        ]
        return targets, "--scenario " + " ".join(shlex.quote(n) for n in nodeids)
    if not words:
        return [str(module)], ""
    keywords = [scenario_keyword(w) for w in words]
    names = _scenario_python_names(features_dir)
    for word, keyword in zip(words, keywords, strict=True):
        if names and not any(keyword in name for name in names):
            raise UserError(f"--scenario {word!r}: no scenario's name contains these words")
    return [str(module), "-k", " or ".join(keywords)], "--scenario " + " ".join(shlex.quote(w) for w in words)


def scenario_keyword(text: str) -> str:
    """Scenario words -> the `-k` keyword pytest-bdd's generated test name contains."""
    word = re.sub(r"\W", "", text.strip().replace(" ", "_")).lower()
    word = re.sub(r"^\d+_*", "", word)
    if not word:
        raise UserError(f"--scenario {text!r}: no letters to match a scenario name with")
    return word


def _scenario_python_names(features_dir: Path) -> list[str]:
    """The test names pytest-bdd gives the scenarios of the feature files that parse."""
    from pytest_bdd.feature import get_features
    from pytest_bdd.scenario import make_python_name

    from conformance.suite import split_parsable

    parsable, _ = split_parsable(features_dir)
    return [
        make_python_name(name).lower() for feature in get_features(parsable) for name in feature.scenarios
    ]


def _child_env() -> dict[str, str]:
    """pytest must import this package even where it is not installed (a bare checkout)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PACKAGE_ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def _outcome(run_dir: Path, returncode: int) -> int:
    """The closing summary and the exit code, from the report the run wrote."""
    report_json = run_dir / JSON_NAME
    if not report_json.is_file():
        if returncode in (4, 5):  # pytest's usage error or "no tests collected": already explained above
            print(f"error: nothing was run (pytest exit status {returncode})", file=sys.stderr)
            return ExitCode.USAGE
        if returncode == 2:
            print("interrupted before any scenario finished: no report was written", file=sys.stderr)
            return ExitCode.INCOMPLETE
        print(f"the suite failed before writing a report (pytest exit status {returncode})", file=sys.stderr)
        return ExitCode.SUITE
    data = json.loads(report_json.read_text(encoding="utf-8"))
    summary = run_dir / SUMMARY_NAME
    if summary.is_file():
        print(summary.read_text(encoding="utf-8").rstrip("\n"))
    else:
        print(data["verdict_line"])
    print(f"report: {run_dir / HTML_NAME}")
    return int(data["exit_code"])
