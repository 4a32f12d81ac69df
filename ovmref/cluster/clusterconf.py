"""/etc/ocfs2/cluster.conf: the O2CB cluster layout, parsed and rendered per ocfs2-tools.

Grammar (ocfs2.cluster.conf(5), o2cb_ctl/jconfig.c): `cluster:`, `node:` and
`heartbeat:` stanzas start in column 1; their parameters are `key = value`
lines indented by a TAB; a blank line ends a stanza; `#` starts a comment.
The man page asks editors to "follow the format strictly", and o2cb itself is
lenient, so this parser is the strict judge: HA breaks when the file differs
between servers or names a loopback address (white paper, Special
Considerations), and those are the checks prerequisites make with it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from ovmref.errors import ConfigSyntaxError

CLUSTER_CONF = "/etc/ocfs2/cluster.conf"
DEFAULT_PORT = 7777
MAX_NODE_NUMBER = 254  # O2NM_MAX_NODES 255, 255 = O2NM_INVALID_NODE_NUM
MAX_NAME_LEN = 64  # O2NM_MAX_NAME_LEN
MAX_REGIONS = 32  # O2NM_MAX_REGIONS
HeartbeatMode = Literal["local", "global"]

_CLUSTER_NAME = re.compile(r"[0-9A-Za-z]{1,16}")
_REGION = re.compile(r"[0-9A-Fa-f]{32}")
_STANZA = re.compile(r"(\w+):\s*")
_PARAM = re.compile(r"\t(\w+)\s*=\s*(.*?)\s*")


@dataclass(frozen=True)
class ClusterStanza:
    name: str
    node_count: int
    heartbeat_mode: HeartbeatMode = "local"


@dataclass(frozen=True)
class NodeStanza:
    name: str
    number: int
    ip_address: str
    cluster: str
    ip_port: int = DEFAULT_PORT


@dataclass(frozen=True)
class HeartbeatStanza:
    region: str
    cluster: str


@dataclass(frozen=True)
class ClusterConf:
    clusters: tuple[ClusterStanza, ...] = ()
    nodes: tuple[NodeStanza, ...] = ()
    heartbeats: tuple[HeartbeatStanza, ...] = ()

    def cluster(self, name: str) -> ClusterStanza | None:
        return next((c for c in self.clusters if c.name == name), None)

    def nodes_of(self, cluster: str) -> tuple[NodeStanza, ...]:
        return tuple(n for n in self.nodes if n.cluster == cluster)

    def regions_of(self, cluster: str) -> tuple[str, ...]:
        return tuple(h.region for h in self.heartbeats if h.cluster == cluster)

    def node_named(self, *names: str) -> NodeStanza | None:
        """The node whose name is any of `names` (a server is known by short name or FQDN)."""
        return next((n for n in self.nodes if n.name in names), None)


@dataclass
class _Stanza:
    kind: str
    line: int
    params: dict[str, tuple[str, int]] = field(default_factory=dict)


_KEYS = {
    "cluster": ({"name", "node_count"}, {"heartbeat_mode"}),
    "node": ({"name", "number", "ip_address", "cluster"}, {"ip_port"}),
    "heartbeat": ({"region", "cluster"}, set()),
}


def _stanzas(text: str, path: str) -> list[_Stanza]:
    stanzas: list[_Stanza] = []
    current: _Stanza | None = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            current = None  # a blank line ends the stanza
            continue
        if line.lstrip().startswith("#"):
            continue
        if m := _STANZA.fullmatch(line):
            if m.group(1) not in _KEYS:
                raise ConfigSyntaxError(
                    path, lineno, f"unknown stanza {m.group(1)!r}: expected cluster, node or heartbeat"
                )
            current = _Stanza(m.group(1), lineno)
            stanzas.append(current)
            continue
        if line[0] == " ":
            raise ConfigSyntaxError(
                path, lineno, "parameter indented with spaces: parameters must start after a TAB"
            )
        m = _PARAM.fullmatch(line)
        if m is None:
            raise ConfigSyntaxError(
                path, lineno, f"not a stanza header or a TAB-indented 'key = value' line: {line!r}"
            )
        if current is None:
            raise ConfigSyntaxError(
                path, lineno, f"parameter {m.group(1)!r} outside a stanza (a blank line ends a stanza)"
            )
        key, value = m.group(1), m.group(2)
        required, optional = _KEYS[current.kind]
        if key not in required | optional:
            raise ConfigSyntaxError(path, lineno, f"unknown parameter {key!r} in a {current.kind} stanza")
        if key in current.params:
            raise ConfigSyntaxError(
                path, lineno, f"parameter {key!r} given twice in the {current.kind} stanza"
            )
        if not value:
            raise ConfigSyntaxError(path, lineno, f"parameter {key!r} has no value")
        current.params[key] = (value, lineno)
    for st in stanzas:
        missing = sorted(_KEYS[st.kind][0] - set(st.params))
        if missing:
            raise ConfigSyntaxError(path, st.line, f"{st.kind} stanza lacks {', '.join(missing)}")
    return stanzas


def _int(st: _Stanza, key: str, path: str, low: int, high: int) -> int:
    value, lineno = st.params[key]
    if not value.isdigit() or not low <= int(value) <= high:
        raise ConfigSyntaxError(path, lineno, f"{key} must be a number from {low} to {high}, got {value!r}")
    return int(value)


def _cluster(st: _Stanza, path: str) -> ClusterStanza:
    name, lineno = st.params["name"]
    if not _CLUSTER_NAME.fullmatch(name):
        raise ConfigSyntaxError(path, lineno, f"cluster name {name!r} must be 1-16 characters [0-9A-Za-z]")
    mode, mode_line = st.params.get("heartbeat_mode", ("local", st.line))
    if mode not in ("local", "global"):
        raise ConfigSyntaxError(path, mode_line, f"heartbeat_mode must be local or global, got {mode!r}")
    count = _int(st, "node_count", path, 0, MAX_NODE_NUMBER + 1)
    return ClusterStanza(
        name=name, node_count=count, heartbeat_mode="global" if mode == "global" else "local"
    )


def _node(st: _Stanza, path: str) -> NodeStanza:
    name, lineno = st.params["name"]
    if len(name) > MAX_NAME_LEN or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.\-_]*", name):
        raise ConfigSyntaxError(
            path, lineno, f"node name {name!r} is not a host name of at most {MAX_NAME_LEN} characters"
        )
    ip, ip_line = st.params["ip_address"]
    try:
        ipaddress.IPv4Address(ip)
    except ValueError:
        raise ConfigSyntaxError(path, ip_line, f"ip_address {ip!r} is not an IPv4 address") from None
    port = _int(st, "ip_port", path, 1, 65535) if "ip_port" in st.params else DEFAULT_PORT
    number = _int(st, "number", path, 0, MAX_NODE_NUMBER)
    return NodeStanza(name=name, number=number, ip_address=ip, cluster=st.params["cluster"][0], ip_port=port)


def _heartbeat(st: _Stanza, path: str) -> HeartbeatStanza:
    region, lineno = st.params["region"]
    if not _REGION.fullmatch(region):
        raise ConfigSyntaxError(
            path, lineno, f"region {region!r} must be a UUID of 32 hex digits without dashes"
        )
    return HeartbeatStanza(region=region.upper(), cluster=st.params["cluster"][0])


def _unique(items: Iterable[tuple[object, int]], path: str, what: str) -> None:
    seen: set[object] = set()
    for key, lineno in items:
        if key in seen:
            raise ConfigSyntaxError(path, lineno, f"duplicate {what} {key}")
        seen.add(key)


def parse_cluster_conf(text: str, path: str = CLUSTER_CONF) -> ClusterConf:
    """Parse and validate; every problem names its line. Semantic rules follow o2cb and the kernel."""
    stanzas = _stanzas(text, path)
    clusters = [(_cluster(s, path), s) for s in stanzas if s.kind == "cluster"]
    nodes = [(_node(s, path), s) for s in stanzas if s.kind == "node"]
    beats = [(_heartbeat(s, path), s) for s in stanzas if s.kind == "heartbeat"]
    _unique(((c.name, s.line) for c, s in clusters), path, "cluster")
    names = {c.name for c, _ in clusters}
    for owner, s in [(n.cluster, s) for n, s in nodes] + [(h.cluster, s) for h, s in beats]:
        if owner not in names:
            raise ConfigSyntaxError(path, s.params["cluster"][1], f"cluster {owner!r} has no cluster stanza")
    for cluster, st in clusters:
        members = [(n, s) for n, s in nodes if n.cluster == cluster.name]
        _unique(((n.number, s.params["number"][1]) for n, s in members), path, "node number")
        _unique(((n.name, s.params["name"][1]) for n, s in members), path, "node name")
        _unique(((n.ip_address, s.params["ip_address"][1]) for n, s in members), path, "node ip_address")
        if cluster.node_count != len(members):
            raise ConfigSyntaxError(
                path,
                st.params["node_count"][1],
                f"node_count = {cluster.node_count} but cluster {cluster.name!r} "
                f"has {len(members)} node stanzas",
            )
        regions = [(h, s) for h, s in beats if h.cluster == cluster.name]
        _unique(((h.region, s.params["region"][1]) for h, s in regions), path, "heartbeat region")
        if len(regions) > MAX_REGIONS:
            raise ConfigSyntaxError(
                path,
                regions[MAX_REGIONS][1].line,
                f"cluster {cluster.name!r} has more than {MAX_REGIONS} heartbeat regions",
            )
    return ClusterConf(
        clusters=tuple(c for c, _ in clusters),
        nodes=tuple(n for n, _ in nodes),
        heartbeats=tuple(h for h, _ in beats),
    )


def render_cluster_conf(conf: ClusterConf) -> str:
    """Render as o2cb writes it: heartbeat stanzas, then nodes, then the cluster, per cluster."""
    blocks: list[str] = []
    for cluster in conf.clusters:
        for hb in (h for h in conf.heartbeats if h.cluster == cluster.name):
            blocks.append(f"heartbeat:\n\tregion = {hb.region}\n\tcluster = {hb.cluster}\n")
        for n in sorted(conf.nodes_of(cluster.name), key=lambda n: n.number):
            blocks.append(
                f"node:\n\tip_port = {n.ip_port}\n\tip_address = {n.ip_address}\n"
                f"\tnumber = {n.number}\n\tname = {n.name}\n\tcluster = {n.cluster}\n"
            )
        blocks.append(
            f"cluster:\n\tnode_count = {cluster.node_count}\n"
            f"\theartbeat_mode = {cluster.heartbeat_mode}\n\tname = {cluster.name}\n"
        )
    return "\n".join(blocks)


def loopback_nodes(conf: ClusterConf) -> list[NodeStanza]:
    """Nodes configured on a 127.0.0.0/8 address: peers cannot reach them (white paper warning)."""
    return [n for n in conf.nodes if ipaddress.IPv4Address(n.ip_address).is_loopback]


def _canonical(
    conf: ClusterConf,
) -> tuple[frozenset[ClusterStanza], frozenset[NodeStanza], frozenset[HeartbeatStanza]]:
    return frozenset(conf.clusters), frozenset(conf.nodes), frozenset(conf.heartbeats)


def same_configuration(a: ClusterConf, b: ClusterConf) -> bool:
    """True when both files describe the same clusters, nodes and regions, whatever the order."""
    return _canonical(a) == _canonical(b)
