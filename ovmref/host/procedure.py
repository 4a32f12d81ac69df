"""The documented command sequence that creates the cluster and enables HA on a pool.

User's Guide 9.3 and the white paper, in order: unmount the local /OVS
(Special Considerations), `ovs-cluster-configure`, `ovs-makerepo <root> C
"cluster root"`, `ovs-cluster-check --master --alter-fstab` on the Server
Pool Master; start the services in the documented order; then the master
propagates cluster.conf and the repositories (section 9.4) and every other
server configures o2cb from them and starts its services in order.
Drivers run this list through their own run(), so one procedure builds the
pool on the simulator, on processes and in containers.
"""

from __future__ import annotations

from collections.abc import Sequence

from ovmref.cluster.services import SERVICE_ORDER
from ovmref.release import Release

OVS_LIB = "/usr/lib/ovs"
Command = tuple[str, list[str]]


def _services(server: str) -> list[Command]:
    return [(server, ["service", name, "start"]) for name in SERVICE_ORDER]


def ha_setup_commands(
    release: Release,
    storage_kind: str,
    cluster_root: str,
    master: str,
    others: Sequence[str],
    *,
    local_ovs: bool = True,
) -> list[Command]:
    """(server, argv) pairs to run in order. `storage_kind` is nfs, ocfs2-iscsi or ocfs2-san;
    shared OCFS2 devices must already be formatted (mkfs.ocfs2 -N 16, User's Guide 9.2)."""
    if storage_kind not in ("nfs", "ocfs2-iscsi", "ocfs2-san"):
        raise ValueError(f"unknown storage kind {storage_kind!r}: expected nfs, ocfs2-iscsi or ocfs2-san")
    if (":/" in cluster_root) != (storage_kind == "nfs"):
        raise ValueError(f"cluster root {cluster_root!r} does not match storage kind {storage_kind!r}")
    description = "pool file system" if release is Release.R3 else "cluster root"
    commands: list[Command] = []
    if local_ovs:
        commands.append((master, ["umount", "/OVS"]))
    commands += [
        (master, [f"{OVS_LIB}/ovs-cluster-configure"]),
        (master, [f"{OVS_LIB}/ovs-makerepo", cluster_root, "C", description]),
        (master, [f"{OVS_LIB}/ovs-cluster-check", "--master", "--alter-fstab"]),
        *_services(master),
        (master, [f"{OVS_LIB}/ovs-cluster-check", "--master", "--propagate"]),
    ]
    for server in others:
        if local_ovs:
            commands.append((server, ["umount", "/OVS"]))
        commands.append((server, [f"{OVS_LIB}/ovs-cluster-configure"]))
        commands += _services(server)
        commands.append((server, [f"{OVS_LIB}/ovs-cluster-check", "--alter-fstab"]))
    return commands
