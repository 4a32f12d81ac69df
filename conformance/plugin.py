"""pytest plugin: turns pytest-bdd scenarios into per-release conformance checks with evidence.

Registered by the repository's conftest.py (`pytest_plugins`). It maps
feature tags to marks, runs every scenario once per selected release,
gives each a reproducible seed and a pool driver, attaches the driver's
timeline to the test report (which pytest-xdist carries to the
controller), and at the end writes the conformance report.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Generator, Iterator
from typing import Any, cast, get_args

import pytest

import environments
from conformance import scenario_info
from conformance.catalog import Catalog, CatalogError
from conformance.evidence import cap_timeline, failover_marks
from conformance.options import (
    OPTIONS_KEY,
    OptionError,
    OvmOptions,
    catalog_of,
    check_environment,
    check_real_pool,
    derive_seed,
    is_controller,
    new_run_id,
    ovm_options_of,
    parse_releases,
    replay_command,
)
from conformance.reporting import ConformanceSession
from conformance.results import EVIDENCE_KEY, METADATA_KEY, ScenarioMeta
from environments.base import EnvironmentError_, PoolDriver, TooSlowToJudge
from environments.model import FaultKind
from ovmref.release import Release
from ovmref.timing import O2CBTimings

META_KEY = pytest.StashKey[ScenarioMeta]()
DRIVER_KEY = pytest.StashKey[PoolDriver]()
FAILED_STEP_KEY = pytest.StashKey[str]()

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
    group.addoption("--ovm-catalog", default=None, help="rule catalog (default: features/rules.yaml)")
    group.addoption(
        "--ovm-allow-destructive",
        metavar="POOLNAME",
        default=None,
        help="allow destructive scenarios on this (real) pool",
    )
    group.addoption("--ovm-inventory", metavar="PATH", default=None, help="inventory of real hosts")


def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    here = config.invocation_params.dir
    try:
        releases = parse_releases(config.getoption("ovm_release"))
        env = check_environment(config.getoption("ovm_env"))
    except OptionError as exc:
        raise pytest.UsageError(str(exc)) from None
    catalog = config.getoption("ovm_catalog")
    inventory = config.getoption("ovm_inventory")
    allow_destructive = config.getoption("ovm_allow_destructive")
    try:
        pool_name = check_real_pool(env, here / inventory if inventory else None, allow_destructive)
    except OptionError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[OPTIONS_KEY] = OvmOptions(
        environment=env,
        releases=releases,
        seed=config.getoption("ovm_seed"),
        report_dir=here / config.getoption("ovm_report_dir"),
        write_report=not config.getoption("ovm_no_report"),
        run_id=config.getoption("ovm_run_id") or new_run_id(),
        catalog_path=here / catalog if catalog else None,
        allow_destructive=allow_destructive,
        inventory=here / inventory if inventory else None,
        pool_name=pool_name,
    )
    if is_controller(config):
        config.pluginmanager.register(ConformanceSession(config), ConformanceSession.NAME)


def pytest_unconfigure(config: pytest.Config) -> None:
    session_plugin = config.pluginmanager.get_plugin(ConformanceSession.NAME)
    if session_plugin is not None:
        config.pluginmanager.unregister(session_plugin)


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
        metafunc.function, metafunc.definition, catalog, environments.available(), config.rootpath
    )
    if problems:
        raise pytest.Collector.CollectError("\n".join(problems))
    releases = [r.value for r in ovm_options_of(config).releases]
    metafunc.parametrize("ovm_release", releases, ids=releases, indirect=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    opts = ovm_options_of(config)
    for item in items:
        callspec = getattr(item, "callspec", None)
        if not isinstance(item, pytest.Function) or callspec is None or "ovm_release" not in callspec.params:
            continue
        release = Release.parse(str(callspec.params["ovm_release"]))
        meta = ScenarioMeta(
            nodeid=item.nodeid,
            name=scenario_info.scenario_name(item.obj, item.name),
            feature=scenario_info.feature_path(item.obj, config.rootpath, item.nodeid),
            rules=scenario_info.rule_ids(item),
            release=release.value,
            environment=opts.environment,
            seed=derive_seed(opts.seed, item.nodeid),
            replay=replay_command(opts.environment, release.value, opts.seed, item.nodeid, opts.inventory),
        )
        item.stash[META_KEY] = meta
        item.user_properties.append((METADATA_KEY, meta.to_json()))
        reason = scenario_info.not_applicable_reason(
            item, release, opts.environment, catalog_of(config)
        ) or opts.not_allowed_reason(item.get_closest_marker("destructive") is not None)
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


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


# ---- evidence ---------------------------------------------------------------------------
def pytest_bdd_step_error(request: pytest.FixtureRequest, step: Any) -> None:
    """Remember which step failed, for the report message."""
    request.node.stash[FAILED_STEP_KEY] = f"{step.keyword} {step.name}".strip()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.skipped and isinstance(report.longrepr, tuple) and META_KEY in item.stash:
        report.longrepr = _at_scenario(item, report.longrepr)
    if call.when == "call" and META_KEY in item.stash:
        evidence = _evidence(item, call)
        report.user_properties.append((EVIDENCE_KEY, json.dumps(evidence)))
        _attach_to_allure(item, evidence)
    return report


def _at_scenario(item: pytest.Item, longrepr: tuple[str, int, str]) -> tuple[str, int, str]:
    """Point a skip at the scenario in its .feature file rather than at pytest-bdd's wrapper."""
    template = scenario_info.template_of(getattr(item, "obj", None))
    if template is None:
        return longrepr
    path = os.path.relpath(template.feature.filename, item.config.rootpath)
    return (path, template.line_number - 1, longrepr[2])  # pytest prints lineno + 1


def _evidence(item: pytest.Item, call: pytest.CallInfo[None]) -> dict[str, Any]:
    evidence: dict[str, Any] = {}
    if call.excinfo is not None and call.excinfo.errisinstance(EnvironmentError_):
        evidence["environment_error"] = True
        if call.excinfo.errisinstance(TooSlowToJudge):
            evidence["too_slow"] = True
    if FAILED_STEP_KEY in item.stash:
        evidence["failed_step"] = item.stash[FAILED_STEP_KEY]
    driver = item.stash.get(DRIVER_KEY, None)
    if driver is not None:
        try:
            events = [e.as_dict() for e in driver.timeline()]
        except Exception as exc:  # a broken environment must not hide the scenario's own result
            evidence["timeline_error"] = f"{type(exc).__name__}: {exc}"
        else:
            evidence["timeline"], evidence["timeline_truncated"] = cap_timeline(events)
            evidence["failover"] = failover_marks(evidence["timeline"], _bound_of(driver))
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


def _bound_of(driver: PoolDriver) -> Callable[[str], int | None]:
    """The driver's failover bound for a fault event's detail, when that names a fault kind."""

    def bound(fault: str) -> int | None:
        if fault not in get_args(FaultKind):
            return None  # e.g. "guest crash": no documented bound
        try:
            return driver.failover_bound_ms(cast(FaultKind, fault))
        except ValueError:  # timings that do not know this kind
            return None

    return bound


def _attach_to_allure(item: pytest.Item, evidence: dict[str, Any]) -> None:
    """Optional: when allure-pytest is writing results, add the SVG timeline and evidence."""
    if not item.config.getoption("allure_report_dir", default=None):
        return
    try:
        import allure  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return
    from conformance.timeline_svg import render_timeline_svg

    meta = item.stash[META_KEY]
    allure.attach(
        json.dumps(evidence, indent=1), name="evidence", attachment_type=allure.attachment_type.JSON
    )
    if any(e.get("kind") == "fault" for e in evidence.get("timeline", ())):
        svg = render_timeline_svg(evidence["timeline"], title=f"{meta.name} [{meta.release}]")
        allure.attach(svg, name="timeline", attachment_type=allure.attachment_type.SVG)
