"""conformance.json: the machine-readable report (schema 3).

Schema 2 speaks the words of conformance.statuses: `not-run` (was
`skipped`), `environment-error` (was `error`) and `suite-error`; each
scenario run carries its Given/When/Then with each step's outcome.
Schema 3: a scenario run's `failover` is the list of its faults' outcomes
(environments.outcome.FaultOutcome.as_dict: the fault's kind as the step
meant it and its victims, instants in ms, each hit guest's next run and
bound), where schema 2 had marks in seconds after the fault.
"""

from __future__ import annotations

import json
from typing import Any

from conformance.catalog import Rule
from conformance.report_model import RULE_STATUSES, ConformanceReport, RuleRow
from conformance.results import ScenarioResult

SCHEMA_VERSION = 3


def report_to_dict(report: ConformanceReport) -> dict[str, Any]:
    run = report.run
    releases = [r.value for r in run.releases]
    return {
        "schema": SCHEMA_VERSION,
        "run_id": run.run_id,
        "release": releases[0] if len(releases) == 1 else releases,
        "releases": releases,
        "environment": run.environment,
        "target": run.target,
        "seed": run.seed,
        "started": run.started,
        "duration_s": round(run.duration_s, 3),
        "selection": run.selection,
        "stopped_early": run.stopped_early,
        "verdict": report.verdict,
        "exit_code": report.exit_code,
        "verdict_line": report.verdict_line(),
        "rules": [_rule(row) for row in report.rows],
        "unmapped_scenarios": [scenario_to_dict(s) for s in report.unmapped],
        "summary": {
            "rules": report.summary.rule_count,
            "applicable": report.summary.applicable,
            "run": report.summary.rules_run,
            **{status: report.summary.rules[status] for status in RULE_STATUSES},
            "scenarios": {"total": len(report.scenarios), **dict(sorted(report.summary.scenarios.items()))},
            # errors, not failures: the run measured more latency than the bound checked can bear
            "too_slow_to_judge": report.summary.too_slow,
        },
        **({"readiness": dict(report.readiness)} if report.readiness is not None else {}),
    }


def catalog_fields(rule: Rule) -> dict[str, Any]:
    """A rule as the catalog states it (also what `ovm-conformance rules --format json` prints)."""
    return {
        "id": rule.id,
        "statement": rule.statement,
        "releases": [r.value for r in rule.releases],
        "kind": rule.kind,
        "checks": rule.checks,
        "source": rule.source_text,
        "sources": [
            {"doc": s.doc.key, "title": s.doc.title, "section": s.section, "quote": s.quote}
            for s in rule.sources
        ],
        "outside": [
            {"fact": f.fact, "doc": f.source.doc.key, "title": f.source.doc.title,
             "section": f.source.section, "quote": f.source.quote}
            for f in rule.outside
        ],
        "reading": rule.reading,
    }


def _rule(row: RuleRow) -> dict[str, Any]:
    return {
        **catalog_fields(row.rule),
        "status": row.status,
        "status_by_release": {r.value: v.status for r, v in row.by_release.items()},
        "reason_by_release": {r.value: v.reason for r, v in row.by_release.items() if v.reason},
        "scenarios": [scenario_to_dict(s) for s in row.scenarios],
    }


def scenario_to_dict(result: ScenarioResult) -> dict[str, Any]:
    meta = result.meta
    steps = []
    for i, step in enumerate(meta.steps):
        entry = step.to_dict()
        if i < len(result.step_outcomes):
            entry["outcome"] = result.step_outcomes[i]
        steps.append(entry)
    return {
        "name": meta.name,
        "title": meta.display,
        "feature": meta.feature,
        "line": meta.line,
        "nodeid": meta.nodeid,
        "release": meta.release,
        "rules": list(meta.rules),
        "status": result.status,
        "duration_s": result.duration_s,
        "seed": meta.seed,
        "replay": meta.replay,
        "message": result.message,
        "failed_step": result.failed_step_text,
        "example": dict(meta.example),
        "steps": steps,
        "failover": [o.as_dict() for o in result.failover],
        "too_slow_to_judge": result.too_slow,
        "latency": result.latency,
    }


def render_json(report: ConformanceReport) -> str:
    return json.dumps(report_to_dict(report), indent=1, ensure_ascii=False) + "\n"
