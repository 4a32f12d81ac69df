"""`ovm-conformance check`: every problem of a file, one `FILE:LINE: problem` each, distinct exit codes.

0 valid, 1 problems found, 2 usage error, 3 a file that cannot be read. cluster.conf is judged as
o2cb reads it: the real-world space-indented files of tests/corpus/cluster.conf are valid; what o2cb
accepts but a pool must not have (a loopback node, two nodes numbered 0, an empty file, node_count
off) is reported, all of it, not only the first.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "corpus" / "cluster.conf"


def check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conformance", "check", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "name", ["whitepaper-2009.conf", "oracle-linux-global-3-regions.conf", "howto-nodes-from-1.conf"]
)
def test_real_world_space_indented_files_are_valid(name: str) -> None:
    done = check("--kind", "cluster.conf", str(CORPUS / name))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith(f"{CORPUS / name}: OK (cluster.conf): ")


def test_every_problem_is_reported_with_its_line(tmp_path: Path) -> None:
    conf = tmp_path / "cluster.conf"
    conf.write_text(
        "node:\n\tip_port = 7777\n\tip_address = 127.0.0.1\n\tnumber = 0\n\tname = a\n\tcluster = c\n\n"
        "node:\n\tip_port = 7777\n\tip_address = 10.0.0.2\n\tnumber = 0\n\tname = b\n\tcluster = c\n\n"
        "node:\n\tip_port = 7777\n\tip_address = 10.0.0.3\n\tnumber = 2\n\tname = x\n\tcluster = gone\n\n"
        "cluster:\n\tnode_count = 5\n\tname = c\n"
    )
    done = check(str(conf))
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines() == [
        f"{conf}:3: node a has the loopback address 127.0.0.1: no other server can reach it",
        f"{conf}:11: node b: number 0 is already another node's",
        f"{conf}:20: this node is in cluster 'gone', which has no cluster: stanza: o2cb ignores it",
        f"{conf}:23: node_count = 5 but cluster 'c' has 2 node stanza(s)",
        f"{conf}: 4 problem(s) (cluster.conf): 1 cluster(s), 2 node(s), 0 heartbeat region(s)",
    ]
    assert done.stderr == ""


def test_an_empty_file_is_a_problem(tmp_path: Path) -> None:
    conf = tmp_path / "cluster.conf"
    conf.write_text("")
    done = check(str(conf))
    assert done.returncode == 1
    assert done.stdout.splitlines()[0] == f"{conf}: the file defines nothing: o2cb has no cluster to start"


def test_what_o2cb_cannot_read_names_its_line(tmp_path: Path) -> None:
    conf = tmp_path / "cluster.conf"
    conf.write_text("cluster:\r\n\tnode_count = 0\r\n\tname = c\r\n")
    done = check(str(conf))
    assert done.returncode == 1
    assert done.stdout.splitlines()[0] == (
        f"{conf}:1: a carriage return (CRLF line ends) after 'cluster:' (o2cb cannot read the file)"
    )


def test_an_unreadable_file_is_exit_3_and_the_others_are_still_checked(tmp_path: Path) -> None:
    good = tmp_path / "cluster.conf"
    good.write_text("cluster:\n\tnode_count = 0\n\tname = c\n")
    binary = tmp_path / "bin-cluster.conf"
    binary.write_bytes(b"\xff\xfe\x00")
    done = check(str(tmp_path / "missing-cluster.conf"), str(binary), str(good))
    assert done.returncode == 3
    assert done.stderr.splitlines() == [
        f"{tmp_path / 'missing-cluster.conf'}: cannot read: No such file or directory",
        f"{binary}: cannot read: not UTF-8 text (byte 0)",
    ]
    assert done.stdout == f"{good}: OK (cluster.conf): 1 cluster(s), 0 node(s), 0 heartbeat region(s)\n"
    assert "Traceback" not in done.stderr


def test_usage_errors_are_exit_2(tmp_path: Path) -> None:
    unknown = check(str(tmp_path / "hostname"))
    assert unknown.returncode == 2 and "cannot tell the file's format from its name" in unknown.stderr
    assert check("--kind", "nonsense", "x").returncode == 2
    assert check().returncode == 2
    helped = check("--help")
    assert helped.returncode == 0 and "1 problems found" in helped.stdout


def test_repositories_and_fstab(tmp_path: Path) -> None:
    repos = tmp_path / "repositories"
    repos.write_text(
        f"# /etc/ovs/repositories\n{'A' * 32} nfs:/OVS C cluster root\r\nstray words\n"
        f"{'B' * 32} nfs:/OVS/ -\n"
    )
    done = check(str(repos))
    assert done.returncode == 1
    assert done.stdout.splitlines()[:2] == [
        f"{repos}:3: names no repository: no UUID (32 hex digits) and no source (host:/export or /dev/...)",
        f"{repos}:4: nfs:/OVS is named by an earlier line too",
    ]
    tab = tmp_path / "fstab"
    tab.write_text("server:/OVS /OVS nfs defaults 0 0\r\n/dev/sda1 /\n")
    done = check(str(tab))
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"{tab}:2: expected 6 fields (spec file vfstype mntops freq passno), got 2 (mount skips this line)",
        f"{tab}: 1 problem(s) (fstab): 1 mount(s), 1 under /OVS",
    ]
