"""The Manager's facts in `validate --readiness`: they win over vm.cfg and the inventory's `ha:`
(with a note where they disagree), feed the restartActionOnCrash rule, and a refusing Manager is
one line naming it while the SSH checks still run. The password is in no report file and no log line."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import pytest

from conformance.catalog import load_catalog
from conformance.render_html import render_html
from conformance.render_json import report_to_dict
from conformance.report_files import write_report
from conformance.validate import Validation, validate_pool, validation_report
from environments.manager.facts import parse_facts
from environments.manager.join import join_manager
from environments.manager.merge import with_manager
from environments.ssh.inventory import ManagerEntry
from ovmref.host.installed_pool import InstalledPool
from ovmref.readiness.findings import GUEST_HA_POOL_OFF, RESTART_ON_CRASH, readiness_findings
from ovmref.readiness.nplus1 import n_plus_one
from ovmref.readiness.readout import PoolReadout
from ovmref.release import Release
from tests.core.test_validate import _description, _opener, _pool
from tests.manager.conftest import healthy_objects
from tests.manager.lookalike import PASSWORD, USER, Lookalike, vm
from tests.readiness.pools import pool

SERVERS = [("vmserver1", 4096), ("vmserver2", 4096), ("vmserver3", 4096)]
# as the servers and the inventory say it: the pool's HA not known, web1's vm.cfg says HA off
GUESTS = [
    ("web1", "vmserver1", 1024, False),
    ("db1", "vmserver2", 1024, True),
    ("tools", "vmserver2", 512, False),
]


def _ssh_readout() -> PoolReadout:
    return pool(SERVERS, GUESTS, pool_ha=None, manager="")


@functools.cache
def _installed() -> InstalledPool:
    return _pool(Release.R3)


def _validate(look: Lookalike, log: list[str], monkeypatch: pytest.MonkeyPatch) -> Validation:
    monkeypatch.setenv("OVM_TEST_MANAGER_PW", PASSWORD)
    entry = ManagerEntry(look.host, look.port, USER, password_env="OVM_TEST_MANAGER_PW", ca_file=look.ca_file)
    installed = _installed()

    def read_out(release: Release, unreachable: Mapping[str, str]) -> PoolReadout:
        return join_manager(_ssh_readout(), entry, log.append)

    return validate_pool(_description(installed), _opener(installed), read_out=read_out)


def _statuses(v: Validation) -> dict[str, str]:
    return {f.rule: f.status for f in v.findings if f.server is None}


def test_the_managers_facts_win_and_feed_the_readiness_rules(
    manager: Lookalike, monkeypatch: pytest.MonkeyPatch
) -> None:
    log: list[str] = []
    v = _validate(manager, log, monkeypatch)
    assert v.readout is not None
    assert (v.readout.pool_ha, v.readout.master) == (True, "vmserver1")
    assert v.readout.pool_ha_source == "Oracle VM Manager 127.0.0.1: ServerPool.clusterId"
    guests = {g.name: g for g in v.readout.guests}
    assert (guests["web1"].ha, guests["web1"].restart_on_crash) == (True, "RESTART")
    assert guests["db1"].restart_on_crash == "STOP" and guests["tools"].ha is False
    assert any("guest 'web1'" in n and "the Manager's is used" in n for n in v.notes)
    found = {f.rule: f for f in v.findings if f.server is None}
    assert found[GUEST_HA_POOL_OFF].status == "passed"
    crash = found[RESTART_ON_CRASH]
    assert crash.status == "unknown" and "'db1' (STOP)" in crash.message and "web1" not in crash.message
    assert crash.message.startswith("advisory: ")


def test_a_consistent_pool_passes_the_restart_on_crash_rule(tmp_path: Path) -> None:
    objects = healthy_objects()
    objects["Vm"] = [
        vm("web1", "vmserver1", True, vm_id_value="web1"),
        vm("db1", "vmserver2", True, vm_id_value="db1"),
        vm("tools", "vmserver2", False, vm_id_value="tools"),
    ]
    facts = parse_facts("m", objects["Server"], objects["ServerPool"], objects["Vm"])  # type: ignore[arg-type]
    readout = with_manager(_ssh_readout(), facts)
    found = {f.rule: f.status for f in readiness_findings(readout, n_plus_one(readout)) if f.server is None}
    assert found[RESTART_ON_CRASH] == "passed"


def test_the_rule_is_not_judged_without_a_manager_nor_on_2x() -> None:
    readout = _ssh_readout()
    assert RESTART_ON_CRASH not in {f.rule for f in readiness_findings(readout, n_plus_one(readout))}
    older = pool(SERVERS, GUESTS, release=Release.R2_2, restart_on_crash={"db1": "STOP"})
    assert RESTART_ON_CRASH not in {f.rule for f in readiness_findings(older, n_plus_one(older))}


def test_a_manager_named_without_credentials_is_said_and_leaves_its_facts_unknown() -> None:
    log: list[str] = []
    readout = join_manager(_ssh_readout(), ManagerEntry("ovmm.example.com"), log.append)
    assert log == [
        "manager: Oracle VM Manager ovmm.example.com: not read (the inventory gives no manager user with "
        "password_env or password_file)"
    ]
    assert readout.pool_ha is None
    found = {f.rule: f for f in readiness_findings(readout, n_plus_one(readout)) if f.server is None}
    assert (
        found[RESTART_ON_CRASH].status == "unknown" and "ovmm.example.com" in found[RESTART_ON_CRASH].message
    )


@pytest.mark.parametrize("status", [401, 403, 500])
def test_a_refusing_manager_is_reported_and_the_ssh_checks_still_run(
    manager: Lookalike, monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    manager.status = status
    log: list[str] = []
    v = _validate(manager, log, monkeypatch)
    assert (
        len(log) == 2
        and log[1].startswith("manager: Oracle VM Manager 127.0.0.1: ")
        and f"HTTP {status}" in log[1]
    )
    assert any(f.rule.startswith("PRE-") for f in v.findings), "the SSH prerequisite checks did not run"
    assert v.readout is not None and v.readout.pool_ha is None  # the Manager's facts are unknown
    assert _statuses(v)[RESTART_ON_CRASH] == "unknown"
    assert any(f"HTTP {status}" in n and "its facts are unknown" in n for n in v.notes)


def test_the_password_is_in_no_report_file_and_no_log_line(
    manager: Lookalike, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for status in (200, 401):
        manager.status = status
        log: list[str] = []
        v = _validate(manager, log, monkeypatch)
        report = validation_report(
            v,
            load_catalog(),
            run_id=f"r{status}",
            environment="ssh",
            started="2026-12-03T00:00:00+00:00",
            duration_s=1.0,
            replay="validate",
        )
        assert report_to_dict(report)["readiness"]["master"] == ("vmserver1" if status == 200 else None)
        html = render_html(report)
        assert "<p>Manager read-out: Oracle VM Manager 127.0.0.1" in html
        assert ("master: vmserver1" in html) == (status == 200)
        write_report(report, tmp_path / "reports")
        written = [p for p in (tmp_path / "reports").rglob("*") if p.is_file()]
        assert written
        for path in written:
            assert PASSWORD.encode() not in path.read_bytes(), path
        assert not any(PASSWORD in line for line in log)
    out = capsys.readouterr()
    assert PASSWORD not in out.out and PASSWORD not in out.err


def test_a_2x_pool_does_not_ask_the_manager(manager: Lookalike) -> None:
    log: list[str] = []
    older = pool(SERVERS, GUESTS, release=Release.R2_2, pool_ha=None, manager="")
    entry = ManagerEntry(manager.host, manager.port, USER, password_env="UNSET_PW", ca_file=manager.ca_file)
    readout = join_manager(older, entry, log.append)
    assert manager.seen == [] and readout.pool_ha is None
    assert log == [
        "manager: Oracle VM Manager 127.0.0.1: not read (its REST API is Oracle VM 3.x's; the pool is 2.2)"
    ]


def test_servers_whose_guests_were_not_read_leave_the_rule_unknown() -> None:
    objects = healthy_objects()
    facts = parse_facts("m", objects["Server"], objects["ServerPool"], [])  # type: ignore[arg-type]
    base = pool(SERVERS, [], manager="")
    unread = replace(base, servers=(replace(base.servers[0], why_unknown="no xm list"), *base.servers[1:]))
    readout = with_manager(unread, facts)
    found = {f.rule: f for f in readiness_findings(readout, n_plus_one(readout)) if f.server is None}
    assert found[RESTART_ON_CRASH].status == "unknown" and "'vmserver1'" in found[RESTART_ON_CRASH].message
    readout = with_manager(base, facts)
    found = {f.rule: f for f in readiness_findings(readout, n_plus_one(readout)) if f.server is None}
    assert found[RESTART_ON_CRASH].status == "passed"
