"""The rule matrix: catalog + scenario results -> one status per rule and release, and the verdict.

Every renderer (console, JSON, HTML, JUnit, allure, Cucumber) reads this one
model, so the verdicts they show cannot disagree. A rule that no scenario
ran for is `not-run`, never passed; a run that left applicable rules unrun
says PARTIAL, with how many were run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conformance.catalog import Catalog, Rule
from conformance.results import ScenarioResult
from conformance.statuses import EXIT_CODES, PRECEDENCE, STATUSES, Status, Verdict, label, worst
from ovmref.release import Release

RuleStatus = Status
RULE_STATUSES = STATUSES


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    environment: str
    releases: tuple[Release, ...]
    seed: int
    started: str  # ISO 8601, UTC
    duration_s: float
    target: str = ""  # a real pool: which one, from which inventory, read-only or not ("" elsewhere)
    selection: str = ""  # how the run was narrowed (a scenario, -k ...); "" for the whole suite
    stopped_early: str = ""  # why the run ended before every selected scenario ran ("" if it did not)


@dataclass(frozen=True)
class ReleaseVerdict:
    status: RuleStatus
    reason: str  # why, for anything but a plain pass


@dataclass(frozen=True)
class RuleRow:
    rule: Rule
    status: RuleStatus
    by_release: dict[Release, ReleaseVerdict]
    scenarios: tuple[ScenarioResult, ...]

    @property
    def groups(self) -> tuple[ScenarioGroup, ...]:
        """The scenarios as written, one badge per release each; failed first."""
        return group_scenarios(self.scenarios)

    @property
    def replays(self) -> tuple[str, ...]:
        """The replay command of each failed or errored run of this rule."""
        bad = [s for s in self.scenarios if s.status == self.status and s.status != "passed"]
        return tuple(dict.fromkeys(s.meta.replay for s in bad))


def worst_status(statuses: list[Status]) -> Status:
    """The status a reader must see first: a failure among passes, a pass among not-applicables."""
    return worst(statuses)


@dataclass(frozen=True)
class ScenarioGroup:
    """One scenario as written: its Outline examples and its runs per release, together."""

    name: str
    by_release: dict[str, tuple[ScenarioResult, ...]]  # release value -> runs (one per example)

    @property
    def status(self) -> Status:
        return worst_status([r.status for runs in self.by_release.values() for r in runs])

    @property
    def examples(self) -> int:
        """How many examples the scenario has (runs in one release)."""
        return max((len(runs) for runs in self.by_release.values()), default=0)


def group_scenarios(scenarios: tuple[ScenarioResult, ...]) -> tuple[ScenarioGroup, ...]:
    """Group by scenario as written (first seen order), failed groups first."""
    keys: dict[tuple[str, int, str], dict[str, list[ScenarioResult]]] = {}
    for s in scenarios:
        keys.setdefault(s.meta.template_key, {}).setdefault(s.meta.release, []).append(s)
    groups = [
        ScenarioGroup(key[2], {release: tuple(runs) for release, runs in by_release.items()})
        for key, by_release in keys.items()
    ]
    return tuple(sorted(groups, key=lambda g: PRECEDENCE.index(g.status)))


@dataclass(frozen=True)
class Summary:
    rules: Counter[str]
    scenarios: Counter[str]
    too_slow: int = 0  # errors (never failures) because a real-time run was too slow to judge

    @property
    def rule_count(self) -> int:
        return sum(self.rules.values())

    @property
    def applicable(self) -> int:
        return self.rule_count - self.rules["not-applicable"]

    @property
    def rules_run(self) -> int:
        """Applicable rules that some scenario ran for (whatever its outcome)."""
        return self.applicable - self.rules["not-run"]


@dataclass(frozen=True)
class ConformanceReport:
    run: RunInfo
    rows: tuple[RuleRow, ...]
    unmapped: tuple[ScenarioResult, ...]  # scenarios naming no catalog rule
    scenarios: tuple[ScenarioResult, ...]
    summary: Summary
    readiness: Mapping[str, Any] | None = None  # validate's guests and N+1 table (readiness_table)

    @property
    def verdict(self) -> Verdict:
        """FAIL > SUITE ERROR > ENVIRONMENT ERROR > INCOMPLETE > PARTIAL > PASS."""
        rules, runs = self.summary.rules, self.summary.scenarios
        if rules["failed"] or runs["failed"]:
            return "FAIL"
        if runs["suite-error"]:
            return "SUITE ERROR"
        if runs["environment-error"]:
            return "ENVIRONMENT ERROR"
        if runs["unknown"] or self.run.stopped_early or not runs["passed"]:
            return "INCOMPLETE"
        if rules["not-run"]:
            return "PARTIAL"
        return "PASS"

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    @property
    def failed(self) -> bool:
        return self.verdict == "FAIL"

    @property
    def suite_errors(self) -> tuple[ScenarioResult, ...]:
        return tuple(s for s in self.scenarios if s.status == "suite-error")

    @property
    def bad_rows(self) -> tuple[RuleRow, ...]:
        """Rules that failed or could not be judged, failed first."""
        bad = [r for r in self.rows if r.status in ("failed", "suite-error", "environment-error", "unknown")]
        return tuple(sorted(bad, key=lambda r: PRECEDENCE.index(r.status)))

    def verdict_line(self) -> str:
        """One line for the console and the HTML header: the verdict and what it rests on."""
        s = self.summary
        parts = [
            f"{s.rules[st]} {label(st)}"
            for st in ("passed", "failed", "suite-error", "environment-error", "unknown")
            if s.rules[st] or st == "passed"
        ]
        text = f"{self.verdict}: {s.rules_run} of {s.applicable} applicable rules run ({', '.join(parts)})"
        if s.rules["not-run"]:
            unrun = [r.rule.id for r in self.rows if r.status == "not-run"]
            names = ", ".join(unrun[:4]) + (", ..." if len(unrun) > 4 else "")
            why = f"not selected ({self.run.selection})" if self.run.selection else names
            text += f"; {s.rules['not-run']} not run: {why}"
        if s.rules["not-applicable"]:
            text += f"; {s.rules['not-applicable']} not applicable"
        if self.run.stopped_early:
            text += f"; the run stopped early: {self.run.stopped_early}"
        slow = f", {s.too_slow} too slow to judge (environment errors)" if s.too_slow else ""
        return text + f"; {len(self.scenarios)} scenario runs{slow}"


def build_report(catalog: Catalog, results: list[ScenarioResult], run: RunInfo) -> ConformanceReport:
    ordered = tuple(sorted(results, key=lambda r: (r.meta.nodeid, r.meta.release)))
    rows = tuple(_row(rule, ordered, run) for rule in catalog.rules)
    unmapped = tuple(r for r in ordered if not any(rule_id in catalog for rule_id in r.meta.rules))
    summary = Summary(
        rules=Counter({s: 0 for s in STATUSES} | Counter(row.status for row in rows)),
        scenarios=Counter({s: 0 for s in STATUSES} | Counter(r.status for r in ordered)),
        too_slow=sum(1 for r in ordered if r.too_slow),
    )
    return ConformanceReport(run=run, rows=rows, unmapped=unmapped, scenarios=ordered, summary=summary)


def _row(rule: Rule, results: tuple[ScenarioResult, ...], run: RunInfo) -> RuleRow:
    mine = tuple(r for r in results if rule.id in r.meta.rules)
    by_release = {
        release: verdict_for(
            rule, release, [r for r in mine if r.meta.release == release.value], run.selection
        )
        for release in run.releases
    }
    overall = worst([v.status for v in by_release.values()])
    return RuleRow(rule=rule, status=overall, by_release=by_release, scenarios=mine)


def verdict_for(
    rule: Rule, release: Release, scenarios: list[ScenarioResult], selection: str = ""
) -> ReleaseVerdict:
    """failed if a scenario failed; an error or unknown if one could not be judged; passed if one
    passed; not-applicable; else not-run, saying why."""
    if not rule.applies_to(release):
        return ReleaseVerdict("not-applicable", f"the documents do not state this rule for {release}")
    if rule.kind == "readiness" and not scenarios:
        return ReleaseVerdict(
            "not-applicable",
            "a readiness rule: judged by `validate --readiness` on a real pool's read-out, not by a scenario",
        )
    statuses = Counter(r.status for r in scenarios)
    for status in ("failed", "suite-error", "environment-error", "unknown"):
        if statuses[status]:
            reasons = sorted(
                {r.message.splitlines()[0] for r in scenarios if r.status == status and r.message}
            )
            head = f"{statuses[status]} of {len(scenarios)} scenario runs {label(status)}"
            return ReleaseVerdict(status, head + (": " + "; ".join(reasons[:3]) if reasons else ""))
    if statuses["passed"]:
        unrun = len(scenarios) - statuses["passed"] - statuses["not-applicable"]
        note = f"{statuses['passed']} scenario runs passed, {unrun} not run" if unrun else ""
        return ReleaseVerdict("passed", note)
    if scenarios and statuses["not-applicable"] == len(scenarios):
        return ReleaseVerdict("not-applicable", "every scenario is not applicable here")
    if not scenarios:
        if selection:
            return ReleaseVerdict("not-run", f"not selected in this run ({selection})")
        return ReleaseVerdict("not-run", f"no scenario checking this rule ran for {release}")
    reasons = sorted({r.message for r in scenarios if r.status == "not-run" and r.message})
    return ReleaseVerdict("not-run", "no scenario ran: " + "; ".join(reasons[:3]))
