"""The controller-side half of the plugin: collect every report, then write the conformance report.

Registered only in the controlling process (never in pytest-xdist
workers), in the manner of pytest's own junitxml plugin, so each result is
counted once and one process writes the files.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from conformance import console
from conformance.catalog import CatalogError
from conformance.options import catalog_of, ovm_options_of
from conformance.render_allure import write_allure
from conformance.report_files import ReportPaths, write_report
from conformance.report_model import ConformanceReport, RunInfo, build_report
from conformance.results import METADATA_KEY, OUTCOME_KEY, ResultCollector, ScenarioMeta


class ConformanceSession:
    NAME = "ovm-conformance-session"

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.collector = ResultCollector()
        self.started = datetime.now(UTC).isoformat(timespec="seconds")
        self._t0 = time.monotonic()
        self.report: ConformanceReport | None = None
        self.paths: ReportPaths | None = None
        self.deselected = 0

    def pytest_sessionstart(self) -> None:
        self.started = datetime.now(UTC).isoformat(timespec="seconds")
        self._t0 = time.monotonic()

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected += len(items)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """A module of the suite that does not even import is a suite error, reported like a scenario."""
        if not report.failed:
            return
        opts = ovm_options_of(self.config)
        meta = ScenarioMeta(
            nodeid=report.nodeid or "collection",
            name=f"{report.nodeid or 'the suite'} cannot be collected",
            feature=report.nodeid.split("::")[0] if report.nodeid else "",
            rules=(),
            release="",
            environment=opts.environment,
            seed=0,
            replay="",
        )
        message = report_message(report).strip().splitlines()
        self.collector.add(
            nodeid=meta.nodeid,
            when="collect",
            outcome="failed",
            duration_s=0.0,
            user_properties=[
                (METADATA_KEY, meta.to_json()),
                (OUTCOME_KEY, json.dumps({"kind": "suite", "message": message[-1] if message else ""})),
            ],
            message="",
        )

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.collector.add(
            nodeid=report.nodeid,
            when=report.when or "call",
            outcome=report.outcome,
            duration_s=report.duration,
            user_properties=[(str(k), v) for k, v in report.user_properties],
            message=report_message(report),
        )

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if not len(self.collector):
            return  # no scenario ran (a unit-test run): nothing to report
        try:
            catalog = catalog_of(self.config)
        except CatalogError:
            return  # collection has already reported the broken catalog
        opts = ovm_options_of(self.config)
        run = RunInfo(
            run_id=opts.run_id,
            environment=opts.environment,
            releases=opts.releases,
            seed=opts.seed,
            started=self.started,
            duration_s=time.monotonic() - self._t0,
            target=opts.target(),
            selection=self._selection(),
            stopped_early=_stopped_early(session, exitstatus),
        )
        self.report = build_report(catalog, self.collector.results(), run)
        if opts.write_report:
            move_latest = opts.latest == "yes" or (
                opts.latest == "auto" and not run.selection and not run.stopped_early
            )
            summary = console.closing_summary(self.report, None)
            self.paths = write_report(self.report, opts.report_dir, latest=move_latest, summary=summary)
        if opts.allure_dir is not None:
            write_allure(self.report, catalog, opts.allure_dir)
        if self.report.exit_code and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _selection(self) -> str:
        """How this run was narrowed down from the whole suite ('' when it was not)."""
        given = self.config.getoption("ovm_selection", default=None)
        if given:
            return str(given)
        option = self.config.option
        parts = []
        nodeids = [a for a in self.config.args if "::" in a]
        if nodeids:
            parts.append(f"{len(nodeids)} node id(s)")
        if getattr(option, "keyword", ""):
            parts.append(f"-k {option.keyword}")
        if getattr(option, "markexpr", ""):
            parts.append(f"-m {option.markexpr}")
        if self.deselected and not parts:
            parts.append(f"{self.deselected} deselected")
        return ", ".join(parts)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.report is None:
            return
        failures = console.short_failures(self.report)
        if failures:
            terminalreporter.write_sep("-", "scenarios that did not pass (short)")
            for line in failures:
                terminalreporter.write_line(line)
        if ovm_options_of(self.config).caller == "cli":
            return  # ovm-conformance prints the closing summary after pytest's own last line
        terminalreporter.write_sep("-", "OVM HA conformance")
        html = display_path(self.paths.html) if self.paths is not None else None
        for line in console.closing_summary(self.report, html):
            terminalreporter.write_line(line)
        if self.paths is not None:
            terminalreporter.write_line(f"json:   {display_path(self.paths.json)}")


def _stopped_early(session: pytest.Session, exitstatus: int) -> str:
    for reason in (session.shouldfail, session.shouldstop):
        if isinstance(reason, str) and reason:
            return reason
    if exitstatus == pytest.ExitCode.INTERRUPTED:
        return "interrupted"
    return ""


def display_path(path: Path) -> str:
    """Relative to the current directory when below it, else absolute."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return str(path)
    return str(path) if relative.startswith("..") else relative


def report_message(report: pytest.TestReport | pytest.CollectReport) -> str:
    """One readable line or paragraph: the skip reason or the exception pytest caught."""
    if report.passed:
        return ""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        return str(crash.message)
    return report.longreprtext[-2000:]
