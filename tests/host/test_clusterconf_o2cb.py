"""cluster.conf is accepted and rejected exactly as o2cb does, with the same nodes: a differential test.

Every file of tests/corpus/cluster.conf (real-world files, sources in its README), every generated
variant below (indentation, stanza order, comments, duplicates, a node in a cluster that does not
exist, a missing node_count, bad values, CRLF, ...) and a seeded batch of random edits of real files
is given to both our parser and Debian's `o2cb --config-file=F list-clusters` / `list-cluster NAME`.
Both must accept or both reject, and for an accepted file o2cb's listing of each cluster must be
exactly the listing of what we parsed. Files holding a NUL byte are left out: GScanner, under
jconfig.c, reads a NUL as the end of input or not depending on where its read buffer ends.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from ovmref.cluster.clusterconf import (
    ClusterConf,
    cluster_conf_findings,
    parse_cluster_conf,
    read_cluster_conf,
)
from ovmref.errors import ConfigSyntaxError

O2CB = shutil.which("o2cb") or ("/usr/sbin/o2cb" if os.access("/usr/sbin/o2cb", os.X_OK) else None)
CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "cluster.conf"
pytestmark = pytest.mark.skipif(O2CB is None, reason="o2cb (Debian ocfs2-tools) is not installed")

Listing = list[tuple[str, str]] | None  # per cluster: its name and `o2cb list-cluster` output; None: rejected


def _o2cb(path: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    assert O2CB is not None
    return subprocess.run(
        [O2CB, f"--config-file={path}", *args], capture_output=True, timeout=30, check=False
    )


def o2cb_listing(text: str) -> Listing:
    """What o2cb makes of the text: None if it cannot load it (an error or a crash)."""
    with tempfile.NamedTemporaryFile("wb", suffix=".conf", delete=False) as f:
        f.write(text.encode("utf-8", "surrogateescape"))
    try:
        done = _o2cb(f.name, "list-clusters")
        if done.returncode != 0:
            return None
        names = done.stdout.decode("utf-8", "surrogateescape").split("\n")[:-1]
        return [
            (n, _o2cb(f.name, "list-cluster", "--", n).stdout.decode("utf-8", "surrogateescape"))
            for n in names
        ]
    finally:
        os.unlink(f.name)


def _int(value: int) -> int:
    """o2cb prints node numbers, ports and counts with %d."""
    return value - 2**32 if value >= 2**31 else value


def listing_of(conf: ClusterConf, name: str) -> str:
    """`o2cb list-cluster NAME` as ocfs2-tools 1.8.7 prints it (o2cb_ctl/op_lists.c)."""
    cluster = conf.cluster(name)
    assert cluster is not None
    out = "".join(f"heartbeat:\n\tregion = {r}\n\tcluster = {name}\n\n" for r in conf.regions_of(name))
    out += "".join(
        f"node:\n\tnumber = {_int(n.number)}\n\tname = {n.name}\n\tip_address = {n.ip_address}\n"
        f"\tip_port = {_int(n.ip_port)}\n\tcluster = {name}\n\n"
        for n in conf.nodes_of(name)
    )
    return out + (
        f"cluster:\n\tnode_count = {_int(cluster.node_count)}\n\theartbeat_mode = {cluster.heartbeat_mode}\n"
        f"\tname = {name}\n\n"
    )


def our_listing(text: str) -> Listing:
    try:
        conf = parse_cluster_conf(text)
    except ConfigSyntaxError:
        return None
    return [(c.name, listing_of(conf, c.name)) for c in conf.clusters]


# ---- the corpus ----------------------------------------------------------------------------
def _node(
    number: object, ip: str, name: str, cluster: str = "c", port: object = 7777, indent: str = "\t"
) -> str:
    i = indent
    return (
        f"node:\n{i}ip_port = {port}\n{i}ip_address = {ip}\n{i}number = {number}\n{i}name = {name}\n"
        f"{i}cluster = {cluster}\n"
    )


def _cluster(count: object = 2, name: str = "c", mode: str | None = None, indent: str = "\t") -> str:
    i = indent
    extra = f"{i}heartbeat_mode = {mode}\n" if mode is not None else ""
    return f"cluster:\n{i}node_count = {count}\n{extra}{i}name = {name}\n"


def _beat(region: str, cluster: str = "c") -> str:
    return f"heartbeat:\n\tregion = {region}\n\tcluster = {cluster}\n"


def _pool(*blocks: str) -> str:
    return "\n".join(blocks)


REGION = "0004FB0000050000E70FBDDEB802208F"
A, B = _node(0, "10.0.0.1", "a"), _node(1, "10.0.0.2", "b")
HEALTHY = _pool(A, B, _cluster())
GENERATED: dict[str, str] = {
    "healthy": HEALTHY,
    "indent-4-spaces": HEALTHY.replace("\t", "    "),
    "indent-1-space": HEALTHY.replace("\t", " "),
    "indent-mixed": _pool(A.replace("\t", "  \t "), B, _cluster(indent=" \t")),
    "stanza-order-cluster-first": _pool(_cluster(), A, B),
    "stanza-order-heartbeat-last": _pool(A, B, _cluster(mode="global"), _beat(REGION)),
    "stanza-order-global-agent": _pool(_beat(REGION), A, B, _cluster(mode="global")),
    "keys-reordered": "node:\n\tname = a\n\tcluster = c\n\tnumber = 0\n\tip_address = 10.0.0.1\n"
    "\tip_port = 7777\n\n" + _cluster(1),
    "comment-top": "# cluster.conf\n" + HEALTHY,
    "comment-inside-stanza": HEALTHY.replace("\tnumber = 1\n", "# the second node\n\tnumber = 1\n"),
    "comment-indented": HEALTHY.replace("\tnumber = 1\n", "\t# the second node\n\tnumber = 1\n"),
    "comment-after-value": HEALTHY.replace("name = b", "name = b # node two"),
    "no-blank-lines": HEALTHY.replace("\n\n", "\n"),
    "blank-line-with-spaces": HEALTHY.replace("\n\n", "\n  \n"),
    "blank-line-in-stanza": HEALTHY.replace("\tnumber = 1\n", "\n\tnumber = 1\n"),
    "crlf": HEALTHY.replace("\n", "\r\n"),
    "crlf-attributes-only": HEALTHY.replace(" = 1\n", " = 1\r\n"),
    "trailing-spaces": HEALTHY.replace("\n", "  \n"),
    "no-final-newline": HEALTHY.rstrip("\n"),
    "stanza-name-indented": HEALTHY.replace("cluster:\n", " cluster:\n"),
    "stanza-trailing-garbage": HEALTHY.replace("cluster:\n", "cluster: c\n"),
    "stanza-without-colon": HEALTHY.replace("cluster:\n", "cluster\n"),
    "stanza-unknown": HEALTHY + "\nnodes:\n\tname = z\n",
    "stanza-capitalised": HEALTHY.replace("cluster:\n", "Cluster:\n"),
    "attribute-outside-stanza": "\tname = a\n" + HEALTHY,
    "attribute-without-equals": HEALTHY.replace("name = b", "name b"),
    "attribute-colon": HEALTHY.replace("name = b", "name: b"),
    "attribute-no-spaces": HEALTHY.replace(" = ", "="),
    "attribute-empty-value": HEALTHY.replace("name = b", "name ="),
    "attribute-repeated": HEALTHY.replace("\tname = b\n", "\tname = x\n\tname = b\n"),
    "attribute-unknown": HEALTHY.replace("\tname = b\n", "\tname = b\n\tweight = 3\n"),
    "attribute-continued": HEALTHY.replace("name = b", "name = \\\nb"),
    "duplicate-number": _pool(A, _node(0, "10.0.0.2", "b"), _cluster()),
    "duplicate-name": _pool(A, _node(1, "10.0.0.2", "a"), _cluster()),
    "duplicate-address": _pool(A, _node(1, "10.0.0.1", "b"), _cluster()),
    "duplicate-cluster": _pool(A, B, _cluster(), _cluster()),
    "duplicate-region": _pool(A, B, _cluster(mode="global"), _beat(REGION), _beat(REGION)),
    "duplicate-region-other-case": _pool(A, B, _cluster(mode="global"), _beat(REGION), _beat(REGION.lower())),
    "node-in-missing-cluster": _pool(A, _node(1, "10.0.0.2", "b", cluster="other"), _cluster()),
    "node-without-cluster": _pool(A, B.replace("\tcluster = c\n", ""), _cluster()),
    "heartbeat-in-missing-cluster": _pool(A, B, _cluster(), _beat(REGION, "other")),
    "two-clusters": _pool(A, B, _cluster(), _node(0, "10.0.1.1", "a", cluster="d"), _cluster(1, "d")),
    "missing-node-count": HEALTHY.replace("\tnode_count = 2\n", ""),
    "missing-cluster-name": HEALTHY.replace("\tname = c\n", "", 1).replace("\tname = c\n", ""),
    "missing-node-name": _pool(A, B.replace("\tname = b\n", ""), _cluster()),
    "missing-number": _pool(A, B.replace("\tnumber = 1\n", ""), _cluster()),
    "missing-ip-address": _pool(A, B.replace("\tip_address = 10.0.0.2\n", ""), _cluster()),
    "missing-ip-port": _pool(A, B.replace("\tip_port = 7777\n", ""), _cluster()),
    "missing-region": _pool(A, B, _cluster(mode="global"), "heartbeat:\n\tcluster = c\n"),
    "node-count-mismatch": _pool(A, B, _cluster(5)),
    "node-count-zero": _pool(A, B, _cluster(0)),
    "node-count-text": _pool(A, B, _cluster("two")),
    "node-count-negative": _pool(A, B, _cluster(-1)),
    "node-count-huge": _pool(A, B, _cluster(2**32)),
    "number-255": _pool(A, _node(255, "10.0.0.2", "b"), _cluster()),
    "number-int-max": _pool(A, _node(2**31 - 1, "10.0.0.2", "b"), _cluster()),
    "number-below-int-max": _pool(A, _node(2**31 - 2, "10.0.0.2", "b"), _cluster()),
    "number-negative": _pool(A, _node(-1, "10.0.0.2", "b"), _cluster()),
    "number-minus-zero": _pool(A, _node("-0", "10.0.0.2", "b"), _cluster()),
    "number-plus": _pool(A, _node("+1", "10.0.0.2", "b"), _cluster()),
    "number-hex": _pool(A, _node("0x1", "10.0.0.2", "b"), _cluster()),
    "number-leading-zero": _pool(A, _node("01", "10.0.0.2", "b"), _cluster()),
    "number-with-space": _pool(A, _node("1 2", "10.0.0.2", "b"), _cluster()),
    "port-zero": _pool(A, _node(1, "10.0.0.2", "b", port=0), _cluster()),
    "port-70000": _pool(A, _node(1, "10.0.0.2", "b", port=70000), _cluster()),
    "port-uint-max": _pool(A, _node(1, "10.0.0.2", "b", port=2**32 - 1), _cluster()),
    "port-too-big": _pool(A, _node(1, "10.0.0.2", "b", port=2**32), _cluster()),
    "ip-octet-256": _pool(A, _node(1, "10.0.0.256", "b"), _cluster()),
    "ip-leading-zero": _pool(A, _node(1, "10.0.0.02", "b"), _cluster()),
    "ip-three-octets": _pool(A, _node(1, "10.0.2", "b"), _cluster()),
    "ip-hostname": _pool(A, _node(1, "vmserver2.example.com", "b"), _cluster()),
    "ip-ipv6": _pool(A, _node(1, "fe80::1", "b"), _cluster()),
    "ip-loopback": _pool(A, _node(1, "127.0.0.1", "b"), _cluster()),
    "mode-global-capitals": _pool(A, B, _cluster(mode="GLOBAL"), _beat(REGION)),
    "mode-both": _pool(A, B, _cluster(mode="both")),
    "mode-empty": HEALTHY.replace("\tname = c\n", "\theartbeat_mode =\n\tname = c\n"),
    "region-not-a-uuid": _pool(A, B, _cluster(mode="global"), _beat("my-disk")),
    "regions-33": _pool(A, B, _cluster(mode="global"), *(_beat(f"{i:032X}") for i in range(33))),
    "cluster-name-long": _pool(_node(0, "10.0.0.1", "a", cluster="c" * 17), _cluster(1, "c" * 17)),
    "cluster-name-dash": _pool(_node(0, "10.0.0.1", "a", cluster="my-pool"), _cluster(1, "my-pool")),
    "cluster-name-empty": "cluster:\n\tnode_count = 0\n\tname =\n",
    "node-name-fqdn": _pool(_node(0, "10.0.0.1", "a.example.com"), _cluster(1)),
    "empty": "",
    "only-comments": "# nothing here\n# at all\n",
    "only-blank-lines": "\n\n  \n",
    "binary-garbage": "\x01\x02\x03",
    "utf8-in-value": _pool(_node(0, "10.0.0.1", "nœud"), _cluster(1)),
    "utf8-in-key": HEALTHY.replace("\tname = b\n", "\tnäme = b\n"),
    "identifier-with-digits": HEALTHY + "\n2nodes:\n\tx = 1\n",
}

REAL = sorted(CORPUS.glob("*.conf"))
BASES = [HEALTHY, *(p.read_text(encoding="utf-8") for p in REAL)]
PIECES = (
    " ",
    "\t",
    "\n",
    "\r",
    "#",
    "=",
    ":",
    "\\",
    "\\\n",
    "x",
    "0",
    "-",
    "+",
    "1",
    "255",
    " = ",
    "name",
    "cluster",
    "node:",
    "\n\n",
    "  \n",
    "é",
    "_",
    ".",
    "09",
    "global",
    "LOCAL",
    "abc:",
    "4294967296",
)


def _mutated(rng: random.Random) -> str:
    text = rng.choice(BASES)
    for _ in range(rng.randint(1, 4)):
        at = rng.randint(0, len(text))
        if rng.random() < 0.5:
            text = text[:at] + rng.choice(PIECES) + text[at:]
        else:
            text = text[:at] + text[at + rng.randint(1, 6) :]
    return text


FUZZ_SEED, FUZZ_COUNT = 20240611, 400


def _agree(name: str, text: str) -> None:
    theirs, ours = o2cb_listing(text), our_listing(text)
    assert ours == theirs, (
        f"{name}: o2cb {'rejects' if theirs is None else 'accepts'} it\n{text!r}\n"
        f"o2cb: {theirs}\nours: {ours}"
    )


@pytest.mark.parametrize("path", REAL, ids=[p.name for p in REAL])
def test_real_world_files_read_as_o2cb_reads_them(path: Path) -> None:
    _agree(path.name, path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_variants_read_as_o2cb_reads_them(name: str) -> None:
    _agree(name, GENERATED[name])


def test_random_edits_of_real_files_read_as_o2cb_reads_them() -> None:
    rng = random.Random(FUZZ_SEED)
    disagreements = []
    for index in range(FUZZ_COUNT):
        text = _mutated(rng)
        if o2cb_listing(text) != our_listing(text):
            disagreements.append(f"#{index}: {text!r}")
    assert not disagreements, f"{len(disagreements)} of {FUZZ_COUNT} disagree:\n" + "\n".join(
        disagreements[:5]
    )


def test_the_corpus_holds_what_the_issue_names() -> None:
    """Real-world space-indented files that o2cb accepts are in it, and both o2cb answers occur."""
    accepted = [p.name for p in REAL if o2cb_listing(p.read_text(encoding="utf-8")) is not None]
    assert {"whitepaper-2009.conf", "oracle-linux-global-3-regions.conf", "howto-nodes-from-1.conf"} <= set(
        accepted
    )
    verdicts = {o2cb_listing(t) is None for t in GENERATED.values()}
    assert verdicts == {True, False}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("duplicate-number", "number 0 is already another node's"),
        ("node-in-missing-cluster", "cluster 'other', which has no cluster: stanza"),
        ("node-count-mismatch", "node_count = 5 but cluster 'c' has 2 node stanza(s)"),
        ("ip-loopback", "loopback address 127.0.0.1"),
        ("empty", "defines nothing"),
        ("number-255", "number 255 is above 254"),
        ("duplicate-address", "10.0.0.1:7777 is already another node's address"),
        ("port-70000", "ip_port 70000 is not a TCP port"),
        ("region-not-a-uuid", "'my-disk' is not a file system UUID"),
        ("regions-33", "more than 32 heartbeat regions"),
        ("cluster-name-long", "must be 1-16 characters"),
        ("stanza-unknown", "stanza 'nodes' is not cluster, node or heartbeat"),
        ("attribute-unknown", "unknown parameter 'weight'"),
        ("attribute-repeated", "name given twice"),
    ],
)
def test_what_o2cb_accepts_but_a_pool_must_not_have_is_a_finding(name: str, expected: str) -> None:
    text = GENERATED[name]
    assert o2cb_listing(text) is not None, f"{name}: o2cb was expected to accept it"
    findings = cluster_conf_findings(read_cluster_conf(text, "cc"))
    assert any(expected in f.message for f in findings), [f.message for f in findings]


def test_a_healthy_file_has_no_findings() -> None:
    for name in ("healthy", "indent-4-spaces", "stanza-order-global-agent", "comment-inside-stanza"):
        assert cluster_conf_findings(read_cluster_conf(GENERATED[name], "cc")) == [], name
