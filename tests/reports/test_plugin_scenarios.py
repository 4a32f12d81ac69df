"""The plugin as a user meets it: tags, release parametrisation, not-applicable skips, exit status."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from report_helpers import read_report, scenario_rows, statuses
from sandbox_project import CATALOG, FEATURE_HEAD, SCENARIO_STEPS

from conformance.options import derive_seed

Sandbox = Callable[..., pytest.Pytester]


def test_every_scenario_runs_once_per_selected_release(sandbox: Sandbox) -> None:
    result = sandbox().runpytest("-v", "--ovm-no-report")
    for release in ("2.1", "2.2", "3.x"):
        result.stdout.fnmatch_lines(
            [f"*test_a_crashed_servers_guest_restarts_on_another_server?{release}? PASSED*"]
        )
    result.assert_outcomes(passed=5, failed=3, skipped=7)


def test_release_option_selects_releases(sandbox: Sandbox) -> None:
    result = sandbox(failing=False).runpytest("-v", "--ovm-release=2.2,3.x", "--ovm-no-report")
    result.stdout.no_fnmatch_line("*[[]2.1[]]*")
    result.stdout.fnmatch_lines(["*test_only_stated_for_22?2.2? PASSED*"])
    result.assert_outcomes(passed=3, skipped=5)


def test_not_applicable_scenarios_are_skipped_with_the_reason(sandbox: Sandbox) -> None:
    result = sandbox(failing=False).runpytest("-rs", "--ovm-no-report")
    result.stdout.fnmatch_lines(
        [
            "SKIPPED [[]1[]] failover.feature:9: not applicable: the scenario is for release 2.2, not 2.1",
            "SKIPPED [[]1[]] failover.feature:15: not applicable: HA-OLD is not stated for 3.x",
            "SKIPPED [[]3[]] failover.feature:21: not applicable: only meaningful on sim",
        ]
    )
    assert result.ret == pytest.ExitCode.OK


def test_unknown_rule_tag_is_a_collection_error_naming_feature_scenario_and_id(sandbox: Sandbox) -> None:
    feature = FEATURE_HEAD.format(steps=SCENARIO_STEPS).replace("@rule:HA-OLD", "@rule:HA-NO-SUCH-RULE")
    result = sandbox(feature=feature).runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "*failover.feature:16: scenario 'A rule only stated for 2.1': "
            "@rule:HA-NO-SUCH-RULE is not in *rules.yaml"
        ]
    )
    result.stdout.no_fnmatch_line("*Traceback*")


def test_unknown_release_tag_is_a_collection_error(sandbox: Sandbox) -> None:
    feature = FEATURE_HEAD.format(steps=SCENARIO_STEPS).replace("@release:2.2", "@release:2.9")
    result = sandbox(feature=feature).runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        ["*scenario 'Only stated for 2.2': @release:2.9: unknown Oracle VM release '2.9'*"]
    )


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
        "HA-UNTESTED": {"2.1": "not-applicable", "2.2": "skipped", "3.x": "skipped"},
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
