"""A pool's servers' files and tools: installed, clustered and checked the documented way.

Wraps ovmref's InstalledPool (install_server, the Oracle VM tools, the HA
procedure, the prerequisite checks), so the simulator's in-memory servers and
the local environment's server directories hold the same /etc/hosts,
cluster.conf, /etc/ovs/repositories and /proc/mounts a real server would, and
`run_tool()` executes the same tool code on them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from environments.model import CommandResult, OpResult, PoolSpec, ServerSpec
from ovmref.cluster.clusterconf import CLUSTER_CONF, render_cluster_conf
from ovmref.cluster.services import SERVICE_ORDER
from ovmref.host.enabling import awaiting_configuration, verify_for_enabling
from ovmref.host.installed_pool import InstalledPool, PoolHostFS, ServerInfo
from ovmref.host.procedure import (
    enable_ha_commands,
    master_setup_commands,
    member_setup_commands,
    propagate_commands,
)
from ovmref.host.trees import Tree
from ovmref.hostfs import HostFS
from ovmref.prereq import Finding
from ovmref.release import Release
from ovmref.storage.layout import configfs_cluster_dir
from ovmref.tools import cluster_check
from ovmref.tools.cluster_configure import generate_cluster_conf
from ovmref.tools.storage_ops import boot_cluster

Runner = Callable[[str, Sequence[str]], CommandResult]
EPOCH_S = 1_240_000_000  # April 2009 (the white paper): tools' backup names count pool time from it


def server_info(spec: ServerSpec, node: int) -> ServerInfo:
    return ServerInfo(
        spec.name, spec.fqdn, spec.ip or f"192.168.100.{100 + node}", node, spec.version or None
    )


def run_in_order(commands: Sequence[tuple[str, list[str]]], run: Runner) -> OpResult:
    """Run (server, argv) commands one after the other; the first failure stops and is reported."""
    for server, argv in commands:
        result = run(server, argv)
        if not result.succeeded:
            output = (result.stderr or result.stdout).strip()
            return OpResult(False, f"{server}: {' '.join(argv)} failed (rc {result.rc}): {output}")
    return OpResult(True)


class Host(Protocol):
    """What the setup needs of a driver's server: its name and its files."""

    @property
    def name(self) -> str: ...

    @property
    def fs(self) -> PoolHostFS: ...


class PoolHostSetup:
    def __init__(
        self,
        release: Release,
        spec: PoolSpec,
        now_ms: Callable[[], int],
        *,
        make_host: Callable[[ServerInfo], PoolHostFS] | None = None,
        make_tree: Callable[[str], Tree] | None = None,
        heartbeat_formatter: Callable[[HostFS, str], None] | None = None,
    ) -> None:
        self.release = release
        self.spec = spec
        self.now_ms = now_ms
        extra: dict[str, Any] = {}
        if heartbeat_formatter is not None:
            extra["heartbeat_formatter"] = heartbeat_formatter
        infos = [server_info(s, n) for n, s in enumerate(spec.servers)]
        masters = [s.name for s in spec.servers if "master" in s.roles] or [spec.servers[0].name]
        self.pool = InstalledPool(
            release,
            infos,
            storage_kind=spec.storage,
            cluster_root=spec.cluster_root,
            master=masters[0],
            node_slots=spec.node_slots,
            make_host=make_host,
            make_tree=make_tree,
            **extra,
        )

    def install(self, spec: ServerSpec, node: int) -> PoolHostFS:
        if spec.name not in self.pool.hosts:
            return self.pool.add_server(server_info(spec, node))
        return self.pool.hosts[spec.name]

    def configure_cluster(self, run: Runner) -> OpResult:
        """The documented procedure (User's Guide 9.3, white paper), command by command; a pool
        prepared on the master only stops where 9.3 does: the master configured, the other servers
        installed with their local /OVS unmounted (white paper, Special Considerations)."""
        if self.spec.prepared == "master":
            pool = self.pool
            commands = master_setup_commands(self.release, pool.storage_kind, pool.cluster_root, pool.master)
            commands += [(name, ["umount", "/OVS"]) for name in pool.servers if name != pool.master]
            return run_in_order(commands, run)
        return run_in_order(self.pool.setup_commands(), run)

    def enabling_commands(self) -> list[tuple[str, list[str]]]:
        """What the master's agent runs when HA is enabled, before the setup is verified."""
        return enable_ha_commands(self.release, self.pool.cluster_root, self.pool.master)

    def propagation_commands(self, servers: Sequence[str]) -> list[tuple[str, list[str]]]:
        """After a clean verification: the master propagates; servers it had not configured yet
        configure o2cb from what they received and start their services in order."""
        waiting = [s for s in servers if s != self.pool.master and awaiting_configuration(self.pool.hosts[s])]
        commands = propagate_commands(self.release, self.pool.master)
        for server in waiting:
            commands += member_setup_commands(server, local_ovs=False)
        return commands

    def join_server(self, name: str, run: Runner) -> OpResult:
        """Adding a server (white paper): the master's cluster.conf gains the node and is propagated."""
        master = self.pool.master
        master_fs = self.pool.hosts[master]
        conf = generate_cluster_conf(master_fs, self.pool.context(master))
        master_fs.write_text(CLUSTER_CONF, render_cluster_conf(conf))
        lib = "/usr/lib/ovs"
        steps: list[tuple[str, list[str]]] = [
            (name, ["umount", "/OVS"]),
            (master, [f"{lib}/ovs-cluster-check", "--master", "--alter-fstab", "--propagate"]),
            (name, [f"{lib}/ovs-cluster-configure"]),
            *[(name, ["service", svc, "start"]) for svc in SERVICE_ORDER],
            (name, [f"{lib}/ovs-cluster-check", "--alter-fstab"]),
        ]
        return run_in_order(steps, run)

    def propagate(self, source: str, target: str) -> None:
        """The master's agent copies cluster.conf and the repository list to a server."""
        src = self.pool.hosts[source]
        for path in cluster_check.PROPAGATED_FILES:
            text = src.read_text(path)
            if text is not None:
                self.pool.hosts[target].write_text(path, text)

    def run_tool(self, host: Host, argv: list[str]) -> CommandResult:
        ctx = self.pool.context(host.name, now_s=EPOCH_S + self.now_ms() // 1000)
        from ovmref.tools.dispatch import run_tool

        r = run_tool(host.fs, argv, ctx)
        return CommandResult(tuple(argv), r.rc, r.stdout, r.stderr)

    def boot_services(self, host: Host) -> None:
        """init starts the HA services in the documented order at boot (failures stay visible in files)."""
        for name in SERVICE_ORDER:
            self.run_tool(host, ["service", name, "start"])

    def agent_service_running(self, host: Host) -> bool:
        return host.fs.exists("/var/lock/subsys/ovs-agent")

    def heartbeat_active(self, host: Host) -> bool:
        """o2cb is online with an active heartbeat region (configfs), as the kernel shows it."""
        fs = host.fs
        cluster = boot_cluster(fs, self.pool.context(host.name))
        regions = f"{configfs_cluster_dir(cluster)}/heartbeat"
        return fs.is_dir(regions) and bool(fs.listdir(regions))

    def verify(self, servers: Sequence[str]) -> list[Finding]:
        """What the Manager checks when HA is enabled on the pool ("The server pool setup is verified")."""
        hosts = {name: self.pool.hosts[name] for name in servers}
        return verify_for_enabling(hosts, self.release, self.pool.facts())
