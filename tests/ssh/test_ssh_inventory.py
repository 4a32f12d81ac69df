"""Inventory files: a good one is read whole; every mistake names FILE:LINE before anything connects."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from environments.ssh.inventory import InventoryError, load_inventory, parse_inventory
from ovmref.release import Release


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake home with a key and a known_hosts file (never read: only their paths are kept)."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text("not read\n")
    (home / ".ssh" / "known_hosts").write_text("not read\n")
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "ovs2_key").write_text("not read\n")
    monkeypatch.setenv("HOME", str(home))
    return tmp_path


GOOD = """\
pool: pool1
release: "2.2"
storage: nfs
cluster_root: nfs.example.com:/OVS
node_slots: 16
ssh:
  user: root
  key_file: ~/.ssh/id_ed25519
  known_hosts: ~/.ssh/known_hosts
  port: 22
  connect_timeout_s: 10
  command_timeout_s: 30
servers:
  - {name: ovs1, host: 192.0.2.11, fqdn: ovs1.example.com, ip: 192.0.2.11}
  - {name: ovs2, host: ovs2.example.com, user: admin, port: 2222, key_file: keys/ovs2_key,
     command_timeout_s: 2.5}
manager: {host: ovm-manager.example.com}
"""


def test_good_inventory(files: Path) -> None:
    path = files / "pool.yaml"
    path.write_text(GOOD)
    inv = load_inventory(path)
    home = files / "home" / ".ssh"
    assert (inv.pool, inv.release, inv.storage) == ("pool1", Release.R2_2, "nfs")
    assert (inv.cluster_root, inv.node_slots, inv.manager_host) == (
        "nfs.example.com:/OVS",
        16,
        "ovm-manager.example.com",
    )
    ovs1, ovs2 = inv.servers
    assert (ovs1.name, ovs1.host, ovs1.port, ovs1.user) == ("ovs1", "192.0.2.11", 22, "root")
    assert (ovs1.key_file, ovs1.known_hosts) == (str(home / "id_ed25519"), str(home / "known_hosts"))
    assert (ovs1.fqdn, ovs1.ip, ovs1.connect_timeout_s, ovs1.command_timeout_s) == (
        "ovs1.example.com",
        "192.0.2.11",
        10.0,
        30.0,
    )
    # per-server settings override the ssh block; a relative key path is the inventory's neighbour
    assert (ovs2.user, ovs2.port, ovs2.key_file) == ("admin", 2222, str(files / "keys" / "ovs2_key"))
    assert (ovs2.fqdn, ovs2.ip, ovs2.command_timeout_s, ovs2.known_hosts) == (
        None,
        None,
        2.5,
        str(home / "known_hosts"),
    )
    assert inv.server("ovs2") is ovs2
    assert ovs2.address == "admin@ovs2.example.com:2222"


def test_minimal_inventory_takes_defaults(files: Path) -> None:
    inv = parse_inventory(
        textwrap.dedent("""\
            pool: p
            storage: ocfs2-iscsi
            cluster_root: /dev/sdb1
            ssh: {known_hosts: ~/.ssh/known_hosts}
            servers: [{name: a, host: a.example.com}]
        """),
        str(files / "inv.yaml"),
    )
    (a,) = inv.servers
    assert (inv.release, inv.node_slots, inv.manager_host) == (None, None, None)
    assert (a.user, a.port, a.key_file, a.connect_timeout_s, a.command_timeout_s) == (
        "root",
        22,
        None,
        10,
        30,
    )


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match=r"nowhere\.yaml:1: cannot read the file"):
        load_inventory(tmp_path / "nowhere.yaml")


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


BAD = [
    # (what to replace in GOOD, replacement, text on the line the error names, message)
    ("  port: 22\n", "  password: hunter2\n", "password:", "passwords are not stored in inventories"),
    (
        "{name: ovs1,",
        "{name: ovs1, password: s3cret,",
        "name: ovs1",
        "put the key in an ssh-agent or key_file",
    ),
    ("  port: 22\n", "  key_passphrase: x\n", "key_passphrase", "passwords are not stored"),
    ("node_slots: 16\n", "node_slot: 16\n", "node_slot:", "unknown key 'node_slot'"),
    ("  user: root\n", "  user: root\n  proxy: x\n", "proxy:", "unknown key 'proxy' in ssh"),
    ("~/.ssh/id_ed25519", "~/.ssh/id_missing", "id_missing", "id_missing' does not exist"),
    ("~/.ssh/known_hosts", "~/.ssh/known_hosts_missing", "known_hosts_missing", "does not exist"),
    ("~/.ssh/id_ed25519", "~/.ssh", "key_file: ~/.ssh", "is not a file"),
    ("  known_hosts: ~/.ssh/known_hosts\n", "", "name: ovs1", "no known_hosts file"),
    ("port: 22\n", "port: 70000\n", "port: 70000", "port must be a whole number from 1 to 65535"),
    ("port: 2222", "port: ssh", "port: ssh", "port must be a whole number"),
    ("connect_timeout_s: 10", "connect_timeout_s: 0", "connect_timeout_s", "above 0"),
    ("storage: nfs", "storage: iscsi", "storage: iscsi", "storage must be one of"),
    ("cluster_root: nfs.example.com:/OVS", "cluster_root: /dev/sdb1", "cluster_root", "does not suit nfs"),
    ('release: "2.2"', 'release: "4.0"', "release", "unknown Oracle VM release"),
    ("pool: pool1\n", "", "release", "missing 'pool'"),
    ("{name: ovs2,", "{name: ovs1,", "name: ovs1, host: ovs2", "server 'ovs1' is listed twice"),
    ("host: ovs2.example.com, ", "", "name: ovs2", "needs a host"),
    ("host: 192.0.2.11", "host: 'bad host!'", "bad host", "neither an IP address nor a valid host name"),
    ("ip: 192.0.2.11}", "ip: 192.0.2.300}", "192.0.2.300", "is not an IP address"),
    ("fqdn: ovs1.example.com", "fqdn: ovs1", "fqdn: ovs1", "not a fully qualified"),
    ("name: ovs1,", "name: 'ovs 1',", "ovs 1", "not a valid short host name"),
    ("user: admin", "user: 'ad;min'", "ad;min", "not a valid user name"),
    ("node_slots: 16", "node_slots: 1", "name: ovs1", "2 servers but the cluster root has 1 node slots"),
    ("host: ovs2.example.com, user: admin, port: 2222", "host: 192.0.2.11", "name: ovs2", "same host"),
    ("keys/ovs2_key", "keys/ovs2_key.pub", "ovs2_key.pub", "ovs2_key.pub' does not exist"),
    ("manager: {host: ovm-manager.example.com}", "manager: {name: m}", "manager:", "unknown key 'name'"),
    ("manager:", "x: 1\nmanager:", "x: 1", "unknown key 'x'"),
    ("storage: nfs\n", "storage: nfs\nstorage:  nfs\n", "storage:  nfs", "given twice"),
    ("pool: pool1", "pool: [pool1", "release", "not valid YAML"),
]


@pytest.mark.parametrize(("old", "new", "on_line", "message"), BAD, ids=[b[3][:40] for b in BAD])
def test_each_mistake_names_file_and_line(
    files: Path, old: str, new: str, on_line: str, message: str
) -> None:
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    path = str(files / "pool.yaml")
    with pytest.raises(InventoryError) as caught:
        parse_inventory(text, path)
    line = _line_of(text, on_line)
    assert str(caught.value).startswith(f"{path}:{line}: "), str(caught.value)
    assert message in str(caught.value)
    assert caught.value.line == line
    assert "hunter2" not in str(caught.value) and "s3cret" not in str(caught.value)


def test_public_key_named_as_key_file(files: Path) -> None:
    (files / "keys" / "ovs2_key.pub").write_text("ssh-ed25519 AAAA\n")
    text = GOOD.replace("keys/ovs2_key", "keys/ovs2_key.pub")
    with pytest.raises(InventoryError, match=r"pool\.yaml:15: key_file .* is a public key"):
        parse_inventory(text, str(files / "pool.yaml"))


def test_empty_file(files: Path) -> None:
    with pytest.raises(InventoryError, match=r"^e\.yaml:1: the file is empty"):
        parse_inventory("", "e.yaml")
