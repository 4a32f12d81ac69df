"""/etc/ocfs2/cluster.conf: o2cb's refusals with file:line errors, rendering, and o2cb's own reading."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ovmref.cluster.clusterconf import (
    ClusterConf,
    ClusterStanza,
    HeartbeatStanza,
    NodeStanza,
    loopback_nodes,
    parse_cluster_conf,
    render_cluster_conf,
    same_configuration,
)
from ovmref.errors import ConfigSyntaxError

O2CB = "/usr/sbin/o2cb"
GOOD = (
    "# white paper sample, with TABs\n"
    "node:\n\tip_port = 7777\n\tip_address = 192.168.100.100\n\tnumber = 0\n"
    "\tname = vmserver1.example.com\n\tcluster = ocfs2\n\n"
    "node:\n\tip_port = 7777\n\tip_address = 192.168.100.101\n\tnumber = 1\n"
    "\tname = vmserver2.example.com\n\tcluster = ocfs2\n\n"
    "cluster:\n\tnode_count = 2\n\tname = ocfs2\n"
)
GLOBAL = (
    "heartbeat:\n\tregion = 0004FB0000050000E70FBDDEB802208F\n\tcluster = ba9aaf00ae5e2d72\n\n"
    "node:\n\tnumber = 0\n\tcluster = ba9aaf00ae5e2d72\n\tip_address = 10.0.0.1\n\tip_port = 7777\n"
    "\tname = ovs1\n\n"
    "cluster:\n\theartbeat_mode = global\n\tnode_count = 1\n\tname = ba9aaf00ae5e2d72\n"
)


def test_parses_the_white_paper_sample() -> None:
    conf = parse_cluster_conf(GOOD)
    assert conf.clusters == (ClusterStanza("ocfs2", 2, "local"),)
    assert [n.ip_address for n in conf.nodes] == ["192.168.100.100", "192.168.100.101"]
    assert conf.node_named("vmserver2.example.com") == NodeStanza(
        "vmserver2.example.com", 1, "192.168.100.101", "ocfs2", 7777
    )
    assert loopback_nodes(conf) == []


def test_parses_global_mode_as_oracle_vm_3_writes_it() -> None:
    conf = parse_cluster_conf(GLOBAL)
    assert conf.cluster("ba9aaf00ae5e2d72") == ClusterStanza("ba9aaf00ae5e2d72", 1, "global")
    assert conf.regions_of("ba9aaf00ae5e2d72") == ("0004FB0000050000E70FBDDEB802208F",)
    assert conf.nodes[0].ip_port == 7777


def _node(number: int, ip: str, name: str, cluster: str = "ocfs2") -> str:
    return (
        f"node:\n\tip_port = 7777\n\tip_address = {ip}\n\tnumber = {number}\n"
        f"\tname = {name}\n\tcluster = {cluster}\n"
    )


def _cluster(count: int, name: str = "ocfs2", extra: str = "") -> str:
    return f"cluster:\n\tnode_count = {count}\n\tname = {name}\n{extra}"


BROKEN = [
    # (text, line, problem): where o2cb itself refuses the file (o2cb_ctl/jconfig.c, o2cb_config.c)
    ("nodes\n\tname = a\n", 1, "lacks its ':'"),
    ("\tname = a\n", 1, "outside a stanza"),
    ("cluster:\r\n\tnode_count = 0\r\n\tname = c\r\n", 1, "carriage return"),
    (" cluster:\n\tnode_count = 0\n\tname = c\n", 1, "stanza name 'cluster' is indented"),
    (_node(0, "10.0.0.1", "a") + "\t# a comment\n\n" + _cluster(1), 7, "indented comment"),
    (_node(0, "10.0.0.1", "a") + "\n\tnumber = 3\n", 8, "outside a stanza"),
    (_node(-1, "10.0.0.1", "a") + "\n" + _cluster(1), 4, "number = '-1' is out of range"),
    (_node(0, "10.0.0.300", "a") + "\n" + _cluster(1), 3, "not an IPv4 address"),
    (
        _node(0, "10.0.0.1", "a") + "\n" + _node(1, "10.0.0.2", "a") + "\n" + _cluster(2),
        12,
        "a second node named 'a'",
    ),
    (_node(0, "10.0.0.1", "a") + "\n" + _cluster(1, extra="\theartbeat_mode = both\n"), 11, "or global"),
    ("cluster:\n\tname = c\n", 1, "lacks a node_count"),
    ("cluster:\n\tnode_count = 0\n", 1, "lacks a name"),
    (_node(0, "10.0.0.1", "a") + "\n" + _cluster(1) + "\n" + _cluster(0), 14, "a second cluster named"),
    ("node:\n\tname\n", 2, "lacks '= value'"),
    (_node(0, "10.0.0.1", "a").replace("\tip_port = 7777\n", "") + "\n" + _cluster(1), 1, "lacks a ip_port"),
    (_node(0, "10.0.0.1", "a").replace("name = a", "name =") + "\n" + _cluster(1), 5, "name is empty"),
]

@pytest.mark.parametrize(("text", "line", "problem"), BROKEN)
def test_broken_files_name_file_line_and_problem(text: str, line: int, problem: str) -> None:
    with pytest.raises(ConfigSyntaxError) as info:
        parse_cluster_conf(text, "/srv/vmserver1/etc/ocfs2/cluster.conf")
    assert info.value.line == line, str(info.value)
    assert problem in info.value.message, info.value.message
    assert str(info.value).startswith(f"/srv/vmserver1/etc/ocfs2/cluster.conf:{line}: ")


def test_comments_and_blank_lines_between_stanzas() -> None:
    text = "# top\n\n" + _node(0, "10.0.0.1", "a") + "# between\n\n\n" + _cluster(1) + "\n# end\n"
    assert len(parse_cluster_conf(text).nodes) == 1


def test_same_configuration_ignores_order_but_not_content() -> None:
    a = parse_cluster_conf(GOOD)
    reordered = ClusterConf(a.clusters, tuple(reversed(a.nodes)), a.heartbeats)
    assert same_configuration(a, reordered)
    changed = ClusterConf(
        a.clusters, (a.nodes[0], NodeStanza("vmserver2.example.com", 1, "127.0.0.1", "ocfs2"))
    )
    assert not same_configuration(a, changed)
    assert [n.name for n in loopback_nodes(changed)] == ["vmserver2.example.com"]


names = st.from_regex(r"[a-z][a-z0-9]{0,10}", fullmatch=True)


@st.composite
def cluster_confs(draw: st.DrawFn) -> ClusterConf:
    cluster = draw(st.from_regex(r"[0-9A-Za-z]{1,16}", fullmatch=True))
    numbers = draw(st.lists(st.integers(0, 254), min_size=1, max_size=8, unique=True))
    node_names = draw(st.lists(names, min_size=len(numbers), max_size=len(numbers), unique=True))
    nodes = tuple(
        NodeStanza(name, num, f"10.1.{num}.{i + 1}", cluster, draw(st.integers(1, 65535)))
        for i, (name, num) in enumerate(zip(node_names, numbers, strict=True))
    )
    mode = draw(st.sampled_from(["local", "global"]))
    regions = draw(st.lists(st.from_regex(r"[0-9A-F]{32}", fullmatch=True), max_size=3, unique=True))
    beats = tuple(HeartbeatStanza(r, cluster) for r in regions)
    return ClusterConf((ClusterStanza(cluster, len(nodes), mode),), nodes, beats)  # type: ignore[arg-type]


@given(cluster_confs())
def test_render_then_parse_is_the_same_configuration(conf: ClusterConf) -> None:
    assert same_configuration(parse_cluster_conf(render_cluster_conf(conf)), conf)


# ---- the real tool ---------------------------------------------------------------------
needs_o2cb = pytest.mark.skipif(
    shutil.which(O2CB) is None and not Path(O2CB).exists(),
    reason=f"{O2CB} is not installed (Debian package ocfs2-tools)",
)


def _o2cb(conf_file: Path, *args: str) -> str:
    done = subprocess.run(
        [O2CB, f"--config-file={conf_file}", *args], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@needs_o2cb
@pytest.mark.parametrize(
    "conf",
    [
        ClusterConf(
            (ClusterStanza("ocfs2", 3, "local"),),
            tuple(
                NodeStanza(f"vmserver{i}.example.com", i, f"192.168.100.{100 + i}", "ocfs2") for i in range(3)
            ),
        ),
        ClusterConf(
            (ClusterStanza("ba9aaf00ae5e2d72", 2, "global"),),
            (
                NodeStanza("ovs1", 0, "10.0.0.1", "ba9aaf00ae5e2d72"),
                NodeStanza("ovs2", 1, "10.0.0.2", "ba9aaf00ae5e2d72", 7778),
            ),
            (HeartbeatStanza("0004FB0000050000E70FBDDEB802208F", "ba9aaf00ae5e2d72"),),
        ),
    ],
    ids=["local-heartbeat", "global-heartbeat"],
)
def test_o2cb_reads_what_we_render(tmp_path: Path, conf: ClusterConf) -> None:
    path = tmp_path / "cluster.conf"
    path.write_text(render_cluster_conf(conf))
    name = conf.clusters[0].name
    assert _o2cb(path, "list-clusters").split() == [name]
    listed = parse_cluster_conf(_o2cb(path, "list-cluster", name), "o2cb list-cluster")
    assert same_configuration(listed, conf)
    # list-nodes prints node stanzas only; add the cluster stanza so the file is complete
    nodes_only = _o2cb(path, "list-nodes", name)
    assert "cluster:" not in nodes_only.split("\n")
    nodes = parse_cluster_conf(
        nodes_only + "\n" + render_cluster_conf(ClusterConf(conf.clusters)), "list-nodes"
    )
    assert set(nodes.nodes) == set(conf.nodes)
    regions = _o2cb(path, "list-heartbeats", name)
    assert sorted(line.split("=")[1].strip() for line in regions.splitlines() if "region" in line) == sorted(
        conf.regions_of(name)
    )
