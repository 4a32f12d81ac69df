"""The rule matrix: catalog + scenario results -> one status per rule and release.

Every renderer (JSON, HTML, JUnit) reads this one model, so the verdicts
they show cannot disagree.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Literal

from conformance.catalog import Catalog, Rule
from conformance.results import SCENARIO_STATUSES, ScenarioResult, ScenarioStatus
from ovmref.release import Release

RuleStatus = Literal["passed", "failed", "unknown", "skipped", "not-applicable"]
RULE_STATUSES: tuple[RuleStatus, ...] = ("passed", "failed", "unknown", "skipped", "not-applicable")
# overall status of a rule across releases: the first of these found wins
_OVERALL_ORDER: tuple[RuleStatus, ...] = ("failed", "unknown", "passed", "skipped", "not-applicable")


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    environment: str
    releases: tuple[Release, ...]
    seed: int
    started: str  # ISO 8601, UTC
    duration_s: float
    target: str = ""  # a real pool: which one, from which inventory, read-only or not ("" elsewhere)


@dataclass(frozen=True)
class ReleaseVerdict:
    status: RuleStatus
    reason: str  # why, for anything but passed


@dataclass(frozen=True)
class RuleRow:
    rule: Rule
    status: RuleStatus
    by_release: dict[Release, ReleaseVerdict]
    scenarios: tuple[ScenarioResult, ...]

    @property
    def groups(self) -> tuple[ScenarioGroup, ...]:
        """The scenarios by name, one badge per release each; failed first."""
        return group_scenarios(self.scenarios)


# which scenario status a grouped row shows when its examples disagree: the first found wins
_GROUP_ORDER: tuple[ScenarioStatus, ...] = (
    "failed",
    "error",
    "unknown",
    "skipped",
    "passed",
    "not-applicable",
)


def worst_status(statuses: list[ScenarioStatus]) -> ScenarioStatus:
    """The status a reader must see first: a failure among passes, a pass among not-applicables."""
    return next((s for s in _GROUP_ORDER if s in statuses), "not-applicable")


@dataclass(frozen=True)
class ScenarioGroup:
    """One scenario of a rule by name: its Outline examples and its runs per release, together."""

    name: str
    by_release: dict[str, tuple[ScenarioResult, ...]]  # release value -> runs (one per example)

    @property
    def status(self) -> ScenarioStatus:
        return worst_status([r.status for runs in self.by_release.values() for r in runs])

    @property
    def examples(self) -> int:
        """How many examples the scenario has (runs in one release)."""
        return max((len(runs) for runs in self.by_release.values()), default=0)

    def release_status(self, release: str) -> ScenarioStatus | None:
        runs = self.by_release.get(release, ())
        return worst_status([r.status for r in runs]) if runs else None

    def representative(self, release: str) -> ScenarioResult | None:
        """The run a release badge links to: the first one showing the badge's status."""
        status = self.release_status(release)
        return next((r for r in self.by_release.get(release, ()) if r.status == status), None)


def group_scenarios(scenarios: tuple[ScenarioResult, ...]) -> tuple[ScenarioGroup, ...]:
    """Group by scenario name (first seen order), failed groups first."""
    names: dict[str, dict[str, list[ScenarioResult]]] = {}
    for s in scenarios:
        names.setdefault(s.meta.name, {}).setdefault(s.meta.release, []).append(s)
    groups = [
        ScenarioGroup(name, {release: tuple(runs) for release, runs in by_release.items()})
        for name, by_release in names.items()
    ]
    return tuple(sorted(groups, key=lambda g: _GROUP_ORDER.index(g.status)))


@dataclass(frozen=True)
class Summary:
    rules: Counter[str]
    scenarios: Counter[str]
    too_slow: int = 0  # errors (never failures) because a real-time run was too slow to judge

    @property
    def rule_count(self) -> int:
        return sum(self.rules.values())


@dataclass(frozen=True)
class ConformanceReport:
    run: RunInfo
    rows: tuple[RuleRow, ...]
    unmapped: tuple[ScenarioResult, ...]  # scenarios naming no catalog rule
    scenarios: tuple[ScenarioResult, ...]
    summary: Summary

    @property
    def verdict(self) -> str:
        """One word for the header and the CLI: FAIL, INCOMPLETE or PASS."""
        if self.summary.rules["failed"] or self.summary.scenarios["failed"]:
            return "FAIL"
        if self.summary.scenarios["error"] or self.summary.scenarios["unknown"]:
            return "INCOMPLETE"
        if not self.summary.scenarios["passed"]:
            return "INCOMPLETE"
        return "PASS"

    @property
    def failed(self) -> bool:
        return self.verdict == "FAIL"


def build_report(catalog: Catalog, results: list[ScenarioResult], run: RunInfo) -> ConformanceReport:
    ordered = tuple(sorted(results, key=lambda r: (r.meta.nodeid, r.meta.release)))
    rows = tuple(_row(rule, ordered, run.releases) for rule in catalog.rules)
    unmapped = tuple(r for r in ordered if not any(rule_id in catalog for rule_id in r.meta.rules))
    summary = Summary(
        rules=Counter({s: 0 for s in RULE_STATUSES} | Counter(row.status for row in rows)),
        scenarios=Counter({s: 0 for s in SCENARIO_STATUSES} | Counter(r.status for r in ordered)),
        too_slow=sum(1 for r in ordered if r.too_slow),
    )
    return ConformanceReport(run=run, rows=rows, unmapped=unmapped, scenarios=ordered, summary=summary)


def _row(rule: Rule, results: tuple[ScenarioResult, ...], releases: tuple[Release, ...]) -> RuleRow:
    mine = tuple(r for r in results if rule.id in r.meta.rules)
    by_release = {
        release: verdict_for(rule, release, [r for r in mine if r.meta.release == release.value])
        for release in releases
    }
    statuses = {v.status for v in by_release.values()}
    overall: RuleStatus = next((s for s in _OVERALL_ORDER if s in statuses), "not-applicable")
    return RuleRow(rule=rule, status=overall, by_release=by_release, scenarios=mine)


def verdict_for(rule: Rule, release: Release, scenarios: list[ScenarioResult]) -> ReleaseVerdict:
    """failed if any scenario failed; passed if one passed; not-applicable; else skipped (why)."""
    if not rule.applies_to(release):
        return ReleaseVerdict("not-applicable", f"the documents do not state this rule for {release}")
    statuses = Counter(r.status for r in scenarios)
    if statuses["failed"]:
        return ReleaseVerdict("failed", f"{statuses['failed']} scenario(s) failed")
    if statuses["unknown"]:  # one host that cannot be observed keeps the pool from passing
        reasons = sorted({r.message for r in scenarios if r.status == "unknown"})
        return ReleaseVerdict("unknown", "; ".join(reasons))
    if statuses["passed"]:
        return ReleaseVerdict("passed", "")
    if scenarios and statuses["not-applicable"] == len(scenarios):
        return ReleaseVerdict("not-applicable", "every scenario is not applicable here")
    if not scenarios:
        return ReleaseVerdict("skipped", f"no scenario checking this rule ran for {release}")
    reasons = sorted(
        {f"{r.status}: {r.message}".strip().rstrip(":") for r in scenarios if r.status != "passed"}
    )
    return ReleaseVerdict("skipped", "no scenario passed (" + "; ".join(reasons) + ")")
