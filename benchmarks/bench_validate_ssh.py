"""`ovm-conformance validate` of a 16-server pool over SSH: how long an administrator waits.

Starts a pool of Oracle VM Server lookalike containers (2.2 installed the documented way, or a
clustered 3.x pool), writes the inventory an administrator would write, and times the whole
`validate` command as they would run it (SSH logins with strict host keys, every read-only
command, the report written), `--runs` times on the same pool. Target: under 60 s for 16 servers.

    python benchmarks/bench_validate_ssh.py [--servers 16] [--release 2.2|3.x] [--runs 3]

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
from environments.docker.pool import ContainerPool
from environments.docker.provision import install_pool, install_pool_3x
from ovmref.release import Release

TARGET_S = 60.0
ROOTS = {"2.2": "example.com:/OVS", "3.x": "nfs.example.com:/poolfs"}


def inventory(pool: ContainerPool, release: str, path: Path) -> Path:
    lines = [
        "pool: bench",
        "storage: nfs",
        f"cluster_root: {ROOTS[release]}",
        "node_slots: 16",
        "ssh:",
        "  user: root",
        f"  key_file: {pool.key_path}",
        f"  known_hosts: {pool.known_hosts_path}",
        "  connect_timeout_s: 10",
        "  command_timeout_s: 30",
        "servers:",
        *[f"  - {{name: {s.name}, host: {s.ip}, fqdn: {s.fqdn}, ip: {s.ip}}}" for s in pool.servers.values()],
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def main_() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--servers", type=int, default=16)
    parser.add_argument("--release", choices=sorted(ROOTS), default="2.2")
    parser.add_argument("--runs", type=int, default=3)
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
        setup_s = time.monotonic() - started
        with tempfile.TemporaryDirectory() as tmp:
            inv = inventory(pool, args.release, Path(tmp) / "pool.yaml")
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
    print(f"pool: {args.servers} lookalike servers of Oracle VM {args.release}, set up in {setup_s:.1f} s")
    print(
        f"validate over SSH: {' / '.join(f'{t:.1f}' for t in times)} s (median {median:.1f} s, "
        f"{median / args.servers:.2f} s per server); target < {TARGET_S:.0f} s: "
        f"{'met' if median < TARGET_S else 'NOT met'}"
    )
    return 0 if median < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main_())
