"""How many scenarios the ssh environment judges on a lookalike pool, and how many it skips.

Starts a 3-server lookalike pool of containers (2.2 installed the documented way, or a clustered
3.x pool), gives its servers guests (the lookalike's `xm`; 3.x vm.cfg with HA on; the inventory's
`ha:` section on 2.2, where the Manager's database keeps the flags), starts the tests' lookalike
Oracle VM Manager beside a 3.x pool (tests/manager/lookalike.py: GET-only REST on loopback), and
runs `ovm-conformance run --env ssh` on it as an administrator would. Prints each status's count
over the scenario runs of the pool's release, and the reasons the skipped ones give, grouped.

    python benchmarks/count_ssh_skips.py --release 2.2|3.x [--allow-destructive] [--json out.json]

With --allow-destructive the destructive scenarios start too (the run names the lookalike pool),
so each one goes as far as the ssh environment can observe before its first refused step.
Needs a Docker engine, the lookalike image, and the `dev` extra (Werkzeug, for the Manager).
"""

from __future__ import annotations

import argparse
import collections
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from environments.docker.image import build_image  # noqa: E402
from environments.docker.lookalike_guests import give_guests  # noqa: E402
from environments.docker.pool import ContainerPool  # noqa: E402
from environments.docker.provision import install_pool, install_pool_3x  # noqa: E402
from ovmref.release import Release  # noqa: E402

ROOTS = {"2.2": "example.com:/OVS", "3.x": "nfs.example.com:/poolfs"}
POOL = "lookalike"
SERVER_NAME = re.compile(r"\b(?:vm)?server\d+\b")  # one reason, whichever server it names
# server -> (xm name, MB, HA): 32-hex names, as a 3.x server's xm lists a guest by its Vm id
GUESTS: dict[str, list[tuple[str, int, bool]]] = {
    "vmserver1": [("0004fb00000600000000000000000001", 512, True)],
    "vmserver2": [("0004fb00000600000000000000000002", 512, True)],
    "vmserver3": [("0004fb00000600000000000000000003", 512, False)],
}


def inventory_lines(pool: ContainerPool, release: str) -> list[str]:
    return [
        *pool.inventory_lines(POOL, ROOTS[release]),
        "ha:",
        "  pool: true",
        "  guests:",
        *[f"    {n}: {{ha: {str(ha).lower()}, preferred: []}}" for g in GUESTS.values() for n, _, ha in g],
    ]


@contextmanager
def lookalike_manager(directory: Path, pool: ContainerPool) -> Iterator[list[str]]:
    """The tests' lookalike Manager describing this pool; yields the inventory's manager lines."""
    from tests.manager.lookalike import PASSWORD, PASSWORD_ENV, describe_pool, serving

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per GET on the console
    objects = describe_pool(POOL, list(pool.servers), "vmserver1", GUESTS)
    with serving(directory, objects) as look:
        os.environ[PASSWORD_ENV] = PASSWORD
        yield look.inventory_lines()


def count(report: Mapping[str, Any], release: str) -> tuple[collections.Counter[str], dict[str, int]]:
    rows = {
        s["nodeid"]: s
        for r in report["rules"]
        for s in r["scenarios"]
        if s["nodeid"].endswith(f"[{release}]")
    }
    statuses = collections.Counter(s["status"] for s in rows.values())
    reasons: collections.Counter[str] = collections.Counter()
    for s in rows.values():
        if s["status"] not in ("passed", "failed"):
            said = SERVER_NAME.sub("serverN", s["message"])[:150]
            reasons[f"{s['status']}: {said}"] += 1
    return statuses, dict(reasons.most_common())


def run_suite(inventory: Path, release: str, out: Path, options: Sequence[str]) -> dict[str, Any]:
    command = [sys.executable, "-m", "conformance", "run", "--env", "ssh", "--inventory", str(inventory)]
    command += ["--release", release, "-q", "--report-dir", str(out), "--run-id", "s", "--force", *options]
    done = subprocess.run(
        command,
        cwd=Path.cwd(),
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    path = out / "s" / "conformance.json"
    if not path.is_file():
        raise SystemExit(done.stdout[-3000:] + done.stderr[-3000:])
    return json.loads(path.read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--release", choices=sorted(ROOTS), required=True)
    parser.add_argument("--allow-destructive", action="store_true")
    parser.add_argument("--json", type=Path, help="write the counts here too")
    args = parser.parse_args()
    image = build_image(log=lambda _line: None)
    pool = ContainerPool(3, release=Release.parse(args.release), image=image)
    try:
        pool.start()
        if args.release == "3.x":
            install_pool_3x(pool, pool_fs_target=ROOTS["3.x"])
        else:
            install_pool(pool, cluster_root=ROOTS["2.2"])
        give_guests(pool, {s: [(n, mb) for n, mb, _ in g] for s, g in GUESTS.items()}, ha=True, total_mb=4096)
        with tempfile.TemporaryDirectory() as tmp:
            manager = (
                lookalike_manager(Path(tmp), pool) if args.release == "3.x" else nullcontext(list[str]())
            )
            with manager as manager_lines:
                inventory = Path(tmp) / "pool.yaml"
                inventory.write_text("\n".join(inventory_lines(pool, args.release) + manager_lines) + "\n")
                options = ["--allow-destructive", POOL] if args.allow_destructive else []
                report = run_suite(inventory, args.release, Path(tmp) / "reports", options)
    finally:
        pool.close()
    statuses, reasons = count(report, args.release)
    mode = "destructive allowed" if args.allow_destructive else "read-only"
    print(
        f"Oracle VM {args.release} lookalike pool, 3 servers, {mode}: {sum(statuses.values())} scenario runs"
    )
    for status, n in sorted(statuses.items()):
        print(f"  {status}: {n}")
    print("reasons (not passed or failed):")
    for reason, n in reasons.items():
        print(f"  {n:4d}  {reason}")
    if args.json:
        args.json.write_text(json.dumps({"statuses": statuses, "reasons": reasons}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
