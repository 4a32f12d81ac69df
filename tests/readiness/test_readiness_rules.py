"""The readiness rules through `validate`: a healthy pool passes them all, a pool one server short
fails exactly the capacity rule of the right server naming exactly its guests, a guest with HA on in
a pool with HA off fails exactly that rule; the N+1 table is in the JSON and the HTML."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from conformance.catalog import load_catalog
from conformance.render_html import render_html
from conformance.render_json import report_to_dict
from conformance.report_model import ConformanceReport
from conformance.validate import Validation, validate_pool, validation_report
from ovmref.host.installed_pool import InstalledPool
from ovmref.prereq import Finding
from ovmref.readiness.findings import (
    FAILOVER_CAPACITY,
    GUEST_HA_POOL_OFF,
    PLANNED_CAPACITY,
    POOL_HA_GUEST_OFF,
    PREFERRED_AVAILABLE,
    READINESS_RULES,
    readiness_findings,
)
from ovmref.readiness.nplus1 import n_plus_one
from ovmref.readiness.readout import PoolReadout
from ovmref.release import Release
from tests.core.test_validate import _description, _opener, _pool
from tests.readiness.pools import pool

SERVERS = [("vmserver1", 4096), ("vmserver2", 4096), ("vmserver3", 4096)]
GUESTS = [
    ("web1", "vmserver1", 1024, True),
    ("db1", "vmserver1", 2048, True),
    ("web2", "vmserver2", 1024, True),
    ("app'; rm -rf / #", "vmserver3", 512, True),
]


def _bad(findings: list[Finding]) -> list[tuple[str, str | None, str]]:
    return [(f.rule, f.server, f.status) for f in findings if f.status != "passed"]


@functools.cache
def _installed() -> InstalledPool:
    return _pool(Release.R3)


def _validate(readout: PoolReadout) -> tuple[Validation, ConformanceReport]:
    installed = _installed()

    def read_out(release: Release, unreachable: Mapping[str, str]) -> PoolReadout:
        assert release is Release.R3 and not unreachable
        return readout

    result = validate_pool(_description(installed), _opener(installed), read_out=read_out)
    report = validation_report(
        result,
        load_catalog(),
        run_id="r1",
        environment="ssh",
        started="2026-12-03T00:00:00+00:00",
        duration_s=1.0,
        replay="validate",
    )
    return result, report


def test_a_healthy_pool_with_room_passes_every_readiness_rule_and_places_every_ha_guest() -> None:
    result, report = _validate(pool(SERVERS, GUESTS))
    assert not _bad(result.findings)
    assert {f.rule for f in result.findings} >= set(READINESS_RULES)
    assert report.verdict == "PASS" and report.exit_code == 0
    table = report_to_dict(report)["readiness"]["n_plus_one"]
    placed = {o["guest"]: o for s in table for o in s["if_failed"]}
    assert set(placed) == {g[0] for g in GUESTS}
    assert all(o["action"] == "restarted" and o["target"] for o in placed.values())
    assert {o["action"] for s in table for o in s["if_planned"]} == {"migrated"}


def test_a_pool_one_server_short_names_exactly_the_guests_powered_off_on_the_right_server() -> None:
    short = [("vmserver1", 512), ("vmserver2", 1536), ("vmserver3", 1024)]
    guests = [
        ("web1", "vmserver1", 1024, True),
        ("db1", "vmserver1", 2048, True),
        ("web2", "vmserver2", 512, True),
        ("app1", "vmserver3", 512, True),
    ]
    result, report = _validate(pool(short, guests))
    # vmserver1 fails: db1 (2048, first by name) fits nowhere, web1 (1024) takes vmserver2's 1536 MB
    assert _bad(result.findings) == [
        (FAILOVER_CAPACITY, "vmserver1", "failed"),
        (PLANNED_CAPACITY, "vmserver1", "failed"),
    ]
    message = next(
        f.message for f in result.findings if f.rule == FAILOVER_CAPACITY and f.server == "vmserver1"
    )
    assert "'db1'" in message and "'web1'" not in message and "room for their 2048 MB" in message
    assert report.verdict == "FAIL" and report.exit_code == 1
    table = report_to_dict(report)["readiness"]["n_plus_one"]
    off = {s["server"]: [o["guest"] for o in s["if_failed"] if o["action"] == "powered_off"] for s in table}
    assert off == {"vmserver1": ["db1"], "vmserver2": [], "vmserver3": []}
    where = {o["guest"]: o["target"] for s in table for o in s["if_failed"]}
    assert where == {"db1": None, "web1": "vmserver2", "web2": "vmserver3", "app1": "vmserver2"}


def test_a_guest_with_ha_on_in_a_pool_with_ha_off_fails_exactly_that_rule() -> None:
    result, report = _validate(pool(SERVERS, GUESTS, pool_ha=False))
    assert _bad(result.findings) == [(GUEST_HA_POOL_OFF, None, "failed")]
    message = next(f.message for f in result.findings if f.rule == GUEST_HA_POOL_OFF)
    assert all(repr(g[0]) in message for g in GUESTS)
    assert report.exit_code == 1


def test_a_guest_with_ha_off_in_an_ha_pool_fails_the_reverse_rule() -> None:
    guests = [*GUESTS[:3], ("plain", "vmserver3", 512, False)]
    result, _ = _validate(pool(SERVERS, guests))
    assert _bad(result.findings) == [(POOL_HA_GUEST_OFF, None, "failed")]


def test_preferred_servers_all_unavailable_fail_and_unknown_ones_are_unknown() -> None:
    p = pool(SERVERS, GUESTS, preferred={"web1": ("vmserver1", "vmserver2")}, maintenance=["vmserver2"])
    findings = readiness_findings(p, n_plus_one(p))
    preferred = next(f for f in findings if f.rule == PREFERRED_AVAILABLE)
    assert preferred.status == "failed" and "'web1'" in preferred.message
    unknown = PoolReadout(
        p.name,
        p.release,
        True,
        "inventory",
        p.servers,
        tuple(g.__class__(g.name, g.server, g.memory_mb, 1, True, "vm.cfg", None) for g in p.guests),
    )
    found = {f.rule: f.status for f in readiness_findings(unknown, n_plus_one(unknown)) if f.server is None}
    assert found[PREFERRED_AVAILABLE] == "unknown"


def test_unknown_pool_ha_leaves_the_verdict_incomplete_and_the_html_shows_the_table(tmp_path: Path) -> None:
    result, report = _validate(pool(SERVERS, GUESTS, pool_ha=None))
    statuses = {(f.rule, f.server): f.status for f in result.findings if f.rule in READINESS_RULES}
    assert "failed" not in statuses.values() and statuses[(GUEST_HA_POOL_OFF, None)] == "unknown"
    assert report.verdict == "INCOMPLETE" and report.exit_code == 3
    html = render_html(report)
    assert 'id="readiness"' in html and "app&#x27;; rm -rf / #" in html and "rm -rf / #'" not in html
    json.dumps(report_to_dict(report))


def test_the_read_outs_notes_are_in_the_json_and_escaped_in_the_html() -> None:
    said = 'guest "<b>x</b>" runs on vmserver1 (xm list), but Oracle VM Manager m lists no Vm with that id'
    _, report = _validate(replace(pool(SERVERS, GUESTS), notes=(said,)))
    assert report_to_dict(report)["readiness"]["notes"] == [said]
    html = render_html(report)
    assert "<li>guest &quot;&lt;b&gt;x&lt;/b&gt;&quot; runs on vmserver1" in html and "<b>x</b>" not in html
