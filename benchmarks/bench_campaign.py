"""Campaign throughput on the simulator: schedules per second, the way a user runs it.

    python benchmarks/bench_campaign.py [--schedules 10000] [-n auto] [--seed 1]

Runs `python -m conformance campaign --env sim --release all` as a child
process (pytest-xdist workers and all) and prints the schedules run, the
violations, wall-clock time, schedules per second, the CPU seconds the
campaign's processes used per schedule, and the load average before and
after: on a shared machine the wall clock says as much about the others as
about the campaign. Target: 10,000 schedules, all releases, 0 violations,
under 10 minutes on a 2-core machine. Exit status: the campaign's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_S = 600


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--schedules", type=int, default=10_000)
    parser.add_argument("-n", dest="workers", default="auto")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--release", default="all")
    parser.add_argument(
        "--report-dir", default=str(REPO / "reports"), help="where the campaign's report goes"
    )
    args = parser.parse_args()
    run_id = "bench-campaign-" + time.strftime("%Y%m%dT%H%M%S")
    command = [
        sys.executable, "-m", "conformance", "campaign", "--env", "sim", "--release", args.release,
        "--schedules", str(args.schedules), "--seed", str(args.seed), "-n", args.workers,
        "--report-dir", args.report_dir, "--run-id", run_id,
    ]  # fmt: skip
    load_before = os.getloadavg()
    started = time.monotonic()
    completed = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_after = os.getloadavg()
    report_json = Path(args.report_dir) / run_id / "campaign.json"
    if not report_json.is_file():
        print(completed.stdout[-2000:], completed.stderr[-2000:], sep="\n")
        print(f"the campaign wrote no report (exit status {completed.returncode})")
        return completed.returncode or 3
    report = json.loads(report_json.read_text(encoding="utf-8"))
    run = report["schedules_run"]
    cpu_s = cpu.ru_utime + cpu.ru_stime
    per = cpu_s / max(1, run)
    cores = os.cpu_count() or 1
    print(f"campaign on sim, releases {', '.join(report['releases'])}, -n {args.workers}, seed {args.seed}")
    print(f"  schedules run       {run} of {args.schedules} ({report['not_applicable']} not applicable)")
    print(f"  violations          {len(report['violations'])}")
    print(f"  wall clock          {wall:.0f} s (target for 10,000: {TARGET_S} s)")
    print(f"  throughput          {run / wall:.1f} schedules/s")
    print(
        f"  CPU                 {cpu_s:.0f} s, {per * 1000:.0f} ms per schedule "
        f"({per * 10_000 / cores:.0f} s for 10,000 on {cores} idle cores)"
    )
    print(f"  pool time simulated {report['simulated_s'] / 3600:.1f} h")
    print(
        f"  load average        {load_before[0]:.1f} before, {load_after[0]:.1f} after "
        f"({cores} cores; other work shares them)"
    )
    print("  faults by kind      " + ", ".join(f"{k} {v}" for k, v in report["faults_by_kind"].items()))
    print(f"  report              {report_json.parent / 'index.html'}")
    for v in report["violations"]:
        print(f"  VIOLATION {v['check']}: {v['message'].splitlines()[0]}")
    return completed.returncode


if __name__ == "__main__":
    sys.exit(main())
