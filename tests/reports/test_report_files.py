"""The files a run writes: conformance.json, index.html, junit.xml, and the `latest` pointer."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from report_helpers import read_report, scenario_rows
from sandbox_project import child_env, write_project

Sandbox = Callable[..., pytest.Pytester]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """One run of the sandbox in a separate process, shared by the tests that read its files."""
    root = write_project(tmp_path_factory.mktemp("run"))
    command = [
        sys.executable,
        "-m",
        "pytest",
        "--ovm-run-id=run1",
        "--ovm-seed=5",
        "--ovm-release=2.1,2.2,3.x",
        f"--ovm-allure={root / 'allure'}",
    ]
    done = subprocess.run(command, cwd=root, env=child_env(), capture_output=True, text=True, check=False)
    assert done.returncode == pytest.ExitCode.TESTS_FAILED, done.stdout + done.stderr
    tail = done.stdout.splitlines()
    assert (
        "FAIL: 4 of 5 applicable rules run (3 passed, 1 failed); 1 not run: HA-UNTESTED; 15 scenario runs"
        in tail
    )
    assert "report: reports/run1/index.html" in tail
    assert "json:   reports/run1/conformance.json" in tail
    return root / "reports" / "run1", read_report(root, "run1")


def test_json_header_and_summary(finished_run: tuple[Path, dict[str, Any]]) -> None:
    _, report = finished_run
    assert report["schema"] == 3
    assert report["run_id"] == "run1"
    assert report["release"] == report["releases"] == ["2.1", "2.2", "3.x"]
    assert report["environment"] == "fake"
    assert report["seed"] == 5
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", report["started"])
    assert report["duration_s"] >= 0
    assert report["summary"] == {
        "rules": 5,
        "applicable": 5,
        "run": 4,
        "passed": 3,
        "failed": 1,
        "suite-error": 0,
        "environment-error": 0,
        "unknown": 0,
        "not-run": 1,
        "not-applicable": 0,
        "scenarios": {
            "total": 15,
            "passed": 5,
            "failed": 3,
            "suite-error": 0,
            "environment-error": 0,
            "unknown": 0,
            "not-run": 0,
            "not-applicable": 7,
        },
        "too_slow_to_judge": 0,
    }
    assert (report["verdict"], report["exit_code"], report["selection"]) == ("FAIL", 1, "")


def test_json_rules_carry_catalog_fields_and_reasons(finished_run: tuple[Path, dict[str, Any]]) -> None:
    _, report = finished_run
    rules = {r["id"]: r for r in report["rules"]}
    untested = rules["HA-UNTESTED"]
    assert untested["statement"] == "A rule no scenario checks."
    assert untested["releases"] == ["2.2", "3.x"]
    assert untested["kind"] == "prerequisite"
    assert untested["source"] == "Concepts Guide 3.0, 6.10 HA, 6.10"
    assert untested["sources"] == [
        {"doc": "con30", "title": "Concepts Guide 3.0, 6.10 HA", "section": "6.10", "quote": "master role"}
    ]
    assert untested["status"] == "not-run", "a rule no scenario ran for is not run, never passed"
    assert untested["reason_by_release"]["2.2"] == "no scenario checking this rule ran for 2.2"
    assert rules["HA-MASTER"]["status"] == "passed"
    assert rules["HA-BROKEN"]["status"] == "failed"


def test_failed_scenarios_carry_steps_message_and_replay_command(
    finished_run: tuple[Path, dict[str, Any]],
) -> None:
    _, report = finished_run
    failed = [s for s in scenario_rows(report) if s["status"] == "failed"]
    assert [s["nodeid"] for s in failed] == [
        f"test_failover.py::test_a_check_that_fails[{r}]" for r in ("2.1", "2.2", "3.x")
    ]
    first = failed[0]
    assert first["replay"] == (
        "python3 -m conformance run --env fake --release 2.1 --seed 5 "
        "--scenario 'test_failover.py::test_a_check_that_fails[2.1]'"
    )
    # the check's own words: no "AssertionError", no pytest introspection ("assert ..."), no address
    assert first["message"] == "step 'Then server2 runs 1 guests' failed: server2 runs [], expected 1 guests"
    assert first["failed_step"] == "Then server2 runs 1 guests"
    assert [(s["keyword"], s["text"], s["outcome"]) for s in first["steps"]] == [
        ("Given", "a pool of 2 servers with guest vm1 on server1", "passed"),
        ("Then", "server2 runs 1 guests", "failed"),
    ]
    assert first["feature"] == "failover.feature" and first["name"] == "A check that fails"
    assert first["line"] == 29
    assert first["duration_s"] > 0


def test_each_faults_outcome_is_measured_from_the_timeline(finished_run: tuple[Path, dict[str, Any]]) -> None:
    _, report = finished_run
    crash = next(s for s in scenario_rows(report) if s["name"].startswith("A crashed server"))
    # fake pool: 1 s iterations, declared dead after 5, guest boots in 2 s
    bound = 9000  # the driver's failover_bound_ms("crash"): (5 + 1) * 1 s + 1 s + 2 s boot
    assert crash["failover"] == [
        {
            "fault": {"kind": "crash", "victims": ["server1"]},
            "server": "server1",
            "guest": None,
            "at_ms": 3000,
            "detected_ms": 8000,
            "detected_by": "",
            "fenced_ms": 8000,
            "bound_ms": bound,
            "guests": [
                {
                    "guest": "vm1",
                    "was_on": "server1",
                    "server": "server2",
                    "running_ms": 10_000,
                    "setback": "",
                    "bound_ms": bound,
                }
            ],
        }
    ]


def test_html_escapes_catalog_text(finished_run: tuple[Path, dict[str, Any]]) -> None:
    run_dir, _ = finished_run
    page = (run_dir / "index.html").read_text()
    assert "violates &lt;on purpose&gt; &amp; visibly" in page
    assert "<on purpose>" not in page


def test_junit_has_a_suite_per_feature_and_release(finished_run: tuple[Path, dict[str, Any]]) -> None:
    run_dir, _ = finished_run
    root = ET.parse(run_dir / "junit.xml").getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("15", "3", "0")
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert sorted(suites) == [f"failover.feature [{r}]" for r in ("2.1", "2.2", "3.x")]
    suite = suites["failover.feature [2.2]"]
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("5", "1", "2")
    cases = suite.findall("testcase")
    assert {c.get("classname") for c in cases} == {"failover.ovm22"}
    names = [c.get("name") for c in cases]
    assert "A check that fails" in names and len(set(names)) == len(names)
    (failed,) = [c for c in cases if c.find("failure") is not None]
    props = {p.get("name"): p.get("value") for p in failed.iter("property")}
    assert props["rule"] == "HA-BROKEN" and props["release"] == "2.2" and props["status"] == "failed"
    failure = failed.find("failure")
    assert failure is not None and failure.get("message", "").startswith("step 'Then server2 runs 1 guests'")
    assert "FAIL  Then server2 runs 1 guests" in (failure.text or "")
    skipped = [c.find("skipped") for c in cases if c.find("skipped") is not None]
    assert all(s is not None and s.get("message", "").startswith("not applicable: ") for s in skipped)


def test_junit_is_read_by_junitparser_and_junit2html(
    finished_run: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """Dashboards' own readers: junitparser (the library many CI tools use) and junit2html."""
    junitparser = pytest.importorskip("junitparser", reason="junitparser is not installed")
    run_dir, _ = finished_run
    xml = junitparser.JUnitXml.fromfile(str(run_dir / "junit.xml"))
    cases = [(suite.name, case.classname, case.name) for suite in xml for case in suite]
    assert len(cases) == 15
    if importlib.util.find_spec("junit2htmlreport") is None:
        pytest.skip("junit2html is not installed")
    out = tmp_path / "junit.html"
    done = subprocess.run(
        [sys.executable, "-m", "junit2htmlreport", str(run_dir / "junit.xml"), str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    page = out.read_text()
    assert "failover.feature [2.2]" in page and "A check that fails" in page


def test_cucumber_json_has_a_feature_per_file_and_step_statuses(
    finished_run: tuple[Path, dict[str, Any]],
) -> None:
    run_dir, _ = finished_run
    features = json.loads((run_dir / "cucumber.json").read_text())
    assert [f["uri"] for f in features] == ["failover.feature"]
    (feature,) = features
    assert feature["keyword"] == "Feature" and feature["name"] == "HA failover on a fake pool"
    elements = feature["elements"]
    assert len(elements) == 15
    failed = [e for e in elements if e["name"] == "A check that fails [2.2]"]
    (element,) = failed
    assert {t["name"] for t in element["tags"]} == {"@release:2.2", "@rule:HA-BROKEN"}
    assert [(s["keyword"], s["result"]["status"]) for s in element["steps"]] == [
        ("Given ", "passed"),
        ("Then ", "failed"),
    ]
    assert "server2 runs [], expected 1 guests" in element["steps"][1]["result"]["error_message"]
    na = next(e for e in elements if e["name"] == "Only stated for 2.2 [2.1]")
    assert {s["result"]["status"] for s in na["steps"]} == {"skipped"}
    assert na["steps"][0]["result"]["error_message"].startswith("not applicable: ")


def test_allure_results_have_steps_labels_and_parameters(finished_run: tuple[Path, dict[str, Any]]) -> None:
    """Checked with allure's own test matchers (allure-python-commons-test), as allure's adapters are."""
    report_mod = pytest.importorskip(
        "allure_commons_test.report", reason="allure-python-commons-test missing"
    )
    hamcrest = pytest.importorskip("hamcrest")
    from allure_commons_test.label import has_epic, has_feature, has_severity, has_story
    from allure_commons_test.result import has_attachment, has_parameter, has_step, with_status

    run_dir, _ = finished_run
    allure = run_dir.parent.parent / "allure"
    results = list(allure.glob("*-result.json"))
    assert len(results) == 15, "one test per scenario and release"
    assert not list(allure.glob("*-container.json")), "no fixture containers"
    report = report_mod.AllureReport(str(allure))
    hamcrest.assert_that(
        report,
        report_mod.has_test_case(
            "A check that fails [2.2]",
            with_status("failed"),
            has_step("Given a pool of 2 servers with guest vm1 on server1", with_status("passed")),
            has_step("Then server2 runs 1 guests", with_status("failed")),
            has_epic("Failover"),
            has_feature("HA failover on a fake pool"),
            has_story("HA-BROKEN: A rule the fake pool violates <on purpose> & visibly."),
            has_severity("normal"),  # a placement rule
            has_parameter("release", "2.2"),
        ),
    )
    hamcrest.assert_that(
        report,
        report_mod.has_test_case(
            "A crashed server's guest restarts on another server [3.x]",
            with_status("passed"),
            has_attachment("image/svg+xml", "timeline"),
            has_severity("critical"),  # a scenario rule
        ),
    )
    crash = json.loads(next(p for p in results if "A crashed server" in p.read_text()).read_text())
    assert any(link["name"].startswith("HA-RESTART: User's Guide 2.1") for link in crash["links"])
    assert "> the guests are migrated or restarted" in crash["description"]


def test_latest_points_at_the_newest_run(sandbox: Sandbox) -> None:
    pt = sandbox(failing=False)
    pt.runpytest()
    pt.runpytest("--ovm-run-id=second")
    reports = pt.path / "reports"
    latest = reports / "latest"
    assert latest.is_symlink()
    assert latest.resolve() == (reports / "second").resolve()
    assert read_report(pt.path)["run_id"] == "second"
    (first,) = [p.name for p in reports.iterdir() if p.name not in ("latest", "second")]
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{6}", first), "default run id: UTC time + random hex"


def test_a_selection_leaves_latest_alone_unless_asked(sandbox: Sandbox) -> None:
    pt = sandbox(failing=False)
    pt.runpytest("--ovm-run-id=whole")
    pt.runpytest("--ovm-run-id=replay", "-k", "crashed")
    reports = pt.path / "reports"
    assert (reports / "latest").resolve() == (reports / "whole").resolve(), "a replay must not move latest"
    partial = read_report(pt.path, "replay")
    assert partial["verdict"] == "PARTIAL" and partial["selection"] == "-k crashed"
    pt.runpytest("--ovm-run-id=asked", "-k", "crashed", "--ovm-latest=yes")
    assert (reports / "latest").resolve() == (reports / "asked").resolve()


def test_an_existing_run_id_is_not_replaced_without_force(sandbox: Sandbox) -> None:
    pt = sandbox(failing=False)
    assert pt.runpytest("--ovm-run-id=same").ret == pytest.ExitCode.OK
    before = (pt.path / "reports" / "same" / "conformance.json").read_text()
    again = pt.runpytest("--ovm-run-id=same")
    assert again.ret == pytest.ExitCode.USAGE_ERROR
    again.stderr.fnmatch_lines(
        ["*reports/same already exists: choose another --ovm-run-id, or add --ovm-force*"]
    )
    assert (pt.path / "reports" / "same" / "conformance.json").read_text() == before
    assert pt.runpytest("--ovm-run-id=same", "--ovm-force").ret == pytest.ExitCode.OK


CUCUMBER_FEATURE = """\
Feature: A pool

  @rule:X
  Scenario: one
    Given a pool with:
      | server | memory |
      | s1     | 10     |
    When s1 fails
    Then it fails
    And later

  Scenario: two
    Given a thing that is undefined
"""
CUCUMBER_STEPS = """\
Given('a pool with:') { |table| }
When('s1 fails') { }
Then('it fails') { raise 'boom' }
Then('later') { }
"""


def _shape(features: list[dict[str, Any]]) -> dict[str, set[str]]:
    """The keys each level of a Cucumber JSON report uses."""
    elements = [e for f in features for e in f["elements"]]
    steps = [s for e in elements for s in e["steps"] if not s.get("hidden")]
    return {
        "feature": {k for f in features for k in f if k != "tags"},
        "element": {k for e in elements for k in e},
        "step": {k for s in steps for k in s} - {"doc_string"},
        "result": {k for s in steps for k in s["result"]},
        "statuses": {s["result"]["status"] for s in steps},
    }


def test_cucumber_json_has_the_shape_cucumbers_own_formatter_writes(
    finished_run: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """A differential test: Debian's cucumber writes the reference for the same kinds of steps."""
    import shutil

    cucumber = shutil.which("cucumber")
    if cucumber is None:
        pytest.skip("Cucumber's own formatter is not installed (apt-get install cucumber)")
    (tmp_path / "features" / "step_definitions").mkdir(parents=True)
    (tmp_path / "features" / "pool.feature").write_text(CUCUMBER_FEATURE)
    (tmp_path / "features" / "step_definitions" / "steps.rb").write_text(CUCUMBER_STEPS)
    subprocess.run(
        [cucumber, "--format", "json", "--out", "real.json"], cwd=tmp_path, capture_output=True, check=False
    )
    real = _shape(json.loads((tmp_path / "real.json").read_text()))
    run_dir, _ = finished_run
    ours = _shape(json.loads((run_dir / "cucumber.json").read_text()))
    for level in ("feature", "element", "step", "result"):
        assert ours[level] <= real[level] | {"rows"}, (level, ours[level] - real[level])
        assert real[level] - {"rows", "error_message"} <= ours[level], (level, real[level] - ours[level])
    assert ours["statuses"] <= {"passed", "failed", "skipped", "undefined"} == real["statuses"] | {"passed"}
