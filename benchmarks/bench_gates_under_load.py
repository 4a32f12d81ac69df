"""The real-time conformance gates beside CPU-bound busy loops: same verdicts, and what was granted.

Runs the whole suite (every release) on the local and docker environments, as the gate test
does (tests/test_conformance_gate.py, scale 0.03), with `--busy` processes spinning on the CPU
for the whole run (bounded, killed at the end), `--runs` times per environment; optionally an
idle run first (`--idle`) to compare against. Prints, per run, the verdict, the scenarios that
failed or were too slow to judge, the duration, and the latency the timing checks were granted
(min / median / max, pool ms and real ms); exits 1 when any run's verdicts differ from the
first run's or any scenario failed or could not be judged.

    python benchmarks/bench_gates_under_load.py [--env local,docker] [--runs 3] [--busy 2] [--idle]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.busy_loops import busy_loops
from tests.gate import GateRun, run_gate
from tests.realtime_lane import unavailable


def describe(gate: GateRun, label: str) -> str:
    summary = gate.report["summary"]
    scenarios = summary["scenarios"]
    line = (
        f"{gate.env:7} {label:6} {gate.report['verdict']:10} {scenarios['passed']:4} passed "
        f"{scenarios['failed']:2} failed {summary['too_slow_to_judge']:2} too slow "
        f"{scenarios['environment-error'] + scenarios['suite-error']:2} errors"
        f"  {gate.duration_s / 60:5.1f} min"
    )
    if gate.rejudged:
        left = len(gate.too_slow_to_judge)
        line += f"  ({len(gate.rejudged)} judged again alone, {left} still too slow)"
    checks = gate.checks()
    if checks:
        pool = sorted(c["granted_ms"] for c in checks)
        real = sorted(c["real_ms"] for c in checks)
        share = max(c["share_of_bound"] for c in checks)
        line += (
            f"  granted over {len(checks)} checks: {pool[0]} / {statistics.median(pool):.0f} / {pool[-1]} ms"
            f" pool, {real[0]:.1f} / {statistics.median(real):.1f} / {real[-1]:.1f} ms real"
            f" (largest share of a bound {share:.1%})"
        )
    return line


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--env", default="local,docker", help="real-time environments, a comma list")
    parser.add_argument("--runs", type=int, default=3, help="loaded runs per environment")
    parser.add_argument("--busy", type=int, default=2, help="busy loops beside each loaded run")
    parser.add_argument("--idle", action="store_true", help="run once idle first, and compare with it")
    parser.add_argument("--report-dir", help="keep the runs' reports here (default: a temporary directory)")
    args = parser.parse_args()
    envs = [e.strip() for e in args.env.split(",") if e.strip()]
    ok = True
    with contextlib.ExitStack() as stack:
        base = Path(args.report_dir or stack.enter_context(tempfile.TemporaryDirectory(prefix="gates-")))
        print(
            f"conformance gates, every release, {args.runs} runs beside {args.busy} busy loops "
            "per environment"
        )
        for env in envs:
            if (why := unavailable(env)) is not None:
                print(f"{env}: skipped: {why}")
                continue
            runs: list[tuple[str, GateRun]] = []
            plan = (["idle"] if args.idle else []) + [f"busy{i + 1}" for i in range(args.runs)]
            for label in plan:
                with busy_loops(args.busy) if label != "idle" else contextlib.nullcontext():
                    gate = run_gate(env, base / env, run_id=label)
                runs.append((label, gate))
                print(describe(gate, label), flush=True)
                for problem in gate.problems:
                    print(f"        {problem[0]}: {problem[1]}: {problem[2]}")
            first = runs[0][1].verdicts if runs else {}
            for label, gate in runs:
                differ = sorted(n for n, v in gate.verdicts.items() if first.get(n) != v)
                if differ:
                    print(f"{env} {label}: {len(differ)} verdicts differ from {runs[0][0]}: {differ[:5]}")
                ok = ok and not differ and not gate.problems and gate.passed
            pooled = [c["granted_ms"] for _, gate in runs if gate.env == env for c in gate.checks()]
            if pooled:
                print(
                    f"{env}: granted latency over every run: min {min(pooled)} / median "
                    f"{statistics.median(pooled):.0f} / max {max(pooled)} ms of pool time"
                )
    print("same verdicts, every rule passed" if ok else "NOT the same verdicts, or a scenario failed")
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # the busy loops and pools are stopped by their context managers
        print("interrupted: the runs printed above are complete, the one under way is not", file=sys.stderr)
        sys.exit(130)
