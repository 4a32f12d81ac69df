"""/usr/lib/ovs/ovs-cluster-configure: create the O2CB cluster on this server and start o2cb.

User's Guide 9.3.2: "This script generates the /etc/ocfs2/cluster.conf file
if it does not already exist, and configures and starts the o2cb service."
Every member's address is resolved through THIS server's name service, as
the real script does; the white paper warns that a bad network setup leaves
127.0.0.1 in cluster.conf, and that is what happens here too.
Node names: 2.x writes the name `hostname` prints, which the installer sets
to the FQDN (the white paper's sample cluster.conf); 3.x writes short names.
2.x uses local heartbeat; 3.x global heartbeat (its region, the pool file
system, is added by ovs-makerepo ... C).
"""

from __future__ import annotations

import ipaddress

from ovmref.cluster.clusterconf import (
    CLUSTER_CONF,
    ClusterConf,
    ClusterStanza,
    HeartbeatStanza,
    NodeStanza,
    parse_cluster_conf,
    render_cluster_conf,
)
from ovmref.host.names import read_name_config
from ovmref.host.sysconfig import O2CB_SYSCONFIG, O2CBConfig, parse_o2cb_sysconfig, render_o2cb_sysconfig
from ovmref.hostfs import HostFS
from ovmref.release import Release
from ovmref.timing import O2CBTimings
from ovmref.tools.context import PoolMember, ToolContext, ToolError, ToolResult
from ovmref.tools.service import start_service
from ovmref.tools.storage_ops import load_repositories


def node_name(release: Release, member: PoolMember) -> str:
    return member.name if release is Release.R3 else member.fqdn


def generate_cluster_conf(fs: HostFS, ctx: ToolContext) -> ClusterConf:
    """cluster.conf for ctx.members, with addresses as this server resolves them."""
    names = read_name_config(fs)
    members = ctx.members or (PoolMember(ctx.hostname, ctx.fqdn, 0),)
    nodes = []
    for member in sorted(members, key=lambda m: m.node):
        answer = names.resolve(member.fqdn, ctx.dns_zone)
        if answer is None:
            raise ToolError(f"cannot resolve {member.fqdn}: add it to /etc/hosts or to DNS")
        try:
            ipaddress.IPv4Address(answer.ip)
        except ValueError:
            raise ToolError(f"{member.fqdn} resolves to {answer.ip}, not an IPv4 address") from None
        nodes.append(NodeStanza(node_name(ctx.release, member), member.node, answer.ip, ctx.cluster_name))
    global_hb = ctx.release is Release.R3
    root = load_repositories(fs).cluster_root
    beats = (HeartbeatStanza(root.uuid, ctx.cluster_name),) if global_hb and root is not None else ()
    cluster = ClusterStanza(ctx.cluster_name, len(nodes), "global" if global_hb else "local")
    return ClusterConf((cluster,), tuple(nodes), beats)


def cluster_configure(fs: HostFS, args: list[str], ctx: ToolContext) -> ToolResult:
    if args:
        raise ToolError("usage: ovs-cluster-configure", rc=2)
    lines: list[str] = []
    text = fs.read_text(CLUSTER_CONF)
    if text is None:
        conf = generate_cluster_conf(fs, ctx)
        fs.write_text(CLUSTER_CONF, render_cluster_conf(conf))
        lines.append(f"generated {CLUSTER_CONF} with {len(conf.nodes)} node(s)")
    else:
        conf = parse_cluster_conf(text)
        lines.append(f"{CLUSTER_CONF} exists: left unchanged")
    mine = conf.node_named(ctx.hostname, ctx.fqdn)
    cluster = mine.cluster if mine is not None else ctx.cluster_name
    old = fs.read_text(O2CB_SYSCONFIG)
    timings = parse_o2cb_sysconfig(old).timings if old is not None else O2CBTimings.for_release(ctx.release)
    fs.write_text(O2CB_SYSCONFIG, render_o2cb_sysconfig(O2CBConfig(True, cluster, timings)))
    lines.append(f"configured O2CB: O2CB_ENABLED=true O2CB_BOOTCLUSTER={cluster}")
    lines += start_service(fs, ctx, "o2cb")
    return ToolResult(0, "".join(f"{line}\n" for line in lines))
