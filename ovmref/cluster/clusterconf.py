"""/etc/ocfs2/cluster.conf, read exactly as ocfs2-tools' o2cb reads it, and rendered as o2cb writes it.

Accepting and rejecting follows o2cb itself (ocfs2-tools o2cb_ctl/jconfig.c and o2cb_config.c,
the code behind `o2cb --config-file=F list-cluster`), and tests/host/test_clusterconf_o2cb.py
proves it against Debian's o2cb 1.8.7 over a corpus of real and generated files:

* jconfig.c (`CF_SCAN_WHITESPACE " \\t"`): a line that starts with an identifier and ends with
  ':' opens a stanza; a line that starts with a space *or* a TAB is an attribute line (any
  indentation), or a blank line when nothing else is on it; a line that starts with `#` is a
  comment (it does not end the stanza); an empty or whitespace-only line ends the stanza. An
  attribute is `identifier [blanks] = [blanks] value`; the value runs to the end of the line
  (a trailing backslash continues it on the next line) and its trailing white space is dropped.
  Anything else, an indented comment or a CR before the newline of a stanza line included, makes
  the whole file unreadable to o2cb. The last of two equal keys in a stanza counts.
* o2cb_config.c: every `cluster:` stanza needs a name (o2cb crashes without one), a
  heartbeat_mode of local or global (any case; local when missing) and a node_count that strtoul
  reads whole; each `node:` whose `cluster` names it needs name, number (< INT_MAX), ip_address
  (inet_pton AF_INET) and ip_port (<= UINT_MAX), names unique in the cluster; each `heartbeat:`
  of it needs a region, regions unique. Nodes and regions naming no cluster, other stanza kinds
  and other keys are ignored, as are duplicate node numbers and a node_count that does not match.

What o2cb accepts but a pool would trip over (two nodes numbered 0, a node in a cluster that does
not exist, a loopback address, node_count off, an empty file) is not a parse error here: it is a
finding of `cluster_conf_findings`, which `ovm-conformance check` reports, every one with its line.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from ovmref.errors import ConfigSyntaxError

CLUSTER_CONF = "/etc/ocfs2/cluster.conf"
DEFAULT_PORT = 7777
MAX_NODE_NUMBER = 254  # O2NM_MAX_NODES 255, 255 = O2NM_INVALID_NODE_NUM (kernel nodemanager.h)
MAX_NAME_LEN = 64  # O2NM_MAX_NAME_LEN
MAX_REGIONS = 32  # O2NM_MAX_REGIONS; ocfs2.cluster.conf(5): "up to 32 heartbeat regions"
HeartbeatMode = Literal["local", "global"]

_WHITESPACE = " \t"  # jconfig.c CF_SCAN_WHITESPACE
_IDENTIFIER = re.compile(r"[A-Za-z0-9_]+")  # jconfig.c GScanner cset_identifier_first/_nth
_CLUSTER_NAME = re.compile(r"[0-9A-Za-z]{1,16}")  # ocfs2.cluster.conf(5)
_REGION = re.compile(r"[0-9A-Fa-f]{32}")  # a file system UUID, as mkfs.ocfs2 and o2cb write it
_ULONG_MAX = 2**64 - 1
_UINT_MAX = 2**32 - 1
_INT_MAX = 2**31 - 1
_C_SPACE = " \t\n\v\f\r"  # isspace() in the C locale: what strtoul skips and g_strchomp drops


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
    """The clusters o2cb loads, with their nodes and heartbeat regions in file order."""

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
class Stanza:
    """One stanza as written: its kind, the line of its header and each key's value and line."""

    kind: str
    line: int
    attrs: dict[str, tuple[str, int]] = field(default_factory=dict)
    repeated: list[tuple[str, int]] = field(default_factory=list)  # keys given again, and where

    def get(self, key: str) -> str | None:
        """The value as o2cb reads it (j_config_get_attribute: trailing white space dropped)."""
        found = self.attrs.get(key)
        return None if found is None else found[0].rstrip(_C_SPACE)

    def line_of(self, key: str) -> int:
        found = self.attrs.get(key)
        return self.line if found is None else found[1]


@dataclass(frozen=True)
class ClusterConfFile:
    """A cluster.conf o2cb accepts: what it loads, and every stanza as written (for findings)."""

    path: str
    conf: ClusterConf
    stanzas: tuple[Stanza, ...]
    lines: int


# ---- reading, as jconfig.c does -----------------------------------------------------------
class _Scanner:
    """GScanner as jconfig.c configures it: identifiers [A-Za-z0-9_]+, every other character a
    token of its own (nothing skipped), a NUL the end of input."""

    def __init__(self, text: str) -> None:
        self.text = text.split("\0", 1)[0]
        self.pos = 0
        self.line = 1

    def peek(self) -> tuple[str, str] | None:
        """('id', word) or ('char', c); None at the end."""
        if self.pos >= len(self.text):
            return None
        m = _IDENTIFIER.match(self.text, self.pos)
        if m is not None:
            return ("id", m.group())
        return ("char", self.text[self.pos])

    def next(self) -> tuple[str, str] | None:
        token = self.peek()
        if token is not None:
            self.pos += len(token[1])
            if token == ("char", "\n"):
                self.line += 1
        return token


class _Reader:
    def __init__(self, text: str, path: str) -> None:
        self.scan = _Scanner(text)
        self.path = path
        self.stanzas: list[Stanza] = []
        self.current: Stanza | None = None

    def fail(self, line: int, problem: str) -> ConfigSyntaxError:
        return ConfigSyntaxError(self.path, line, f"{problem} (o2cb cannot read the file)")

    def read(self) -> list[Stanza]:
        """j_config_parse_base: one line at a time, by its first token."""
        while (token := self.scan.peek()) is not None:
            kind, value = token
            line = self.scan.line
            if kind == "id":
                self.stanza_header()
            elif value in _WHITESPACE:
                self.white_start()
            elif value == "#":
                self.to_end_of_line()  # a comment; the stanza goes on
            elif value == "\n":
                self.scan.next()
                self.current = None
            else:
                raise self.fail(
                    line,
                    f"a line cannot start with {value!r}: expected a stanza name, "
                    "an indented 'key = value', a '#' comment or a blank line",
                )
        return self.stanzas

    def to_end_of_line(self) -> None:
        while (token := self.scan.next()) is not None and token != ("char", "\n"):
            pass

    def stanza_header(self) -> None:
        """j_config_parse_stanza_name: /^\\w+:[ \\t]*\\n/."""
        line = self.scan.line
        _, name = self.scan.next() or ("", "")
        self.current = None
        token = self.scan.next()
        if token is None or token == ("char", "\n"):
            raise self.fail(line, f"stanza name {name!r} lacks its ':'")
        if token[1] != ":":
            raise self.fail(line, f"unexpected {token[1]!r} after stanza name {name!r} (expected ':')")
        while (token := self.scan.next()) is not None and token != ("char", "\n"):
            if token[0] != "char" or token[1] not in _WHITESPACE:
                shown = "a carriage return (CRLF line ends)" if token[1] == "\r" else repr(token[1])
                raise self.fail(line, f"{shown} after '{name}:'")
        self.current = Stanza(name, line)
        self.stanzas.append(self.current)

    def white_start(self) -> None:
        """j_config_parse_white_start: an indented line is a blank line or an attribute."""
        line = self.scan.line
        self.scan.next()
        while (token := self.scan.peek()) is not None:
            kind, value = token
            if kind == "id":
                self.attribute()
                return
            self.scan.next()
            if value == "\n":
                self.current = None  # a whitespace-only line ends the stanza
                return
            if value not in _WHITESPACE:
                what = "an indented comment" if value == "#" else f"{value!r}"
                raise self.fail(line, f"{what} where a parameter name must start")

    def attribute(self) -> None:
        """j_config_parse_stanza_attr: `name [blanks] = [blanks] value`, backslash continues."""
        line = self.scan.line
        _, key = self.scan.next() or ("", "")
        if self.current is None:
            if self.scan.peek() == ("char", ":"):
                raise self.fail(line, f"stanza name {key!r} is indented: it must start in column 1")
            raise self.fail(line, f"parameter {key!r} outside a stanza (a blank line ends a stanza)")
        state = "id"
        value: list[str] = []
        continued = False
        while (token := self.scan.peek()) is not None:
            kind, text = token
            if kind == "char" and text == "\n":
                if state == "id":
                    raise self.fail(line, f"parameter {key!r} lacks '= value'")
                self.scan.next()
                if not continued:
                    break
                value.append("\n")
                continued = False
                continue
            self.scan.next()
            if kind == "id":
                if state == "id":
                    raise self.fail(line, f"{text!r} after parameter name {key!r} (expected '=')")
                state = "value"
                if continued:
                    value.append("\\")
                    continued = False
                value.append(text)
            elif continued:
                value.append("\\")
                continued = text == "\\"
                if not continued:
                    value.append(text)
            elif state == "id":
                if text == "=":
                    state = "equal"
                elif text not in _WHITESPACE:
                    raise self.fail(line, f"{text!r} after parameter name {key!r} (expected '=')")
            elif state == "equal":
                if text not in _WHITESPACE:
                    state = "value"
                    if text == "\\":
                        continued = True
                    else:
                        value.append(text)
            elif text == "\\":
                continued = True
            else:
                value.append(text)
        else:
            if state == "id":
                raise self.fail(line, f"parameter {key!r} lacks '= value'")
        if key in self.current.attrs:
            self.current.repeated.append((key, line))
        self.current.attrs[key] = ("".join(value), line)


# ---- loading, as o2cb_config.c does --------------------------------------------------------
def _strtoul(text: str) -> int | None:
    """C strtoul(text, &end, 10) with `*end == 0` required, as o2cb_config.c calls it; None if the
    text is not wholly a number. Overflow gives ULONG_MAX and a minus sign wraps, as in C."""
    m = re.fullmatch(r"[ \t\n\v\f\r]*([+-]?)([0-9]+)", text)
    if m is None:
        return None
    value = min(int(m.group(2)), _ULONG_MAX)
    return (_ULONG_MAX + 1 - value) % (_ULONG_MAX + 1) if m.group(1) == "-" else value


def _inet_pton4(text: str) -> bool:
    """glibc inet_pton(AF_INET): four decimal octets, no leading zeros, nothing else."""
    parts = text.split(".")
    return len(parts) == 4 and all(
        p.isdigit() and p.isascii() and int(p) <= 255 and (p == "0" or not p.startswith("0")) for p in parts
    )


class _Loader:
    def __init__(self, stanzas: list[Stanza], path: str) -> None:
        self.stanzas = stanzas
        self.path = path

    def fail(self, line: int, problem: str) -> ConfigSyntaxError:
        return ConfigSyntaxError(self.path, line, f"{problem} (o2cb refuses to load the file)")

    def of_kind(self, kind: str, cluster: str | None = None) -> Iterator[Stanza]:
        for st in self.stanzas:
            if st.kind == kind and (cluster is None or st.get("cluster") == cluster):
                yield st

    def required(self, st: Stanza, key: str) -> str:
        value = st.get(key)
        if not value:
            raise self.fail(
                st.line_of(key), f"{st.kind} stanza lacks a {key}" if value is None else f"{key} is empty"
            )
        return value

    def number(self, st: Stanza, key: str, limit: int, strict: bool) -> int:
        text = self.required(st, key)
        value = _strtoul(text)
        if value is None:
            raise self.fail(st.line_of(key), f"{key} = {text!r} is not a number")
        if value == _ULONG_MAX or (value >= limit if strict else value > limit):
            raise self.fail(st.line_of(key), f"{key} = {text!r} is out of range")
        return value

    def load(self) -> ClusterConf:
        clusters: list[ClusterStanza] = []
        nodes: list[NodeStanza] = []
        beats: list[HeartbeatStanza] = []
        for st in self.of_kind("cluster"):
            name = st.get("name")
            if name is None:
                raise self.fail(st.line, "cluster stanza lacks a name (o2cb crashes on it)")
            if any(c.name == name for c in clusters):
                raise self.fail(st.line_of("name"), f"a second cluster named {name!r}")
            mode = st.get("heartbeat_mode")
            if mode is None:
                mode = "local"
            if mode.lower() not in ("local", "global"):
                raise self.fail(
                    st.line_of("heartbeat_mode"), f"heartbeat_mode = {mode!r}: expected local or global"
                )
            names: set[str] = set()
            for n in self.of_kind("node", name):
                node_name = self.required(n, "name")
                if node_name in names:
                    raise self.fail(
                        n.line_of("name"), f"a second node named {node_name!r} in cluster {name!r}"
                    )
                names.add(node_name)
                number = self.number(n, "number", _INT_MAX, strict=True)
                ip = self.required(n, "ip_address")
                if not _inet_pton4(ip):
                    raise self.fail(n.line_of("ip_address"), f"ip_address = {ip!r} is not an IPv4 address")
                port = self.number(n, "ip_port", _UINT_MAX, strict=False)
                nodes.append(NodeStanza(node_name, number, ip, name, port))
            count = self.number(st, "node_count", _UINT_MAX, strict=False)
            regions: set[str] = set()
            for h in self.of_kind("heartbeat", name):
                region = self.required(h, "region")
                if region in regions:
                    raise self.fail(
                        h.line_of("region"), f"heartbeat region {region} given twice in cluster {name!r}"
                    )
                regions.add(region)
                beats.append(HeartbeatStanza(region, name))
            hb_mode: HeartbeatMode = "global" if mode.lower() == "global" else "local"
            clusters.append(ClusterStanza(name, count, hb_mode))
        return ClusterConf(tuple(clusters), tuple(nodes), tuple(beats))


def read_cluster_conf(text: str, path: str = CLUSTER_CONF) -> ClusterConfFile:
    """Read as o2cb does; ConfigSyntaxError (`path:line: problem`) exactly where o2cb gives up."""
    stanzas = _Reader(text, path).read()
    conf = _Loader(stanzas, path).load()
    return ClusterConfFile(path, conf, tuple(stanzas), text.count("\n") + (not text.endswith("\n")))


def parse_cluster_conf(text: str, path: str = CLUSTER_CONF) -> ClusterConf:
    """What o2cb loads from this text (raises ConfigSyntaxError where o2cb refuses it)."""
    return read_cluster_conf(text, path).conf


# ---- what o2cb accepts but a pool must not have --------------------------------------------
@dataclass(frozen=True)
class ConfFinding:
    """A problem of a readable cluster.conf, at a line (0: the whole file)."""

    line: int
    message: str


_KNOWN = {
    "cluster": ("name", "node_count", "heartbeat_mode"),
    "node": ("name", "number", "ip_address", "ip_port", "cluster"),
    "heartbeat": ("region", "cluster"),
}


def cluster_conf_findings(read: ClusterConfFile) -> list[ConfFinding]:
    """Every problem of a file o2cb accepts, in line order. Sources: ocfs2.cluster.conf(5) (names,
    number 0-254, up to 32 regions, 'the same on all nodes'), the kernel's O2NM limits, the white
    paper (no loopback address) and o2cb itself (what it silently ignores)."""
    found: list[ConfFinding] = []
    conf = read.conf
    clusters = {c.name for c in conf.clusters}
    if not read.stanzas:
        found.append(ConfFinding(0, "the file defines nothing: o2cb has no cluster to start"))
    elif not conf.clusters:
        found.append(ConfFinding(0, "no cluster: stanza: o2cb has no cluster to start"))
    for st in read.stanzas:
        if st.kind not in _KNOWN:
            found.append(
                ConfFinding(st.line, f"stanza {st.kind!r} is not cluster, node or heartbeat: o2cb ignores it")
            )
            continue
        for key, line in st.repeated:
            found.append(
                ConfFinding(line, f"{key} given twice in this {st.kind} stanza: o2cb keeps the last")
            )
        for key, (_, line) in st.attrs.items():
            if key not in _KNOWN[st.kind]:
                found.append(
                    ConfFinding(line, f"unknown parameter {key!r} in a {st.kind} stanza: o2cb ignores it")
                )
        owner = st.get("cluster")
        if st.kind in ("node", "heartbeat") and owner not in clusters:
            what = "node" if st.kind == "node" else "heartbeat region"
            why = (
                "names no cluster"
                if owner is None
                else f"is in cluster {owner!r}, which has no cluster: stanza"
            )
            found.append(ConfFinding(st.line_of("cluster"), f"this {what} {why}: o2cb ignores it"))
    for cluster in conf.clusters:
        found += _cluster_findings(read, cluster)
    return sorted(found, key=lambda f: f.line)


def _stanza_of(read: ClusterConfFile, kind: str, cluster: str, key: str, value: str) -> Stanza:
    return next(
        s for s in read.stanzas if s.kind == kind and s.get("cluster") == cluster and s.get(key) == value
    )


def _cluster_findings(read: ClusterConfFile, cluster: ClusterStanza) -> list[ConfFinding]:
    found: list[ConfFinding] = []
    name = cluster.name
    header = next(s for s in read.stanzas if s.kind == "cluster" and s.get("name") == name)
    if not _CLUSTER_NAME.fullmatch(name):
        found.append(
            ConfFinding(header.line_of("name"), f"cluster name {name!r} must be 1-16 characters [0-9A-Za-z]")
        )
    nodes = [(n, _stanza_of(read, "node", name, "name", n.name)) for n in read.conf.nodes_of(name)]
    if cluster.node_count != len(nodes):
        found.append(
            ConfFinding(
                header.line_of("node_count"),
                f"node_count = {cluster.node_count} but cluster {name!r} has {len(nodes)} node stanza(s)",
            )
        )
    numbers = Counter(n.number for n, _ in nodes)
    addresses = Counter((n.ip_address, n.ip_port) for n, _ in nodes)
    first_number: set[int] = set()
    first_address: set[tuple[str, int]] = set()
    for node, st in nodes:
        where = st.line_of
        if node.number > MAX_NODE_NUMBER:
            found.append(
                ConfFinding(
                    where("number"),
                    f"node {node.name}: number {node.number} is above "
                    f"{MAX_NODE_NUMBER}, the kernel's last node number",
                )
            )
        if numbers[node.number] > 1:
            if node.number in first_number:
                found.append(
                    ConfFinding(
                        where("number"), f"node {node.name}: number {node.number} is already another node's"
                    )
                )
            first_number.add(node.number)
        if addresses[(node.ip_address, node.ip_port)] > 1:
            if (node.ip_address, node.ip_port) in first_address:
                found.append(
                    ConfFinding(
                        where("ip_address"),
                        f"node {node.name}: {node.ip_address}:"
                        f"{node.ip_port} is already another node's address",
                    )
                )
            first_address.add((node.ip_address, node.ip_port))
        if ipaddress.IPv4Address(node.ip_address).is_loopback:
            found.append(
                ConfFinding(
                    where("ip_address"),
                    f"node {node.name} has the loopback address "
                    f"{node.ip_address}: no other server can reach it",
                )
            )
        if not 1 <= node.ip_port <= 65535:
            found.append(
                ConfFinding(
                    where("ip_port"), f"node {node.name}: ip_port {node.ip_port} is not a TCP port (1-65535)"
                )
            )
        if len(node.name) > MAX_NAME_LEN:
            found.append(
                ConfFinding(
                    where("name"), f"node name {node.name[:20]}... is longer than {MAX_NAME_LEN} characters"
                )
            )
    regions = read.conf.regions_of(name)
    for index, region in enumerate(regions):
        st = _stanza_of(read, "heartbeat", name, "region", region)
        if not _REGION.fullmatch(region):
            found.append(
                ConfFinding(
                    st.line_of("region"), f"region {region!r} is not a file system UUID (32 hex digits)"
                )
            )
        if index == MAX_REGIONS:
            found.append(
                ConfFinding(
                    st.line_of("region"), f"cluster {name!r} has more than {MAX_REGIONS} heartbeat regions"
                )
            )
    if cluster.heartbeat_mode == "global" and not regions:
        found.append(
            ConfFinding(
                header.line_of("heartbeat_mode"),
                f"cluster {name!r} is in global heartbeat mode but has no heartbeat region",
            )
        )
    return found


# ---- writing, as o2cb does ---------------------------------------------------------------
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
    beats = frozenset(HeartbeatStanza(h.region.upper(), h.cluster) for h in conf.heartbeats)
    return frozenset(conf.clusters), frozenset(conf.nodes), beats


def same_configuration(a: ClusterConf, b: ClusterConf) -> bool:
    """True when both files describe the same clusters, nodes and regions, whatever the order."""
    return _canonical(a) == _canonical(b)
