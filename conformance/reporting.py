"""The controller-side half of the plugin: collect every report, then write the conformance report.

Registered only in the controlling process (never in pytest-xdist
workers), in the manner of pytest's own junitxml plugin, so each result is
counted once and one process writes the files.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from conformance.catalog import CatalogError
from conformance.options import catalog_of, ovm_options_of
from conformance.report_files import ReportPaths, write_report
from conformance.report_model import ConformanceReport, RunInfo, build_report
from conformance.results import ResultCollector


class ConformanceSession:
    NAME = "ovm-conformance-session"

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.collector = ResultCollector()
        self.started = datetime.now(UTC).isoformat(timespec="seconds")
        self._t0 = time.monotonic()
        self.report: ConformanceReport | None = None
        self.paths: ReportPaths | None = None

    def pytest_sessionstart(self) -> None:
        self.started = datetime.now(UTC).isoformat(timespec="seconds")
        self._t0 = time.monotonic()

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
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
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
        )
        self.report = build_report(catalog, self.collector.results(), run)
        if opts.write_report:
            self.paths = write_report(self.report, opts.report_dir)
        if self.report.failed and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.report is None:
            return
        terminalreporter.write_sep("-", "OVM HA conformance")
        terminalreporter.write_line(summary_line(self.report))
        if self.paths is not None:
            terminalreporter.write_line(f"report: {display_path(self.paths.html)}")
            terminalreporter.write_line(f"json:   {display_path(self.paths.json)}")


def summary_line(report: ConformanceReport) -> str:
    rules = report.summary.rules
    counts = ", ".join(f"{rules[s]} {s}" for s in ("passed", "failed", "skipped", "not-applicable"))
    runs = len(report.scenarios)
    slow = f", {report.summary.too_slow} too slow to judge" if report.summary.too_slow else ""
    return f"{report.verdict}: {report.summary.rule_count} rules ({counts}); {runs} scenario runs{slow}"


def display_path(path: Path) -> str:
    """Relative to the current directory when below it, else absolute."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return str(path)
    return str(path) if relative.startswith("..") else relative


def report_message(report: pytest.TestReport) -> str:
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
