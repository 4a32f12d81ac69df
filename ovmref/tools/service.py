"""`service <name> start|stop|restart|status` for the HA stack, in the documented order.

Also accepts the white paper's word order (`service start o2cb`). Besides
the order (ServiceTable), each service does what its init script does:
o2cb brings the cluster online in configfs, ocfs2 mounts the cluster root and
starts its heartbeat region, ovsrepositories mounts the other repositories.
"""

from __future__ import annotations

from ovmref.cluster.clusterconf import CLUSTER_CONF, parse_cluster_conf
from ovmref.cluster.services import SERVICE_ORDER, ServiceTable
from ovmref.host.sysconfig import O2CB_SYSCONFIG, parse_o2cb_sysconfig
from ovmref.hostfs import HostFS
from ovmref.storage.layout import configfs_cluster_dir
from ovmref.tools.context import ToolContext, ToolError, ToolResult
from ovmref.tools.storage_ops import (
    boot_cluster,
    load_repositories,
    mount_repository,
    remove_tree,
    start_region,
    stop_region,
    unmount_repository,
)

ACTIONS = ("start", "stop", "restart", "status")
USAGE = "Usage: service <o2cb|ocfs2|ovsrepositories|ovs-agent> <start|stop|restart|status>"


def _o2cb_online(fs: HostFS, ctx: ToolContext) -> list[str]:
    """Refuse unless configured: enabled in sysconfig and this node in the boot cluster."""
    text = fs.read_text(O2CB_SYSCONFIG)
    if text is None or not parse_o2cb_sysconfig(text).enabled:
        raise ToolError("o2cb: O2CB is not configured (O2CB_ENABLED is not true): run ovs-cluster-configure")
    cluster = boot_cluster(fs, ctx)
    conf_text = fs.read_text(CLUSTER_CONF)
    if conf_text is None:
        raise ToolError(f"o2cb: {CLUSTER_CONF} does not exist")
    conf = parse_cluster_conf(conf_text)
    if conf.cluster(cluster) is None:
        raise ToolError(f"o2cb: cluster {cluster!r} is not in {CLUSTER_CONF}")
    if conf.node_named(ctx.hostname, ctx.fqdn) is None:
        raise ToolError(f"o2cb: this node ({ctx.fqdn}) is not in cluster {cluster!r}")
    fs.mkdir(f"{configfs_cluster_dir(cluster)}/heartbeat", parents=True)
    return [f"Starting O2CB cluster {cluster}: OK"]


def _o2cb_offline(fs: HostFS, ctx: ToolContext) -> list[str]:
    cluster = boot_cluster(fs, ctx)
    if fs.is_dir(configfs_cluster_dir(cluster)):
        remove_tree(fs, configfs_cluster_dir(cluster))
    return [f"Stopping O2CB cluster {cluster}: OK"]


def _ocfs2_start(fs: HostFS, ctx: ToolContext) -> list[str]:
    root = load_repositories(fs).cluster_root
    if root is None:
        return ["no cluster root in /etc/ovs/repositories: nothing to mount"]
    lines = [mount_repository(fs, ctx, root)]
    if start_region(fs, boot_cluster(fs, ctx), root.uuid):
        lines.append(f"started heartbeat region {root.uuid}")
    return lines


def _ocfs2_stop(fs: HostFS, ctx: ToolContext) -> list[str]:
    root = load_repositories(fs).cluster_root
    if root is None:
        return []
    lines = []
    if stop_region(fs, boot_cluster(fs, ctx), root.uuid):
        lines.append(f"stopped heartbeat region {root.uuid}")
    lines.append(unmount_repository(fs, ctx, root))
    return lines


def _repositories_start(fs: HostFS, ctx: ToolContext) -> list[str]:
    return [mount_repository(fs, ctx, r) for r in load_repositories(fs).repositories if not r.cluster_root]


def _repositories_stop(fs: HostFS, ctx: ToolContext) -> list[str]:
    return [unmount_repository(fs, ctx, r) for r in load_repositories(fs).repositories if not r.cluster_root]


_ON_START = {"o2cb": _o2cb_online, "ocfs2": _ocfs2_start, "ovsrepositories": _repositories_start}
_ON_STOP = {"o2cb": _o2cb_offline, "ocfs2": _ocfs2_stop, "ovsrepositories": _repositories_stop}


def start_service(fs: HostFS, ctx: ToolContext, name: str) -> list[str]:
    table = ServiceTable(fs)
    if table.is_running(name):
        return [f"{name} is already running"]
    table.check_start(name)
    action = _ON_START.get(name)
    lines = action(fs, ctx) if action else []
    table.start(name)
    return [*lines, f"Starting {name}: [  OK  ]"]


def stop_service(fs: HostFS, ctx: ToolContext, name: str) -> list[str]:
    table = ServiceTable(fs)
    if not table.is_running(name):
        return [f"{name} is not running"]
    table.check_stop(name)
    action = _ON_STOP.get(name)
    lines = action(fs, ctx) if action else []
    table.stop(name)
    return [*lines, f"Stopping {name}: [  OK  ]"]


def _status(fs: HostFS, ctx: ToolContext, name: str) -> ToolResult:
    running = ServiceTable(fs).is_running(name)
    if name == "o2cb":
        line = f"Checking O2CB cluster {boot_cluster(fs, ctx)}: {'Online' if running else 'Offline'}"
    else:
        line = f"{name} is {'running' if running else 'stopped'}"
    return ToolResult(0 if running else 3, line + "\n")  # LSB: 3 = program is not running


def service(fs: HostFS, args: list[str], ctx: ToolContext) -> ToolResult:
    if len(args) != 2:
        raise ToolError(USAGE, rc=2)
    name, action = (args[1], args[0]) if args[0] in ACTIONS and args[1] not in ACTIONS else (args[0], args[1])
    if name not in SERVICE_ORDER:
        raise ToolError(f"{name}: unrecognized service")
    if action not in ACTIONS:
        raise ToolError(USAGE, rc=2)
    if action == "status":
        return _status(fs, ctx, name)
    lines: list[str] = []
    if action in ("stop", "restart"):
        lines += stop_service(fs, ctx, name)
    if action in ("start", "restart"):
        lines += start_service(fs, ctx, name)
    return ToolResult(0, "".join(f"{line}\n" for line in lines))
