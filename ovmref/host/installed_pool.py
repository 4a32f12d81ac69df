"""A pool of Oracle VM Servers, installed and clustered the documented way.

Each server's files live in memory (the simulator, host tests) or in a real
directory per server (the local environment): `make_host` and `make_tree`
choose, and everything else is the same code.

Installs each server (install_server), gives each its view of storage (the
site's shared storage, with the cluster root, plus its own local disk), and runs the documented HA
procedure (ha_setup_commands) through run_tool. The simulator and the host
tests build pools with it; breaking one file afterwards is how a test shows
that a prerequisite catches exactly that mistake.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ovmref.host.install import LOCAL_OVS_DEVICE, install_server
from ovmref.host.names import HOSTS
from ovmref.host.procedure import ha_setup_commands
from ovmref.host.trees import Tree
from ovmref.hostfs import HostFS, HostView, MemoryHostFS
from ovmref.prereq import PoolFacts, PoolMemberFacts
from ovmref.release import Release
from ovmref.storage.layout import HEARTBEAT_FILE_NAME, is_nfs_source
from ovmref.storage.shared import (
    OCFS2_MAX_SLOTS,
    ORACLE_HEARTBEAT_BLOCK,
    ORACLE_HEARTBEAT_CLUSTER,
    ORACLE_HEARTBEAT_LABEL,
    ORACLE_NODE_SLOTS,
    Ocfs2Format,
    SharedVolume,
    SiteStorage,
    StorageMap,
    new_ocfs2_uuid,
)
from ovmref.storage.volume_files import volume_file
from ovmref.tools.context import PoolMember, ToolContext, ToolResult
from ovmref.tools.dispatch import run_tool

PoolHostFS = HostView  # a server's files: in memory, or in a real directory (environments.hostdir)
O2HB_REGION_SLOTS = 255  # O2NM_MAX_NODES: a formatted heartbeat area has a sector per node
O2HB_SLOT_BYTES = 512


def blank_heartbeat_file(fs: HostFS, path: str) -> None:
    """A freshly formatted heartbeat area: every slot zero, so no node looks alive yet."""
    fs.write_bytes(path, bytes(O2HB_REGION_SLOTS * O2HB_SLOT_BYTES))


@dataclass(frozen=True)
class ServerInfo:
    name: str
    fqdn: str
    ip: str
    node: int
    version: str | None = None


def example_servers(count: int, domain: str = "example.com") -> list[ServerInfo]:
    """vmserver1.example.com at 192.168.100.100, ... (the white paper's names and addresses)."""
    return [
        ServerInfo(f"vmserver{i + 1}", f"vmserver{i + 1}.{domain}", f"192.168.100.{100 + i}", i)
        for i in range(count)
    ]


class InstalledPool:
    """Installed servers with their files, storage and tool contexts; `setup_ha()` clusters them."""

    def __init__(
        self,
        release: Release,
        servers: Sequence[ServerInfo],
        *,
        storage_kind: str = "nfs",
        cluster_root: str | None = None,
        name_service: str = "files",
        master: str | None = None,
        cluster_name: str | None = None,
        local_ovs: bool = True,
        heartbeat_formatter: Callable[[HostFS, str], None] = blank_heartbeat_file,
        node_slots: int = ORACLE_NODE_SLOTS,
        make_host: Callable[[ServerInfo], PoolHostFS] | None = None,
        make_tree: Callable[[str], Tree] | None = None,
    ) -> None:
        if name_service not in ("files", "dns"):
            raise ValueError(f"name_service must be files or dns, got {name_service!r}")
        if not 1 <= node_slots <= OCFS2_MAX_SLOTS:
            raise ValueError(f"node_slots must be between 1 and {OCFS2_MAX_SLOTS}, got {node_slots}")
        self.release = release
        self.servers = {s.name: s for s in servers}
        self.storage_kind = storage_kind
        self.cluster_root = cluster_root or ("example.com:/OVS" if storage_kind == "nfs" else "/dev/sdb1")
        self.master = master or servers[0].name
        self.cluster_name = cluster_name or ("ba9aaf00ae5e2d72" if release is Release.R3 else "ocfs2")
        self.local_ovs = local_ovs
        self.dns_zone = {s.fqdn: s.ip for s in servers}
        self.name_service = name_service
        self.default_node_slots = node_slots
        self._make_host = make_host or (lambda _info: MemoryHostFS())
        self._make_tree = make_tree
        self.root_volume = SharedVolume.create(
            self.cluster_root, node_slots=node_slots, formatted=True, tree=self._tree(self.cluster_root)
        )
        nfs_host = self.cluster_root.split(":/", 1)[0] if is_nfs_source(self.cluster_root) else None
        self.site = SiteStorage(nfs_host, [self.root_volume], make_tree=make_tree)
        self.hosts: dict[str, PoolHostFS] = {}
        self.storage: dict[str, StorageMap] = {}
        self._formatter = heartbeat_formatter
        for s in servers:
            self._install(s)

    def _tree(self, name: str) -> Tree | None:
        return self._make_tree(name) if self._make_tree is not None else None

    def _install(self, s: ServerInfo) -> None:
        local = SharedVolume.create(
            LOCAL_OVS_DEVICE,
            local_disk=True,
            uuid=f"{s.node:032X}",
            tree=self._tree(f"{s.fqdn}:{LOCAL_OVS_DEVICE}"),
        )
        fs = self._make_host(s)
        peers = [(p.fqdn, p.ip) for p in self.servers.values()] if self.name_service == "files" else []
        install_server(
            fs,
            fqdn=s.fqdn,
            ip=s.ip,
            release=self.release,
            version=s.version,
            local_ovs=self.local_ovs,
            peers=peers,
            nameservers=("192.168.100.1",) if self.name_service == "dns" else (),
            local_disk=local.tree,
        )
        self.hosts[s.name] = fs
        self.storage[s.name] = StorageMap([self.root_volume], local=[local], site=self.site)

    def add_server(self, info: ServerInfo) -> PoolHostFS:
        """Install one more server (not yet in the cluster) and make it a member.

        Its name goes where the pool resolves names: DNS, or every server's
        /etc/hosts (white paper: "make sure the correct setting in /etc/hosts
        for all the servers in the pool")."""
        if info.name in self.servers:
            raise ValueError(f"{info.name} is already in the pool")
        if any(s.node == info.node for s in self.servers.values()):
            raise ValueError(f"node number {info.node} is already used")
        if self.name_service == "files":
            line = f"{info.ip}\t{info.fqdn} {info.name}\n"
            for fs in self.hosts.values():
                fs.write_text(HOSTS, (fs.read_text(HOSTS) or "") + line)
        self.servers[info.name] = info
        self.dns_zone[info.fqdn] = info.ip
        self._install(info)
        return self.hosts[info.name]

    @property
    def members(self) -> tuple[PoolMember, ...]:
        return tuple(PoolMember(s.name, s.fqdn, s.node) for s in self.servers.values())

    def context(self, server: str, *, now_s: int = 1_240_000_000) -> ToolContext:
        s = self.servers[server]
        return ToolContext(
            hostname=s.name,
            fqdn=s.fqdn,
            ip=s.ip,
            release=self.release,
            storage=self.storage[server],
            format_heartbeat_file=lambda path: self._format_heartbeat_file(server, path),
            is_master=server == self.master,
            members=self.members,
            propagate=self._propagate,
            now_s=now_s,
            dns_zone=self.dns_zone,
            cluster_name=self.cluster_name,
        )

    def _format_heartbeat_file(self, server: str, path: str) -> None:
        """The heartbeat-file port: format with the pool's formatter, then record on the volume
        holding the file the white paper's parameters (-L server_pool_hb -b 2k -C 4k) with the
        pool's node slots. mkfs.ocfs2 records its own options over this."""
        fs = self.hosts[server]
        self._formatter(fs, path)
        held = volume_file(fs, self.storage[server], path)
        if held is None:
            return
        volume, inner = held
        fmt = Ocfs2Format(
            new_ocfs2_uuid(volume.source, inner, server, path),
            ORACLE_HEARTBEAT_LABEL,
            self.default_node_slots,
            ORACLE_HEARTBEAT_BLOCK,
            ORACLE_HEARTBEAT_CLUSTER,
        )
        volume.ocfs2.format_file(inner, fmt)

    def _propagate(self, server: str, path: str, text: str) -> None:
        self.hosts[server].write_text(path, text)

    def run(self, server: str, argv: Sequence[str]) -> ToolResult:
        return run_tool(self.hosts[server], argv, self.context(server))

    def setup_commands(self) -> list[tuple[str, list[str]]]:
        others = [name for name in self.servers if name != self.master]
        return ha_setup_commands(
            self.release, self.storage_kind, self.cluster_root, self.master, others, local_ovs=self.local_ovs
        )

    def setup_ha(
        self, *, skip: Callable[[str, list[str]], bool] | None = None, keep_going: bool = False
    ) -> list[tuple[str, list[str], ToolResult]]:
        """Run the documented procedure and return the transcript. A failing command raises,
        unless keep_going; `skip` leaves steps out (how tests reproduce a forgotten step)."""
        transcript = []
        for server, argv in self.setup_commands():
            if skip is not None and skip(server, argv):
                continue
            result = self.run(server, argv)
            transcript.append((server, argv, result))
            if result.rc != 0 and not keep_going:
                raise RuntimeError(
                    f"{server}: {' '.join(argv)} failed (rc {result.rc}): {result.stderr.strip()}"
                )
        return transcript

    @property
    def node_slots(self) -> int:
        """The cluster root's node slots as last formatted: its OCFS2 file system, or on NFS the
        heartbeat file's (mkfs.ocfs2 -N, or the constructor's count when the pool's formatter made
        it, also used for a file written behind the tools' back). A block cluster root wiped by dd
        has no slots at all."""
        root = self.root_volume
        if root.nfs:
            hb = root.ocfs2.file(f"/{HEARTBEAT_FILE_NAME}")
            return hb.node_slots if hb is not None else self.default_node_slots
        device = root.ocfs2.device
        return device.node_slots if device is not None else 0

    def facts(self) -> PoolFacts:
        return PoolFacts(
            cluster_root=self.cluster_root,
            storage_kind=self.storage_kind,
            members=[PoolMemberFacts(s.name, s.fqdn, s.ip) for s in self.servers.values()],
            dns_zone=self.dns_zone,
            node_slots=self.node_slots,
        )
