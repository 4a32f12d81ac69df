"""mkfs.ocfs2 and dd as the documents use them, and the site storage they format, on in-memory servers."""

from __future__ import annotations

import pytest

from ovmref.host.installed_pool import InstalledPool, example_servers
from ovmref.prereq import CHECKS, check_pool, failed_rules
from ovmref.release import Release
from ovmref.storage.mounts import mount_at
from ovmref.storage.repositories import parse_repositories
from ovmref.tools.dd import human_size, parse_dd_number
from ovmref.tools.mkfs import parse_size

MAKEREPO = "/usr/lib/ovs/ovs-makerepo"
CHECK = "/usr/lib/ovs/ovs-cluster-check"
HB = "/OVS/.server_pool_hb"
WHITE_PAPER_DD = ["dd", "if=/dev/zero", f"of={HB}", "bs=1M", "count=300"]
WHITE_PAPER_MKFS = ["mkfs.ocfs2", "-L", "server_pool_hb", "-N", "16", "-b", "2k", "-C", "4k", "--force", HB]
GUIDE_MKFS = ["mkfs.ocfs2", "-L", "mylabel", "-b", "4K", "-C", "4K", "-J", "size=64M", "-N", "16"]


def ok(pool: InstalledPool, server: str, *argv: str) -> str:
    result = pool.run(server, list(argv))
    assert result.rc == 0, result.stderr
    return result.stdout + result.stderr


def failing(pool: InstalledPool, server: str, *argv: str) -> str:
    result = pool.run(server, list(argv))
    assert result.rc != 0, result
    return result.stderr


def hb_rule(pool: InstalledPool) -> list[str]:
    return [f.status for f in CHECKS["PRE-NFS-HEARTBEAT-FILE"](dict(pool.hosts), pool.release, pool.facts())]


# ---- dd ------------------------------------------------------------------------------------
def test_dd_writes_zeros_and_prints_the_real_summary() -> None:
    pool = InstalledPool(Release.R2_1, example_servers(1))
    fs = pool.hosts["vmserver1"]
    result = pool.run("vmserver1", ["/bin/dd", "if=/dev/zero", "of=/tmp/small", "bs=1K", "count=3"])
    assert (result.rc, result.stdout) == (0, "")
    assert result.stderr == "3+0 records in\n3+0 records out\n3072 bytes (3.1 kB) copied\n"
    assert fs.read_bytes("/tmp/small") == bytes(3072)
    big = ok(pool, "vmserver1", "dd", "if=/dev/zero", "of=/tmp/big", "bs=1M", "count=300")
    assert big == "300+0 records in\n300+0 records out\n314572800 bytes (315 MB) copied\n"
    assert fs.read_bytes("/tmp/big") == bytes(4 * 1024 * 1024)  # larger files are kept at 4 MiB


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["if=/dev/sda1", "of=/tmp/x", "count=1"], "only if=/dev/zero"),
        (["of=/tmp/x", "count=1"], "no if= given"),
        (["if=/dev/zero", "count=1"], "no of= given"),
        (["if=/dev/zero", "of=/tmp/x"], "count= is required"),
        (["if=/dev/zero", "of=/tmp/x", "bs=1Q", "count=1"], "invalid number '1Q' for bs="),
        (["if=/dev/zero", "of=/tmp/x", "count=many"], "invalid number 'many' for count="),
        (["if=/dev/zero", "of=/tmp/x", "seek=1", "count=1"], "unsupported operand 'seek=1'"),
        (["if=/dev/zero", "of=/nowhere/x", "count=1"], "opening `/nowhere/x': No such file or directory"),
        (["if=/dev/zero", "of=/tmp", "count=1"], "Is a directory"),
        (["if=/dev/zero", "of=/dev/sda9", "count=1"], "opening `/dev/sda9'"),
    ],
)
def test_dd_refuses_what_it_cannot_do_with_a_clear_reason(argv: list[str], message: str) -> None:
    pool = InstalledPool(Release.R2_1, example_servers(1))
    stderr = failing(pool, "vmserver1", "dd", *argv)
    assert stderr.startswith("dd: ") and message in stderr


def test_dd_sizes() -> None:
    assert [parse_dd_number("bs", t) for t in ("512", "2w", "1b", "1K", "1kB", "1M", "1MB", "1G")] == [
        512,
        4,
        512,
        1024,
        1000,
        1 << 20,
        10**6,
        1 << 30,
    ]
    assert [human_size(n) for n in (512, 1048576, 9999, 314572800)] == ["512 B", "1.1 MB", "10 kB", "315 MB"]


# ---- the white paper's heartbeat file by hand ----------------------------------------------
@pytest.mark.parametrize("release", [Release.R2_1, Release.R2_2])
def test_heartbeat_file_made_with_dd_and_mkfs_serves_the_cluster(release: Release) -> None:
    pool = InstalledPool(release, example_servers(3))
    pool.setup_ha()
    pool.root_volume.tree.remove("/.server_pool_hb")  # as if ovs-makerepo had not made it
    assert hb_rule(pool) == ["failed"] * 3
    assert pool.run("vmserver1", [CHECK]).rc == 1
    ok(pool, "vmserver1", *WHITE_PAPER_DD)
    out = ok(pool, "vmserver1", *WHITE_PAPER_MKFS)
    for line in (
        "Cluster stack: classic o2cb",
        "Label: server_pool_hb",
        "Block size: 2048 (11 bits)",
        "Cluster size: 4096 (12 bits)",
        "Node slots: 16",
    ):
        assert f"{line}\n" in out
    assert out.endswith("mkfs.ocfs2 successful\n")
    assert hb_rule(pool) == ["passed"] * 3
    fmt = pool.root_volume.ocfs2.file("/.server_pool_hb")
    assert fmt is not None and (fmt.label, fmt.node_slots, fmt.block_size, fmt.cluster_size) == (
        "server_pool_hb",
        16,
        2048,
        4096,
    )
    assert pool.hosts["vmserver3"].exists(HB)  # on the export: every server sees it
    ok(pool, "vmserver1", CHECK)
    assert failed_rules(check_pool(dict(pool.hosts), release, pool.facts())) == set()


def test_a_heartbeat_file_is_only_overwritten_with_force() -> None:
    pool = InstalledPool(Release.R2_1, example_servers(3))
    pool.setup_ha()  # ovs-makerepo formatted the heartbeat file
    stderr = failing(pool, "vmserver2", *[a for a in WHITE_PAPER_MKFS if a != "--force"])
    assert "already holds an OCFS2 file system" in stderr and "--force" in stderr
    before = pool.root_volume.ocfs2.file("/.server_pool_hb")
    ok(pool, "vmserver2", *WHITE_PAPER_MKFS[:-2], "-F", HB)
    after = pool.root_volume.ocfs2.file("/.server_pool_hb")
    assert before is not None and after is not None and after.uuid != before.uuid
    ok(pool, "vmserver2", *WHITE_PAPER_DD)  # dd overwrites the superblock: nothing left to protect
    assert pool.root_volume.ocfs2.file("/.server_pool_hb") is None
    ok(pool, "vmserver2", *[a for a in WHITE_PAPER_MKFS if a != "--force"])


def test_heartbeat_file_slots_set_the_pools_node_slots() -> None:
    pool = InstalledPool(Release.R2_1, example_servers(9))
    pool.setup_ha()
    ok(pool, "vmserver1", "mkfs.ocfs2", "-L", "server_pool_hb", "-N", "8", "-F", HB)
    assert pool.facts().node_slots == 8
    assert failed_rules(check_pool(dict(pool.hosts), pool.release, pool.facts())) == {"PRE-NODE-SLOTS"}


# ---- mkfs.ocfs2 on a LUN ---------------------------------------------------------------------
@pytest.mark.parametrize(("slots", "failed"), [("8", {"PRE-NODE-SLOTS"}), ("16", set())])
def test_formatting_the_cluster_root_sets_its_node_slots(slots: str, failed: set[str]) -> None:
    pool = InstalledPool(Release.R2_1, example_servers(9), storage_kind="ocfs2-san")
    old_uuid = pool.root_volume.uuid
    refused = failing(pool, "vmserver1", "mkfs.ocfs2", "-N", slots, "/dev/sdb1")
    assert "already holds an OCFS2 file system" in refused
    out = ok(pool, "vmserver1", "/sbin/mkfs.ocfs2", "-L", "pool", "-N", slots, "--force", "/dev/sdb1")
    assert f"Node slots: {slots}\n" in out
    assert pool.root_volume.uuid != old_uuid and pool.facts().node_slots == int(slots)
    pool.setup_ha()
    findings = check_pool(dict(pool.hosts), pool.release, pool.facts())
    assert failed_rules(findings) == failed
    if failed:
        message = next(f.message for f in findings if f.status == "failed")
        assert "9 nodes but the device has 8 slots" in message
    repos = parse_repositories(pool.hosts["vmserver1"].read_text("/etc/ovs/repositories") or "")
    assert repos.cluster_root is not None and repos.cluster_root.uuid == pool.root_volume.uuid


def test_a_mounted_device_is_never_formatted() -> None:
    pool = InstalledPool(Release.R2_1, example_servers(2), storage_kind="ocfs2-san")
    local = failing(pool, "vmserver1", "mkfs.ocfs2", "-F", "/dev/sda3")  # the installer's local /OVS
    assert "/dev/sda3 is mounted on /OVS; will not make a ocfs2 volume here" in local
    pool.setup_ha()
    stderr = failing(pool, "vmserver2", "mkfs.ocfs2", "-F", "-N", "16", "/dev/sdb1")
    assert "/dev/sdb1 is mounted on /OVS; will not make a ocfs2 volume here" in stderr
    ok(pool, "vmserver2", "service", "ovs-agent", "stop")
    ok(pool, "vmserver2", "service", "ovsrepositories", "stop")
    ok(pool, "vmserver2", "service", "ocfs2", "stop")
    ok(pool, "vmserver2", "ocfs2_hb_ctl", "-S", "-d", "/dev/sdb1")
    busy = failing(pool, "vmserver2", "mkfs.ocfs2", "-F", "/dev/sdb1")
    assert "heartbeating on this server" in busy and "ocfs2_hb_ctl -K -d /dev/sdb1" in busy
    ok(pool, "vmserver2", "ocfs2_hb_ctl", "-K", "-d", "/dev/sdb1")
    ok(pool, "vmserver2", "mkfs.ocfs2", "-F", "/dev/sdb1")


def test_a_second_lun_is_shared_unformatted_until_mkfs() -> None:
    pool = InstalledPool(Release.R2_1, example_servers(3), storage_kind="ocfs2-iscsi")
    pool.setup_ha()
    refused = failing(pool, "vmserver1", MAKEREPO, "/dev/sdc1", "more space")
    assert "holds no OCFS2 file system: format it with mkfs.ocfs2 first" in refused
    out = ok(pool, "vmserver2", *GUIDE_MKFS, "/dev/sdc1")  # a new LUN: no --force needed
    assert "Label: mylabel\n" in out and "Journal size: 67108864\n" in out
    lun = pool.storage["vmserver1"].resolve("/dev/sdc1")
    assert lun is not None and lun is pool.storage["vmserver3"].resolve("/dev/sdc1")
    assert lun.ocfs2.device is not None and lun.ocfs2.device.label == "mylabel"
    ok(pool, "vmserver1", MAKEREPO, "/dev/sdc1", "more space")
    ok(pool, "vmserver1", CHECK, "--master", "--propagate")
    ok(pool, "vmserver2", "service", "ovs-agent", "stop")
    ok(pool, "vmserver2", "service", "ovsrepositories", "restart")
    pool.hosts["vmserver1"].write_text(f"/OVS/{lun.uuid}/note", "from vmserver1")
    assert pool.hosts["vmserver2"].read_text(f"/OVS/{lun.uuid}/note") == "from vmserver1"
    assert pool.storage["vmserver1"].resolve("/dev/sda5") is None  # local disks are not shared
    pool.storage["vmserver3"].unreachable.add("/dev/sdc1")
    assert pool.storage["vmserver3"].resolve("/dev/sdc1") is None
    assert failing(pool, "vmserver3", "mkfs.ocfs2", "/dev/sdc1").endswith(
        "Could not open device /dev/sdc1: No such file or directory\n"
    )


def test_reformatting_a_lun_empties_it_for_every_server_and_dd_wipes_it() -> None:
    pool = InstalledPool(Release.R2_1, example_servers(2), storage_kind="ocfs2-san")
    ok(pool, "vmserver1", *GUIDE_MKFS, "/dev/sdd1")
    lun = pool.storage["vmserver2"].resolve("/dev/sdd1")
    assert lun is not None
    lun.tree.write("/old", b"data")
    ok(pool, "vmserver2", *GUIDE_MKFS, "-F", "/dev/sdd1")
    assert lun.tree.listdir("/") == []
    ok(pool, "vmserver1", "dd", "if=/dev/zero", "of=/dev/sdd1", "bs=1M", "count=1")
    assert lun.ocfs2.device is None and not lun.formatted


def test_a_second_nfs_export_is_shared_between_servers() -> None:
    pool = InstalledPool(Release.R2_1, example_servers(3))
    pool.setup_ha()
    ok(pool, "vmserver1", MAKEREPO, "example.com:/OVS2", "more space")
    ok(pool, "vmserver1", CHECK, "--master", "--propagate")
    export = pool.storage["vmserver1"].resolve("example.com:/OVS2")
    assert export is not None and export is pool.storage["vmserver2"].resolve("example.com:/OVS2/")
    for name in ("vmserver2", "vmserver3"):
        for step in (["ovs-agent", "stop"], ["ovsrepositories", "restart"], ["ovs-agent", "start"]):
            ok(pool, name, "service", *step)
    where = f"/OVS/{export.uuid}"
    assert mount_at(pool.hosts["vmserver3"], where) is not None
    pool.hosts["vmserver3"].write_text(f"{where}/vm.cfg", "name = 'vm1'\n")
    assert pool.hosts["vmserver1"].read_text(f"{where}/vm.cfg") == "name = 'vm1'\n"
    assert pool.storage["vmserver1"].resolve("nas.example.com:/OVS2") is None  # another file server
    assert failed_rules(check_pool(dict(pool.hosts), pool.release, pool.facts())) == set()


# ---- bad options -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["-b", "3000"], "Invalid blocksize 3000: specify a blocksize between 512 and 4096 in powers of 2"),
        (["-b", "8K"], "specify a blocksize between 512 and 4096"),
        (["-b", "256"], "specify a blocksize between 512 and 4096"),
        (["-C", "2k"], "Invalid clustersize 2k: specify a clustersize between 4096 and 1048576"),
        (["-C", "2M"], "specify a clustersize between 4096 and 1048576"),
        (["-N", "0"], "Invalid number of node slots '0': must be between 1 and 255"),
        (["-N", "256"], "must be between 1 and 255"),
        (["-N", "lots"], "Invalid number of node slots 'lots'"),
        (["-L", "x" * 64], "Volume label too long: must be less than 64 characters"),
        (["-J", "size=1M"], "Invalid journal size: 1M"),
        (["-J", "sz=64M"], "Bad journal options specified"),
        (["-T", "big"], "Bad fs type 'big'"),
        (["-Z"], "option -Z not recognized"),
        (["--slots=4"], "option --slots not recognized"),
        (["-N"], "Invalid number of node slots '/dev/sdc1'"),  # -N took the device as its value
    ],
)
def test_mkfs_refuses_bad_options_with_the_real_tools_limits(options: list[str], message: str) -> None:
    pool = InstalledPool(Release.R2_1, example_servers(1), storage_kind="ocfs2-san")
    stderr = failing(pool, "vmserver1", "mkfs.ocfs2", *options, "/dev/sdc1")
    assert stderr.startswith("mkfs.ocfs2: ") and message in stderr
    lun = pool.storage["vmserver1"].resolve("/dev/sdc1")
    assert lun is not None and lun.ocfs2.device is None  # nothing was written


def test_mkfs_needs_an_existing_target() -> None:
    pool = InstalledPool(Release.R2_1, example_servers(1))
    assert "no device given" in failing(pool, "vmserver1", "mkfs.ocfs2", "-N", "16")
    missing = failing(pool, "vmserver1", "mkfs.ocfs2", "-F", "/OVS/.server_pool_hb")
    assert "Could not open device /OVS/.server_pool_hb: No such file or directory" in missing
    assert "No such file" in failing(pool, "vmserver1", "mkfs.ocfs2", "/dev/sda9")
    assert "Is a directory" in failing(pool, "vmserver1", "mkfs.ocfs2", "/tmp")
    ok(pool, "vmserver1", "dd", "if=/dev/zero", "of=/tmp/hb", "bs=1M", "count=300")
    off_storage = failing(pool, "vmserver1", "mkfs.ocfs2", "/tmp/hb")
    assert "not on storage this server can reach" in off_storage
    assert [parse_size(t) for t in ("4096", "4k", "4K", "64M", "x")] == [4096, 4096, 4096, 64 << 20, None]


@pytest.mark.parametrize("kind", ["nfs", "ocfs2-san"])
def test_the_pools_node_slots_come_from_how_its_storage_was_formatted(kind: str) -> None:
    pool = InstalledPool(Release.R2_1, example_servers(20), storage_kind=kind, node_slots=32)
    pool.setup_ha()  # on NFS, ovs-makerepo formats the heartbeat file through the pool's port
    assert pool.facts().node_slots == 32
    assert failed_rules(check_pool(dict(pool.hosts), pool.release, pool.facts())) == set()
    with pytest.raises(ValueError, match="node_slots must be between 1 and 255"):
        InstalledPool(Release.R2_1, example_servers(1), node_slots=256)
