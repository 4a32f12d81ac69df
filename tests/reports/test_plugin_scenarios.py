"""The plugin as a user meets it: tags, release parametrisation, not-applicable skips, exit status."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from report_helpers import read_report, scenario_rows, statuses
from sandbox_project import CATALOG, FEATURE_HEAD, SCENARIO_STEPS

from conformance.options import derive_seed

Sandbox = Callable[..., pytest.Pytester]


def outcomes(result: pytest.RunResult) -> dict[str, int]:
    """pytest's closing line, which the plugin makes speak the report's words ("7 not applicable")."""
    line = result.outlines[-1]
    return {word: int(n) for n, word in re.findall(r"(\d+) ([a-z][a-z ]*?)(?=,| in )", line)}


def test_every_scenario_runs_once_per_selected_release(sandbox: Sandbox) -> None:
    result = sandbox().runpytest("-v", "--ovm-no-report")
    for release in ("2.1", "2.2", "3.x"):
        result.stdout.fnmatch_lines(
            [f"*test_a_crashed_servers_guest_restarts_on_another_server?{release}? PASSED*"]
        )
    assert outcomes(result) == {"passed": 5, "failed": 3, "not applicable": 7}
    result.stdout.fnmatch_lines(["*test_only_stated_for_22?2.1? NOT APPLICABLE*"])


def test_release_option_selects_releases(sandbox: Sandbox) -> None:
    result = sandbox(failing=False).runpytest("-v", "--ovm-release=2.2,3.x", "--ovm-no-report")
    result.stdout.no_fnmatch_line("*[[]2.1[]]*")
    result.stdout.fnmatch_lines(["*test_only_stated_for_22?2.2? PASSED*"])
    assert outcomes(result) == {"passed": 3, "not applicable": 5}


def test_not_applicable_scenarios_carry_the_reason(sandbox: Sandbox) -> None:
    pt = sandbox(failing=False)
    result = pt.runpytest("--ovm-run-id=na")
    assert result.ret == pytest.ExitCode.OK
    reasons = {
        (s["name"], s["release"]): s["message"]
        for s in scenario_rows(read_report(pt.path, "na"))
        if s["status"] == "not-applicable"
    }
    assert (
        reasons[("Only stated for 2.2", "2.1")] == "not applicable: the scenario is for release 2.2, not 2.1"
    )
    assert reasons[("A rule only stated for 2.1", "3.x")] == "not applicable: HA-OLD is not stated for 3.x"
    assert reasons[("Only meaningful on the simulator", "2.2")] == "not applicable: only meaningful on sim"


def test_unknown_rule_tag_is_a_suite_error_of_that_scenario_naming_feature_line_and_id(
    sandbox: Sandbox,
) -> None:
    feature = FEATURE_HEAD.format(steps=SCENARIO_STEPS).replace("@rule:HA-OLD", "@rule:HA-NO-SUCH-RULE")
    pt = sandbox(feature=feature)
    result = pt.runpytest("--ovm-run-id=tag")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert outcomes(result)["suite error"] == 3
    rows = scenario_rows(read_report(pt.path, "tag"))
    bad = [s for s in rows if s["name"] == "A rule only stated for 2.1"]
    assert {s["status"] for s in bad} == {"suite-error"}
    assert bad[0]["message"].startswith(
        "failover.feature:16: scenario 'A rule only stated for 2.1': @rule:HA-NO-SUCH-RULE is not in "
    )
    assert {s["status"] for s in rows if s["name"] != "A rule only stated for 2.1"} <= {
        "passed",
        "not-applicable",
    }, "the other scenarios still ran"
    assert read_report(pt.path, "tag")["verdict"] == "SUITE ERROR"
    result.stdout.no_fnmatch_line("*Traceback*")


def test_unknown_release_tag_is_a_suite_error(sandbox: Sandbox) -> None:
    feature = FEATURE_HEAD.format(steps=SCENARIO_STEPS).replace("@release:2.2", "@release:2.9")
    pt = sandbox(feature=feature)
    pt.runpytest("--ovm-run-id=rel")
    (message,) = {
        s["message"] for s in scenario_rows(read_report(pt.path, "rel")) if s["name"] == "Only stated for 2.2"
    }
    assert "scenario 'Only stated for 2.2': @release:2.9: unknown Oracle VM release '2.9'" in message


TYPO = """\
Feature: HA failover on a fake pool

  @rule:HA-RESTART
  Scenario: A crashed server's guest restarts on another server
    Given a pool of 2 servers with guest vm1 on server1
    When server1 explodes
    Then vm1 runs on server2 within the failover bound
"""


def test_a_step_with_no_definition_is_a_suite_error_not_a_failed_rule(sandbox: Sandbox) -> None:
    pt = sandbox(feature=TYPO)
    result = pt.runpytest("--ovm-run-id=typo", "--ovm-release=2.2")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    report = read_report(pt.path, "typo")
    assert report["verdict"] == "SUITE ERROR" and report["exit_code"] == 5
    rule = next(r for r in report["rules"] if r["id"] == "HA-RESTART")
    assert rule["status"] == "suite-error", "an Oracle rule is never failed by a typo in a feature"
    (run,) = rule["scenarios"]
    assert run["message"].startswith('failover.feature:6: no step definition matches When "server1 explodes"')
    assert [s["outcome"] for s in run["steps"]] == ["passed", "undefined", "not-reached"]
    result.stdout.fnmatch_lines(["SUITE ERROR  failover.feature:4 [[]2.2[]]  A crashed server*"])


def test_a_malformed_feature_is_a_suite_error_naming_file_and_line_and_the_others_still_run(
    sandbox: Sandbox,
) -> None:
    pt = sandbox(failing=False)
    (pt.path / "broken.feature").write_text(
        "Feature: broken\n  Scenario: one\n    Given x\n  Given y\n  nonsense\n"
    )
    (pt.path / "test_failover.py").write_text(
        (pt.path / "test_failover.py")
        .read_text()
        .replace(
            'scenarios("failover.feature")',
            "from conformance.suite import malformed_feature_test, split_parsable\n"
            "from pathlib import Path\n"
            "_good, _bad = split_parsable(Path(__file__).parent)\n"
            "scenarios(*_good)\n"
            "for _p, _why in _bad.items():\n"
            "    _t = malformed_feature_test(_p, _why)\n"
            "    globals()[_t.__name__] = _t\n",
        )
    )
    result = pt.runpytest("--ovm-run-id=mal", "--ovm-release=2.2")
    report = read_report(pt.path, "mal")
    assert report["verdict"] == "SUITE ERROR"
    (broken,) = report["unmapped_scenarios"]
    assert broken["status"] == "suite-error"
    assert broken["message"].startswith("broken.feature:5: ")
    assert report["summary"]["scenarios"]["passed"] == 2, "the well-formed feature still ran"
    result.stdout.no_fnmatch_line("*Traceback*")


def test_one_node_id_is_a_partial_run(sandbox: Sandbox) -> None:
    pt = sandbox(failing=False)
    nodeid = "test_failover.py::test_a_crashed_servers_guest_restarts_on_another_server[2.2]"
    pt.runpytest(nodeid, "--ovm-run-id=one")
    report = read_report(pt.path, "one")
    assert report["verdict"] == "PARTIAL" and report["selection"] == "1 node id(s)"
    assert report["summary"]["passed"] == 1 and report["summary"]["not-run"] == 4


def test_a_selection_is_a_partial_run_and_never_a_pass_of_every_rule(sandbox: Sandbox) -> None:
    pt = sandbox(failing=False)
    result = pt.runpytest("--ovm-run-id=part", "-k", "crashed", "--ovm-release=2.2")
    report = read_report(pt.path, "part")
    assert report["verdict"] == "PARTIAL" and report["exit_code"] == 0
    assert report["summary"]["run"] == 1 and report["summary"]["not-run"] == 3
    result.stdout.fnmatch_lines(["PARTIAL: 1 of 4 applicable rules run (1 passed); 3 not run: not selected*"])


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--ovm-release=4.0", "*unknown Oracle VM release '4.0': expected one of 2.1, 2.2, 3.x (or 'all')*"),
        ("--ovm-env=vmware", "*unknown environment 'vmware': choose one of *"),
    ],
)
def test_bad_options_are_usage_errors(sandbox: Sandbox, option: str, message: str) -> None:
    result = sandbox().runpytest(option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_a_failing_applicable_rule_fails_the_run(sandbox: Sandbox) -> None:
    assert sandbox().runpytest("--ovm-no-report").ret == pytest.ExitCode.TESTS_FAILED


def test_a_run_without_failures_passes(sandbox: Sandbox) -> None:
    # (a separate test: pytest-bdd caches parsed .feature files per process)
    assert sandbox(failing=False).runpytest("--ovm-no-report").ret == pytest.ExitCode.OK


def test_tags_become_marks(sandbox: Sandbox) -> None:
    pt = sandbox()
    result = pt.runpytest("--collect-only", "-q", "-m", "destructive and ovm_rule", "--ovm-no-report")
    result.stdout.fnmatch_lines(["*3/15 tests collected (12 deselected)*"])


def test_seeds_are_derived_per_scenario_and_reproducible(sandbox: Sandbox) -> None:
    pt = sandbox(failing=False)
    pt.runpytest("--ovm-run-id=a", "--ovm-seed=7")
    pt.runpytest("--ovm-run-id=b", "--ovm-seed=7")
    seeds = {run: {s["nodeid"]: s["seed"] for s in scenario_rows(read_report(pt.path, run))} for run in "ab"}
    assert seeds["a"] == seeds["b"]
    assert len(set(seeds["a"].values())) == len(seeds["a"]), "every scenario run gets its own seed"
    assert all(seed == derive_seed(7, nodeid) for nodeid, seed in seeds["a"].items())
    assert all(derive_seed(8, nodeid) != seed for nodeid, seed in seeds["a"].items()), "the base seed matters"


def test_rule_statuses_follow_the_catalog_and_the_results(sandbox: Sandbox) -> None:
    pt = sandbox()
    pt.runpytest("--ovm-run-id=r1")
    assert statuses(read_report(pt.path, "r1")) == {
        "HA-RESTART": {"2.1": "passed", "2.2": "passed", "3.x": "passed"},
        "HA-MASTER": {"2.1": "not-applicable", "2.2": "passed", "3.x": "not-applicable"},
        "HA-OLD": {"2.1": "passed", "2.2": "not-applicable", "3.x": "not-applicable"},
        "HA-BROKEN": {"2.1": "failed", "2.2": "failed", "3.x": "failed"},
        "HA-UNTESTED": {"2.1": "not-applicable", "2.2": "not-run", "3.x": "not-run"},
    }


def test_fixtures_give_the_driver_its_release_and_seed(pytester: pytest.Pytester, sandbox: Sandbox) -> None:
    pt = sandbox()
    pt.makepyfile(
        test_fixtures="""
        import fake_pool

        def test_driver(ovm_driver, ovm_release, ovm_seed, ovm_timings, ovm_catalog, ovm_options):
            assert isinstance(ovm_driver, fake_pool.FakeDriver)
            assert ovm_driver.release is ovm_release
            assert ovm_release.value == "2.1"  # outside scenarios: the first selected release
            assert ovm_driver.seed == ovm_seed
            assert ovm_timings is ovm_driver.timings
            assert "HA-OLD" in ovm_catalog
            assert ovm_options.environment == "fake"
        """
    )
    result = pt.runpytest("test_fixtures.py", "--ovm-release=2.1,3.x")
    result.assert_outcomes(passed=1)
    assert not (pt.path / "reports").exists(), "no scenario ran, so no report is written"


def test_a_broken_catalog_stops_collection_with_file_and_line(sandbox: Sandbox) -> None:
    pt = sandbox()
    (pt.path / "rules.yaml").write_text(CATALOG.replace("kind: role", "kind: wish"))
    result = pt.runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["bad rule catalog: *rules.yaml:15: kind of rule HA-MASTER is 'wish'*"])
    result.stdout.no_fnmatch_line("*Traceback*")
    assert not (pt.path / "reports").exists()
