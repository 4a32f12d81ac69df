"""The readiness read-out over read-only sessions: `xm list`, `xm info`, 3.x vm.cfg, the inventory's
`ha:` section; real-format samples; every command on the allow-list; hostile guest names stay words."""

from __future__ import annotations

from pathlib import Path

import pytest

from environments.ssh.connection import check_read_only
from environments.ssh.guest_readout import HA_UNKNOWN_2X, ServerSession, read_pool
from environments.ssh.inventory import GuestHa, HaFacts, InventoryError, parse_inventory
from environments.ssh.readers import XenMemory, XmInfoError, parse_xm_info, server_memory
from ovmref.host.vmcfg import VmCfgError, format_vm_cfg, guest_config, parse_vm_cfg, vm_cfg_path
from ovmref.hostfs import MemoryHostFS
from ovmref.release import Release
from tests.ssh.test_ssh_connection import HOSTILE
from tests.ssh.test_ssh_readers import FakeHost

# a real Xen 4.2 dom0's `xm info` (find_string index id 19534632190), trimmed
XM_INFO = """\
host                   : ovs1
release                : 2.6.39-300.22.2.el5uek
machine                : x86_64
nr_cpus                : 4
total_memory           : 6141
free_memory            : 4274
free_cpus              : 0
xen_major              : 4
"""
# a real Oracle VM 3 vm.cfg (find_string index id 57398263217), its disk and vif lines shortened
VM_CFG = """\
vif = ['mac=00:21:f6:00:00:01,bridge=0004fb0010']
disk = ['file:/OVS/Repositories/0004fb00000300001e4ee7d261313647/VirtualDisks/x.img,xvda,w']
uuid = '0004fb00-0006-0000-cfe2-da48f9e2120e'
on_reboot = 'restart'
memory = 4096
maxvcpus = 2
OVM_high_availability = False
OVM_description = ''
on_poweroff = 'destroy'
on_crash = 'restart'
name = '0004fb0000060000cfe2da48f9e2120e'
vcpus = 2
OVM_os_type = 'Other Linux'
"""
VM = "0004fb0000060000cfe2da48f9e2120e"
REPO = "0004fb00000300001e4ee7d261313647"
XM_LIST = f"""\
Name                                        ID   Mem VCPUs      State   Time(s)
Domain-0                                     0   543     2     r-----  21087.3
{VM}                   3  4096     2     -b----    117.5
0004fb00000600001111222233334444             4  1024     1     -b----      9.0
"""


def test_xm_info_gives_the_memory_and_names_a_missing_line() -> None:
    assert parse_xm_info(XM_INFO) == XenMemory(6141, 4274)
    with pytest.raises(XmInfoError, match="free_memory"):
        parse_xm_info("total_memory : 6141\n")
    with pytest.raises(XmInfoError, match="numbers"):
        parse_xm_info("total_memory : lots\nfree_memory : 1\n")
    host = FakeHost({("/usr/sbin/xm", "info"): (0, XM_INFO, "")})
    assert server_memory(host) == XenMemory(6141, 4274)
    assert server_memory(FakeHost({})) is None


def test_a_real_vm_cfg_gives_its_ha_flag_without_running_it() -> None:
    config = guest_config("/x/vm.cfg", VM_CFG)
    assert config.ha is False and config.memory_mb == 4096 and config.on_crash == "restart"
    assert (
        parse_vm_cfg(format_vm_cfg(VM, 1024, 1, ha=True, simple_name="web"))["OVM_high_availability"] is True
    )
    for bad, line in (
        ("import os\n", "line 1"),
        ("a = 1\nb = __import__('os')\n", "line 2"),
        ("x = (\n", "line"),
    ):
        with pytest.raises(VmCfgError, match=line):
            parse_vm_cfg(bad)


@pytest.mark.parametrize("name", [*HOSTILE, "..", "../../etc", "a/b", ".hidden", ""])
def test_no_path_is_built_from_a_name_that_is_not_a_plain_directory_name(name: str) -> None:
    assert vm_cfg_path(REPO, name) is None


def test_the_allow_list_reads_vm_cfg_on_repositories_only() -> None:
    assert check_read_only(["/usr/sbin/xm", "info"]) is None
    assert check_read_only(["cat", f"/OVS/Repositories/{REPO}/VirtualMachines/{VM}/vm.cfg"]) is None
    for path in (
        f"/OVS/Repositories/{REPO}/VirtualMachines/../../../etc/shadow/vm.cfg",
        f"/OVS/Repositories/{REPO}/VirtualDisks/{VM}/vm.cfg",
        f"/OVS/Repositories/{REPO}/VirtualMachines/{VM}/vm.cfg.bak",
        "/etc/shadow",
    ):
        assert check_read_only(["cat", path]) is not None, path
    assert check_read_only(["/usr/sbin/xm", "destroy", VM]) is not None


class CheckedFS(MemoryHostFS):
    """Files read as the SSH session would: each read must be a `cat` the allow-list lets through."""

    def read_text(self, path: str) -> str | None:
        assert check_read_only(["cat", path]) is None, path
        return super().read_text(path)


def _server(xm_list: str, files: dict[str, str]) -> ServerSession:
    fs = CheckedFS()
    for path, text in files.items():
        fs.write_text(path, text)
    host = FakeHost({("/usr/sbin/xm", "list"): (0, xm_list, ""), ("/usr/sbin/xm", "info"): (0, XM_INFO, "")})
    return ServerSession(host, fs)


def test_3x_guests_get_ha_from_their_vm_cfg_and_the_rest_from_the_inventory_or_unknown() -> None:
    other_repo = "0004fb0000030000aaaaaaaaaaaaaaaa"
    session = _server(
        XM_LIST,
        {
            f"/OVS/Repositories/{other_repo}/VirtualMachines/x/vm.cfg": "name = 'x'\n",
            f"/OVS/Repositories/{REPO}/VirtualMachines/{VM}/vm.cfg": VM_CFG,
        },
    )
    ha = HaFacts(True, (), (), {"0004fb00000600001111222233334444": GuestHa(True, ("ovs2",))})
    readout = read_pool(
        "p", Release.R3, ["ovs1", "ovs2"], lambda n: session if n == "ovs1" else None, ha, {"ovs2": "refused"}
    )
    by_name = {g.name: g for g in readout.guests}
    assert by_name[VM].ha is False and by_name[VM].ha_source.endswith(f"{REPO}/VirtualMachines/{VM}/vm.cfg")
    assert by_name[VM].memory_mb == 4096 and by_name[VM].preferred is None
    other = by_name["0004fb00000600001111222233334444"]
    assert other.ha is True and other.ha_source == "inventory" and other.preferred == ("ovs2",)
    assert readout.pool_ha is True
    assert readout.servers[0].free_mb == 4274 and not readout.servers[1].reachable
    assert readout.servers[1].why_unknown == "refused"
    assert any("no VirtualMachines/0004fb00000600001111222233334444/vm.cfg" in n for n in readout.notes)


def test_2x_guest_ha_is_unknown_without_the_inventory_and_hostile_names_stay_words() -> None:
    rows = "".join(
        f"{name.replace(chr(10), ' ')}   {i + 1}  512  1  -b----  1.0\n" for i, name in enumerate(HOSTILE)
    )
    session = _server("Name ID Mem VCPUs State Time(s)\n" + rows, {})
    readout = read_pool("p", Release.R2_2, ["ovs1"], lambda n: session, None)
    assert len(readout.guests) == len(HOSTILE)
    assert {g.ha for g in readout.guests} == {None} and {g.ha_source for g in readout.guests} == {
        HA_UNKNOWN_2X
    }
    assert readout.pool_ha is None
    assert all(len(argv) == 2 for argv in session.host.sent)  # type: ignore[attr-defined]


def test_3x_hostile_names_are_never_made_into_paths() -> None:
    rows = "".join(
        f"{name.replace(chr(10), ' ')}   {i + 1}  512  1  -b----  1.0\n" for i, name in enumerate(HOSTILE)
    )
    session = _server("Name ID Mem VCPUs State Time(s)\n" + rows, {f"/OVS/Repositories/{REPO}/.ovsrepo": ""})
    readout = read_pool("p", Release.R3, ["ovs1"], lambda n: session, None)
    assert {g.ha for g in readout.guests} == {None}
    assert any("not a repository directory name" in n for n in readout.notes)


BASE = """\
pool: p
storage: nfs
cluster_root: nfs.example.com:/OVS
servers:
  - {name: ovs1, host: 192.0.2.11}
  - {name: ovs2, host: 192.0.2.12}
"""


def test_the_inventory_ha_section_is_read_and_checked(tmp_path: Path) -> None:
    (tmp_path / "known_hosts").write_text("not read\n")
    base = BASE.replace("servers:", "ssh:\n  known_hosts: known_hosts\nservers:")
    path = str(tmp_path / "pool.yaml")
    inv = parse_inventory(
        base
        + "ha:\n  pool: true\n  maintenance: [ovs2]\n  guests:\n    vm1: {ha: false, preferred: [ovs1]}\n",
        path,
    )
    assert inv.ha == HaFacts(True, ("ovs2",), (), {"vm1": GuestHa(False, ("ovs1",))})
    for bad, message in (
        ("ha:\n  pool: yes please\n", "ha.pool must be true or false"),
        ("ha:\n  maintenance: [ovs9]\n", "'ovs9' is not a server"),
        ("ha:\n  guests:\n    vm1: {ha: true, prefered: [ovs1]}\n", "unknown key 'prefered'"),
        ("ha:\n  lock: []\n", "unknown key 'lock'"),
    ):
        with pytest.raises(InventoryError, match=message):
            parse_inventory(base + bad, path)
