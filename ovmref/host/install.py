"""What a freshly installed Oracle VM Server holds, per the white paper's install rules.

"give fully qualified domain name for the Oracle VM server", "The real host
name ... must not be associated with the loopback address", and a standard
install on the local disk (/boot, swap, /, /OVS). Builders of every
environment start from this and then run the documented HA procedure.
"""

from __future__ import annotations

from collections.abc import Sequence

from ovmref.host.names import HOSTS, NSSWITCH_CONF, RESOLV_CONF, render_hosts
from ovmref.host.sysconfig import (
    NETWORK_SYSCONFIG,
    O2CB_SYSCONFIG,
    OVS_RELEASE,
    O2CBConfig,
    ovs_release_text,
    render_o2cb_sysconfig,
    render_sysconfig,
)
from ovmref.host.trees import MemoryTree, Tree
from ovmref.hostfs import HostFS, Mountable
from ovmref.release import Release
from ovmref.storage.fstab import FSTAB, PROC_MOUNTS, MountEntry, render_fstab
from ovmref.storage.layout import OVS
from ovmref.storage.repositories import REPOSITORIES, RepositoryList, render_repositories
from ovmref.timing import O2CBTimings

AGENT_INI = "/etc/ovs-agent/agent.ini"
ROOT_DEVICE = "/dev/sda2"
BOOT_DEVICE = "/dev/sda1"
LOCAL_OVS_DEVICE = "/dev/sda3"  # the installer's local OCFS2 /OVS partition
# A local OCFS2 volume is mounted without cluster heartbeat; /proc/mounts shows it.
LOCAL_OCFS2_OPTIONS = "rw,heartbeat=none"
OVS_SUBDIRS = ("iso_pool", "publish_pool", "running_pool", "seed_pool", "sharedDisk")
NSSWITCH_TEXT = "passwd:     files\nshadow:     files\ngroup:      files\nhosts:      files dns\n"
TMP = "/tmp"
DEFAULT_CLUSTER = "ocfs2"  # the white paper's sample cluster.conf


def install_server(
    fs: HostFS,
    *,
    fqdn: str,
    ip: str,
    release: Release,
    version: str | None = None,
    local_ovs: bool = True,
    peers: Sequence[tuple[str, str]] = (),
    nameservers: Sequence[str] = (),
    timings: O2CBTimings | None = None,
    local_disk: Tree | None = None,
) -> None:
    """Write a standard install. `peers` ((fqdn, ip) pairs) go into /etc/hosts when the pool
    resolves names by file; `nameservers` make it resolve by DNS instead. The local /OVS is
    `local_disk` (a fresh in-memory disk by default) mounted at /OVS when `local_ovs`."""
    if "." not in fqdn:
        raise ValueError(f"install_server needs a fully qualified domain name, got {fqdn!r}")
    short, domain = fqdn.split(".", 1)
    fs.write_text(NETWORK_SYSCONFIG, render_sysconfig({"NETWORKING": "yes", "HOSTNAME": fqdn}))
    hosts = [("127.0.0.1", ("localhost.localdomain", "localhost")), (ip, (fqdn, short))]
    hosts += [(peer_ip, (peer, peer.split(".")[0])) for peer, peer_ip in peers if peer != fqdn]
    fs.write_text(HOSTS, render_hosts(hosts))
    resolv = f"search {domain}\n" + "".join(f"nameserver {ns}\n" for ns in nameservers)
    fs.write_text(RESOLV_CONF, resolv)
    fs.write_text(NSSWITCH_CONF, NSSWITCH_TEXT)
    fs.write_text(OVS_RELEASE, ovs_release_text(version or release.default_server_version))
    o2cb = O2CBConfig(
        enabled=False, cluster=DEFAULT_CLUSTER, timings=timings or O2CBTimings.for_release(release)
    )
    fs.write_text(O2CB_SYSCONFIG, render_o2cb_sysconfig(o2cb))
    fs.write_text(AGENT_INI, "[server]\nssl=enable\nport=8899\n")
    fs.write_text(REPOSITORIES, render_repositories(RepositoryList()))
    fs.mkdir(OVS)
    fs.mkdir(TMP)  # where ovs-cluster-check --alter-fstab backs up /etc/fstab
    fstab = [
        MountEntry("LABEL=/", "/", "ext3", "defaults", 1, 1),
        MountEntry("LABEL=/boot", "/boot", "ext3", "defaults", 1, 2),
        MountEntry("tmpfs", "/dev/shm", "tmpfs", "defaults", 0, 0),
        MountEntry("LABEL=SWAP-sda4", "swap", "swap", "defaults", 0, 0),
    ]
    mounts = [
        MountEntry(ROOT_DEVICE, "/", "ext3", "rw", 0, 0),
        MountEntry(BOOT_DEVICE, "/boot", "ext3", "rw", 0, 0),
    ]
    if local_ovs:
        fstab.append(MountEntry(LOCAL_OVS_DEVICE, OVS, "ocfs2", "defaults", 1, 0))
        mounts.append(MountEntry(LOCAL_OVS_DEVICE, OVS, "ocfs2", LOCAL_OCFS2_OPTIONS, 0, 0))
        disk = local_disk if local_disk is not None else MemoryTree(f"{fqdn}:{LOCAL_OVS_DEVICE}")
        if isinstance(fs, Mountable):
            fs.attach(OVS, disk)
        for sub in OVS_SUBDIRS:
            fs.mkdir(f"{OVS}/{sub}")
    fs.write_text(FSTAB, render_fstab(fstab))
    fs.write_text(PROC_MOUNTS, render_fstab(mounts))
