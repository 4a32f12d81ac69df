"""`simulate --inventory` joins the Manager's facts as `validate --readiness` does (the same
`environments.manager.join.join_manager`): a guest whose HA flag only the Manager gives is restarted,
or not, as the Manager says; a refusing or unreachable Manager is one line naming it, its facts stay
unknown and the faults are still played on the SSH read-out; the password is in no output.

The in-process tests replace the SSH read-out only (the loopback sshd has no `xm`, so its server
has no memory to play a fault on): the Manager is the lookalike, asked over TLS with the password
from the environment, as in tests/manager/test_manager_cli.py. The last test runs the command end to
end against the loopback sshd and the lookalike."""

from __future__ import annotations

import socket
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from conformance.cli import main
from environments.ssh.guest_readout import HA_UNKNOWN_3X, POOL_HA_UNKNOWN, PREFERRED_UNKNOWN
from environments.ssh.inventory import Inventory
from ovmref.readiness.readout import GuestReadout, PoolReadout, ServerReadout
from ovmref.release import Release
from tests.manager.lookalike import (
    PASSWORD,
    PASSWORD_ENV,
    USER,
    Lookalike,
    loopback_inventory,
    pool,
    server,
    serving,
    vm,
)
from tests.reports.sandbox_project import child_env
from tests.ssh.sshd_server import Sshd

PW_ENV = PASSWORD_ENV


def _ssh_readout(inventory: Inventory, log: object = print) -> PoolReadout:
    """What the servers say on their own: web1 on vmserver1, its vm.cfg not found, no `ha:`."""
    return PoolReadout(
        inventory.pool,
        Release.R3,
        None,
        POOL_HA_UNKNOWN,
        (ServerReadout("vmserver1", True, 2048, 4096), ServerReadout("vmserver2", True, 4096, 4096)),
        (GuestReadout("web1", "vmserver1", 1024, 1, None, HA_UNKNOWN_3X, None, PREFERRED_UNKNOWN),),
    )


def _inventory(tmp_path: Path, host: str, port: int, ca_file: str) -> Path:
    (tmp_path / "known_hosts").write_text("")
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(
        "pool: pool1\nstorage: nfs\ncluster_root: nfs.example.com:/OVS\nrelease: '3.x'\n"
        "ssh: {known_hosts: known_hosts}\n"
        "servers:\n  - {name: vmserver1, host: 192.0.2.11}\n  - {name: vmserver2, host: 192.0.2.12}\n"
        f"manager:\n  host: {host}\n  port: {port}\n  user: {USER}\n"
        f"  password_env: {PW_ENV}\n  ca_file: {ca_file}\n"
    )
    return inventory


def _simulate(
    inventory: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    monkeypatch.setenv(PW_ENV, PASSWORD)
    monkeypatch.setattr("environments.ssh.guest_readout.read_inventory", _ssh_readout)
    code = main(["simulate", "--inventory", str(inventory), "crash:vmserver1"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert PASSWORD not in out + err
    return code, out, err


def _said(out: str, guest: str) -> str:
    lines = [line.strip() for line in out.splitlines() if line.strip().startswith(f"{guest!r}:")]
    assert len(lines) == 1, out
    return lines[0]


def _after(out: str, guest: str) -> list[str]:
    rows = [line.split() for line in out.splitlines() if line.startswith(f"{guest!r} ")]
    assert len(rows) == 1, out
    return rows[0][1:]


@pytest.mark.parametrize(
    ("ha", "said", "after"),
    [
        (True, "'web1': restarted on vmserver2", ["vmserver1", "vmserver2"]),
        (False, "'web1': not restarted (HA off on the pool or the guest)", ["vmserver1", "not", "running"]),
    ],
)
def test_the_managers_ha_flag_decides_what_simulate_prints(
    ha: bool,
    said: str,
    after: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    objects = {
        "Server": [server("vmserver1"), server("vmserver2")],
        "ServerPool": [pool("pool1", True, "vmserver1")],
        "Vm": [vm("web1", "vmserver1", ha, vm_id_value="web1")],  # xm lists a guest by its Vm id
    }
    with serving(tmp_path, objects) as look:
        inventory = _inventory(tmp_path, look.host, look.port, look.ca_file)
        code, out, _err = _simulate(inventory, monkeypatch, capsys)
        assert [m for m, _, _ in look.seen] == ["GET", "GET", "GET"]
    assert code == 0, out
    assert "Oracle VM Manager 127.0.0.1:" in out and "(GET only)" in out
    assert "pool HA: on (Oracle VM Manager 127.0.0.1: ServerPool.clusterId)" in out.splitlines()
    assert _said(out, "web1") == said
    assert _after(out, "web1") == after
    assert not [line for line in out.splitlines() if line.startswith("manager: ")], out


def test_the_manager_wins_over_vm_cfg_and_the_inventory_in_simulate(
    tmp_path: Path, manager: Lookalike, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The servers and the inventory say HA off (ha.pool false, web1's vm.cfg False); the Manager
    says the pool is clustered and web1 has HA: web1 is restarted."""

    def said_off(inventory: Inventory, log: object = print) -> PoolReadout:
        on_ssh = _ssh_readout(inventory)
        web1 = replace(
            on_ssh.guests[0], ha=False, ha_source="vm.cfg /OVS/Repositories/r/VirtualMachines/web1/vm.cfg"
        )
        return replace(on_ssh, pool_ha=False, pool_ha_source="inventory", guests=(web1,))

    inventory = _inventory(tmp_path, manager.host, manager.port, manager.ca_file)
    monkeypatch.setattr("environments.ssh.guest_readout.read_inventory", said_off)
    monkeypatch.setenv(PW_ENV, PASSWORD)
    assert main(["simulate", "--inventory", str(inventory), "crash:vmserver1"]) == 0
    out = capsys.readouterr().out
    assert PASSWORD not in out
    assert "pool HA: on (Oracle VM Manager 127.0.0.1: ServerPool.clusterId)" in out.splitlines()
    assert _said(out, "web1") == "'web1': restarted on vmserver2"


def test_a_refusing_manager_is_one_line_and_the_faults_still_play(
    tmp_path: Path, manager: Lookalike, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    manager.status = 503
    inventory = _inventory(tmp_path, manager.host, manager.port, manager.ca_file)
    code, out, err = _simulate(inventory, monkeypatch, capsys)
    assert code == 0, out + err
    lines = [line for line in out.splitlines() if line.startswith("manager: ")]
    assert lines == ["manager: Oracle VM Manager 127.0.0.1: GET Server answered HTTP 503"], out
    # the facts stay unknown: the SSH read-out's, as without a Manager
    assert f"pool HA: {POOL_HA_UNKNOWN}" in out.splitlines()
    assert _said(out, "web1") == "'web1': unknown (its HA, or the pool's, is not known)"
    assert "read-only: nothing was done to the real pool" in out


def test_an_unreachable_manager_is_one_line_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    (tmp_path / "ca.pem").write_text("")
    inventory = _inventory(tmp_path, "127.0.0.1", port, str(tmp_path / "ca.pem"))
    code, out, err = _simulate(inventory, monkeypatch, capsys)
    assert code == 0, out + err
    lines = [line for line in out.splitlines() if line.startswith("manager: ")]
    assert len(lines) == 1 and lines[0].startswith("manager: Oracle VM Manager 127.0.0.1"), out
    assert _said(out, "web1") == "'web1': unknown (its HA, or the pool's, is not known)"


def test_simulate_end_to_end_reads_the_manager_and_never_shows_its_password(
    tmp_path: Path, sshd: Sshd, manager: Lookalike
) -> None:
    pytest.importorskip("paramiko", reason="simulate --inventory needs the ssh extra (paramiko)")
    inventory = loopback_inventory(tmp_path / "inventory.yaml", sshd, manager)
    env = child_env()
    env[PW_ENV] = PASSWORD
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "simulate", "--inventory", str(inventory), "crash:vmserver1"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False, timeout=240,
    )  # fmt: skip
    both = done.stdout + done.stderr
    assert "Traceback" not in both and PASSWORD not in both
    assert [m for m, _, _ in manager.seen] == ["GET", "GET", "GET"], both
    assert "pool HA: on (Oracle VM Manager 127.0.0.1: ServerPool.clusterId)" in done.stdout, both
    # this machine has no /usr/sbin/xm: the loopback server's memory is unknown, so the crash is refused
    assert done.returncode == 2 and "vmserver1 is already out of the pool" in done.stderr, both
