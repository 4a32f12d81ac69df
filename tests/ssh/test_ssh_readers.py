"""Readers of what a real Oracle VM Server tells beyond its files: init scripts and `xm list`."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from environments.model import CommandResult
from environments.ssh.connection import check_read_only
from environments.ssh.readers import (
    Domain,
    XmListError,
    o2cb_status,
    parse_xm_list,
    running_guests,
    service_states,
)
from ovmref.cluster.services import SERVICE_ORDER, lock_file
from ovmref.hostfs import MemoryHostFS
from ovmref.prereq import PoolFacts, PoolMemberFacts, Unreadable, services_up
from ovmref.release import Release

XM_LIST = """\
Name                                        ID   Mem VCPUs      State   Time(s)
Domain-0                                     0   543     2     r-----  21087.3
OVM_EL5U3_X86_64_PVM_4GB                     3  4096     2     -b----    117.5
my web server                               12  1024     1     r-----      9.0
"""


class FakeHost:
    """Answers commands from a table of argv -> (rc, stdout, stderr), as a session would."""

    def __init__(self, answers: dict[tuple[str, ...], tuple[int, str, str]]) -> None:
        self.answers = answers
        self.sent: list[tuple[str, ...]] = []

    def run(self, argv: Sequence[str], timeout_s: float | None = None) -> CommandResult:
        args = tuple(argv)
        assert check_read_only(args) is None, f"a reader sent a command read-only mode refuses: {args}"
        self.sent.append(args)
        rc, out, err = self.answers.get(args, (127, "", f"sh: {args[0]}: command not found\n"))
        return CommandResult(args, rc, out, err)


def test_xm_list_gives_the_guests_without_domain_0() -> None:
    assert parse_xm_list(XM_LIST) == [
        Domain("OVM_EL5U3_X86_64_PVM_4GB", 3, 4096, 2, "-b----"),
        Domain("my web server", 12, 1024, 1, "r-----"),
    ]
    assert parse_xm_list("") == []


@pytest.mark.parametrize(
    ("text", "line"),
    [("Error: Unable to connect to xend\n", "line 1"), (XM_LIST + "vm9 x 1024 1 r----- 1.0\n", "line 5")],
)
def test_xm_list_that_is_not_its_table_names_the_line(text: str, line: str) -> None:
    with pytest.raises(XmListError, match=line):
        parse_xm_list(text)


def test_running_guests_is_none_without_xm() -> None:
    assert running_guests(FakeHost({})) is None
    assert running_guests(FakeHost({("/usr/sbin/xm", "list"): (0, XM_LIST, "")})) == parse_xm_list(XM_LIST)


def test_init_script_exit_codes_read_as_lsb_says() -> None:
    host = FakeHost(
        {
            ("/sbin/service", "o2cb", "status"): (0, "Driver for configfs: Loaded\n", ""),
            ("/sbin/service", "ocfs2", "status"): (3, "", ""),
            ("/sbin/service", "ovsrepositories", "status"): (2, "dead but subsys locked\n", ""),
            ("/sbin/service", "ovs-agent", "status"): (4, "", ""),
        }
    )
    assert service_states(host, SERVICE_ORDER) == {
        "o2cb": "running",
        "ocfs2": "stopped",
        "ovsrepositories": "dead",
        "ovs-agent": "unknown",
    }
    assert host.sent[0] == ("/sbin/service", "ovs-agent", "status")  # the agent decides whose init it is


def test_o2cb_is_judged_by_what_it_says_and_a_missing_script_is_absent() -> None:
    """3.x has no ovsrepositories ("no `ovsrepositories` anywhere in 3.x material"): absent, not an
    answer that discards the others; o2cb's exit status is 0 even offline, its text is not."""
    host = FakeHost(
        {
            ("/sbin/service", "ovs-agent", "status"): (0, "ok! process OVSAgentServer exists.\n", ""),
            ("/sbin/service", "o2cb", "status"): (
                0,
                'Checking O2CB cluster "ba9aaf00ae5e2d72": Offline\n',
                "",
            ),
            ("/sbin/service", "ocfs2", "status"): (0, "Active OCFS2 mountpoints:  /poolfsmnt/x\n", ""),
            ("/sbin/service", "ovsrepositories", "status"): (
                1,
                "",
                "ovsrepositories: unrecognized service\n",
            ),
        }
    )
    assert service_states(host, SERVICE_ORDER) == {
        "o2cb": "stopped",
        "ocfs2": "running",
        "ovsrepositories": "absent",
        "ovs-agent": "running",
    }


def test_o2cb_status_gives_the_cluster_heartbeat_and_regions() -> None:
    text = (
        'Driver for "configfs": Loaded\nChecking O2CB cluster "ba9aaf00ae5e2d72": Online\n'
        "  Heartbeat dead threshold: 61\n  Heartbeat mode: Global\nChecking O2CB heartbeat: Active\n"
        "  0004FB0000050000E70FBDDEB802208F /dev/loop0\n"
    )
    said = o2cb_status(FakeHost({("/sbin/service", "o2cb", "status"): (0, text, "")}))
    assert said is not None and said.online and said.heartbeat_active and said.heartbeat_mode == "global"
    assert said.region_device("0004fb0000050000e70fbddeb802208f") == "/dev/loop0"
    assert said.dead_threshold == 61 and said.cluster == "ba9aaf00ae5e2d72"
    assert o2cb_status(FakeHost({})) is None


def test_a_server_without_the_service_command_is_not_asked_further() -> None:
    host = FakeHost({})
    assert service_states(host, SERVICE_ORDER) is None
    assert len(host.sent) == 1


def test_init_scripts_that_do_not_know_the_ha_services_are_not_trusted() -> None:
    """A Debian lookalike: o2cb's script answers (0 even when offline), the agent's is not there."""
    host = FakeHost(
        {
            ("/sbin/service", "o2cb", "status"): (0, 'Checking O2CB cluster "ocfs2": Offline\n', ""),
            ("/sbin/service", "ocfs2", "status"): (1, "", ""),
            ("/sbin/service", "ovs-agent", "status"): (1, "", "ovs-agent: unrecognized service"),
        }
    )
    assert service_states(host, SERVICE_ORDER) is None
    assert len(host.sent) == 1


def _facts(services: dict[str, str] | None) -> PoolFacts:
    member = PoolMemberFacts("vmserver1", "vmserver1.example.com", "192.0.2.1", services)  # type: ignore[arg-type]
    return PoolFacts(cluster_root="example.com:/OVS", storage_kind="nfs", members=[member], dns_zone=None)


def _locked_everything() -> MemoryHostFS:
    fs = MemoryHostFS()
    for service in SERVICE_ORDER:
        fs.write_text(lock_file(service), "")
    return fs


def test_a_stale_lock_file_does_not_pass_when_the_init_script_says_dead() -> None:
    fs = _locked_everything()  # what a crashed server keeps
    assert "running" in services_up("vmserver1", fs, Release.R2_2, _facts(None))
    said = dict.fromkeys(SERVICE_ORDER, "running") | {"ovs-agent": "dead"}
    with pytest.raises(Exception, match=r"not running: ovs-agent \(dead\)"):
        services_up("vmserver1", fs, Release.R2_2, _facts(said))


def test_an_unanswered_init_script_makes_the_check_unknown() -> None:
    said = dict.fromkeys(SERVICE_ORDER, "running") | {"o2cb": "unknown"}
    with pytest.raises(Unreadable, match="o2cb"):
        services_up("vmserver1", _locked_everything(), Release.R2_2, _facts(said))
