"""Guests on lookalike servers, as the readiness read-out sees them: the image's `xm` lists the
domains its state file names (images/ovm-server/xm), and a 3.x guest has its vm.cfg on the
server's repository (ovmref.host.vmcfg). Written with `docker exec` (test setup, not the
validator's read-only sessions)."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any

from environments.docker.image import XM_STATE
from ovmref.host.vmcfg import format_vm_cfg, is_dir_name
from ovmref.release import Release

DOM0_MB = 512
GUEST_DIRS = "/OVS/Repositories/*/VirtualMachines/*"  # empty on a freshly provisioned lookalike


def give_guests(
    pool: Any, guests: Mapping[str, Sequence[tuple[str, int]]], *, ha: bool, total_mb: int
) -> None:
    """guests: server -> (xm name, MB); each server's xm then lists them and keeps total_mb."""
    for server, domains in guests.items():
        state = {
            "total_mb": total_mb,
            "dom0_mb": DOM0_MB,
            "domains": [{"name": n, "mem": m, "vcpus": 1} for n, m in domains],
        }
        folder = shlex.quote(str(PurePosixPath(XM_STATE).parent))
        script = f"mkdir -p {folder} && printf %s {shlex.quote(json.dumps(state))} > {XM_STATE}"
        if pool.release is Release.R3:
            repo = "$(ls -d /OVS/Repositories/*/ | head -1)VirtualMachines"
            for name, mb in domains:
                if is_dir_name(name):
                    cfg = format_vm_cfg(name, mb, 1, ha=ha, simple_name=f"guest-{name[-4:]}")
                    script += (
                        f" && mkdir -p {repo}/{name} && printf %s {shlex.quote(cfg)} > {repo}/{name}/vm.cfg"
                    )
        _sh(pool, server, script)


def take_guests_away(pool: Any) -> None:
    for server in pool.servers:
        _sh(pool, server, f"rm -rf {shlex.quote(str(PurePosixPath(XM_STATE).parent))} {GUEST_DIRS}")


def _sh(pool: Any, server: str, script: str) -> None:
    result = pool.exec(server, ["sh", "-c", script])
    if result.rc != 0:
        raise RuntimeError(f"{server}: giving guests failed: {result.stderr.strip()[-300:]}")
