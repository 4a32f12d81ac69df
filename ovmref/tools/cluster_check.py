"""/usr/lib/ovs/ovs-cluster-check [--master] [--alter-fstab] [--propagate].

User's Guide 9.3: checks "the cluster has been configured correctly and is
running". "--master ... should only be used on the Server Pool Master";
"--alter-fstab modifies the /etc/fstab file. A backup of the original
/etc/fstab file is created in /tmp" (the white paper: /OVS mount points move
to /etc/ovs/repositories). Section 9.4: the master "propagates the
repositories and the cluster.conf file to other Oracle VM Servers" (--propagate).
"""

from __future__ import annotations

from ovmref.cluster.clusterconf import CLUSTER_CONF, parse_cluster_conf
from ovmref.cluster.services import ServiceTable
from ovmref.errors import ConfigSyntaxError
from ovmref.hostfs import HostFS
from ovmref.storage.fstab import FSTAB, parse_fstab, render_fstab
from ovmref.storage.layout import HEARTBEAT_FILE_NAME
from ovmref.storage.mounts import mount_at
from ovmref.storage.repositories import REPOSITORIES, REPOSITORIES_OPTIONS, Repository, uuid_for_source
from ovmref.tools.context import ToolContext, ToolError, ToolResult
from ovmref.tools.storage_ops import load_repositories, mountpoint_for, save_repositories

OPTIONS = ("--master", "--alter-fstab", "--propagate")
# what the master propagates to the other servers (User's Guide 9.4: "the repositories and the
# cluster.conf file"), here and whenever an agent starts
PROPAGATED_FILES = (CLUSTER_CONF, REPOSITORIES, REPOSITORIES_OPTIONS)


def alter_fstab(fs: HostFS, ctx: ToolContext) -> list[str]:
    """Back up /etc/fstab to /tmp, then move its /OVS lines to /etc/ovs/repositories.

    A line for this server's own disk is dropped, not registered: local
    storage cannot be a pool repository (Metalink 756968.1 converts it).
    """
    text = fs.read_text(FSTAB)
    if text is None:
        return [f"{FSTAB} does not exist: nothing to alter"]
    entries = parse_fstab(text, FSTAB)
    ovs = [e for e in entries if e.is_ovs]
    if not ovs:
        return [f"no /OVS lines in {FSTAB}"]
    backup = f"/tmp/fstab.{ctx.now_s}"
    fs.write_text(backup, text)
    lines = [f"backed up {FSTAB} to {backup}"]
    repos = load_repositories(fs)
    for entry in ovs:
        volume = ctx.storage.resolve(entry.source)
        if volume is not None and volume.local_disk:
            lines.append(f"removed local {entry.source} on {entry.mountpoint} from {FSTAB}")
        elif repos.by_source(entry.source) is not None:
            lines.append(f"removed {entry.source} from {FSTAB}: already in {REPOSITORIES}")
        else:
            uuid = volume.uuid if volume is not None else uuid_for_source(entry.source)
            repos = repos.with_added(Repository(uuid, entry.source, False, f"moved from {FSTAB}"))
            lines.append(f"moved {entry.source} from {FSTAB} to {REPOSITORIES}")
    save_repositories(fs, repos)
    fs.write_text(FSTAB, render_fstab([e for e in entries if not e.is_ovs]))
    return lines


def problems(fs: HostFS, ctx: ToolContext) -> list[str]:
    """What keeps this server's cluster from being configured and running."""
    found: list[str] = []
    if not ServiceTable(fs).is_running("o2cb"):
        found.append("o2cb is not running")
    text = fs.read_text(CLUSTER_CONF)
    if text is None:
        found.append(f"{CLUSTER_CONF} does not exist")
    else:
        try:
            conf = parse_cluster_conf(text)
            if conf.node_named(ctx.hostname, ctx.fqdn) is None:
                found.append(f"{CLUSTER_CONF} does not list this server ({ctx.fqdn})")
        except ConfigSyntaxError as exc:
            found.append(str(exc))
    root = load_repositories(fs).cluster_root
    if root is None:
        found.append(f"no cluster root in {REPOSITORIES}")
        return found
    target = mountpoint_for(ctx.release, root)
    mounted = mount_at(fs, target)
    if mounted is None or mounted.source != root.source:
        found.append(f"cluster root {root.source} is not mounted on {target}")
    elif ":/" in root.source and not fs.exists(f"{target}/{HEARTBEAT_FILE_NAME}"):
        found.append(f"heartbeat file {target}/{HEARTBEAT_FILE_NAME} does not exist")
    return found


def propagate(fs: HostFS, ctx: ToolContext) -> list[str]:
    lines = []
    files = [p for p in PROPAGATED_FILES if fs.exists(p)]
    for member in ctx.members:
        if ctx.is_self(member):
            continue
        for path in files:
            ctx.propagate(member.name, path, fs.read_text(path) or "")
        lines.append(f"propagated {', '.join(files)} to {member.name}")
    return lines


def cluster_check(fs: HostFS, args: list[str], ctx: ToolContext) -> ToolResult:
    unknown = [a for a in args if a not in OPTIONS]
    if unknown:
        raise ToolError(
            f"unknown option {unknown[0]}; usage: ovs-cluster-check [--master] [--alter-fstab] [--propagate]",
            rc=2,
        )
    if ("--master" in args or "--propagate" in args) and not ctx.is_master:
        flag = "--master" if "--master" in args else "--propagate"
        raise ToolError(f"{flag} may only be used on the Server Pool Master")
    lines = alter_fstab(fs, ctx) if "--alter-fstab" in args else []
    found = problems(fs, ctx)
    if found:
        report = "".join(f"{line}\n" for line in lines)
        return ToolResult(1, report, "".join(f"ovs-cluster-check: {p}\n" for p in found))
    lines.append("cluster is configured and running")
    if "--propagate" in args:
        lines += propagate(fs, ctx)
    return ToolResult(0, "".join(f"{line}\n" for line in lines))
