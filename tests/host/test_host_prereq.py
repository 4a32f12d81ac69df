"""HA prerequisites: all pass on a pool built the documented way; each break fails exactly its rules."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ovmref.host.installed_pool import InstalledPool, example_servers
from ovmref.host.procedure import ha_setup_commands
from ovmref.hostfs import HostFS, MemoryHostFS, ReadOnlyHostFS
from ovmref.prereq import CHECKS, RULES_BY_RELEASE, Finding, PoolFacts, check_pool, failed_rules, rules_for
from ovmref.release import Release
from ovmref.storage.shared import SharedVolume

CONFIGURE = "/usr/lib/ovs/ovs-cluster-configure"


def healthy(
    release: Release = Release.R2_1, kind: str = "nfs", count: int = 3, name_service: str = "files"
) -> InstalledPool:
    local_ovs = release is not Release.R3
    servers = example_servers(count)
    pool = InstalledPool(release, servers, storage_kind=kind, local_ovs=local_ovs, name_service=name_service)
    pool.setup_ha()
    return pool


def verdict(
    pool: InstalledPool, hosts: dict[str, HostFS] | None = None, facts: PoolFacts | None = None
) -> list[Finding]:
    return check_pool(hosts or dict(pool.hosts), pool.release, facts or pool.facts())


@pytest.mark.parametrize("release", list(Release), ids=str)
@pytest.mark.parametrize("kind", ["nfs", "ocfs2-iscsi"])
@pytest.mark.parametrize("names", ["files", "dns"])
def test_a_pool_built_the_documented_way_passes_every_rule(release: Release, kind: str, names: str) -> None:
    pool = healthy(release, kind, name_service=names)
    findings = verdict(pool)
    assert [f for f in findings if f.status != "passed"] == []
    assert {f.rule for f in findings} == set(rules_for(release, kind))
    per_server = [f for f in findings if f.server is not None]
    assert {f.server for f in per_server} == set(pool.hosts)


def test_rules_by_release_follow_the_documents() -> None:
    assert "PRE-NO-LOCAL-OCFS2-ROOT" in RULES_BY_RELEASE[Release.R2_2]
    assert "PRE-NO-LOCAL-OCFS2-ROOT" not in RULES_BY_RELEASE[Release.R2_1]
    assert {"PRE-MULTI-SERVER", "PRE-CLUSTERED-POOL"} <= set(RULES_BY_RELEASE[Release.R3])
    assert "PRE-NFS-HEARTBEAT-FILE" not in rules_for(Release.R2_1, "ocfs2-san")
    assert set(CHECKS) == {r for rules in RULES_BY_RELEASE.values() for r in rules}


def _edit(fs: HostFS, path: str, change: Callable[[str], str]) -> None:
    fs.write_text(path, change(fs.read_text(path) or ""))


def hostname_on_loopback(pool: InstalledPool) -> None:
    _edit(pool.hosts["vmserver2"], "/etc/hosts", lambda t: "127.0.0.1\tvmserver2.example.com vmserver2\n" + t)


def clusterconf_differs(pool: InstalledPool) -> None:
    _edit(
        pool.hosts["vmserver3"],
        "/etc/ocfs2/cluster.conf",
        lambda t: t.replace("192.168.100.101", "192.168.100.201"),
    )


def loopback_in_clusterconf(pool: InstalledPool) -> None:
    for fs in pool.hosts.values():
        _edit(fs, "/etc/ocfs2/cluster.conf", lambda t: t.replace("192.168.100.101", "127.0.0.1"))


def old_release(pool: InstalledPool) -> None:
    pool.hosts["vmserver3"].write_text("/etc/ovs-release", "Oracle VM server release 2.1.1\n")


def heartbeat_file_missing(pool: InstalledPool) -> None:
    pool.root_volume.tree.remove("/.server_pool_hb")


def pool_fs_unmounted(pool: InstalledPool) -> None:
    """3.x: the pool file system (the disk heartbeat) unmounted on one server."""
    fs = pool.hosts["vmserver2"]
    where = next(
        line.split()[1]
        for line in (fs.read_text("/proc/mounts") or "").splitlines()
        if line.split()[0] == pool.cluster_root
    )
    assert pool.run("vmserver2", ["umount", where]).rc == 0


def boot_cluster_elsewhere(pool: InstalledPool) -> None:
    _edit(
        pool.hosts["vmserver3"],
        "/etc/sysconfig/o2cb",
        lambda t: t.replace(f"O2CB_BOOTCLUSTER={pool.cluster_name}", "O2CB_BOOTCLUSTER=ocfs2"),
    )


def short_hostname(pool: InstalledPool) -> None:
    _edit(
        pool.hosts["vmserver2"],
        "/etc/sysconfig/network",
        lambda t: t.replace("vmserver2.example.com", "vmserver2"),
    )


def agent_stopped(pool: InstalledPool) -> None:
    assert pool.run("vmserver3", ["service", "ovs-agent", "stop"]).rc == 0


def ovs_not_linked(pool: InstalledPool) -> None:
    fs = pool.hosts["vmserver2"]
    fs.remove("/OVS")
    fs.mkdir("/OVS")


def fstab_line_left(pool: InstalledPool) -> None:
    _edit(pool.hosts["vmserver1"], "/etc/fstab", lambda t: t + "example.com:/OVS /OVS nfs rw 0 0\n")


BREAKS = [
    (Release.R2_1, hostname_on_loopback, {"PRE-HOSTNAME-NOT-LOOPBACK"}),
    (Release.R2_1, clusterconf_differs, {"PRE-CLUSTERCONF-IDENTICAL"}),
    (Release.R2_2, loopback_in_clusterconf, {"PRE-CLUSTERCONF-NO-LOOPBACK"}),
    (Release.R2_1, old_release, {"PRE-RELEASE-MIN"}),
    (Release.R2_2, heartbeat_file_missing, {"PRE-NFS-HEARTBEAT-FILE"}),
    (Release.R3, pool_fs_unmounted, {"PRE-CLUSTERED-POOL"}),
    (Release.R3, clusterconf_differs, {"PRE-CLUSTERCONF-IDENTICAL"}),
    (Release.R3, loopback_in_clusterconf, {"PRE-CLUSTERCONF-NO-LOOPBACK"}),
    (Release.R3, old_release, {"PRE-RELEASE-MIN"}),
    (Release.R3, agent_stopped, {"PRE-SERVICES-UP-3X"}),
    (Release.R3, boot_cluster_elsewhere, {"PRE-CLUSTERED-POOL"}),
    # what only the 2.x documents state is not applied to 3.x
    (Release.R3, hostname_on_loopback, set()),
    (Release.R3, heartbeat_file_missing, set()),
    (Release.R2_1, short_hostname, {"PRE-FQDN"}),
    (Release.R2_2, agent_stopped, {"PRE-SERVICES-UP"}),
    (Release.R2_2, ovs_not_linked, {"PRE-CLUSTER-ROOT-MOUNT"}),
    (Release.R2_1, fstab_line_left, {"PRE-REPOSITORIES-FILE"}),
]


@pytest.mark.parametrize(
    ("release", "breaking", "expected"), BREAKS, ids=[f"{r}-{b.__name__}" for r, b, _ in BREAKS]
)
def test_one_break_fails_exactly_its_rule(
    release: Release, breaking: Callable[[InstalledPool], None], expected: set[str]
) -> None:
    pool = healthy(release)
    breaking(pool)
    assert failed_rules(verdict(pool)) == expected


def test_the_failing_finding_names_the_server_and_the_cause() -> None:
    pool = healthy()
    hostname_on_loopback(pool)
    [bad] = [f for f in verdict(pool) if f.status == "failed"]
    assert bad.server == "vmserver2"
    assert bad.message == "vmserver2.example.com is mapped to a loopback address (/etc/hosts:1)"
    clusterconf_differs(pool)
    [differs] = [f for f in verdict(pool) if f.rule == "PRE-CLUSTERCONF-IDENTICAL" and f.status == "failed"]
    assert differs.server == "vmserver3" and "192.168.100.201" in differs.message


def test_hostname_on_loopback_during_setup_puts_loopback_in_every_cluster_conf() -> None:
    """The white paper's warning, end to end: the master resolves itself to 127.0.0.1 and propagates it."""
    pool = InstalledPool(Release.R2_1, example_servers(3))
    _edit(pool.hosts["vmserver1"], "/etc/hosts", lambda t: "127.0.0.1\tvmserver1.example.com vmserver1\n" + t)
    pool.setup_ha(keep_going=True)
    failed = failed_rules(verdict(pool))
    assert {"PRE-HOSTNAME-NOT-LOOPBACK", "PRE-CLUSTERCONF-NO-LOOPBACK"} <= failed
    loopback = [f for f in verdict(pool) if f.rule == "PRE-CLUSTERCONF-NO-LOOPBACK"]
    assert all(f.status == "failed" for f in loopback) and len(loopback) == 3


def test_hosts_file_on_one_server_and_dns_on_the_others() -> None:
    pool = healthy(name_service="dns")
    peers = "".join(f"{s.ip}\t{s.fqdn} {s.name}\n" for s in pool.servers.values() if s.name != "vmserver2")
    _edit(pool.hosts["vmserver2"], "/etc/hosts", lambda t: t + peers)
    findings = verdict(pool)
    assert failed_rules(findings) == {"PRE-NAME-RESOLUTION-CONSISTENT"}
    [bad] = [f for f in findings if f.status == "failed"]
    assert (bad.server, bad.message) == ("vmserver2", "resolves by files, the pool by dns")


def test_local_ovs_still_mounted_when_its_umount_was_forgotten() -> None:
    """In 2.1 the cluster root goes on /OVS, so a local /OVS left mounted also keeps the root off that
    server (no shared storage at all there; its heartbeat file cannot be looked at) and stops `service
    ocfs2 start`: four rules fail, on that server only."""
    pool = InstalledPool(Release.R2_1, example_servers(3))
    transcript = pool.setup_ha(
        skip=lambda server, argv: server == "vmserver2" and argv[0] == "umount", keep_going=True
    )
    refused = [r for s, argv, r in transcript if s == "vmserver2" and r.rc != 0]
    assert refused and "/OVS is busy" in refused[0].stderr
    findings = verdict(pool)
    assert failed_rules(findings) == {
        "PRE-NO-LOCAL-OVS",
        "PRE-CLUSTER-ROOT-MOUNT",
        "PRE-SAME-SHARED-STORAGE",
        "PRE-SERVICES-UP",
    }
    unknown = {f.rule for f in findings if f.status == "unknown"}
    assert unknown == {"PRE-SAME-CLUSTER-ROOT", "PRE-NFS-HEARTBEAT-FILE"}
    assert {f.server for f in findings if f.status == "failed"} == {"vmserver2"}


def test_missing_repositories_entry() -> None:
    pool = healthy(Release.R2_2)
    extra = SharedVolume.create("nas.example.com:/images")
    for storage in pool.storage.values():
        storage.add(extra)
    assert pool.run("vmserver1", ["/usr/lib/ovs/ovs-makerepo", extra.source, "images"]).rc == 0
    assert pool.run("vmserver1", ["/usr/lib/ovs/ovs-cluster-check", "--master", "--propagate"]).rc == 0
    for name in ("vmserver2", "vmserver3"):
        assert pool.run(name, ["service", "ovsrepositories", "restart"]).rc == 1  # ovs-agent still runs
        for step in (["ovs-agent", "stop"], ["ovsrepositories", "restart"], ["ovs-agent", "start"]):
            assert pool.run(name, ["service", *step]).rc == 0
    assert failed_rules(verdict(pool)) == set()
    _edit(
        pool.hosts["vmserver3"],
        "/etc/ovs/repositories",
        lambda t: t.replace(f"{extra.uuid} {extra.source} - images\n", ""),
    )
    findings = verdict(pool)
    assert failed_rules(findings) == {"PRE-REPOSITORIES-FILE"}  # still mounted: the storage is the same
    assert {f.server for f in findings if f.status == "failed"} == {"vmserver3"}


def test_a_cluster_root_other_than_the_pools() -> None:
    pool = healthy()
    facts = pool.facts()
    other = PoolFacts("other.example.com:/OVS", facts.storage_kind, facts.members, facts.dns_zone)
    assert failed_rules(verdict(pool, facts=other)) == {"PRE-SAME-CLUSTER-ROOT", "PRE-CLUSTER-ROOT-MOUNT"}


def test_local_ocfs2_cluster_root() -> None:
    """2.2: /OVS linked to the local OCFS2 partition (mounted heartbeat=none) fails on that server,
    as does a cluster root on the disk that holds / (found past the kernel's `rootfs` line)."""
    pool = healthy(Release.R2_2, "ocfs2-san", count=2)
    assert failed_rules(verdict(pool)) == set()
    fs = pool.hosts["vmserver2"]
    _edit(
        fs,
        "/proc/mounts",
        lambda t: (
            "rootfs / rootfs rw 0 0\n"
            + t.replace("/dev/sdb1 ", "/dev/sda3 ").replace("heartbeat=local", "heartbeat=none")
        ),
    )
    local = {
        f.server: f for f in CHECKS["PRE-NO-LOCAL-OCFS2-ROOT"](dict(pool.hosts), Release.R2_2, pool.facts())
    }
    assert local["vmserver1"].status == "passed" and local["vmserver2"].status == "failed"
    assert "local OCFS2 volume" in local["vmserver2"].message
    _edit(
        fs, "/proc/mounts", lambda t: t.replace("heartbeat=none", "heartbeat=local")
    )  # clustered, yet local
    on_disk = {
        f.server: f for f in CHECKS["PRE-NO-LOCAL-OCFS2-ROOT"](dict(pool.hosts), Release.R2_2, pool.facts())
    }
    assert on_disk["vmserver2"].status == "failed" and "system disk /dev/sda" in on_disk["vmserver2"].message


def test_node_slots() -> None:
    pool = healthy(count=17)
    findings = verdict(pool)
    assert failed_rules(findings) == {"PRE-NODE-SLOTS"}
    assert "17 nodes but the device has 16 slots" in next(f.message for f in findings if f.status == "failed")


def test_3x_multi_server_and_clustered_pool() -> None:
    single = healthy(Release.R3, count=1)
    assert failed_rules(verdict(single)) == {"PRE-MULTI-SERVER"}
    unclustered = InstalledPool(Release.R3, example_servers(2), local_ovs=False)
    findings = verdict(unclustered)
    assert "PRE-CLUSTERED-POOL" in failed_rules(findings)
    no_region = healthy(Release.R3)
    for fs in no_region.hosts.values():  # drop the heartbeat stanza that precedes the nodes
        _edit(fs, "/etc/ocfs2/cluster.conf", lambda t: "node:" + t.split("node:", 1)[1])
    assert failed_rules(verdict(no_region)) == {"PRE-CLUSTERED-POOL"}


class _Forbidden:
    """A host where some files exist but cannot be read (permissions over SSH)."""

    def __init__(self, inner: MemoryHostFS, *denied: str) -> None:
        self.inner = inner
        self.denied = denied

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def read_text(self, path: str) -> str | None:
        if path in self.denied:
            raise PermissionError(13, "Permission denied", path)
        return self.inner.read_text(path)


def test_unreadable_inputs_give_unknown_never_passed() -> None:
    pool = healthy()
    hosts: dict[str, HostFS] = {name: ReadOnlyHostFS(fs) for name, fs in pool.hosts.items()}
    hosts["vmserver2"] = _Forbidden(pool.hosts["vmserver2"], "/etc/hosts", "/etc/ovs-release")  # type: ignore[assignment]
    findings = verdict(pool, hosts=hosts)
    unknown = {(f.rule, f.server) for f in findings if f.status == "unknown"}
    assert unknown == {
        ("PRE-HOSTNAME-NOT-LOOPBACK", "vmserver2"),
        ("PRE-NAME-RESOLUTION-CONSISTENT", "vmserver2"),
        ("PRE-RELEASE-MIN", "vmserver2"),
    }
    reason = next(f.message for f in findings if f.rule == "PRE-RELEASE-MIN" and f.status == "unknown")
    assert reason == "cannot read /etc/ovs-release: Permission denied"
    assert failed_rules(findings) == set()


def test_missing_inputs_give_unknown_or_failed_with_the_reason() -> None:
    pool = healthy()
    pool.hosts["vmserver1"].remove("/etc/ovs-release")
    pool.hosts["vmserver2"].remove("/etc/ocfs2/cluster.conf")
    findings = verdict(pool)
    release = next(f for f in findings if f.rule == "PRE-RELEASE-MIN" and f.server == "vmserver1")
    assert (release.status, release.message) == ("unknown", "/etc/ovs-release does not exist")
    missing_conf = {f.rule for f in findings if f.server == "vmserver2" and f.status == "failed"}
    assert missing_conf == {"PRE-CLUSTERCONF-IDENTICAL", "PRE-CLUSTERCONF-NO-LOOPBACK", "PRE-NODE-SLOTS"}


def test_dns_pool_without_the_zone_is_unknown() -> None:
    pool = healthy(name_service="dns")
    facts = pool.facts()
    blind = PoolFacts(facts.cluster_root, facts.storage_kind, facts.members, dns_zone=None)
    findings = [f for f in verdict(pool, facts=blind) if f.rule == "PRE-NAME-RESOLUTION-CONSISTENT"]
    assert {f.status for f in findings} == {"unknown"}


def test_broken_file_is_failed_with_file_and_line() -> None:
    """What o2cb cannot read fails naming the line; what it reads (spaces for TABs) is fine."""
    pool = healthy()
    _edit(pool.hosts["vmserver1"], "/etc/ocfs2/cluster.conf", lambda t: t.replace("\t", "    "))
    for fs in pool.hosts.values():
        _edit(fs, "/etc/ocfs2/cluster.conf", lambda t: t.replace("\tnumber = 1", "\t# two\n\tnumber = 1"))
    findings = verdict(pool)
    bad = next(f for f in findings if f.rule == "PRE-CLUSTERCONF-NO-LOOPBACK" and f.server == "vmserver2")
    assert bad.status == "failed" and "/etc/ocfs2/cluster.conf:11: an indented comment" in bad.message
    assert "o2cb cannot read the file" in bad.message
    spaces = next(f for f in findings if f.rule == "PRE-CLUSTERCONF-NO-LOOPBACK" and f.server == "vmserver1")
    assert spaces.status == "passed"


@pytest.mark.parametrize("release", list(Release), ids=str)
@pytest.mark.parametrize("kind", ["nfs", "ocfs2-san"])
def test_setup_procedure_order(release: Release, kind: str) -> None:
    root = "example.com:/OVS" if kind == "nfs" else "/dev/sdb1"
    commands = ha_setup_commands(release, kind, root, "vmserver1", ["vmserver2"])
    argvs = [" ".join(argv) for server, argv in commands if server == "vmserver1"]
    description = "pool file system" if release is Release.R3 else "cluster root"
    assert argvs[:4] == [
        "umount /OVS",
        "/usr/lib/ovs/ovs-cluster-configure",
        f"/usr/lib/ovs/ovs-makerepo {root} C {description}",
        "/usr/lib/ovs/ovs-cluster-check --master --alter-fstab",
    ]
    assert argvs[4:8] == [f"service {s} start" for s in ("o2cb", "ocfs2", "ovsrepositories", "ovs-agent")]
    assert argvs[-1] == "/usr/lib/ovs/ovs-cluster-check --master --propagate"
    with pytest.raises(ValueError, match="does not match"):
        ha_setup_commands(
            release, kind, "/dev/sdb1" if kind == "nfs" else root.replace("/dev/sdb1", "x:/y"), "a", []
        )


@pytest.mark.parametrize("names", ["files", "dns"])
def test_a_server_added_later_joins_through_the_documented_steps(names: str) -> None:
    """White paper, "Adding a new Server to the pool": the master propagates cluster.conf to it."""
    pool = healthy(Release.R2_2, count=2, name_service=names)
    new = example_servers(3)[2]
    pool.add_server(new)
    master = pool.hosts["vmserver1"]
    master.remove("/etc/ocfs2/cluster.conf")  # the agent regenerates it with the new member
    lib = "/usr/lib/ovs"
    steps = [
        ("vmserver3", ["umount", "/OVS"]),
        ("vmserver1", [f"{lib}/ovs-cluster-configure"]),
        ("vmserver1", [f"{lib}/ovs-cluster-check", "--master", "--propagate"]),
        ("vmserver3", [f"{lib}/ovs-cluster-configure"]),
        *[("vmserver3", ["service", s, "start"]) for s in ("o2cb", "ocfs2", "ovsrepositories", "ovs-agent")],
        ("vmserver3", [f"{lib}/ovs-cluster-check", "--alter-fstab"]),
    ]
    for server, argv in steps:
        result = pool.run(server, argv)
        assert result.rc == 0, (server, argv, result.stderr)
    assert failed_rules(verdict(pool)) == set()
    with pytest.raises(ValueError, match="already"):
        pool.add_server(new)
