"""Wall time of the full conformance run on the simulated pool, all releases (prints it; not a test).

Target: under 20 s on a 2-core machine. Runs the README's command serially
and with -n auto, each into a temporary report directory.

Run: python benchmarks/bench_conformance.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run(workers: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable,
            "-m",
            "conformance",
            "run",
            "--env",
            "sim",
            "--release",
            "all",
            "-q",
            "--report-dir",
            tmp,
            "--run-id",
            "bench",
        ]
        if workers:
            cmd += ["-n", workers]
        t0 = time.perf_counter()
        done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t0
        report = json.loads((Path(tmp) / "bench" / "conformance.json").read_text())
        s = report["summary"]
        label = f"-n {workers}" if workers else "serial"
        print(
            f"conformance run, all releases, {label:>9}: {wall:5.1f} s wall  [target < 20 s]  "
            f"exit {done.returncode}; rules {s['rules']}: {s['passed']} passed, {s['failed']} failed; "
            f"{s['scenarios']}"
        )


if __name__ == "__main__":
    run(None)
    run("auto")
