"""pytest plugin: turns pytest-bdd scenarios into per-release conformance checks with evidence.

Registered by the repository's conftest.py (`pytest_plugins`), or with
`-p conformance.plugin` by `ovm-conformance run`. It maps feature tags to
marks, runs every scenario once per selected release, gives each a
reproducible seed and a pool driver, records each Given/When/Then step's
outcome and the driver's timeline on the test report (which pytest-xdist
carries to the controller), and at the end writes the conformance report.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import replace
from typing import Any, cast, get_args

import pytest

import environments
from conformance import messages, scenario_info, suite
from conformance.catalog import Catalog, CatalogError
from conformance.evidence import cap_timeline
from conformance.options import (
    OPTIONS_KEY,
    OptionError,
    OvmOptions,
    catalog_of,
    check_environment,
    check_real_pool,
    check_run_id,
    check_writable_dir,
    derive_seed,
    is_controller,
    new_run_id,
    ovm_options_of,
    parse_releases,
    replay_command,
)
from conformance.reporting import ConformanceSession
from conformance.results import EVIDENCE_KEY, METADATA_KEY, OUTCOME_KEY, ScenarioMeta
from conformance.statuses import from_pytest, terminal_word
from environments.base import EnvironmentBroken, PoolDriver, TooSlowToJudge
from environments.model import FaultKind, InjectedFault
from environments.outcome import fault_outcomes
from ovmref.release import Release
from ovmref.timing import O2CBTimings

META_KEY = pytest.StashKey[ScenarioMeta]()
DRIVER_KEY = pytest.StashKey[PoolDriver]()
STEPS_KEY = pytest.StashKey[list[str]]()  # outcome per step of the running scenario
FAILED_STEP_KEY = pytest.StashKey[int]()
STARTED_KEY = pytest.StashKey[float]()
STEP_MS_KEY = pytest.StashKey[list[float]]()  # how long each step took
STEP_T0_KEY = pytest.StashKey[float]()
PROBLEMS_KEY = pytest.StashKey[dict[str, list[str]]]()  # scenario function -> its tag problems

MARKERS = (
    "ovm_rule(id): the rule(s) of the catalog a scenario checks",
    "ovm_release(release): a release the scenario applies to",
    "ovm_env(name): the scenario only makes sense in this environment",
    "destructive: the scenario changes the pool (fails, shuts down or deletes servers)",
)


# ---- options and configuration ----------------------------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ovm", "Oracle VM HA conformance")
    group.addoption("--ovm-env", default="sim", help="environment to run the pool in (default: sim)")
    group.addoption(
        "--ovm-release",
        default="all",
        help="release(s) to check: 2.1, 2.2, 3.x, a comma list or all (default)",
    )
    group.addoption(
        "--ovm-seed", type=int, default=1, help="base seed; each scenario derives its own (default 1)"
    )
    group.addoption("--ovm-report-dir", default="reports", help="where run directories are written")
    group.addoption("--ovm-no-report", action="store_true", help="do not write a conformance report")
    group.addoption(
        "--ovm-run-id", default=None, help="name of the run directory (default: UTC time + random)"
    )
    group.addoption(
        "--ovm-force", action="store_true", help="let --ovm-run-id replace an existing run directory"
    )
    group.addoption(
        "--ovm-latest",
        choices=("auto", "yes", "no"),
        default="auto",
        help="point reports/latest at this run: auto (default) does for a run of the whole suite, "
        "not for a selection (a replay)",
    )
    group.addoption("--ovm-catalog", default=None, help="rule catalog (default: the suite's rules.yaml)")
    group.addoption(
        "--ovm-features",
        metavar="DIR",
        default=None,
        help="run the .feature files of DIR with the suite's steps (its rules.yaml, if any, is the catalog)",
    )
    group.addoption("--ovm-allure", metavar="DIR", default=None, help="also write allure results to DIR")
    group.addoption(
        "--ovm-allow-destructive",
        metavar="POOLNAME",
        default=None,
        help="allow destructive scenarios on this (real) pool",
    )
    group.addoption("--ovm-inventory", metavar="PATH", default=None, help="inventory of real hosts")
    # how the caller narrowed the run (e.g. "--scenario master"), for the report's PARTIAL verdict
    group.addoption("--ovm-selection", default=None, help=argparse.SUPPRESS)
    # who prints the closing summary: pytest's terminal summary, or `ovm-conformance run` after it
    group.addoption("--ovm-caller", default="pytest", help=argparse.SUPPRESS, choices=("pytest", "cli"))


def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    here = config.invocation_params.dir
    features = config.getoption("ovm_features")
    features_dir = (here / features).resolve() if features else None
    if features_dir is not None and not features_dir.is_dir():
        raise pytest.UsageError(f"--ovm-features {features}: not a directory")
    suite.bind_directory(features_dir, config.rootpath)
    try:
        releases = parse_releases(config.getoption("ovm_release"))
        env = check_environment(config.getoption("ovm_env"))
        run_id = check_run_id(config.getoption("ovm_run_id"), "--ovm-run-id") or new_run_id()
    except OptionError as exc:
        raise pytest.UsageError(str(exc)) from None
    catalog = config.getoption("ovm_catalog")
    inventory = config.getoption("ovm_inventory")
    allow_destructive = config.getoption("ovm_allow_destructive")
    try:
        pool_name = check_real_pool(env, here / inventory if inventory else None, allow_destructive)
    except OptionError as exc:
        raise pytest.UsageError(str(exc)) from None
    allure = config.getoption("ovm_allure")
    options = OvmOptions(
        environment=env,
        releases=releases,
        seed=config.getoption("ovm_seed"),
        report_dir=here / config.getoption("ovm_report_dir"),
        write_report=not config.getoption("ovm_no_report"),
        run_id=run_id,
        catalog_path=here / catalog if catalog else suite.default_catalog(features_dir),
        allow_destructive=allow_destructive,
        inventory=here / inventory if inventory else None,
        pool_name=pool_name,
        features_dir=features_dir,
        allure_dir=here / allure if allure else None,
        force=config.getoption("ovm_force"),
        latest=config.getoption("ovm_latest"),
        caller=config.getoption("ovm_caller"),
    )
    config.stash[OPTIONS_KEY] = options
    config.stash[PROBLEMS_KEY] = {}
    if is_controller(config) and options.write_report:
        _check_report_paths(options)
    if is_controller(config):
        config.pluginmanager.register(ConformanceSession(config), ConformanceSession.NAME)


def _check_report_paths(options: OvmOptions) -> None:
    """Before anything runs: the report can be written, and no earlier run is replaced unasked."""
    try:
        check_writable_dir(options.report_dir, "--ovm-report-dir")
        run_dir = options.report_dir / options.run_id
        if run_dir.exists() and not options.force:
            raise OptionError(
                f"{run_dir} already exists: choose another --ovm-run-id, or add --ovm-force to replace it"
            )
        if options.allure_dir is not None:
            check_writable_dir(options.allure_dir, "--ovm-allure")
    except OptionError as exc:
        raise pytest.UsageError(str(exc)) from None


def pytest_unconfigure(config: pytest.Config) -> None:
    session_plugin = config.pluginmanager.get_plugin(ConformanceSession.NAME)
    if session_plugin is not None:
        config.pluginmanager.unregister(session_plugin)
    suite.bind_directory(None)


# ---- feature tags -> marks --------------------------------------------------------------
@pytest.hookimpl(tryfirst=True)
def pytest_bdd_apply_tag(tag: str, function: Callable[..., object]) -> bool | None:
    """@rule:ID, @release:R, @env:E and @destructive become our marks; validated at collection."""
    name, sep, value = tag.partition(":")
    mark: pytest.MarkDecorator | None = None
    if sep and name == "rule":
        mark = pytest.mark.ovm_rule(value)
    elif sep and name == "release":
        mark = pytest.mark.ovm_release(value)
    elif sep and name == "env":
        mark = pytest.mark.ovm_env(value)
    elif not sep and tag == "destructive":
        mark = pytest.mark.destructive
    if mark is None:
        return None
    mark(function)
    return True


# ---- collection: release parametrisation, tag validation, applicability --------------------
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if not scenario_info.is_scenario(metafunc.function, metafunc.fixturenames):
        return
    config = metafunc.config
    try:
        catalog = catalog_of(config)
    except CatalogError as exc:
        raise pytest.Collector.CollectError(f"bad rule catalog: {exc}") from None
    problems = scenario_info.tag_problems(
        metafunc.function, metafunc.definition, catalog, environments.available(), suite.feature_label
    )
    if problems:  # a suite error of this scenario alone: the others still run
        config.stash[PROBLEMS_KEY][metafunc.definition.nodeid] = problems
    releases = [r.value for r in ovm_options_of(config).releases]
    metafunc.parametrize("ovm_release", releases, ids=releases, indirect=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    opts = ovm_options_of(config)
    problems = config.stash[PROBLEMS_KEY]
    for item in items:
        if not isinstance(item, pytest.Function):
            continue
        malformed = getattr(item.obj, "ovm_malformed_feature", None)
        if malformed is not None:
            _describe(item, _malformed_meta(item, str(malformed), opts))
            continue
        callspec = getattr(item, "callspec", None)
        if callspec is None or "ovm_release" not in callspec.params:
            continue
        release = Release.parse(str(callspec.params["ovm_release"]))
        meta = scenario_info.describe(item, release, opts.environment, derive_seed(opts.seed, item.nodeid))
        meta = _with_replay(meta, opts)
        _describe(item, meta)
        definition = f"{item.parent.nodeid}::{item.originalname}" if item.parent else item.nodeid
        if definition in problems:
            item.stash[scenario_info.PROBLEM_KEY] = "; ".join(problems[definition])
            continue
        reason = scenario_info.not_applicable_reason(
            item, release, opts.environment, catalog_of(config)
        ) or opts.not_allowed_reason(item.get_closest_marker("destructive") is not None)
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


def _with_replay(meta: ScenarioMeta, opts: OvmOptions) -> ScenarioMeta:
    replay = replay_command(
        opts.environment, meta.release, opts.seed, meta.nodeid, opts.inventory, opts.features_dir
    )
    return replace(meta, replay=replay)


def _malformed_meta(item: pytest.Function, feature: str, opts: OvmOptions) -> ScenarioMeta:
    return ScenarioMeta(
        nodeid=item.nodeid,
        name=f"{feature} does not parse",
        title=f"{feature} does not parse",
        feature=feature,
        rules=(),
        release="",
        environment=opts.environment,
        seed=0,
        replay=replay_command(
            opts.environment, "all", opts.seed, item.nodeid, opts.inventory, opts.features_dir
        ),
    )


def _describe(item: pytest.Item, meta: ScenarioMeta) -> None:
    item.stash[META_KEY] = meta
    item.user_properties.append((METADATA_KEY, meta.to_json()))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A scenario whose tags name nothing real fails as a suite error before it starts."""
    problem = item.stash.get(scenario_info.PROBLEM_KEY, None)
    if problem:
        raise suite.SuiteError(problem)


# ---- fixtures ---------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def ovm_release(request: pytest.FixtureRequest) -> Release:
    """The release under test: one of the selected releases per scenario run (first one elsewhere)."""
    param = getattr(request, "param", None)
    if param is None:
        return ovm_options_of(request.config).releases[0]
    return Release.parse(str(param))


@pytest.fixture(scope="session")
def ovm_options(request: pytest.FixtureRequest) -> OvmOptions:
    return ovm_options_of(request.config)


@pytest.fixture(scope="session")
def ovm_catalog(request: pytest.FixtureRequest) -> Catalog:
    return catalog_of(request.config)


@pytest.fixture
def ovm_seed(request: pytest.FixtureRequest, ovm_options: OvmOptions) -> int:
    """This test's own seed, derived from --ovm-seed and its node id."""
    return derive_seed(ovm_options.seed, request.node.nodeid)


@pytest.fixture
def ovm_driver(
    request: pytest.FixtureRequest, ovm_release: Release, ovm_seed: int, ovm_options: OvmOptions
) -> Iterator[PoolDriver]:
    """A fresh pool driver for this scenario; closed afterwards, its timeline kept as evidence."""
    driver = environments.create(
        ovm_options.environment, ovm_release, seed=ovm_seed, **ovm_options.driver_options()
    )
    request.node.stash[DRIVER_KEY] = driver
    try:
        yield driver
    finally:
        driver.close()


@pytest.fixture
def ovm_timings(ovm_driver: PoolDriver) -> O2CBTimings:
    return ovm_driver.timings


# ---- Given/When/Then outcomes -------------------------------------------------------------
def pytest_bdd_before_scenario(request: pytest.FixtureRequest, feature: Any, scenario: Any) -> None:
    request.node.stash[STEPS_KEY] = ["not-reached"] * len(scenario.steps)
    request.node.stash[STEP_MS_KEY] = [0.0] * len(scenario.steps)
    request.node.stash[STARTED_KEY] = time.time()


def pytest_bdd_before_step(request: pytest.FixtureRequest) -> None:
    request.node.stash[STEP_T0_KEY] = time.perf_counter()


def _set_step(request: pytest.FixtureRequest, scenario: Any, step: Any, outcome: str) -> None:
    outcomes = request.node.stash.get(STEPS_KEY, None)
    index = next((i for i, s in enumerate(scenario.steps) if s is step), -1)
    if outcomes is not None and 0 <= index < len(outcomes):
        outcomes[index] = outcome
        t0 = request.node.stash.get(STEP_T0_KEY, None)
        if t0 is not None:
            request.node.stash[STEP_MS_KEY][index] = round((time.perf_counter() - t0) * 1000, 3)
        if outcome != "passed":
            request.node.stash[FAILED_STEP_KEY] = index


def pytest_bdd_after_step(request: pytest.FixtureRequest, scenario: Any, step: Any) -> None:
    _set_step(request, scenario, step, "passed")


def pytest_bdd_step_error(
    request: pytest.FixtureRequest, scenario: Any, step: Any, exception: Exception
) -> None:
    judged = not (messages.suite_problem(exception) or isinstance(exception, EnvironmentBroken))
    _set_step(request, scenario, step, "failed" if judged else "error")


def pytest_bdd_step_func_lookup_error(request: pytest.FixtureRequest, scenario: Any, step: Any) -> None:
    _set_step(request, scenario, step, "undefined")


# ---- evidence ---------------------------------------------------------------------------
@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if META_KEY not in item.stash:
        return report
    if report.skipped and isinstance(report.longrepr, tuple):
        report.longrepr = _at_scenario(item, report.longrepr)
    properties = list(report.user_properties)  # a copy: the item's list is shared by every phase
    if report.failed and call.excinfo is not None:
        kind = messages.classify(call.excinfo.value, call.when)
        where = _failed_step_text(item)
        message = messages.clean(call.excinfo.value, where)
        outcome: dict[str, object] = {"kind": kind, "message": message}
        if isinstance(call.excinfo.value, TooSlowToJudge):
            outcome["too_slow"] = True  # an environment error, counted apart in the report
        properties.append((OUTCOME_KEY, json.dumps(outcome)))
    if call.when == "call":
        properties.append((EVIDENCE_KEY, json.dumps(_evidence(item))))
    report.user_properties = properties
    return report


def _failed_step_text(item: pytest.Item) -> str:
    index = item.stash.get(FAILED_STEP_KEY, -1)
    steps = item.stash[META_KEY].steps
    if 0 <= index < len(steps):
        step = steps[index]
        return f"{step.keyword} {step.text}"
    return ""


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> tuple[str, str, str] | None:
    """pytest's progress letters and closing counts in the report's words (not applicable, not run...)."""
    props = dict(getattr(report, "user_properties", ()))  # collection reports have none
    if METADATA_KEY not in props or report.passed:
        return None
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
    kind = ""
    if report.failed and isinstance(props.get(OUTCOME_KEY), str):
        kind = str(json.loads(str(props[OUTCOME_KEY])).get("kind", ""))
    status = from_pytest(report.when or "call", report.outcome, str(reason).removeprefix("Skipped: "), kind)
    if status is None or (status == "failed" and report.when == "call"):
        return None  # pytest's own words already say it
    return terminal_word(status)


def _at_scenario(item: pytest.Item, longrepr: tuple[str, int, str]) -> tuple[str, int, str]:
    """Point a skip at the scenario in its .feature file rather than at pytest-bdd's wrapper."""
    template = scenario_info.template_of(getattr(item, "obj", None))
    if template is None:
        return longrepr
    path = os.path.relpath(template.feature.filename, item.config.rootpath)
    return (path, template.line_number - 1, longrepr[2])  # pytest prints lineno + 1


def _evidence(item: pytest.Item) -> dict[str, Any]:
    evidence: dict[str, Any] = {"started": item.stash.get(STARTED_KEY, 0.0)}
    if STEPS_KEY in item.stash:
        evidence["steps"] = item.stash[STEPS_KEY]
        evidence["step_ms"] = item.stash[STEP_MS_KEY]
    if FAILED_STEP_KEY in item.stash:
        evidence["failed_step"] = item.stash[FAILED_STEP_KEY]
    driver = item.stash.get(DRIVER_KEY, None)
    if driver is not None:
        try:
            timeline = driver.timeline()
        except Exception as exc:  # a broken environment must not hide the scenario's own result
            evidence["timeline_error"] = f"{type(exc).__name__}: {exc}"
        else:
            events = [e.as_dict() for e in timeline]
            evidence["timeline"], evidence["timeline_truncated"] = cap_timeline(events)
            evidence["failover"] = [o.as_dict() for o in fault_outcomes(timeline, _bound_of(driver))]
        evidence["latency"] = latency_evidence(driver)
    return evidence


def latency_evidence(driver: PoolDriver) -> dict[str, Any]:
    """The scenario's timing checks (limit, measured, granted, verdict) and the latency its run
    measured, per source (real ms); an exact clock grants nothing and says so."""
    ledger = driver.latency()
    return {
        "exact": ledger is None,
        "scale": None if ledger is None else ledger.scale,
        "checks": [j.as_dict() for j in driver.judgements()],
        "measured": {} if ledger is None else ledger.summary(),
    }


def _bound_of(driver: PoolDriver) -> Callable[[InjectedFault], int | None]:
    """The driver's failover bound for an injected fault's kind, when the port has one for it."""

    def bound(fault: InjectedFault) -> int | None:
        if fault.kind not in get_args(FaultKind):
            return None  # a guest crash, a second pool: no failover bound
        try:
            return driver.failover_bound_ms(cast(FaultKind, fault.kind))
        except ValueError:  # timings that do not know this kind
            return None

    return bound
