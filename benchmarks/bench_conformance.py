"""Time of the full conformance run on the simulated pool, all releases (prints it; not a test).

Target (issue 12): 8 s wall with -n auto on a 2-core machine. Runs the README's command serially
and with -n auto, each into a temporary report directory, `--repeat` times, and prints the median
wall time and the median CPU time the run's processes used (user + system: on a machine shared
with other work the wall time says more about the neighbours than about the suite).

Run: python benchmarks/bench_conformance.py [--repeat 3] [--workers auto]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(workers: str | None) -> tuple[float, float, str]:
    """(wall s, CPU s, summary) of one run."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "conformance", "run", "--env", "sim", "--release", "all", "-q"]
        cmd += ["--report-dir", tmp, "--run-id", "bench"]
        if workers:
            cmd += ["-n", workers]
        cpu0, t0 = _children_cpu_s(), time.perf_counter()
        done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
        wall, cpu = time.perf_counter() - t0, _children_cpu_s() - cpu0
        report = json.loads((Path(tmp) / "bench" / "conformance.json").read_text())
        s = report["summary"]
        summary = (
            f"exit {done.returncode}; rules {s['rules']}: {s['passed']} passed, {s['failed']} failed; "
            f"{s['scenarios']}"
        )
        return wall, cpu, summary


def run(workers: str | None, repeat: int) -> None:
    results = [run_once(workers) for _ in range(repeat)]
    wall = statistics.median(r[0] for r in results)
    cpu = statistics.median(r[1] for r in results)
    label = f"-n {workers}" if workers else "serial"
    print(
        f"conformance run, all releases, {label:>9}: {wall:5.1f} s wall, {cpu:5.1f} s CPU "
        f"(median of {repeat})  [target -n auto < 8 s wall]  {results[-1][2]}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each mode (default 3)")
    parser.add_argument("--workers", default="auto", help="the parallel mode's -n (default auto)")
    args = parser.parse_args()
    run(None, args.repeat)
    run(args.workers, args.repeat)


if __name__ == "__main__":
    main()
