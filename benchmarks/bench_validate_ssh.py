"""`ovm-conformance validate` of a 16-server pool over SSH: how long an administrator waits.

Starts a pool of Oracle VM Server lookalike containers (2.2 installed the documented way, or a
clustered 3.x pool), writes the inventory an administrator would write, and times the whole
`validate` command as they would run it (SSH logins with strict host keys, every read-only
command, the report written), `--runs` times on the same pool. Target: under 60 s for 16 servers.
With `--guests N` the servers run N guests between them (the lookalike's `xm`, 3.x vm.cfg with HA
on; environments/docker/lookalike_guests.py) and `validate --readiness` also reads them and
computes the N+1 table (target: under 60 s for 16 servers and 200 guests).

    python benchmarks/bench_validate_ssh.py [--servers 16] [--release 2.2|3.x] [--runs 3] [--guests 200]

Needs a Docker engine and the lookalike image (python -m environments.docker.image).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from conformance.cli import main
from environments.docker.image import build_image
from environments.docker.lookalike_guests import DOM0_MB, give_guests
from environments.docker.pool import ContainerPool
from environments.docker.provision import install_pool, install_pool_3x
from ovmref.release import Release

TARGET_S = 60.0
ROOTS = {"2.2": "example.com:/OVS", "3.x": "nfs.example.com:/poolfs"}


def inventory(pool: ContainerPool, release: str, path: Path, guests: list[str] | None = None) -> Path:
    lines = pool.inventory_lines("bench", ROOTS[release])
    if guests is not None:  # what the Manager would show: HA on, Auto placement
        lines += [
            "ha:",
            "  pool: true",
            "  guests:",
            *[f"    {g}: {{ha: true, preferred: []}}" for g in guests],
        ]
    path.write_text("\n".join(lines) + "\n")
    return path


def spread_guests(pool: ContainerPool, count: int) -> dict[str, list[tuple[str, int]]]:
    """count guests of 512 MB, round robin over the servers (32-hex names, as 3.x's VM ids)."""
    servers = list(pool.servers)
    out: dict[str, list[tuple[str, int]]] = {s: [] for s in servers}
    for i in range(count):
        out[servers[i % len(servers)]].append((f"0004fb0000060000{i:016x}", 512))
    return out


def main_() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--servers", type=int, default=16)
    parser.add_argument("--release", choices=sorted(ROOTS), default="2.2")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--guests", type=int, default=0, help="guests the servers run (adds --readiness)")
    args = parser.parse_args()
    image = build_image(log=lambda _line: None)
    pool = ContainerPool(args.servers, release=Release.parse(args.release), image=image)
    try:
        started = time.monotonic()
        pool.start()
        if args.release == "3.x":
            install_pool_3x(pool, pool_fs_target=ROOTS["3.x"])
        else:
            install_pool(pool, cluster_root=ROOTS["2.2"])
        names: list[str] | None = None
        if args.guests:
            spread = spread_guests(pool, args.guests)
            per = max(len(g) for g in spread.values())
            # room for every server's guests plus one more server's worth: N+1 holds
            give_guests(pool, spread, ha=True, total_mb=DOM0_MB + 512 * per * 2 + 512 * per)
            names = [n for g in spread.values() for n, _ in g]
        setup_s = time.monotonic() - started
        with tempfile.TemporaryDirectory() as tmp:
            inv = inventory(pool, args.release, Path(tmp) / "pool.yaml", names)
            times: list[float] = []
            for run in range(args.runs):
                clock = time.monotonic()
                code = main(["validate", "--inventory", str(inv), "--report-dir", tmp, "--run-id", f"r{run}"])
                times.append(time.monotonic() - clock)
                if code != 0:
                    print(f"validate exited {code} on the healthy pool", file=sys.stderr)
                    return 1
    finally:
        pool.close()
    median = statistics.median(times)
    print(
        f"pool: {args.servers} lookalike servers of Oracle VM {args.release}"
        + (f" running {args.guests} guests (readiness checked)" if args.guests else "")
        + f", set up in {setup_s:.1f} s"
    )
    print(
        f"validate over SSH: {' / '.join(f'{t:.1f}' for t in times)} s (median {median:.1f} s, "
        f"{median / args.servers:.2f} s per server); target < {TARGET_S:.0f} s: "
        f"{'met' if median < TARGET_S else 'NOT met'}"
    )
    return 0 if median < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main_())
