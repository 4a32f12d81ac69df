"""Mutation score of ovmref: mutmut mutates it, the sim feature suite and the property tests kill.

    python3 benchmarks/mutation.py --count            # mutants per module, nothing run (seconds)
    python3 benchmarks/mutation.py --sample 30        # a fixed sample of the target modules' mutants
    python3 benchmarks/mutation.py                    # every mutant of the target modules (hours)
    python3 benchmarks/mutation.py --report           # the table again, from the last runs

Prints, per module, killed / survived / timed out (and mutants with no test, or not run yet) and
the score: killed and timed out over every judged mutant that is not a listed equivalent one.
benchmarks/equivalent_mutants.yaml lists those (file, line, the mutation, why no behaviour
differs); a survivor that is listed is counted apart, so the next run reads the same list.

mutmut (3.8) works on a copy: this script stages what the killer needs in a work directory
(default .mutation/, kept between runs so mutmut's stats and results are reused) and runs mutmut
there; pyproject.toml's [tool.mutmut] says what is mutated and which tests kill. See
docs/mutation.md for why mutmut, and for the figures of a full run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
EQUIVALENTS = REPO / "benchmarks" / "equivalent_mutants.yaml"
TARGETS = ("ovmref/failover/", "ovmref/heartbeat/", "ovmref/cluster/", "ovmref/lease.py", "ovmref/prereq.py")
STAGED = ("ovmref", "environments", "steps", "conformance", "features", "conftest.py", "pyproject.toml")
STAGED_TESTS = ("tests/conftest.py", "tests/core", "tests/heartbeat", "tests/realtime_lane.py")
SAMPLE_SEED = 13
STATUS = {  # mutmut's exit codes (mutmut.stats.status_by_exit_code), folded into what we print
    1: "killed",
    3: "killed",
    0: "survived",
    5: "no tests",
    33: "no tests",
    34: "skipped",
    36: "timeout",
    24: "timeout",
    -24: "timeout",
    152: "timeout",
    255: "timeout",
    37: "killed",
    None: "not run",
}
COLUMNS = ("killed", "survived", "timeout", "equivalent", "no tests", "not run", "other")


@dataclass(frozen=True)
class Equivalent:
    file: str
    line: int
    original: str
    mutated: str
    why: str


def load_equivalents(path: Path = EQUIVALENTS) -> list[Equivalent]:
    """The committed list of mutants that change no behaviour; a malformed entry says where."""
    if not path.exists():
        return []
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    out = []
    for i, e in enumerate(entries, 1):
        missing = [k for k in ("file", "line", "original", "mutated", "why") if k not in (e or {})]
        if missing:
            raise SystemExit(f"{path}: entry {i} lacks {', '.join(missing)}")
        out.append(
            Equivalent(
                str(e["file"]),
                int(e["line"]),
                str(e["original"]).strip(),
                str(e["mutated"]).strip(),
                str(e["why"]),
            )
        )
    return out


def stage(workdir: Path) -> None:
    """Copy what the killer imports into the work directory (tests selectively: the repository's
    test corpus holds symlinks that mean something only on a real server)."""
    workdir.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")
    for name in (*STAGED, *STAGED_TESTS):
        source, target = REPO / name, workdir / name
        if source.is_dir():
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(source, target, ignore=ignore)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    stale = workdir / "mutants" / "ovmref"
    if stale.exists():
        # sources changed since the last run: mutmut regenerates mutants of changed functions only
        # from its copy's modification times, so give it fresh copies to compare
        for path in (REPO / "ovmref").rglob("*.py"):
            copy = stale / path.relative_to(REPO / "ovmref")
            if copy.exists() and copy.stat().st_mtime < path.stat().st_mtime:
                copy.unlink()


def mutmut(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # mutmut forks each mutant's run from a process that already built pools unmutated: the
    # simulator must not hand a mutant a pool configured by the clean code
    env = dict(os.environ, OVM_SIM_REUSE_POOLS="0")
    command = [sys.executable, "-m", "mutmut", *args]
    return subprocess.run(command, cwd=workdir, text=True, capture_output=True, check=False, env=env)


def generate(workdir: Path) -> None:
    """Create the mutants (what `mutmut run` does first) without running any test."""
    code = (
        "from mutmut.__main__ import create_mutants, copy_src_dir, copy_also_copy_files, "
        "setup_source_paths, store_lines_covered_by_tests\n"
        "from mutmut.__main__ import set_mutant_under_test\n"
        "import os\nos.makedirs('mutants', exist_ok=True)\nset_mutant_under_test('mutant_generation')\n"
        "copy_src_dir(); copy_also_copy_files(); setup_source_paths(); store_lines_covered_by_tests()\n"
        "create_mutants(1)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=workdir, text=True, capture_output=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(
            f"mutmut could not generate the mutants:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )


def results(workdir: Path) -> dict[str, dict[str, int | None]]:
    """exit code of every mutant, by source file (ovmref/...py), from mutmut's .meta files."""
    out: dict[str, dict[str, int | None]] = {}
    root = workdir / "mutants"
    for meta in sorted(root.rglob("*.py.meta")):
        source = str(meta.relative_to(root))[: -len(".meta")]
        out[source] = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
    return out


def targeted(source: str, targets: tuple[str, ...]) -> bool:
    return any(source == t or (t.endswith("/") and source.startswith(t)) for t in targets)


def diff_of(workdir: Path, name: str) -> tuple[int, str, str]:
    """(line, original, mutated) of a mutant, from `mutmut show`."""
    text = mutmut(workdir, "show", name).stdout
    line = 0
    hunk = re.search(r"^@@ -(\d+)", text, re.M)
    if hunk:
        line = int(hunk.group(1))
    removed = [ln[1:].strip() for ln in text.splitlines() if ln.startswith("-") and not ln.startswith("---")]
    added = [ln[1:].strip() for ln in text.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    return line, " / ".join(removed), " / ".join(added)


def table(workdir: Path, targets: tuple[str, ...], equivalents: list[Equivalent], show: int) -> int:
    by_file = results(workdir)
    rows: dict[str, Counter[str]] = {}
    survivors: list[tuple[str, str]] = []
    for source, codes in by_file.items():
        if not targeted(source, targets):
            continue
        counts = rows.setdefault(source, Counter())
        for name, code in codes.items():
            status = STATUS.get(code, "other")
            if status == "survived":
                _, original, mutated = diff_of(workdir, name)
                if any(
                    e.file == source and e.original == original and e.mutated == mutated for e in equivalents
                ):
                    status = "equivalent"
                else:
                    survivors.append((source, name))
            counts[status] += 1
    if not rows:
        print("no mutants of the target modules: run with --count or --sample first")
        return 1
    width = max(len(s) for s in rows) + 2
    print(f"{'module':<{width}}{'mutants':>8}" + "".join(f"{c:>11}" for c in COLUMNS) + f"{'score':>8}")
    total: Counter[str] = Counter()
    for source in sorted(rows):
        total.update(rows[source])
        print(_row(source, rows[source], width))
    print(_row("all target modules", total, width))
    for source, name in survivors[:show]:
        line, original, mutated = diff_of(workdir, name)
        print(f"survived: {name} ({source}:{line}): {original!r} -> {mutated!r}")
    if len(survivors) > show:
        print(
            f"... and {len(survivors) - show} more survivors (mutmut results / mutmut show NAME in {workdir})"
        )
    return 0


def _row(label: str, c: Counter[str], width: int) -> str:
    judged = c["killed"] + c["timeout"] + c["survived"]
    score = f"{100 * (c['killed'] + c['timeout']) / judged:.1f}%" if judged else "-"
    return f"{label:<{width}}{sum(c.values()):>8}" + "".join(f"{c[k]:>11}" for k in COLUMNS) + f"{score:>8}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=REPO / ".mutation")
    parser.add_argument(
        "--modules", nargs="*", default=list(TARGETS), help="ovmref files or folders/ to score"
    )
    parser.add_argument("--count", action="store_true", help="only create the mutants and count them")
    parser.add_argument("--sample", type=int, default=0, help="run this many mutants, a fixed choice")
    parser.add_argument("--report", action="store_true", help="print the table of the last runs only")
    parser.add_argument("--max-children", type=int, default=1, help="mutants tested at once (default 1)")
    parser.add_argument("--show", type=int, default=20, help="survivors to print with their mutation")
    args = parser.parse_args(argv)
    targets = tuple(args.modules)
    equivalents = load_equivalents()
    if not args.report:
        stage(args.workdir)
        generate(args.workdir)
        names = sorted(n for s, codes in results(args.workdir).items() if targeted(s, targets) for n in codes)
        if args.count:
            per = Counter(
                s for s, codes in results(args.workdir).items() if targeted(s, targets) for _ in codes
            )
            for source in sorted(per):
                print(f"{source:<44}{per[source]:>6} mutants")
            print(f"{'all target modules':<44}{sum(per.values()):>6} mutants")
            return 0
        chosen = (
            sorted(random.Random(SAMPLE_SEED).sample(names, min(args.sample, len(names))))
            if args.sample
            else []
        )
        started = time.monotonic()
        patterns = chosen or [f"{t.removesuffix('.py').replace('/', '.').rstrip('.')}*" for t in targets]
        done = mutmut(args.workdir, "run", "--max-children", str(args.max_children), *patterns)
        print(
            f"mutmut ran {len(chosen) or len(names)} mutants in {time.monotonic() - started:.0f} s "
            f"(exit {done.returncode})"
        )
        if done.returncode not in (0, 1):
            print(done.stdout[-3000:] + done.stderr[-3000:])
            return 2
    return table(args.workdir, targets, equivalents, args.show)


if __name__ == "__main__":
    raise SystemExit(main())
