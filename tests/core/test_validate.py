"""Pre-upgrade validation logic on in-memory pools opened read-only (no SSH needed here).

The SSH and container tests run the same function on real hosts; these pin
what it decides: a healthy pool passes every prerequisite, an unreachable
server or an unobservable fact is `unknown` (never `passed`), and the report
holds exactly the prerequisite rules.
"""

from __future__ import annotations

import errno

import pytest

from conformance.catalog import load_catalog
from conformance.validate import Member, PoolDescription, ValidationError, validate_pool, validation_report
from ovmref.host.installed_pool import InstalledPool, example_servers
from ovmref.hostfs import HostFS, ReadOnlyHostFS
from ovmref.prereq import rules_for
from ovmref.release import Release


def _pool(release: Release = Release.R2_2) -> InstalledPool:
    pool = InstalledPool(release, example_servers(3))
    pool.setup_ha()
    return pool


def _description(
    pool: InstalledPool, *, release: Release | None = None, node_slots: int | None = 16, dns: bool = False
) -> PoolDescription:
    return PoolDescription(
        name="pool1",
        cluster_root=pool.cluster_root,
        storage=pool.storage_kind,
        members=tuple(Member(s.name, s.fqdn, s.ip, s.ip) for s in pool.servers.values()),
        release=release,
        node_slots=node_slots,
        dns_zone=pool.dns_zone if dns else None,
    )


def _opener(pool: InstalledPool, down: set[str] = frozenset()):  # type: ignore[assignment]
    def open_host(name: str) -> HostFS:
        if name in down:
            raise OSError(errno.EHOSTUNREACH, f"{name}: connection timed out")
        return ReadOnlyHostFS(pool.hosts[name])

    return open_host


@pytest.mark.parametrize("release", list(Release))
def test_a_healthy_pool_passes_every_prerequisite_and_the_release_is_read_from_the_servers(
    release: Release,
) -> None:
    pool = _pool(release)
    result = validate_pool(_description(pool, release=None), _opener(pool))
    assert result.release is release
    assert {f.status for f in result.findings} == {"passed"}, [
        f for f in result.findings if f.status != "passed"
    ]
    assert {f.rule for f in result.findings} == set(rules_for(release, "nfs"))


def test_an_unreachable_server_is_unknown_on_every_rule_and_the_others_are_still_checked() -> None:
    pool = _pool(Release.R3)  # 3.x also states the pool-wide "more than one server" rule
    result = validate_pool(_description(pool), _opener(pool, {"vmserver2"}))
    mine = [f for f in result.findings if f.server == "vmserver2"]
    assert mine and {f.status for f in mine} == {"unknown"}
    assert all("unreachable" in f.message and "timed out" in f.message for f in mine)
    others = [f for f in result.findings if f.server in ("vmserver1", "vmserver3")]
    assert others and {f.status for f in others} == {"passed"}
    assert result.unreachable == {"vmserver2": "[Errno 113] vmserver2: connection timed out"}
    multi = [f for f in result.findings if f.rule == "PRE-MULTI-SERVER"]
    assert [f.status for f in multi] == ["passed"]  # counted on the inventory, not on who answered


def test_no_server_reachable_is_an_error_naming_each() -> None:
    pool = _pool()
    with pytest.raises(ValidationError, match=r"vmserver1: .*timed out.*vmserver3"):
        validate_pool(_description(pool), _opener(pool, {"vmserver1", "vmserver2", "vmserver3"}))


def test_unknown_node_slots_are_unknown_not_assumed() -> None:
    pool = _pool()
    result = validate_pool(_description(pool, node_slots=None), _opener(pool))
    slots = [f for f in result.findings if f.rule == "PRE-NODE-SLOTS"]
    assert slots and {f.status for f in slots} == {"unknown"}
    assert "node_slots" in slots[0].message


def test_dns_resolving_servers_without_the_site_dns_are_unknown_with_the_reason() -> None:
    pool = InstalledPool(Release.R2_2, example_servers(3), name_service="dns")
    pool.setup_ha()
    blind = validate_pool(_description(pool), _opener(pool))
    names = [f for f in blind.findings if f.rule == "PRE-NAME-RESOLUTION-CONSISTENT"]
    assert {f.status for f in names} == {"unknown"}, names
    told = validate_pool(_description(pool, dns=True), _opener(pool))
    assert {f.status for f in told.findings if f.rule == "PRE-NAME-RESOLUTION-CONSISTENT"} == {"passed"}


def test_a_broken_server_fails_its_rule_in_the_report_and_unknown_keeps_the_verdict_incomplete() -> None:
    pool = _pool()
    fs = pool.hosts["vmserver3"]
    fs.write_text("/etc/ovs-release", "Oracle VM server release 2.1.1\n")
    result = validate_pool(_description(pool), _opener(pool))
    report = validation_report(
        result,
        load_catalog(),
        run_id="v1",
        environment="ssh",
        started="2026-11-22T00:00:00+00:00",
        duration_s=1.0,
        replay="validate",
    )
    rows = {row.rule.id: row.status for row in report.rows}
    assert set(rows) == set(rules_for(Release.R2_2, "nfs"))
    assert rows["PRE-RELEASE-MIN"] == "failed" and report.verdict == "FAIL"
    others = {rule: status for rule, status in rows.items() if rule != "PRE-RELEASE-MIN"}
    assert set(others.values()) == {"passed"}

    pool2 = _pool()
    unknown = validation_report(
        validate_pool(_description(pool2), _opener(pool2, {"vmserver1"})),
        load_catalog(),
        run_id="v2",
        environment="ssh",
        started="2026-11-22T00:00:00+00:00",
        duration_s=1.0,
        replay="validate",
    )
    assert report.rows and unknown.verdict == "INCOMPLETE"
    assert {row.status for row in unknown.rows} <= {"unknown", "passed"}
    assert not any(row.status == "passed" for row in unknown.rows if row.rule.id != "PRE-MULTI-SERVER")
