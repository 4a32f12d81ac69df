"""The inventory's `manager:` section: where the password is (an environment variable or a file),
never the password; every mistake names FILE:LINE."""

from __future__ import annotations

from pathlib import Path

import pytest

from environments.ssh.inventory import MANAGER_PORT, InventoryError, ManagerEntry, parse_inventory

BASE = """\
pool: pool1
storage: nfs
cluster_root: nfs.example.com:/OVS
ssh: {known_hosts: known_hosts}
servers:
  - {name: ovs1, host: 192.0.2.11}
"""


@pytest.fixture
def where(tmp_path: Path) -> Path:
    (tmp_path / "known_hosts").write_text("not read\n")
    (tmp_path / "ca.pem").write_text("not read\n")
    (tmp_path / "pw").write_text("not read\n")
    return tmp_path / "pool.yaml"


def _parse(where: Path, manager: str) -> ManagerEntry | None:
    return parse_inventory(BASE + manager, str(where)).manager


def test_host_only_is_a_manager_without_credentials(where: Path) -> None:
    entry = _parse(where, "manager: {host: ovmm.example.com}\n")
    assert entry == ManagerEntry("ovmm.example.com", MANAGER_PORT) and not entry.has_credentials
    assert MANAGER_PORT == 7002


def test_a_full_manager_section(where: Path) -> None:
    inv = parse_inventory(
        BASE + "manager:\n  host: 192.0.2.5\n  port: 7003\n  user: admin\n  password_env: OVM_PW\n"
        "  ca_file: ca.pem\n",
        str(where),
    )
    assert inv.manager_host == "192.0.2.5"
    assert inv.manager == ManagerEntry(
        "192.0.2.5", 7003, "admin", "OVM_PW", None, str(where.parent / "ca.pem")
    )
    assert inv.manager.has_credentials
    entry = _parse(where, "manager: {host: m.example.com, user: admin, password_file: pw}\n")
    assert entry is not None and entry.password_file == str(where.parent / "pw")


BAD = [
    (
        "manager:\n  host: m.example.com\n  user: admin\n  password: hunter2\n",
        "password: hunter2",
        "'password' in manager: name an environment variable (password_env)",
    ),
    (
        "manager:\n  host: m.example.com\n  user: admin\n  password_env: 'hunter2!'\n",
        "password_env",
        "must name an environment variable",
    ),
    (
        "manager:\n  host: m.example.com\n  user: admin\n  password_env: X\n  password_file: pw\n",
        "password_file",
        "not both",
    ),
    ("manager:\n  host: m.example.com\n  user: admin\n", "host: m.example.com", "needs password_env"),
    ("manager:\n  host: m.example.com\n  password_env: X\n", "host: m.example.com", "needs a user"),
    ("manager:\n  host: m.example.com\n  port: 0\n", "port: 0", "manager port must be"),
    ("manager:\n  host: m.example.com\n  ca_file: nope.pem\n", "ca_file", "does not exist"),
    ("manager:\n  host: m.example.com\n  verify: false\n", "verify", "unknown key 'verify'"),
]


@pytest.mark.parametrize(("manager", "on_line", "message"), BAD, ids=[b[2] for b in BAD])
def test_each_mistake_names_file_and_line_and_never_the_password(
    where: Path, manager: str, on_line: str, message: str
) -> None:
    text = BASE + manager
    with pytest.raises(InventoryError) as caught:
        parse_inventory(text, str(where))
    line = next(i for i, t in enumerate(text.splitlines(), 1) if on_line in t)
    assert str(caught.value).startswith(f"{where}:{line}: "), str(caught.value)
    assert message in str(caught.value)
    assert "hunter2" not in str(caught.value)
