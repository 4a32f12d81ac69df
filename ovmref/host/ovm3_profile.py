"""What a clustered Oracle VM 3.x server holds, from the public material that shows real ones.

The files and mounts of one server of a clustered 3.x pool on NFS, as the 3.x agent leaves them
(sources: apache/cloudstack's OVM3 plugin and its recorded agent answers, Oracle's documents;
tests/corpus/README.md lists them file by file):

* cluster.conf in global heartbeat mode, heartbeat stanza first, region = the pool file system's
  UUID in upper case, short node names, port 7777 (Cluster.java's `update_clusterConfiguration`);
* /etc/sysconfig/o2cb with O2CB_BOOTCLUSTER = the cluster, 61 / 60000 / 2000 / 2000
  (create_pool_cluster.py's `configure_server_for_cluster`);
* repositories NFS-mounted on /OVS/Repositories/<32 lower-case hex> (LinuxTest.java), the pool
  file system share NFS-mounted on /nfsmnt/<uuid with dashes> holding the OCFS2 image and its
  `.ovspoolfs` stamp (clean_primary.sh), no /etc/ovs/repositories;
* the HA services o2cb, ocfs2 and ovs-agent (no ovsrepositories in any 3.x material).

Where the image is loop-mounted is not in the material: the profile mounts it on
/poolfsmnt/<poolfs uuid> (the suite's own choice, as the model's layout does), and the
validator never relies on that path beyond "a mount point named by the UUID".

`server_files` writes a server's files into a HostFS; `mounts` says what to mount where, so a
driver (the lookalike containers) can mount it for real.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from ovmref.cluster.clusterconf import (
    CLUSTER_CONF,
    ClusterConf,
    ClusterStanza,
    HeartbeatStanza,
    NodeStanza,
    render_cluster_conf,
)
from ovmref.cluster.services import HA_SERVICES, lock_file
from ovmref.host.install import NSSWITCH_TEXT
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
from ovmref.hostfs import HostFS
from ovmref.release import Release
from ovmref.storage.fstab import MountEntry
from ovmref.storage.layout import POOLFS_MODEL_3X, POOLFS_SHARES_3X, REPOSITORIES_3X
from ovmref.timing import O2CBTimings

VERSION = "3.4.6"  # /etc/ovs-release of a 3.4 server (index id 70989431853)
NFS_OPTIONS = "rw,relatime,vers=3,rsize=524288,wsize=524288,namlen=255,hard,proto=tcp,timeo=600,retrans=2"
POOLFS_OPTIONS = "rw,relatime,_netdev,heartbeat=global,nointr,data=ordered,errors=remount-ro"
POOLFS_IMAGE = "ovspoolfs.img"


def _hex(*seeds: str) -> str:
    return hashlib.md5("|".join(seeds).encode(), usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class Member:
    name: str  # the short host name, as cluster.conf names 3.x nodes
    fqdn: str
    ip: str
    node: int


@dataclass(frozen=True)
class Ovm3Pool:
    """The identities of a clustered 3.x pool on NFS, derived from its name (no randomness)."""

    name: str
    pool_fs_target: str  # the NFS export holding the pool file system, e.g. nfs.example.com:/poolfs
    repository_source: str  # the NFS export of the repository
    members: tuple[Member, ...]

    @property
    def cluster(self) -> str:
        return _hex("cluster", self.name)[:16]  # 16 hex digits, as the agent names clusters

    @property
    def pool_fs_uuid(self) -> str:
        return "0004fb0000050000" + _hex("poolfs", self.name)[:16]  # 0004fb0000TT..., TT 05 = file system

    @property
    def region(self) -> str:
        return self.pool_fs_uuid.upper()

    @property
    def nfs_base_uuid(self) -> str:
        h = _hex("nfsbase", self.name)
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"

    @property
    def repository_uuid(self) -> str:
        return _hex("repository", self.repository_source)

    @property
    def pool_fs_share(self) -> str:
        return f"{POOLFS_SHARES_3X}/{self.nfs_base_uuid}"

    @property
    def pool_fs_mountpoint(self) -> str:
        return f"{POOLFS_MODEL_3X}/{self.pool_fs_uuid}"

    @property
    def repository_mountpoint(self) -> str:
        return f"{REPOSITORIES_3X}/{self.repository_uuid}"

    def cluster_conf(self) -> ClusterConf:
        nodes = tuple(NodeStanza(m.name, m.node, m.ip, self.cluster) for m in self.members)
        return ClusterConf(
            (ClusterStanza(self.cluster, len(nodes), "global"),),
            nodes,
            (HeartbeatStanza(self.region, self.cluster),),
        )

    def mounts(self) -> list[MountEntry]:
        """What a server of the pool has mounted beyond its own disks, in mount order."""
        return [
            MountEntry(self.pool_fs_target, self.pool_fs_share, "nfs", NFS_OPTIONS),
            MountEntry("/dev/loop0", self.pool_fs_mountpoint, "ocfs2", POOLFS_OPTIONS),
            MountEntry(self.repository_source, self.repository_mountpoint, "nfs", NFS_OPTIONS),
        ]


def server_files(fs: HostFS, pool: Ovm3Pool, member: Member, *, version: str = VERSION) -> None:
    """Write what the server's /etc and /var/lock hold (its mounts are `Ovm3Pool.mounts`)."""
    fs.write_text(OVS_RELEASE, ovs_release_text(version))
    fs.write_text(NETWORK_SYSCONFIG, render_sysconfig({"NETWORKING": "yes", "HOSTNAME": member.fqdn}))
    hosts = [("127.0.0.1", ("localhost.localdomain", "localhost"))]
    hosts += [(m.ip, (m.fqdn, m.name)) for m in pool.members]
    fs.write_text(HOSTS, render_hosts(hosts))
    fs.write_text(RESOLV_CONF, f"search {member.fqdn.split('.', 1)[1]}\n")
    fs.write_text(NSSWITCH_CONF, NSSWITCH_TEXT)
    fs.write_text(CLUSTER_CONF, render_cluster_conf(pool.cluster_conf()))
    o2cb = O2CBConfig(enabled=True, cluster=pool.cluster, timings=O2CBTimings.for_release(Release.R3))
    fs.write_text(O2CB_SYSCONFIG, render_o2cb_sysconfig(o2cb))
    for service in (*HA_SERVICES[Release.R3], "ocfs2"):
        fs.write_text(lock_file(service), "")


def pool_of(
    name: str, pool_fs_target: str, repository_source: str, servers: Sequence[tuple[str, str, str]]
) -> Ovm3Pool:
    """An Ovm3Pool of (name, fqdn, ip) servers, numbered from 0 in that order."""
    members = tuple(Member(n.split(".")[0], f, ip, i) for i, (n, f, ip) in enumerate(servers))
    return Ovm3Pool(name, pool_fs_target, repository_source, members)
