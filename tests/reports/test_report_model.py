"""The rule matrix, evidence shaping, the SVG timeline and atomic report writing, without pytest runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sandbox_project import CATALOG

from conformance import report_files
from conformance.catalog import parse_catalog
from conformance.evidence import cap_timeline
from conformance.render_json import report_to_dict
from conformance.report_model import ConformanceReport, RunInfo, build_report, verdict_for
from conformance.results import ResultCollector, ScenarioMeta, ScenarioResult, ScenarioStatus
from conformance.timeline_svg import render_timeline_svg
from ovmref.release import Release

CAT = parse_catalog(CATALOG)
RUN = RunInfo("r", "fake", (Release.R2_2, Release.R3), 1, "2025-01-01T00:00:00+00:00", 1.0)


def result(rule: str, release: str, status: ScenarioStatus, message: str = "", n: int = 0) -> ScenarioResult:
    meta = ScenarioMeta(
        f"t.py::test_{rule}_{n}[{release}]", "s", "f.feature", (rule,), release, "fake", 1, "replay"
    )
    return ScenarioResult(meta=meta, status=status, duration_s=0.1, message=message)


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["passed", "failed"], "failed"),
        (["passed", "not-run"], "passed"),
        (["not-applicable", "passed"], "passed"),
        (["not-applicable", "not-applicable"], "not-applicable"),
        (["not-run", "not-applicable"], "not-run"),
        (["passed", "environment-error"], "environment-error"),  # not judged: never passed
        (["passed", "suite-error"], "suite-error"),
        (["environment-error", "failed"], "failed"),
        ([], "not-run"),
    ],
)
def test_status_per_release(statuses: list[ScenarioStatus], expected: str) -> None:
    rule = CAT["HA-RESTART"]
    results = [result(rule.id, "2.2", s, n=i) for i, s in enumerate(statuses)]
    assert verdict_for(rule, Release.R2_2, results).status == expected


def test_not_run_verdicts_say_why() -> None:
    rule = CAT["HA-RESTART"]
    assert verdict_for(rule, Release.R2_2, []).reason == "no scenario checking this rule ran for 2.2"
    assert verdict_for(rule, Release.R2_2, [], "-k master").reason == "not selected in this run (-k master)"
    why = verdict_for(rule, Release.R2_2, [result(rule.id, "2.2", "not-run", "environment limitation: x")])
    assert why.reason == "no scenario ran: environment limitation: x"
    err = verdict_for(rule, Release.R2_2, [result(rule.id, "2.2", "environment-error", "ssh: unreachable")])
    assert err.reason == "1 of 1 scenario runs environment error: ssh: unreachable"
    assert (
        verdict_for(CAT["HA-OLD"], Release.R3, [result("HA-OLD", "3.x", "passed")]).status == "not-applicable"
    )


def report_of(*results: ScenarioResult, run: RunInfo = RUN) -> ConformanceReport:
    return build_report(CAT, list(results), run)


def test_overall_status_prefers_failed_then_passed_then_not_run() -> None:
    report = report_of(
        result("HA-RESTART", "2.2", "passed"),
        result("HA-RESTART", "3.x", "failed"),
        result("HA-MASTER", "3.x", "passed"),
    )
    overall = {row.rule.id: row.status for row in report.rows}
    assert overall == {
        "HA-RESTART": "failed",
        "HA-MASTER": "passed",  # not run on 2.2 (nothing ran), passed on 3.x
        "HA-OLD": "not-applicable",  # 2.1 only, and 2.1 was not selected
        "HA-BROKEN": "not-run",
        "HA-UNTESTED": "not-run",
    }
    assert report.verdict == "FAIL" and report.failed and report.exit_code == 1


def every_rule_passes(*extra: ScenarioResult) -> list[ScenarioResult]:
    return [
        result("HA-RESTART", "2.2", "passed"),
        result("HA-MASTER", "2.2", "passed"),
        result("HA-BROKEN", "2.2", "passed"),
        result("HA-UNTESTED", "2.2", "passed"),
        *extra,
    ]


def test_verdicts_and_exit_codes() -> None:
    only_22 = RunInfo("r", "fake", (Release.R2_2,), 1, "t", 1.0)
    cases = {
        "PASS": report_of(*every_rule_passes(), run=only_22),
        "PARTIAL": report_of(result("HA-RESTART", "2.2", "passed"), run=only_22),
        "FAIL": report_of(*every_rule_passes(result("HA-MASTER", "2.2", "failed", n=1)), run=only_22),
        "SUITE ERROR": report_of(
            *every_rule_passes(result("HA-MASTER", "2.2", "suite-error", n=1)), run=only_22
        ),
        "ENVIRONMENT ERROR": report_of(
            *every_rule_passes(result("HA-MASTER", "2.2", "environment-error", n=1)), run=only_22
        ),
        "INCOMPLETE": report_of(result("HA-RESTART", "2.2", "not-run"), run=only_22),
    }
    assert {verdict: r.verdict for verdict, r in cases.items()} == {v: v for v in cases}
    assert {v: r.exit_code for v, r in cases.items()} == {
        "PASS": 0,
        "PARTIAL": 0,
        "FAIL": 1,
        "SUITE ERROR": 5,
        "ENVIRONMENT ERROR": 4,
        "INCOMPLETE": 3,
    }
    stopped = RunInfo("r", "fake", (Release.R2_2,), 1, "t", 1.0, stopped_early="interrupted")
    assert report_of(*every_rule_passes(), run=stopped).verdict == "INCOMPLETE"


def test_a_partial_run_says_how_many_rules_were_run() -> None:
    run = RunInfo("r", "fake", (Release.R2_2,), 1, "t", 1.0, selection="--scenario master")
    report = report_of(result("HA-MASTER", "2.2", "passed"), run=run)
    assert report.verdict == "PARTIAL"
    assert report.verdict_line() == (
        "PARTIAL: 1 of 4 applicable rules run (1 passed); 3 not run: not selected (--scenario master); "
        "1 not applicable; 1 scenario runs"
    )


def test_scenarios_naming_no_catalog_rule_are_listed_apart() -> None:
    stray = result("HA-NOT-IN-CATALOG", "2.2", "passed")
    report = report_of(stray, result("HA-RESTART", "2.2", "passed"))
    assert report.unmapped == (stray,)
    data = report_to_dict(report)
    assert [s["nodeid"] for s in data["unmapped_scenarios"]] == [stray.meta.nodeid]
    assert data["release"] == ["2.2", "3.x"]
    json.dumps(data)  # serialisable as it is


def test_single_release_is_a_string_in_json() -> None:
    run = RunInfo("r", "fake", (Release.R2_1,), 1, "t", 0.0)
    assert report_to_dict(build_report(CAT, [], run))["release"] == "2.1"


def test_collector_merges_phases_and_keeps_the_worst_outcome() -> None:
    meta = ScenarioMeta("t.py::test_x[2.2]", "x", "f.feature", ("HA-RESTART",), "2.2", "fake", 3, "replay")
    props: list[tuple[str, object]] = [("ovm_scenario", meta.to_json())]
    evidence = json.dumps({"failed_step": 0, "steps": ["failed"], "timeline": [{"t_ms": 0, "kind": "fault"}]})
    outcome = json.dumps({"kind": "", "message": "step 'Then it works' failed: no"})
    collector = ResultCollector()
    collector.add(
        nodeid=meta.nodeid, when="setup", outcome="passed", duration_s=0.5, user_properties=props, message=""
    )
    collector.add(
        nodeid=meta.nodeid,
        when="call",
        outcome="failed",
        duration_s=1.0,
        user_properties=[*props, ("ovm_evidence", evidence), ("ovm_outcome", outcome)],
        message="AssertionError: no\nassert False",
    )
    collector.add(
        nodeid=meta.nodeid,
        when="teardown",
        outcome="passed",
        duration_s=0.25,
        user_properties=props,
        message="",
    )
    collector.add(
        nodeid="t.py::test_unit", when="call", outcome="passed", duration_s=1, user_properties=[], message=""
    )
    (only,) = collector.results()
    assert only.status == "failed"
    assert only.message == "step 'Then it works' failed: no"
    assert only.duration_s == 1.75
    assert only.has_fault and only.step_outcomes == ("failed",) and only.failed_step == 0


@pytest.mark.parametrize(
    ("when", "kind", "expected"),
    [
        ("call", "environment", "environment-error"),
        ("call", "suite", "suite-error"),
        ("setup", "", "environment-error"),  # the pool could not be built: no verdict on the rule
        ("call", "", "failed"),
    ],
)
def test_errors_of_the_environment_and_the_suite_are_not_failures(
    when: str, kind: str, expected: str
) -> None:
    meta = ScenarioMeta("t.py::test_x[2.2]", "x", "f.feature", ("HA-RESTART",), "2.2", "fake", 3, "replay")
    props: list[tuple[str, object]] = [
        ("ovm_scenario", meta.to_json()),
        ("ovm_outcome", json.dumps({"kind": kind, "message": "x"})),
    ]
    collector = ResultCollector()
    collector.add(
        nodeid=meta.nodeid, when=when, outcome="failed", duration_s=0, user_properties=props, message="x"
    )
    assert collector.results()[0].status == expected


def hb(t: int, server: str = "s1") -> dict[str, object]:
    return {"t_ms": t, "kind": "heartbeat", "server": server, "guest": None, "detail": ""}


def test_cap_timeline_keeps_every_non_heartbeat_event() -> None:
    events = [hb(t) for t in range(0, 10_000, 2)]
    events.insert(2500, {"t_ms": 5000, "kind": "fault", "server": "s1", "guest": None, "detail": "crash"})
    capped, truncated = cap_timeline(events, limit=100)
    assert truncated and len(capped) == 100
    assert sum(1 for e in capped if e["kind"] == "fault") == 1
    assert capped == sorted(capped, key=lambda e: int(str(e["t_ms"])))
    assert cap_timeline(events[:50], limit=100) == (events[:50], False)


def test_svg_has_a_lane_per_server_and_guest_and_escapes_text() -> None:
    events = [
        hb(0, "server10"),
        hb(0, "server2"),
        {"t_ms": 1000, "kind": "fault", "server": "server2", "guest": None, "detail": "<crash & burn>"},
        {"t_ms": 4000, "kind": "guest_running", "server": "server10", "guest": "vm1", "detail": ""},
    ]
    svg = render_timeline_svg(events, title="a <title>")
    labels = [">server2<", ">server10<", ">guest vm1<"]
    positions = [svg.index(label) for label in labels]
    assert positions == sorted(positions), "servers in natural order, then guests"
    assert "&lt;crash &amp; burn&gt;" in svg and "<crash" not in svg
    assert "a &lt;title&gt;" in svg
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")


def test_report_is_written_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = report_of(result("HA-RESTART", "2.2", "passed"))

    def broken(_: ConformanceReport) -> str:
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(report_files, "render_html", broken)
    with pytest.raises(RuntimeError):
        report_files.write_report(report, tmp_path)
    assert list(tmp_path.iterdir()) == [], "nothing half-written is left behind"


def test_latest_falls_back_to_a_pointer_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_symlinks(self: Path, target: str, target_is_directory: bool = False) -> None:
        raise OSError("symlinks not supported")

    monkeypatch.setattr(Path, "symlink_to", no_symlinks)
    paths = report_files.write_report(report_of(result("HA-RESTART", "2.2", "passed")), tmp_path)
    assert (tmp_path / "latest.txt").read_text() == "r\n"
    assert not (tmp_path / "latest").exists()
    assert report_files.latest_run_dir(tmp_path) == paths.run_dir
    assert sorted(p.name for p in paths.run_dir.iterdir()) == [
        "conformance.json",
        "cucumber.json",
        "index.html",
        "junit.xml",
    ]
