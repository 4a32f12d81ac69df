"""`ovm-conformance campaign`: the command line of a fault campaign.

    ovm-conformance campaign --env sim --release all --schedules 10000 [-n auto] [--seed S]
    ovm-conformance campaign --env local --budget 10m [-n 2]
    ovm-conformance campaign --env sim --replay reports/<run>/violations/violation-01.json

Exit status: 0 no property was violated; 1 violations were found (each is
printed as a scenario, with its replay command, and saved in the report);
2 a bad option (one line on stderr); 3 the campaign could not run (an
environment that cannot start, an internal error, or no schedule that
could be carried out). Arguments after `--` go to pytest unchanged, e.g.
pytest-xdist's remote workers: `-- --tx ssh=me@host//python=/opt/ovm/bin/python`.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from conformance.options import check_environment, new_run_id, parse_releases

REPO = Path(__file__).resolve().parents[2]
SHARD_TEST = Path(__file__).resolve().parent / "shard_test.py"
VIOLATIONS_FOUND = 1
COULD_NOT_RUN = 3
ENVIRONMENTS = ("sim", "local")
DEFAULT_LOCAL_BUDGET_S = 600.0


class CampaignUsageError(ValueError):
    """A bad campaign option; printed as one line, exit status 2."""


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "campaign",
        help="seeded random pools and fault schedules, checked for HA's safety and liveness",
        description="Run seeded random pools and fault schedules and check HA's invariants after each; "
        "every violation is shrunk and printed as a Gherkin scenario you can commit.",
    )
    p.add_argument("--env", default="sim", help="sim (default) or local (real time, bounded by --budget)")
    p.add_argument("--release", default="all", help="2.1, 2.2, 3.x, a comma list or all (default)")
    p.add_argument("--schedules", type=int, default=1000, help="schedules to run (default 1000)")
    p.add_argument("--seed", type=int, default=1, help="campaign seed: the same seed runs the same schedules")
    p.add_argument("-n", dest="workers", metavar="auto|N", help="spread the shards over pytest-xdist workers")
    p.add_argument(
        "--budget",
        metavar="DURATION",
        help="stop starting schedules after this long (90s, 10m, 1h); "
        f"default for local: {int(DEFAULT_LOCAL_BUDGET_S // 60)}m",
    )
    p.add_argument("--max-violations", type=int, default=3, help="stop once this many are found (default 3)")
    p.add_argument("--shard-size", type=int, help="schedules per pytest test (default 25 on sim, 1 on local)")
    p.add_argument("--report-dir", default="reports", help="where run directories go (default: reports)")
    p.add_argument("--run-id", help="name of the run directory (default: UTC time + random)")
    p.add_argument("--replay", type=Path, metavar="SCHEDULE.json", help="run one schedule of a report again")
    p.set_defaults(handler=cmd_campaign)


def parse_duration(text: str) -> float:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text)
    if not m or float(m.group(1)) <= 0:
        raise CampaignUsageError(f"--budget: expected a duration such as 90s, 10m or 1h, got {text!r}")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def _checked(args: argparse.Namespace) -> tuple[str, float | None]:
    env = check_environment(args.env)
    if env not in ENVIRONMENTS:
        raise CampaignUsageError(f"--env {env}: a campaign injects faults, so it runs on sim or local only")
    if args.schedules < 1:
        raise CampaignUsageError(f"--schedules: expected a positive number, got {args.schedules}")
    if args.max_violations < 1:
        raise CampaignUsageError(f"--max-violations: expected a positive number, got {args.max_violations}")
    if args.shard_size is not None and args.shard_size < 1:
        raise CampaignUsageError(f"--shard-size: expected a positive number, got {args.shard_size}")
    if args.workers and not (args.workers == "auto" or args.workers.isdigit()):
        raise CampaignUsageError(f"-n: expected 'auto' or a number, got {args.workers!r}")
    budget = (
        parse_duration(args.budget) if args.budget else (DEFAULT_LOCAL_BUDGET_S if env == "local" else None)
    )
    return env, budget


def cmd_campaign(args: argparse.Namespace, extra: list[str]) -> int:
    releases = parse_releases(args.release)
    env, budget = _checked(args)
    if args.replay is not None:
        if extra:
            raise CampaignUsageError(f"--replay takes no pytest arguments: {' '.join(extra)}")
        return replay(args.replay, env)
    run_id = args.run_id or new_run_id()
    report_dir = Path(args.report_dir).resolve()
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
        workdir = Path(tempfile.mkdtemp(prefix=f".{run_id}.shards.", dir=report_dir))
    except OSError as exc:
        raise CampaignUsageError(
            f"{report_dir}: cannot write the report there: {exc.strerror or exc}"
        ) from None
    shard_size = args.shard_size or (25 if env == "sim" else 1)
    deadline = time.time() + budget if budget else None
    command = [
        # relative to the checkout, so a remote worker started in its own checkout finds it too
        sys.executable, "-m", "pytest", str(SHARD_TEST.relative_to(REPO)),
        "-p", "conformance.campaign.plugin", "--noconftest",
        "-q", "--no-header", "--tb=line", "-p", "no:cacheprovider",
        f"--campaign-dir={workdir}", f"--campaign-env={env}",
        f"--campaign-release={','.join(r.value for r in releases)}", f"--campaign-schedules={args.schedules}",
        f"--campaign-seed={args.seed}", f"--campaign-shard-size={shard_size}",
        f"--campaign-max-violations={args.max_violations}",
        *([f"--campaign-deadline={deadline}"] if deadline else []),
        *(["-n", args.workers] if args.workers else []),
        *extra,
    ]  # fmt: skip
    names = ", ".join(r.value for r in releases)
    print(
        f"campaign {run_id}: {args.schedules} schedules on {env}, releases {names}, seed {args.seed}"
        + (f", time budget {budget:.0f} s" if budget else ""),
        flush=True,
    )
    from conformance.campaign.report import CampaignSummary, write_campaign_report
    from conformance.campaign.results import collect, print_outcome

    started = time.monotonic()
    try:
        completed = subprocess.run(command, cwd=REPO, env=_child_env(), check=False)
        summary = CampaignSummary(
            run_id, env, [r.value for r in releases], args.seed, args.schedules, budget_s=budget
        )
        collect(summary, workdir, completed.returncode)
        summary.elapsed_s = time.monotonic() - started
        final = write_campaign_report(summary, report_dir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print_outcome(summary, final)
    if summary.violations:
        return VIOLATIONS_FOUND
    return COULD_NOT_RUN if summary.errors or summary.schedules == 0 else 0


def replay(path: Path, env: str) -> int:
    from conformance.campaign.gherkin import scenario
    from conformance.campaign.schedule import Schedule, ScheduleError
    from conformance.campaign.search import driver_factory, execute

    try:
        schedule = Schedule.load(path)
    except ScheduleError as exc:
        raise CampaignUsageError(str(exc)) from None
    outcome = execute(schedule, driver_factory(env))
    print(scenario(schedule).text())
    if outcome.run.not_applicable:
        print(f"not applicable: {outcome.run.not_applicable}", file=sys.stderr)
        return COULD_NOT_RUN
    for v in outcome.run.violations:
        print(f"VIOLATED: {v.check}\n{v.message}\n")
    if not outcome.run.violations:
        print("no property was violated")
    return VIOLATIONS_FOUND if outcome.run.violations else 0


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env
