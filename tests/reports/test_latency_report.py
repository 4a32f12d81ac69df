"""Timing checks in the report: what each was granted, and "too slow to judge" counted apart from failures."""

from __future__ import annotations

import json

from sandbox_project import CATALOG

from conformance.catalog import parse_catalog
from conformance.render_html import render_html
from conformance.render_json import report_to_dict
from conformance.report_model import RunInfo, build_report
from conformance.results import EVIDENCE_KEY, METADATA_KEY, OUTCOME_KEY, ResultCollector, ScenarioMeta
from environments.latency import Grant, Judgement

CAT = parse_catalog(CATALOG)
RUN = RunInfo("r", "local", (), 1, "2025-01-01T00:00:00+00:00", 1.0)
GRANT = Grant(0.03, (("detection", 12.5), ("start command", 3.0)), boot_ms=4.0, fault_ms=1.5, exact=False)


def collected(
    nodeid: str,
    outcome: str,
    message: str,
    evidence: dict[str, object],
    classified: dict[str, object] | None = None,
) -> ResultCollector:
    """One scenario's call report as the plugin sends it (`classified`: the failure's kind)."""
    meta = ScenarioMeta(nodeid, "s", "f.feature", ("HA-RESTART",), "2.2", "local", 1, "replay")
    properties: list[tuple[str, object]] = [
        (METADATA_KEY, meta.to_json()),
        (EVIDENCE_KEY, json.dumps(evidence)),
    ]
    if outcome == "failed":
        properties.append((OUTCOME_KEY, json.dumps(classified or {"kind": "", "message": message})))
    collector = ResultCollector()
    collector.add(
        nodeid=nodeid,
        when="call",
        outcome=outcome,
        duration_s=1.0,
        user_properties=properties,
        message=message,
    )
    return collector


def latency(verdict: str, measured: int | None) -> dict[str, object]:
    judgement = Judgement(
        "vm1 running on another server within the failover bound", 71000, measured, GRANT, verdict
    )  # type: ignore[arg-type]
    return {
        "exact": False,
        "scale": 0.03,
        "checks": [judgement.as_dict()],
        "measured": {"timer": {"count": 10, "median_ms": 1.0, "max_ms": 12.5}},
    }


def test_a_scenario_too_slow_to_judge_is_an_error_counted_apart_never_a_failure() -> None:
    slow = collected(
        "t.py::test_slow[2.2]",
        "failed",
        "too slow to judge: ...",
        {"latency": latency("too slow to judge", None)},
        {"kind": "environment", "message": "too slow to judge: ...", "too_slow": True},
    )
    late = collected(
        "t.py::test_late[2.2]",
        "failed",
        "vm1 came back 80000 ms after the fault",
        {"latency": latency("failed", 80000)},
    )
    results = slow.results() + late.results()
    assert [(r.status, r.too_slow) for r in results] == [("environment-error", True), ("failed", False)]
    report = build_report(CAT, results, RUN)
    assert report.summary.too_slow == 1
    data = report_to_dict(report)
    assert data["summary"]["too_slow_to_judge"] == 1
    assert (
        data["summary"]["scenarios"]["environment-error"] == 1 and data["summary"]["scenarios"]["failed"] == 1
    )
    scenario = next(s for s in data["rules"][0]["scenarios"] if s["nodeid"] == "t.py::test_slow[2.2]")
    assert scenario["too_slow_to_judge"] is True
    check = scenario["latency"]["checks"][0]
    assert check["granted_ms"] == GRANT.pool_ms == 700  # (12.5 + 3 + 4 + 1.5) ms / 0.03, rounded up
    assert check["lag_ms"] == {"detection": 12.5, "start command": 3.0}


def test_the_html_page_shows_each_timing_check_with_its_grant() -> None:
    results = collected(
        "t.py::test_late[2.2]", "failed", "late", {"latency": latency("failed", 80000)}
    ).results()
    page = render_html(build_report(CAT, results, RUN))
    assert "vm1 running on another server within the failover bound: 80 s (bound 71 s)" in page
    assert (
        "granted 0.7 s (1.0% of the bound): detection 12.5 ms, start command 3.0 ms, guest boot 4.0 ms"
        in page
    )
    assert "Latency measured (real time): timer 10 &times;, median 1.0 ms, max 12.5 ms" in page


def test_the_simulator_says_it_grants_nothing() -> None:
    exact = Judgement(
        "server1 seeing server3 dead within the O2CB dead threshold", 64000, 62000, Grant(), "passed"
    )
    evidence = {"latency": {"exact": True, "scale": None, "checks": [exact.as_dict()], "measured": {}}}
    page = render_html(
        build_report(CAT, collected("t.py::test_x[2.2]", "passed", "", evidence).results(), RUN)
    )
    assert "62 s (bound 64 s); exact clock: nothing granted" in page
