"""The files a run writes: conformance.json, index.html, junit.xml, and the `latest` pointer."""

from __future__ import annotations

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
    ]
    done = subprocess.run(command, cwd=root, env=child_env(), capture_output=True, text=True, check=False)
    assert done.returncode == pytest.ExitCode.TESTS_FAILED, done.stdout + done.stderr
    tail = done.stdout.splitlines()
    assert "FAIL: 5 rules (3 passed, 1 failed, 1 skipped, 0 not-applicable); 15 scenario runs" in tail
    assert "report: reports/run1/index.html" in tail
    assert "json:   reports/run1/conformance.json" in tail
    return root / "reports" / "run1", read_report(root, "run1")


def test_json_header_and_summary(finished_run: tuple[Path, dict[str, Any]]) -> None:
    _, report = finished_run
    assert report["schema"] == 1
    assert report["run_id"] == "run1"
    assert report["release"] == report["releases"] == ["2.1", "2.2", "3.x"]
    assert report["environment"] == "fake"
    assert report["seed"] == 5
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", report["started"])
    assert report["duration_s"] >= 0
    assert report["summary"] == {
        "rules": 5,
        "passed": 3,
        "failed": 1,
        "unknown": 0,
        "skipped": 1,
        "not-applicable": 0,
        "scenarios": {
            "total": 15,
            "passed": 5,
            "failed": 3,
            "error": 0,
            "unknown": 0,
            "skipped": 0,
            "not-applicable": 7,
        },
        "too_slow_to_judge": 0,
    }
    assert report["verdict"] == "FAIL"


def test_json_rules_carry_catalog_fields_and_reasons(finished_run: tuple[Path, dict[str, Any]]) -> None:
    _, report = finished_run
    rules = {r["id"]: r for r in report["rules"]}
    untested = rules["HA-UNTESTED"]
    assert untested["statement"] == "A rule no scenario checks."
    assert untested["releases"] == ["2.2", "3.x"]
    assert untested["kind"] == "prerequisite"
    assert untested["source"] == "Concepts Guide 3.0, 6.10 HA, 6.10"
    assert untested["status"] == "skipped"
    assert untested["reason_by_release"]["2.2"] == "no scenario checking this rule ran for 2.2"
    assert rules["HA-MASTER"]["status"] == "passed"
    assert rules["HA-BROKEN"]["status"] == "failed"


def test_failed_scenarios_carry_message_and_replay_command(finished_run: tuple[Path, dict[str, Any]]) -> None:
    _, report = finished_run
    failed = [s for s in scenario_rows(report) if s["status"] == "failed"]
    assert [s["nodeid"] for s in failed] == [
        f"test_failover.py::test_a_check_that_fails[{r}]" for r in ("2.1", "2.2", "3.x")
    ]
    first = failed[0]
    assert first["replay"] == (
        "python -m conformance run --env fake --release 2.1 --seed 5 "
        "--scenario 'test_failover.py::test_a_check_that_fails[2.1]'"
    )
    assert first["message"].startswith(
        "step 'Then server2 runs 1 guests' failed: AssertionError: server2 runs []"
    )
    assert first["feature"] == "failover.feature" and first["name"] == "A check that fails"
    assert first["duration_s"] > 0


def test_failover_marks_are_measured_from_the_timeline(finished_run: tuple[Path, dict[str, Any]]) -> None:
    _, report = finished_run
    crash = next(s for s in scenario_rows(report) if s["name"].startswith("A crashed server"))
    # fake pool: 1 s iterations, declared dead after 5, guest boots in 2 s
    assert crash["failover"] == [
        {
            "fault": "crash",
            "server": "server1",
            "at_s": 3.0,
            "detected_after_s": 5.0,
            "fenced_after_s": 5.0,
            "guests_running_after_s": {"vm1": 7.0},
            "bound_s": 9.0,  # the driver's failover_bound_ms("crash"): (5 + 1) * 1 s + 1 s + 2 s boot
        }
    ]


def test_html_has_header_matrix_evidence_and_a_timeline_for_the_fault(
    finished_run: tuple[Path, dict[str, Any]],
) -> None:
    run_dir, _ = finished_run
    page = (run_dir / "index.html").read_text()
    assert "<script" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "Verdict: FAIL" in page and "run1" in page
    assert page.count('<tr id="rule-') == 5
    row = re.search(r'<tr id="rule-HA-MASTER">.*?</tr>', page, re.S)
    assert row is not None
    assert re.findall(r'<span class="st ([a-z-]+)">', row.group(0))[:4] == [
        "passed",
        "not-applicable",
        "passed",
        "not-applicable",
    ]
    # scenarios grouped by name: one row per scenario, a badge per release linking to its evidence
    groups = re.findall(r'<li class="grp">(.*?)</li>', page)
    assert len(groups) == 5
    broken = re.search(r'<tr id="rule-HA-BROKEN">.*?</tr>', page, re.S)
    assert broken is not None
    (group,) = re.findall(r'<li class="grp">(.*?)</li>', broken.group(0))
    assert re.findall(r'<a class="st ([a-z-]+)" href="#sc-[0-9a-f]+" title="[^"]+">([^<]+)</a>', group) == [
        ("failed", "2.1"),
        ("failed", "2.2"),
        ("failed", "3.x"),
    ]
    # every link points to an evidence section that exists; every scenario run has one
    links = set(re.findall(r'href="#(sc-[0-9a-f]+)"', page))
    sections = set(re.findall(r'<section class="scenario" id="(sc-[0-9a-f]+)"', page))
    assert len(sections) == 15 and links <= sections
    # the failed runs are listed before the matrix, each with its replay command
    failed = page[page.index('id="failed"') : page.index("<h2>Rule matrix</h2>")]
    assert failed.count("<li>") == 3
    assert "--scenario &#x27;test_failover.py::test_a_check_that_fails[2.1]&#x27;" in failed
    # one SVG per run of the fault scenario: lanes for both servers and the guest, a bar per stretch
    svgs = re.findall(r"<svg.*?</svg>", page, re.S)
    assert len(svgs) == 3
    for label in (">server1<", ">server2<", ">guest vm1<", "fault: crash", "time (s)"):
        assert label in svgs[0]
    for kind in ("heartbeat", "fault", "node_down", "fence", "guest_stop"):
        assert f'class="ev {kind}"' in svgs[0]
    bars = re.findall(r'<g class="stretch" data-server="(\w+)"><title>([^<]*)</title>', svgs[0])
    assert [server for server, _ in bars] == ["server1", "server2"]
    assert bars[1][1].startswith("vm1 on server2: booting 8-10 s, running 10-end s")
    # the caption: detection and restart against the bound the plugin stored
    caption = re.search(r"<figcaption>(.*?)</figcaption>", page, re.S)
    assert caption is not None
    assert "detected after <strong>5 s</strong>" in caption.group(1)
    assert "vm1 running on server2 after <strong>7 s</strong> &le; bound 9 s" in caption.group(1)


def test_html_escapes_catalog_text(finished_run: tuple[Path, dict[str, Any]]) -> None:
    run_dir, _ = finished_run
    page = (run_dir / "index.html").read_text()
    assert "violates &lt;on purpose&gt; &amp; visibly" in page
    assert "<on purpose>" not in page


def test_junit_lists_every_scenario_run(finished_run: tuple[Path, dict[str, Any]]) -> None:
    run_dir, _ = finished_run
    suite = ET.parse(run_dir / "junit.xml").getroot()
    assert suite.tag == "testsuite"
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("15", "3", "7")
    cases = suite.findall("testcase")
    failed = [c for c in cases if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == [f"test_a_check_that_fails[{r}]" for r in ("2.1", "2.2", "3.x")]
    props = {p.get("name"): p.get("value") for p in failed[0].iter("property")}
    assert props["rule"] == "HA-BROKEN" and props["release"] == "2.1"


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
