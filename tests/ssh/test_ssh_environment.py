"""`--ovm-env ssh`: the feature suite's driver for an existing pool, on a real sshd on loopback.

The pool here is one "server", this machine reached over SSH: enough to show what the driver
adopts, what it refuses (every write, every Manager operation and fault, with the reason the
scenario is skipped for), how it maps scenario names, and that the options are checked before a
run starts. The whole suite on a lookalike pool is in tests/docker/test_validator.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.options import OptionError, OvmOptions, check_real_pool
from environments.base import EnvironmentBroken, EnvironmentLimitation, ReadOnlyViolation
from environments.model import PoolSpec, ServerSpec
from environments.ssh import driver as ssh_driver
from environments.ssh.driver import SSHDriver
from ovmref.release import Release
from tests.ssh.sshd_server import Sshd

# one sshd, reached as several servers: each spelling of 127.0.0.1 is its own inventory host
LOOPBACK_SPELLINGS = ("127.0.0.1", "127.1", "127.0.1")


def _known_hosts(tmp_path: Path, sshd: Sshd) -> Path:
    """The sshd's real host key under every spelling (checked strictly, as for any server)."""
    line = Path(sshd.known_hosts).read_text().split("\n", 1)[0]
    key = line.split(" ", 1)[1]
    path = tmp_path / "known_hosts"
    path.write_text("".join(f"[{h}]:{sshd.port} {key}\n" for h in LOOPBACK_SPELLINGS))
    path.chmod(0o600)
    return path


def _inventory(
    tmp_path: Path, sshd: Sshd, *, port: int | None = None, release: str = "2.2", servers: int = 1
) -> Path:
    path = tmp_path / "pool.yaml"
    path.write_text(
        "\n".join(
            [
                "pool: lab1",
                f'release: "{release}"',
                "storage: nfs",
                "cluster_root: nfs.example.com:/OVS",
                "ssh:",
                f"  user: {sshd.user}",
                f"  key_file: {sshd.key_file}",
                f"  known_hosts: {_known_hosts(tmp_path, sshd)}",
                f"  port: {port or sshd.port}",
                "  connect_timeout_s: 3",
                "  command_timeout_s: 5",
                "servers:",
                *[
                    f"  - {{name: ovs{n}, host: {host}, fqdn: ovs{n}.lab.example.org, ip: 127.0.0.1}}"
                    for n, host in enumerate(LOOPBACK_SPELLINGS[:servers], start=1)
                ],
                "",
            ]
        )
    )
    return path


def _spec(count: int = 1, storage: str = "nfs", ha: bool = True) -> PoolSpec:
    servers = tuple(ServerSpec(name=f"server{i}") for i in range(1, count + 1))
    return PoolSpec(storage=storage, servers=servers, ha_enabled=ha)  # type: ignore[arg-type]


@pytest.fixture
def adopted(tmp_path: Path, sshd: Sshd) -> Iterator[SSHDriver]:
    driver = SSHDriver(Release.R2_2, seed=1, inventory=_inventory(tmp_path, sshd))
    assert driver.build_pool(_spec()).ok
    yield driver
    driver.close()


def test_a_pool_of_the_scenario_shape_is_adopted_under_the_scenario_names(adopted: SSHDriver) -> None:
    spec = adopted.effective_spec(_spec())
    assert spec.cluster_root == "nfs.example.com:/OVS" and spec.name == "lab1"
    assert [s.name for s in spec.servers] == ["server1"]  # the scenario's names; the real ones below
    assert adopted.known_as("server1") == "ovs1.lab.example.org"
    state = adopted.observe()
    assert list(state.servers) == ["server1"] and state.servers["server1"].state == "running"
    hosts = adopted.read_file("server1", "/etc/hosts")
    assert hosts is not None and hosts == Path("/etc/hosts").read_text()
    import socket

    assert adopted.run("server1", ["hostname"]).stdout.strip() == socket.gethostname()
    adopt = [e for e in adopted.timeline() if e.kind == "adopt"]
    assert adopt and "server1 is ovs1.lab.example.org" in adopt[0].detail


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        (_spec(count=3), "needs a pool of 3 servers; lab1 has 1"),
        (_spec(storage="ocfs2-iscsi"), "needs OCFS2 over iSCSI shared storage; lab1 is on NFS"),
        (_spec(ha=False), "needs a pool without HA"),
    ],
)
def test_a_pool_of_another_shape_makes_the_scenario_not_applicable(
    tmp_path: Path, sshd: Sshd, spec: PoolSpec, why: str
) -> None:
    driver = SSHDriver(Release.R2_2, seed=1, inventory=_inventory(tmp_path, sshd))
    with pytest.raises(EnvironmentLimitation, match=why):
        driver.build_pool(spec)


def test_a_scenario_for_another_release_says_which_one_the_pool_runs(tmp_path: Path, sshd: Sshd) -> None:
    driver = SSHDriver(Release.R2_1, seed=1, inventory=_inventory(tmp_path, sshd))
    with pytest.raises(EnvironmentLimitation, match=r"lab1 runs Oracle VM 2.2; .* --release 2.2"):
        driver.build_pool(_spec())
    driver.close()


def test_every_change_is_refused_with_its_reason(adopted: SSHDriver, tmp_path: Path) -> None:
    victim = tmp_path / "untouched"
    with pytest.raises(ReadOnlyViolation, match="never changes a real server's files"):
        adopted.write_file("server1", str(victim), "x")
    with pytest.raises(ReadOnlyViolation, match="read-only mode refused touch"):
        adopted.run("server1", ["touch", str(victim)])
    assert not victim.exists()
    with pytest.raises(EnvironmentLimitation, match="Manager operations are not driven"):
        adopted.enable_pool_ha()
    with pytest.raises(EnvironmentLimitation, match="no power control"):
        adopted.inject("crash", ["server1"])
    with pytest.raises(EnvironmentLimitation, match="Manager's records"):
        adopted.require("roles")


def test_an_unreachable_server_is_named_and_reported_at_once_afterwards(tmp_path: Path, sshd: Sshd) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    inventory = _inventory(tmp_path, sshd, port=closed)
    ssh_driver._UNREACHABLE.pop(("127.0.0.1", closed), None)
    with pytest.raises(EnvironmentBroken, match=rf"ovs1 \(.*:{closed}\) is unreachable"):
        SSHDriver(Release.R2_2, seed=1, inventory=inventory).build_pool(_spec())
    assert ("127.0.0.1", closed) in ssh_driver._UNREACHABLE  # the next scenario does not wait again
    with pytest.raises(EnvironmentBroken, match="is unreachable"):
        SSHDriver(Release.R2_2, seed=1, inventory=inventory).build_pool(_spec())


def test_options_are_checked_before_a_run(tmp_path: Path, sshd: Sshd) -> None:
    inventory = _inventory(tmp_path, sshd)
    assert check_real_pool("ssh", inventory, None) == "lab1"
    assert check_real_pool("ssh", inventory, "lab1") == "lab1"
    with pytest.raises(OptionError, match="needs the pool's inventory"):
        check_real_pool("ssh", None, None)
    with pytest.raises(OptionError, match=r"names pool 'lab2', but .* describes pool 'lab1'"):
        check_real_pool("ssh", inventory, "lab2")
    with pytest.raises(OptionError, match="--ovm-inventory is for a real pool"):
        check_real_pool("sim", inventory, None)
    broken = tmp_path / "broken.yaml"
    broken.write_text(inventory.read_text().replace("ip: 127.0.0.1}", "ip: 127.0.0.1, password: x}"))
    with pytest.raises(OptionError, match=rf"{broken}:13: 'password' .* passwords are not stored"):
        check_real_pool("ssh", broken, None)


def test_destructive_scenarios_need_the_pool_named(tmp_path: Path) -> None:
    base = OvmOptions("ssh", (Release.R2_2,), 1, tmp_path, False, "r", inventory=tmp_path, pool_name="lab1")
    assert "--ovm-allow-destructive lab1" in base.not_allowed_reason(destructive=True)
    assert base.not_allowed_reason(destructive=False) == ""
    allowed = OvmOptions("ssh", (Release.R2_2,), 1, tmp_path, False, "r", "lab1", tmp_path, "lab1")
    assert allowed.not_allowed_reason(destructive=True) == ""
    sim = OvmOptions("sim", (Release.R2_2,), 1, tmp_path, False, "r")
    assert sim.not_allowed_reason(destructive=True) == ""


def test_the_cli_refuses_a_destructive_run_on_another_pool(
    tmp_path: Path, sshd: Sshd, capsys: pytest.CaptureFixture[str]
) -> None:
    inventory = _inventory(tmp_path, sshd)
    code = main(["run", "--env", "ssh", "--inventory", str(inventory), "--allow-destructive", "prod"])
    assert code == 2
    assert "names pool 'prod'" in capsys.readouterr().err


def test_scenarios_share_one_session_per_server_but_read_afresh(tmp_path: Path, sshd: Sshd) -> None:
    inventory = _inventory(tmp_path, sshd)
    first = SSHDriver(Release.R2_2, seed=1, inventory=inventory)
    first.build_pool(_spec())
    session, first_reads = first._hosts["ovs1"], first._fs["ovs1"]
    first.close()
    assert session.connected  # kept for the next scenario
    second = SSHDriver(Release.R2_2, seed=2, inventory=inventory)
    second.build_pool(_spec())
    assert second._hosts["ovs1"] is session
    assert second._fs["ovs1"] is not first_reads  # its own reads: nothing cached across scenarios
    session.close()  # lost (the server rebooted, say): the next scenario logs in again
    third = SSHDriver(Release.R2_2, seed=3, inventory=inventory)
    third.build_pool(_spec())
    assert third._hosts["ovs1"].connected


def test_a_larger_pool_is_adopted_whole_so_every_server_means_all_of_them(tmp_path: Path, sshd: Sshd) -> None:
    driver = SSHDriver(Release.R2_2, seed=1, inventory=_inventory(tmp_path, sshd, servers=3))
    assert driver.build_pool(_spec(count=2)).ok
    assert list(driver.observe().servers) == ["server1", "server2", "server3"]
    assert [driver.known_as(s) for s in ("server1", "server2", "server3")] == [
        f"ovs{n}.lab.example.org" for n in (1, 2, 3)
    ]
    assert [s.name for s in driver.effective_spec(_spec(count=2)).servers] == [
        "server1",
        "server2",
        "server3",
    ]
