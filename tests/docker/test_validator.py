"""Validate the validator: `ovm-conformance validate` over SSH on lookalike pools of containers.

A 2.2 pool installed and clustered the documented way, and a 3.x pool holding what a clustered
3.x server holds (ovmref.host.ovm3_profile: the pool file system image on the NFS share made by
mkfs.ocfs2, /OVS/Repositories/<uuid>, global-heartbeat cluster.conf, 61/60000, the 3.x
services), pass every prerequisite of their release. Then one thing at a time is broken on the
containers, the way an administrator might have left a real server, and exactly the rule that
should catch it fails (nothing else does). Everything goes over SSH with strict host keys,
read-only, through the inventory file an administrator would write. One pool runs at a time
(the fixture is per release, module-scoped: pytest tears one down before it starts the next).
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.docker.docker_support import needs_containers
from tests.realtime_lane import realtime_lane

REPO = Path(__file__).resolve().parents[2]
RELEASE = "2.2"
CLUSTER_ROOT = "example.com:/OVS"
POOL_FS_TARGET = "nfs.example.com:/poolfs"  # 3.x: the export holding the pool file system image
ROOTS = {"2.2": CLUSTER_ROOT, "3.x": POOL_FS_TARGET}


@pytest.fixture(scope="module")
def healthy_pool(
    request: pytest.FixtureRequest, image_tag: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Any, Any]]:
    """A healthy lookalike pool of the release the test names (indirect parameter; 2.2 if none)."""
    needs_containers()
    from environments.docker.pool import ContainerPool
    from environments.docker.provision import install_pool, install_pool_3x
    from ovmref.release import Release

    release = getattr(request, "param", RELEASE)
    pool = ContainerPool(3, release=Release.parse(release), image=image_tag)
    try:
        with realtime_lane(tmp_path_factory):  # containers start and are provisioned in the lane
            pool.start()
            if release == "3.x":
                installed: Any = install_pool_3x(pool, pool_fs_target=POOL_FS_TARGET)
            else:
                installed = install_pool(pool, cluster_root=CLUSTER_ROOT)
        yield pool, installed
    finally:
        pool.close()


def _inventory(pool: Any, tmp_path: Path, *, dns: bool = False) -> Path:
    lines = pool.inventory_lines(
        "lookalike", ROOTS[pool.release.value], connect_timeout_s=5, command_timeout_s=20
    )
    if dns:
        lines += ["dns:", *[f"  {s.fqdn}: {s.ip}" for s in pool.servers.values()]]
    path = tmp_path / "pool.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _validate(pool: Any, tmp_path: Path, *, dns: bool = False) -> tuple[int, dict[str, str]]:
    """Run the CLI as an administrator would; return its exit status and each rule's status."""
    from conformance.cli import main

    code = main(
        [
            "validate",
            "--inventory",
            str(_inventory(pool, tmp_path, dns=dns)),
            "--report-dir",
            str(tmp_path / "reports"),
            "--run-id",
            "v",
            "--force",  # validated again after each mistake is made
        ]
    )
    report = json.loads((tmp_path / "reports" / "v" / "conformance.json").read_text())
    return code, {rule["id"]: rule["status"] for rule in report["rules"]}


def _sh(pool: Any, server: str, script: str) -> None:
    result = pool.exec(server, ["sh", "-c", script])
    assert result.rc == 0, f"{server}: {script}: {result.stderr}"


# ---- the ways a server can be left, each undone afterwards ----------------------------------
def _hostname_on_loopback(pool: Any) -> Callable[[], None]:
    _sh(
        pool,
        "vmserver2",
        "cp /etc/hosts /root/hosts.bak && "
        "{ printf '127.0.0.1\\tvmserver2.example.com vmserver2\\n'; cat /root/hosts.bak; } > /etc/hosts",
    )
    return lambda: _sh(pool, "vmserver2", "cat /root/hosts.bak > /etc/hosts")


def _clusterconf_differs(pool: Any) -> Callable[[], None]:
    ip = pool.server("vmserver2").ip
    _sh(
        pool,
        "vmserver3",
        f"cp /etc/ocfs2/cluster.conf /root/cc.bak && sed -i 's/{ip}/192.0.2.201/' /etc/ocfs2/cluster.conf",
    )
    return lambda: _sh(pool, "vmserver3", "cp /root/cc.bak /etc/ocfs2/cluster.conf")


def _loopback_in_clusterconf(pool: Any) -> Callable[[], None]:
    ip = pool.server("vmserver2").ip
    for name in pool.servers:
        _sh(
            pool,
            name,
            f"cp /etc/ocfs2/cluster.conf /root/cc.bak && sed -i 's/{ip}/127.0.0.1/' /etc/ocfs2/cluster.conf",
        )

    def undo() -> None:
        for name in pool.servers:
            _sh(pool, name, "cp /root/cc.bak /etc/ocfs2/cluster.conf")

    return undo


def _hosts_here_dns_there(pool: Any) -> Callable[[], None]:
    _sh(
        pool,
        "vmserver2",
        "cp /etc/hosts /root/hosts.bak && cp /etc/nsswitch.conf /root/ns.bak && "
        "sed -i 's/^hosts:.*/hosts: dns/' /etc/nsswitch.conf && "
        "printf '127.0.0.1\\tlocalhost.localdomain localhost\\n' > /etc/hosts",
    )
    return lambda: _sh(
        pool, "vmserver2", "cat /root/hosts.bak > /etc/hosts && cp /root/ns.bak /etc/nsswitch.conf"
    )


def _old_release(pool: Any) -> Callable[[], None]:
    _sh(
        pool,
        "vmserver3",
        "cp /etc/ovs-release /root/rel.bak && echo 'Oracle VM server release 2.1.1' > /etc/ovs-release",
    )
    return lambda: _sh(pool, "vmserver3", "cp /root/rel.bak /etc/ovs-release")


def _local_ovs_mounted(pool: Any) -> Callable[[], None]:
    # the installer's local OCFS2 partition left mounted on /OVS (a tmpfs standing in for /dev/sda3)
    _sh(pool, "vmserver2", "mv /OVS /root/OVS.link && mkdir /OVS && mount -t tmpfs /dev/sda3 /OVS")
    return lambda: _sh(pool, "vmserver2", "umount /OVS && rmdir /OVS && mv /root/OVS.link /OVS")


def _repository_not_listed(pool: Any) -> Callable[[], None]:
    # a second NFS repository mounted by hand, missing from /etc/ovs/repositories
    where = "/var/ovs/mount/0123456789ABCDEF0123456789ABCDEF"
    _sh(pool, "vmserver1", f"mkdir -p {where} && mount -t tmpfs example.com:/OVS2 {where}")
    return lambda: _sh(pool, "vmserver1", f"umount {where} && rmdir {where}")


def _heartbeat_file_missing(pool: Any) -> Callable[[], None]:
    for name in pool.servers:  # one shared file on a real pool; each lookalike has its own tmpfs
        _sh(pool, name, "mv /OVS/.server_pool_hb /root/hb.bak")

    def undo() -> None:
        for name in pool.servers:
            _sh(pool, name, "mv /root/hb.bak /OVS/.server_pool_hb")

    return undo


def _repository_not_listed_on_every_server(pool: Any) -> Callable[[], None]:
    # a second NFS repository mounted by hand on every server, missing from /etc/ovs/repositories
    where = "/var/ovs/mount/0123456789ABCDEF0123456789ABCDEF"
    for name in pool.servers:
        _sh(pool, name, f"mkdir -p {where} && mount -t tmpfs example.com:/OVS2 {where}")

    def undo() -> None:
        for name in pool.servers:
            _sh(pool, name, f"umount {where} && rmdir {where}")

    return undo


# ---- 3.x ---------------------------------------------------------------------------------------
def _on(server: str, path: str, sed: str) -> Callable[[Any], Callable[[], None]]:
    """A break that edits one file on one server with sed, undone from a backup."""

    def breaking(pool: Any) -> Callable[[], None]:
        _sh(pool, server, f"cp {path} /root/edit.bak && sed -i {shlex.quote(sed)} {path}")
        return lambda: _sh(pool, server, f"cp /root/edit.bak {path}")

    return breaking


def _clusterconf_differs_3x(pool: Any) -> Callable[[], None]:
    ip = pool.server("vmserver2").ip
    return _on("vmserver3", "/etc/ocfs2/cluster.conf", f"s/{ip}/192.0.2.201/")(pool)


def _pool_fs_unmounted(pool: Any) -> Callable[[], None]:
    # the pool file system (the disk heartbeat of the cluster) unmounted on one server
    mounts = pool.exec("vmserver2", ["cat", "/proc/mounts"]).stdout
    where = next(line.split()[1] for line in mounts.splitlines() if line.startswith("/dev/loop0 "))
    _sh(pool, "vmserver2", f"umount {where}")
    return lambda: _sh(pool, "vmserver2", f"mount -t tmpfs -o size=100m /dev/loop0 {where}")


def _lock_gone(service: str) -> Callable[[Any], Callable[[], None]]:
    def breaking(pool: Any) -> Callable[[], None]:
        _sh(pool, "vmserver1", f"mv /var/lock/subsys/{service} /root/{service}.lock")
        return lambda: _sh(pool, "vmserver1", f"mv /root/{service}.lock /var/lock/subsys/{service}")

    breaking.__name__ = f"{service}_stopped"
    return breaking


def _boot_cluster_elsewhere(pool: Any) -> Callable[[], None]:
    return _on("vmserver3", "/etc/sysconfig/o2cb", "s/^O2CB_BOOTCLUSTER=.*/O2CB_BOOTCLUSTER=ocfs2/")(pool)


def _old_release_3x(pool: Any) -> Callable[[], None]:
    return _on("vmserver3", "/etc/ovs-release", "s/release .*/release 2.2.1/")(pool)


Break = tuple[str, Callable[[Any], Callable[[], None]], frozenset[str], bool]
BREAKS: list[Break] = [
    ("2.2", _hostname_on_loopback, frozenset({"PRE-HOSTNAME-NOT-LOOPBACK"}), False),
    ("2.2", _clusterconf_differs, frozenset({"PRE-CLUSTERCONF-IDENTICAL"}), False),
    ("2.2", _loopback_in_clusterconf, frozenset({"PRE-CLUSTERCONF-NO-LOOPBACK"}), False),
    ("2.2", _hosts_here_dns_there, frozenset({"PRE-NAME-RESOLUTION-CONSISTENT"}), True),
    ("2.2", _old_release, frozenset({"PRE-RELEASE-MIN"}), False),
    # in 2.2 a local /OVS mount also takes the place of the /OVS -> cluster root link: both rules hold
    ("2.2", _local_ovs_mounted, frozenset({"PRE-NO-LOCAL-OVS", "PRE-CLUSTER-ROOT-MOUNT"}), False),
    # on one server only, the storage also differs from the pool's
    ("2.2", _repository_not_listed, frozenset({"PRE-REPOSITORIES-FILE", "PRE-SAME-SHARED-STORAGE"}), False),
    ("2.2", _repository_not_listed_on_every_server, frozenset({"PRE-REPOSITORIES-FILE"}), False),
    ("2.2", _heartbeat_file_missing, frozenset({"PRE-NFS-HEARTBEAT-FILE"}), False),
    ("3.x", _clusterconf_differs_3x, frozenset({"PRE-CLUSTERCONF-IDENTICAL"}), False),
    ("3.x", _loopback_in_clusterconf, frozenset({"PRE-CLUSTERCONF-NO-LOOPBACK"}), False),
    ("3.x", _pool_fs_unmounted, frozenset({"PRE-CLUSTERED-POOL"}), False),
    ("3.x", _lock_gone("ovs-agent"), frozenset({"PRE-SERVICES-UP-3X"}), False),
    ("3.x", _lock_gone("o2cb"), frozenset({"PRE-SERVICES-UP-3X"}), False),
    ("3.x", _old_release_3x, frozenset({"PRE-RELEASE-MIN"}), False),
    ("3.x", _boot_cluster_elsewhere, frozenset({"PRE-CLUSTERED-POOL"}), False),
]


@pytest.mark.parametrize("healthy_pool", ["2.2", "3.x"], indirect=True)
def test_a_healthy_pool_passes_every_prerequisite(healthy_pool: tuple[Any, Any], tmp_path: Path) -> None:
    pool, _ = healthy_pool
    code, rules = _validate(pool, tmp_path)
    assert code == 0, rules
    from ovmref.prereq import RULES_BY_RELEASE

    assert set(rules) == set(RULES_BY_RELEASE[pool.release])
    report = json.loads((tmp_path / "reports" / "v" / "conformance.json").read_text())
    assert report["target"].startswith("lookalike (inventory ") and report["target"].endswith("read-only")
    assert rules and set(rules.values()) == {"passed"}, {r: s for r, s in rules.items() if s != "passed"}
    secret = "".join(Path(pool.key_path).read_text().splitlines()[1:-1])  # the private key's body
    for written in (tmp_path / "reports" / "v").iterdir():
        text = written.read_text()
        assert secret[:40] not in text and "PRIVATE KEY" not in text, f"key material in {written.name}"


@pytest.mark.parametrize(
    ("healthy_pool", "breaking", "rules", "dns"),
    BREAKS,
    ids=[f"{b[0]}-{b[1].__name__.strip('_')}" for b in BREAKS],
    indirect=["healthy_pool"],
)
def test_each_mistake_is_caught_by_exactly_its_rule(
    healthy_pool: tuple[Any, Any],
    tmp_path: Path,
    breaking: Callable[[Any], Callable[[], None]],
    rules: frozenset[str],
    dns: bool,
) -> None:
    pool, _ = healthy_pool
    undo = breaking(pool)
    try:
        code, statuses = _validate(pool, tmp_path, dns=dns)
    finally:
        undo()
    failed = {r for r, status in statuses.items() if status == "failed"}
    assert failed == rules, f"expected exactly {sorted(rules)} to fail, got {statuses}"
    assert code == 1


@pytest.mark.parametrize("healthy_pool", ["2.2"], indirect=True)
def test_an_unreachable_server_is_reported_and_the_others_are_checked(
    healthy_pool: tuple[Any, Any], tmp_path: Path
) -> None:
    pool, _ = healthy_pool
    pool.pause("vmserver3")  # answers nothing: the SSH connect times out
    try:
        code, rules = _validate(pool, tmp_path)
    finally:
        pool.unpause("vmserver3")
    assert code == 3  # incomplete: neither pass nor fail
    assert "unknown" in rules.values() and "failed" not in rules.values()
    report = json.loads((tmp_path / "reports" / "v" / "conformance.json").read_text())
    rows = [s for r in report["rules"] for s in r["scenarios"] if s["nodeid"].endswith("::vmserver3")]
    assert rows and all(s["status"] == "unknown" and "unreachable" in s["message"] for s in rows)
    others = [s for r in report["rules"] for s in r["scenarios"] if s["nodeid"].endswith("::vmserver1")]
    assert others and all(s["status"] == "passed" for s in others)


@pytest.mark.parametrize("healthy_pool", ["2.2", "3.x"], indirect=True)
def test_validation_changes_nothing_on_the_servers(healthy_pool: tuple[Any, Any], tmp_path: Path) -> None:
    pool, _ = healthy_pool
    listing = (
        "find /etc /var/lock /OVS/ /nfsmnt -xdev -type f -newer /etc/ovs-release -printf '%p %T@\\n' | sort"
    )

    def snapshot() -> dict[str, str]:
        return {name: pool.exec(name, ["sh", "-c", listing]).stdout for name in pool.servers}

    before = snapshot()
    _validate(pool, tmp_path)
    assert snapshot() == before
    _ = shlex  # quoting of every remote command is tested with hostile names in tests/ssh


# ---- the feature suite itself, read-only over SSH on the same pool (--env ssh) -----------------
# what a healthy 3-server NFS pool of 2.2 can show without changing anything: the scenarios that
# only observe files, commands and init scripts
OBSERVED_ON_A_REAL_POOL = {
    "Every server has the same NFS source as shared storage",
    "In 2.2 the cluster root is mounted under /var/ovs/mount on every server",
    "Servers of an HA pool have fully qualified host names off the loopback address",
    "An NFS cluster heartbeats through .server_pool_hb in the cluster root",
    "The cluster services run on every server of an HA pool",
    "The cluster on the pool's shared storage holds only the servers of this pool",
}


def _run_suite(pool: Any, tmp_path: Path, *options: str) -> tuple[int, list[dict[str, Any]], str]:
    """`ovm-conformance run --env ssh` as an administrator would; every scenario row of the pool's release."""
    release = pool.release.value
    inventory = _inventory(pool, tmp_path)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance",
            "run",
            "--env",
            "ssh",
            "--inventory",
            str(inventory),
            "--release",
            release,
            "-q",
            "--report-dir",
            str(tmp_path / "reports"),
            "--run-id",
            "s",
            "--force",  # a test may run the suite again on the pool it has just broken
            *options,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    report_path = tmp_path / "reports" / "s" / "conformance.json"
    assert report_path.is_file(), done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(report_path.read_text())
    rows = {
        s["nodeid"]: s
        for r in report["rules"]
        for s in r["scenarios"]
        if s["nodeid"].endswith(f"[{release}]")
    }
    return done.returncode, list(rows.values()), done.stdout + done.stderr


def _names(rows: list[dict[str, Any]], status: str) -> set[str]:
    return {s["name"] for s in rows if s["status"] == status}


@pytest.mark.parametrize("healthy_pool", ["2.2"], indirect=True)
def test_the_feature_suite_observes_a_real_pool_read_only(
    healthy_pool: tuple[Any, Any], tmp_path: Path
) -> None:
    pool, _ = healthy_pool
    listing = "find /etc /var/lock /OVS/ -xdev -type f -newer /etc/ovs-release -printf '%p %T@\\n' | sort"
    before = {name: pool.exec(name, ["sh", "-c", listing]).stdout for name in pool.servers}
    code, rows, output = _run_suite(pool, tmp_path)
    assert code == 0, output[-3000:]
    assert _names(rows, "passed") == OBSERVED_ON_A_REAL_POOL
    assert not _names(rows, "failed") | _names(rows, "environment-error")
    destructive = [s for s in rows if "--ovm-allow-destructive lookalike" in s["message"]]
    assert len(destructive) > 20 and all(s["status"] == "not-run" for s in destructive)
    assert {name: pool.exec(name, ["sh", "-c", listing]).stdout for name in pool.servers} == before
    report = json.loads((tmp_path / "reports" / "s" / "conformance.json").read_text())
    assert report["environment"] == "ssh" and report["target"].startswith("lookalike (inventory ")
    assert report["target"].endswith("), read-only")
    secret = "".join(Path(pool.key_path).read_text().splitlines()[1:-1])
    for written in (tmp_path / "reports" / "s").iterdir():
        assert secret[:40] not in written.read_text(), f"key material in {written.name}"


# what a healthy clustered 3.x pool shows the suite without a Manager: its services
OBSERVED_ON_A_REAL_3X_POOL = {
    "o2cb and the Oracle VM Agent run on every server of a clustered Oracle VM 3 pool",
    "Every server of a clustered Oracle VM 3 pool heartbeats on the server pool file system",
}


@pytest.mark.parametrize("healthy_pool", ["3.x"], indirect=True)
def test_the_feature_suite_observes_a_real_3x_pool_read_only(
    healthy_pool: tuple[Any, Any], tmp_path: Path
) -> None:
    """The ssh environment on a 3.x pool reads it as 3.x: the 3.x observations pass, nothing fails,
    and a stopped agent or an unmounted pool file system fails exactly its scenario."""
    pool, _ = healthy_pool
    code, rows, output = _run_suite(pool, tmp_path)
    assert code == 0, output[-3000:]
    assert _names(rows, "passed") == OBSERVED_ON_A_REAL_3X_POOL, output[-3000:]
    assert not _names(rows, "failed") | _names(rows, "environment-error")
    services, heartbeat = sorted(OBSERVED_ON_A_REAL_3X_POOL, key=lambda n: not n.startswith("o2cb"))
    for breaking, scenario in ((_lock_gone("ovs-agent"), services), (_pool_fs_unmounted, heartbeat)):
        undo = breaking(pool)
        try:
            code, rows, output = _run_suite(pool, tmp_path)
        finally:
            undo()
        assert code == 1, output[-3000:]
        assert _names(rows, "failed") == {scenario}, output[-3000:]


def _short_name_on_loopback(pool: Any) -> Callable[[], None]:
    # only the short name: a check that knew the scenario's name (server2), not the real one, missed it
    _sh(
        pool,
        "vmserver2",
        "cp /etc/hosts /root/hosts.bak && "
        "{ printf '127.0.0.1\\tvmserver2\\n'; cat /root/hosts.bak; } > /etc/hosts",
    )
    return lambda: _sh(pool, "vmserver2", "cat /root/hosts.bak > /etc/hosts")


def _agent_stopped(pool: Any) -> Callable[[], None]:
    _sh(pool, "vmserver1", "mv /var/lock/subsys/ovs-agent /root/ovs-agent.lock")
    return lambda: _sh(pool, "vmserver1", "mv /root/ovs-agent.lock /var/lock/subsys/ovs-agent")


FQDN_SCENARIO = "Servers of an HA pool have fully qualified host names off the loopback address"
HEARTBEAT_SCENARIO = "An NFS cluster heartbeats through .server_pool_hb in the cluster root"
CLUSTER_ROOT_SCENARIO = "In 2.2 the cluster root is mounted under /var/ovs/mount on every server"
# break -> the scenario whose failure message is checked, the words it must hold, and any other
# scenario the same break also fails by right (as the validator's table says of its rules)
SUITE_BREAKS: list[tuple[Callable[[Any], Callable[[], None]], str, str, frozenset[str]]] = [
    (_hostname_on_loopback, FQDN_SCENARIO, "maps its host name to 127.0.0.1", frozenset()),
    (_short_name_on_loopback, FQDN_SCENARIO, "maps its host name to 127.0.0.1", frozenset()),
    (
        _loopback_in_clusterconf,
        "The cluster on the pool's shared storage holds only the servers of this pool",
        "is on loopback",
        frozenset(),
    ),
    # in 2.2 a local /OVS mount also takes the place of the /OVS -> cluster root link
    (
        _local_ovs_mounted,
        HEARTBEAT_SCENARIO,
        "/OVS/.server_pool_hb is missing on server",
        frozenset({CLUSTER_ROOT_SCENARIO}),
    ),
    (_heartbeat_file_missing, HEARTBEAT_SCENARIO, "/OVS/.server_pool_hb is missing on server", frozenset()),
    (
        _agent_stopped,
        "The cluster services run on every server of an HA pool",
        "ovs-agent is not running",
        frozenset(),
    ),
]


@pytest.mark.parametrize("healthy_pool", ["2.2"], indirect=True)
@pytest.mark.parametrize(
    ("breaking", "scenario", "why", "also"),
    SUITE_BREAKS,
    ids=[b[0].__name__.strip("_") for b in SUITE_BREAKS],
)
def test_a_real_pool_breaking_a_rule_fails_exactly_its_scenario(
    healthy_pool: tuple[Any, Any],
    tmp_path: Path,
    breaking: Callable[[Any], Callable[[], None]],
    scenario: str,
    why: str,
    also: frozenset[str],
) -> None:
    pool, _ = healthy_pool
    undo = breaking(pool)
    try:
        code, rows, output = _run_suite(pool, tmp_path)
    finally:
        undo()
    assert code == 1, output[-3000:]
    assert _names(rows, "failed") == {scenario} | also
    assert _names(rows, "passed") == OBSERVED_ON_A_REAL_POOL - {scenario} - also
    failed = next(s for s in rows if s["status"] == "failed" and s["name"] == scenario)
    assert why in failed["message"], failed["message"]


@pytest.mark.parametrize("healthy_pool", ["2.2"], indirect=True)
def test_destructive_scenarios_start_only_on_the_pool_named(
    healthy_pool: tuple[Any, Any], tmp_path: Path
) -> None:
    pool, _ = healthy_pool
    code, rows, output = _run_suite(pool, tmp_path, "--allow-destructive", "lookalike")
    assert code == 0, output[-3000:]
    report = json.loads((tmp_path / "reports" / "s" / "conformance.json").read_text())
    assert report["target"].endswith("destructive scenarios allowed (--ovm-allow-destructive lookalike)")
    assert not [s for s in rows if "--ovm-allow-destructive" in s["message"]]
    powered = [s for s in rows if "no power control" in s["message"]]  # started, then refused: no switch
    assert powered and all(s["status"] == "not-run" for s in powered)
    assert not _names(rows, "failed") | _names(rows, "environment-error")


@pytest.mark.parametrize("healthy_pool", ["2.2"], indirect=True)
def test_an_unreachable_server_errors_the_scenarios_that_need_it_and_the_run_goes_on(
    healthy_pool: tuple[Any, Any], tmp_path: Path
) -> None:
    pool, _ = healthy_pool
    pool.pause("vmserver3")  # answers nothing: the SSH connect times out (once: later scenarios know)
    try:
        code, rows, output = _run_suite(pool, tmp_path)
    finally:
        pool.unpause("vmserver3")
    assert code != 0, output[-3000:]
    errored = [s for s in rows if s["status"] == "environment-error"]
    assert {s["name"] for s in errored} >= OBSERVED_ON_A_REAL_POOL  # and every other adopting one
    assert all("vmserver3" in s["message"] and "unreachable" in s["message"] for s in errored), errored[0]
    assert not _names(rows, "passed") | _names(rows, "failed")
    assert [s for s in rows if s["status"] == "not-run"]  # the rest still ran to their own verdicts
