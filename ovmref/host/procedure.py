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


def master_setup_commands(
    release: Release, storage_kind: str, cluster_root: str, master: str, *, local_ovs: bool = True
) -> list[Command]:
    """User's Guide 9.3, on the Server Pool Master: the cluster, the cluster root, the check and
    the services."""
    if storage_kind not in ("nfs", "ocfs2-iscsi", "ocfs2-san"):
        raise ValueError(f"unknown storage kind {storage_kind!r}: expected nfs, ocfs2-iscsi or ocfs2-san")
    if (":/" in cluster_root) != (storage_kind == "nfs"):
        raise ValueError(f"cluster root {cluster_root!r} does not match storage kind {storage_kind!r}")
    commands: list[Command] = [(master, ["umount", "/OVS"])] if local_ovs else []
    return [
        *commands,
        (master, [f"{OVS_LIB}/ovs-cluster-configure"]),
        (master, [f"{OVS_LIB}/ovs-makerepo", cluster_root, "C", _description(release)]),
        (master, [f"{OVS_LIB}/ovs-cluster-check", "--master", "--alter-fstab"]),
        *_services(master),
    ]


def member_setup_commands(server: str, *, local_ovs: bool = True) -> list[Command]:
    """Another server, once the master propagated cluster.conf and the repositories to it: o2cb
    configured from them, the services in order (each server's agent mounts the repositories)."""
    commands: list[Command] = [(server, ["umount", "/OVS"])] if local_ovs else []
    return [
        *commands,
        (server, [f"{OVS_LIB}/ovs-cluster-configure"]),
        *_services(server),
        (server, [f"{OVS_LIB}/ovs-cluster-check", "--alter-fstab"]),
    ]


def _description(release: Release) -> str:
    return "pool file system" if release is Release.R3 else "cluster root"


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
    commands = master_setup_commands(release, storage_kind, cluster_root, master, local_ovs=local_ovs)
    commands.append((master, [f"{OVS_LIB}/ovs-cluster-check", "--master", "--propagate"]))
    for server in others:
        commands += member_setup_commands(server, local_ovs=local_ovs)
    return commands


def enable_ha_commands(release: Release, cluster_root: str, master: str) -> list[Command]:
    """What the Oracle VM Agent on the Server Pool Master does when HA is enabled on a 2.x pool
    (User's Guide 2.1, 9.4), before the setup is verified: it "calls the
    /usr/lib/ovs/ovs-cluster-configure script and creates the cluster.conf file, if it does not
    already exist", then "creates and starts a heartbeat device if required" (ovs-makerepo of the
    registered cluster root makes a missing NFS heartbeat file; the ocfs2 service starts the
    region). Oracle VM 3 configures its cluster when the pool is created with clustering: none."""
    if release is Release.R3:
        return []
    return [
        (master, [f"{OVS_LIB}/ovs-cluster-configure"]),
        (master, [f"{OVS_LIB}/ovs-makerepo", cluster_root, "C", _description(release)]),
        *_services(master),
    ]


def propagate_commands(release: Release, master: str) -> list[Command]:
    """"If there are no errors, the Oracle VM Agent on the Server Pool Master propagates the
    repositories and the cluster.conf file to other Oracle VM Servers in the server pool" (9.4)."""
    if release is Release.R3:
        return []
    return [(master, [f"{OVS_LIB}/ovs-cluster-check", "--master", "--propagate"])]
