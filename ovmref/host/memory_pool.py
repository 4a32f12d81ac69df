"""A pool of in-memory Oracle VM Servers, installed and clustered the documented way.

Installs each server (install_server), gives each its view of storage (the
shared cluster root plus its own local disk), and runs the documented HA
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
from ovmref.hostfs import HostFS, MemoryHostFS
from ovmref.prereq import PoolFacts, PoolMemberFacts
from ovmref.release import Release
from ovmref.storage.shared import SharedVolume, StorageMap
from ovmref.tools.context import PoolMember, ToolContext, ToolResult
from ovmref.tools.dispatch import run_tool

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


class MemoryPool:
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
    ) -> None:
        if name_service not in ("files", "dns"):
            raise ValueError(f"name_service must be files or dns, got {name_service!r}")
        self.release = release
        self.servers = {s.name: s for s in servers}
        self.storage_kind = storage_kind
        self.cluster_root = cluster_root or ("example.com:/OVS" if storage_kind == "nfs" else "/dev/sdb1")
        self.master = master or servers[0].name
        self.cluster_name = cluster_name or ("ba9aaf00ae5e2d72" if release is Release.R3 else "ocfs2")
        self.local_ovs = local_ovs
        self.dns_zone = {s.fqdn: s.ip for s in servers}
        self.name_service = name_service
        self.root_volume = SharedVolume.create(self.cluster_root)
        self.hosts: dict[str, MemoryHostFS] = {}
        self.storage: dict[str, StorageMap] = {}
        self._formatter = heartbeat_formatter
        for s in servers:
            self._install(s)

    def _install(self, s: ServerInfo) -> None:
        local = SharedVolume.create(LOCAL_OVS_DEVICE, local_disk=True, uuid=f"{s.node:032X}")
        fs = MemoryHostFS()
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
        self.storage[s.name] = StorageMap([self.root_volume], local=[local])

    def add_server(self, info: ServerInfo) -> MemoryHostFS:
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
        fs = self.hosts[server]
        return ToolContext(
            hostname=s.name,
            fqdn=s.fqdn,
            ip=s.ip,
            release=self.release,
            storage=self.storage[server],
            format_heartbeat_file=lambda path: self._formatter(fs, path),
            is_master=server == self.master,
            members=self.members,
            propagate=self._propagate,
            now_s=now_s,
            dns_zone=self.dns_zone,
            cluster_name=self.cluster_name,
        )

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

    def facts(self) -> PoolFacts:
        return PoolFacts(
            cluster_root=self.cluster_root,
            storage_kind=self.storage_kind,
            members=[PoolMemberFacts(s.name, s.fqdn, s.ip) for s in self.servers.values()],
            dns_zone=self.dns_zone,
        )
