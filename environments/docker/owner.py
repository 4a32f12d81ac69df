"""Which process owns a pool's Docker resources, and whether it is still alive.

Labels on every container and network name the owner (pid, its start time, the boot and host), so
a later run can remove what a killed run left behind without touching a live run's pool (another
pytest-xdist worker) or a pool owned by another machine sharing the Docker engine. The start time
tells a dead owner from an unrelated process that got its pid back.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from pathlib import Path

LABEL_PREFIX = "ovm-conformance"
LABEL_POOL = f"{LABEL_PREFIX}.pool"
LABEL_PID = f"{LABEL_PREFIX}.owner-pid"
LABEL_START = f"{LABEL_PREFIX}.owner-start"
LABEL_BOOT = f"{LABEL_PREFIX}.owner-boot"
LABEL_HOST = f"{LABEL_PREFIX}.owner-host"


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def process_start(pid: int) -> str | None:
    """The process's start time (clock ticks since boot), or None if it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        return ""  # /proc unreadable: alive, start unknown
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state is field 3, starttime field 22
    if fields[0] in ("Z", "X"):
        return None
    return fields[19]


def owner_labels(pool_id: str) -> dict[str, str]:
    """The labels that tie a resource to this process's pool `pool_id`."""
    pid = os.getpid()
    return {
        LABEL_POOL: pool_id,
        LABEL_PID: str(pid),
        LABEL_START: process_start(pid) or "",
        LABEL_BOOT: _boot_id(),
        LABEL_HOST: socket.gethostname(),
    }


def owner_alive(labels: Mapping[str, str]) -> bool:
    """False only when the labelled owner is surely dead; unknown or foreign owners count as alive."""
    if labels.get(LABEL_HOST) != socket.gethostname():
        return True  # another machine's pool on a shared engine: not ours to judge
    boot = labels.get(LABEL_BOOT, "")
    if boot and _boot_id() and boot != _boot_id():
        return False  # this machine rebooted since: every process of that boot is gone
    pid_text = labels.get(LABEL_PID, "")
    if not pid_text.isdigit():
        return True
    start = process_start(int(pid_text))
    if start is None:
        return False
    recorded = labels.get(LABEL_START, "")
    return not (start and recorded and start != recorded)


def owner_tag() -> str:
    """`<pid>-<start>` for names of files that carry no labels (the pool's temp directory)."""
    return f"{os.getpid()}-{process_start(os.getpid()) or 0}"


def tag_alive(tag: str) -> bool:
    """owner_alive() for an owner_tag()."""
    pid, _, start = tag.partition("-")
    if not pid.isdigit():
        return True
    now = process_start(int(pid))
    return now is not None and (not now or start in ("0", now))
