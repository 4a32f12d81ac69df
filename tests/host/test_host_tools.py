"""Each Oracle VM tool's documented effect and refusals, on in-memory servers."""

from __future__ import annotations

import pytest

from ovmref.cluster.clusterconf import CLUSTER_CONF, parse_cluster_conf
from ovmref.host.installed_pool import InstalledPool, example_servers
from ovmref.host.sysconfig import O2CB_SYSCONFIG, parse_o2cb_sysconfig
from ovmref.hostfs import ReadOnlyError, ReadOnlyHostFS
from ovmref.release import Release
from ovmref.storage.fstab import parse_fstab
from ovmref.storage.mounts import mount_at
from ovmref.storage.repositories import parse_repositories
from ovmref.storage.shared import SharedVolume
from ovmref.tools import run_tool

MAKEREPO = "/usr/lib/ovs/ovs-makerepo"
CONFIGURE = "/usr/lib/ovs/ovs-cluster-configure"
CHECK = "/usr/lib/ovs/ovs-cluster-check"


def fresh(release: Release = Release.R2_1, kind: str = "nfs", count: int = 3) -> InstalledPool:
    return InstalledPool(release, example_servers(count), storage_kind=kind)


def ok(pool: InstalledPool, server: str, *argv: str) -> str:
    result = pool.run(server, list(argv))
    assert result.rc == 0, result.stderr
    return result.stdout


# ---- ovs-makerepo ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("release", "where"),
    [(Release.R2_1, "/OVS"), (Release.R2_2, "/var/ovs/mount/{uuid}"), (Release.R3, "/poolfsmnt/{uuid}")],
)
def test_makerepo_registers_mounts_and_creates_the_nfs_heartbeat_file(release: Release, where: str) -> None:
    pool = fresh(release)
    ok(pool, "vmserver1", "umount", "/OVS")
    ok(pool, "vmserver1", CONFIGURE)
    ok(pool, "vmserver1", MAKEREPO, "example.com:/OVS", "C", "cluster root")
    fs = pool.hosts["vmserver1"]
    uuid = pool.root_volume.uuid
    repos = parse_repositories(fs.read_text("/etc/ovs/repositories") or "")
    assert repos.cluster_root is not None and (repos.cluster_root.source, repos.cluster_root.uuid) == (
        "example.com:/OVS",
        uuid,
    )
    mountpoint = where.format(uuid=uuid)
    entry = mount_at(fs, mountpoint)
    assert entry is not None and (entry.source, entry.fstype) == ("example.com:/OVS", "nfs")
    assert fs.exists(f"{mountpoint}/.server_pool_hb")
    assert pool.root_volume.tree.kind("/.server_pool_hb") == "file"  # on the export, seen by every server
    if release is Release.R2_2:
        assert fs.readlink("/OVS") == mountpoint and fs.exists("/OVS/.server_pool_hb")


def test_makerepo_keeps_an_existing_heartbeat_file() -> None:
    pool = fresh()
    pool.root_volume.tree.write("/.server_pool_hb", b"formatted earlier")
    ok(pool, "vmserver1", "umount", "/OVS")
    ok(pool, "vmserver1", MAKEREPO, "example.com:/OVS", "C", "cluster root")
    assert pool.hosts["vmserver1"].read_bytes("/OVS/.server_pool_hb") == b"formatted earlier"


def test_makerepo_on_ocfs2_has_no_heartbeat_file_and_needs_o2cb() -> None:
    pool = fresh(kind="ocfs2-san")
    ok(pool, "vmserver1", "umount", "/OVS")
    refused = pool.run("vmserver1", [MAKEREPO, "/dev/sdb1", "C", "cluster root"])
    assert refused.rc == 1 and "start o2cb" in refused.stderr
    ok(pool, "vmserver1", CONFIGURE)
    ok(pool, "vmserver1", MAKEREPO, "/dev/sdb1", "C", "cluster root")
    entry = mount_at(pool.hosts["vmserver1"], "/OVS")
    assert entry is not None and entry.fstype == "ocfs2" and "heartbeat=local" in entry.options
    assert not pool.hosts["vmserver1"].exists("/OVS/.server_pool_hb")


def test_makerepo_refuses_while_the_local_ovs_is_mounted() -> None:
    pool = fresh()
    result = pool.run("vmserver1", [MAKEREPO, "example.com:/OVS", "C", "cluster root"])
    assert result.rc == 1 and "umount /OVS" in result.stderr
    assert (
        parse_repositories(pool.hosts["vmserver1"].read_text("/etc/ovs/repositories") or "").repositories
        == ()
    )


def test_makerepo_refuses_an_unreachable_source() -> None:
    pool = fresh()
    pool.storage["vmserver1"].unreachable.add("example.com:/OVS")
    ok(pool, "vmserver1", "umount", "/OVS")
    result = pool.run("vmserver1", [MAKEREPO, "example.com:/OVS", "C", "cluster root"])
    assert result.rc == 1 and "cannot reach example.com:/OVS" in result.stderr
    missing = pool.run("vmserver1", [MAKEREPO, "nas.example.com:/nothing", "C", "cluster root"])
    assert missing.rc == 1 and "cannot reach" in missing.stderr


@pytest.mark.parametrize(("release", "refused"), [(Release.R2_2, True), (Release.R2_1, False)])
def test_makerepo_refuses_the_local_ocfs2_partition_as_cluster_root_in_2_2(
    release: Release, refused: bool
) -> None:
    pool = fresh(release)
    ok(pool, "vmserver1", "umount", "/OVS")
    result = pool.run("vmserver1", [MAKEREPO, "/dev/sda3", "C", "cluster root"])
    assert (result.rc != 0) == refused, result
    if refused:
        assert "default local OCFS2 partition" in result.stderr


def test_makerepo_adds_an_ordinary_repository_and_refuses_a_second_root() -> None:
    pool = fresh()
    extra = pool.root_volume.create("example.com:/export/repo2")
    for storage in pool.storage.values():
        storage.add(extra)
    ok(pool, "vmserver1", "umount", "/OVS")
    ok(pool, "vmserver1", CONFIGURE)
    ok(pool, "vmserver1", MAKEREPO, "example.com:/OVS", "C", "cluster root")
    ok(pool, "vmserver1", MAKEREPO, "example.com:/export/repo2", "more images")
    assert mount_at(pool.hosts["vmserver1"], f"/OVS/{extra.uuid}") is not None
    second = pool.run("vmserver1", [MAKEREPO, "example.com:/export/repo2", "C", "root"])
    assert second.rc == 1 and "already" in second.stderr
    assert pool.run("vmserver1", [MAKEREPO, "example.com:/OVS"]).rc == 2


# ---- ovs-cluster-configure ------------------------------------------------------------------
def test_configure_generates_cluster_conf_from_this_hosts_resolution() -> None:
    pool = fresh()
    out = ok(pool, "vmserver1", CONFIGURE)
    assert "generated /etc/ocfs2/cluster.conf with 3 node(s)" in out
    fs = pool.hosts["vmserver1"]
    conf = parse_cluster_conf(fs.read_text(CLUSTER_CONF) or "")
    assert [(n.number, n.name, n.ip_address) for n in conf.nodes] == [
        (0, "vmserver1.example.com", "192.168.100.100"),
        (1, "vmserver2.example.com", "192.168.100.101"),
        (2, "vmserver3.example.com", "192.168.100.102"),
    ]
    o2cb = parse_o2cb_sysconfig(fs.read_text(O2CB_SYSCONFIG) or "")
    assert (o2cb.enabled, o2cb.cluster, o2cb.timings.dead_threshold) == (True, "ocfs2", 31)
    assert fs.exists("/var/lock/subsys/o2cb") and fs.is_dir("/sys/kernel/config/cluster/ocfs2")


def test_configure_writes_loopback_when_the_hostname_is_on_127_0_0_1() -> None:
    pool = fresh()
    fs = pool.hosts["vmserver1"]
    hosts = fs.read_text("/etc/hosts") or ""
    fs.write_text(
        "/etc/hosts",
        hosts.replace("localhost.localdomain localhost", "vmserver1.example.com vmserver1 localhost"),
    )
    ok(pool, "vmserver1", CONFIGURE)
    conf = parse_cluster_conf(fs.read_text(CLUSTER_CONF) or "")
    node = conf.node_named("vmserver1.example.com")
    assert node is not None and node.ip_address == "127.0.0.1"


def test_configure_refuses_members_it_cannot_resolve_and_keeps_an_existing_file() -> None:
    pool = InstalledPool(Release.R2_1, example_servers(2), name_service="dns")
    pool.dns_zone.pop("vmserver2.example.com")
    result = pool.run("vmserver1", [CONFIGURE])
    assert result.rc == 1 and "cannot resolve vmserver2.example.com" in result.stderr
    fs = pool.hosts["vmserver1"]
    assert not fs.exists(CLUSTER_CONF)
    fs.write_text(
        CLUSTER_CONF,
        "cluster:\n\tnode_count = 1\n\tname = mine\n\nnode:\n\tip_address = 10.9.9.9\n\tip_port = 7777\n"
        "\tnumber = 7\n\tname = vmserver1\n\tcluster = mine\n",
    )
    out = ok(pool, "vmserver1", CONFIGURE)
    assert "left unchanged" in out and "O2CB_BOOTCLUSTER=mine" in out
    assert parse_cluster_conf(fs.read_text(CLUSTER_CONF) or "").nodes[0].number == 7


def test_configure_in_3x_writes_global_heartbeat_and_makerepo_adds_the_region() -> None:
    pool = InstalledPool(Release.R3, example_servers(2), local_ovs=False)
    ok(pool, "vmserver1", CONFIGURE)
    fs = pool.hosts["vmserver1"]
    conf = parse_cluster_conf(fs.read_text(CLUSTER_CONF) or "")
    assert conf.clusters[0].heartbeat_mode == "global" and conf.heartbeats == ()
    assert [n.name for n in conf.nodes] == ["vmserver1", "vmserver2"]
    assert parse_o2cb_sysconfig(fs.read_text(O2CB_SYSCONFIG) or "").timings.dead_threshold == 61
    ok(pool, "vmserver1", MAKEREPO, "example.com:/OVS", "C", "pool file system")
    conf = parse_cluster_conf(fs.read_text(CLUSTER_CONF) or "")
    assert conf.regions_of("ba9aaf00ae5e2d72") == (pool.root_volume.uuid,)


# ---- ovs-cluster-check ----------------------------------------------------------------------
def test_check_master_only_on_the_master() -> None:
    pool = fresh()
    for flag in ("--master", "--propagate"):
        result = pool.run("vmserver2", [CHECK, flag])
        assert result.rc == 1 and f"{flag} may only be used on the Server Pool Master" in result.stderr
    assert pool.run("vmserver1", [CHECK, "--bogus"]).rc == 2


def test_check_reports_what_is_missing() -> None:
    pool = fresh()
    result = pool.run("vmserver1", [CHECK, "--master"])
    assert result.rc == 1
    assert "o2cb is not running" in result.stderr
    assert "/etc/ocfs2/cluster.conf does not exist" in result.stderr
    assert "no cluster root" in result.stderr
    ok(pool, "vmserver1", "umount", "/OVS")
    ok(pool, "vmserver1", CONFIGURE)
    ok(pool, "vmserver1", MAKEREPO, "example.com:/OVS", "C", "cluster root")
    pool.root_volume.tree.remove("/.server_pool_hb")
    missing_hb = pool.run("vmserver1", [CHECK, "--master"])
    assert missing_hb.rc == 1 and "heartbeat file /OVS/.server_pool_hb does not exist" in missing_hb.stderr


def test_alter_fstab_backs_up_and_moves_ovs_lines() -> None:
    pool = fresh()
    fs = pool.hosts["vmserver1"]
    shared = SharedVolume.create("nas.example.com:/vm")
    pool.storage["vmserver1"].add(shared)
    fstab_before = (fs.read_text("/etc/fstab") or "") + "nas.example.com:/vm /OVS/extra nfs rw 0 0\n"
    fs.write_text("/etc/fstab", fstab_before)
    ok(pool, "vmserver1", "umount", "/OVS")
    ok(pool, "vmserver1", CONFIGURE)
    ok(pool, "vmserver1", MAKEREPO, "example.com:/OVS", "C", "cluster root")
    out = ok(pool, "vmserver1", CHECK, "--master", "--alter-fstab")
    assert "backed up /etc/fstab to /tmp/fstab.1240000000" in out
    assert fs.read_text("/tmp/fstab.1240000000") == fstab_before
    assert [e for e in parse_fstab(fs.read_text("/etc/fstab") or "") if e.is_ovs] == []
    repos = parse_repositories(fs.read_text("/etc/ovs/repositories") or "")
    assert repos.by_source("nas.example.com:/vm") is not None  # shared storage moved
    assert repos.by_source("/dev/sda3") is None  # the local disk is not a pool repository


def test_propagate_copies_cluster_conf_and_repositories_to_every_other_member() -> None:
    pool = fresh()
    ok(pool, "vmserver1", "umount", "/OVS")
    ok(pool, "vmserver1", CONFIGURE)
    ok(pool, "vmserver1", MAKEREPO, "example.com:/OVS", "C", "cluster root")
    out = ok(pool, "vmserver1", CHECK, "--master", "--propagate")
    assert "propagated" in out and "vmserver3" in out
    master = pool.hosts["vmserver1"]
    for name in ("vmserver2", "vmserver3"):
        for path in (CLUSTER_CONF, "/etc/ovs/repositories"):
            assert pool.hosts[name].read_text(path) == master.read_text(path)


# ---- heartbeat, shell -----------------------------------------------------------------------
def test_hb_ctl_counts_and_kills_the_heartbeat_region() -> None:
    pool = fresh(kind="ocfs2-san", count=2)
    pool.setup_ha()
    ok_out = ok(pool, "vmserver1", "ocfs2_hb_ctl", "-I", "-d", "/dev/sdb1")
    assert ok_out == f"{pool.root_volume.uuid}: 1 refs\n"
    ok(pool, "vmserver1", "ocfs2_hb_ctl", "-K", "-d", "/dev/sdb1")
    assert (
        ok(pool, "vmserver1", "ocfs2_hb_ctl", "-I", "-d", "/dev/sdb1") == f"{pool.root_volume.uuid}: 0 refs\n"
    )
    again = pool.run("vmserver1", ["ocfs2_hb_ctl", "-K", "-d", "/dev/sdb1"])
    assert again.rc == 1 and "not active" in again.stderr
    ok(pool, "vmserver1", "ocfs2_hb_ctl", "-S", "-d", "/dev/sdb1")
    assert "1 refs" in ok(pool, "vmserver1", "ocfs2_hb_ctl", "-I", "-u", pool.root_volume.uuid.lower())


def test_hb_ctl_finds_the_region_of_an_nfs_heartbeat_file() -> None:
    pool = fresh(count=2)
    pool.setup_ha()
    out = ok(pool, "vmserver2", "ocfs2_hb_ctl", "-I", "-d", "/OVS/.server_pool_hb")
    assert out == f"{pool.root_volume.uuid}: 1 refs\n"
    assert pool.run("vmserver2", ["ocfs2_hb_ctl", "-I", "-d", "/dev/nothing"]).rc == 1


def test_umount_mount_cat_hostname() -> None:
    pool = fresh(count=1)
    assert "/dev/sda3 /OVS ocfs2" in ok(pool, "vmserver1", "mount")
    ok(pool, "vmserver1", "umount", "/OVS")
    assert "/OVS" not in ok(pool, "vmserver1", "mount")
    again = pool.run("vmserver1", ["umount", "/OVS"])
    assert again.rc == 1 and "not mounted" in again.stderr
    assert ok(pool, "vmserver1", "cat", "/etc/ovs-release") == "Oracle VM server release 2.1.5\n"
    missing = pool.run("vmserver1", ["cat", "/etc/nothing"])
    assert (missing.rc, missing.stderr) == (1, "cat: /etc/nothing: No such file or directory\n")
    assert ok(pool, "vmserver1", "hostname") == "vmserver1.example.com\n"
    assert ok(pool, "vmserver1", "/bin/hostname", "-s") == "vmserver1\n"
    assert ok(pool, "vmserver1", "hostname", "-f") == "vmserver1.example.com\n"
    fs = pool.hosts["vmserver1"]
    fs.write_text("/etc/hosts", "127.0.0.1 localhost.localdomain localhost vmserver1.example.com\n")
    assert ok(pool, "vmserver1", "hostname", "-f") == "localhost.localdomain\n"


def test_umount_refuses_when_something_is_mounted_below() -> None:
    pool = fresh(count=1)
    extra = SharedVolume.create("nas.example.com:/more")
    pool.storage["vmserver1"].add(extra)
    ok(pool, "vmserver1", "umount", "/OVS")
    ok(pool, "vmserver1", CONFIGURE)
    ok(pool, "vmserver1", MAKEREPO, "example.com:/OVS", "C", "cluster root")
    ok(pool, "vmserver1", MAKEREPO, "nas.example.com:/more", "more")
    busy = pool.run("vmserver1", ["umount", "/OVS"])
    assert busy.rc == 1 and "busy" in busy.stderr


def test_unknown_commands_and_read_only_hosts() -> None:
    pool = fresh(count=1)
    assert pool.run("vmserver1", ["/usr/bin/xm", "list"]).rc == 127
    ro = ReadOnlyHostFS(pool.hosts["vmserver1"])
    assert run_tool(ro, ["cat", "/etc/ovs-release"], pool.context("vmserver1")).rc == 0
    with pytest.raises(ReadOnlyError):
        run_tool(ro, ["umount", "/OVS"], pool.context("vmserver1"))
