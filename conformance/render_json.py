"""conformance.json: the machine-readable report (schema 1)."""

from __future__ import annotations

import json
from typing import Any

from conformance.report_model import RULE_STATUSES, ConformanceReport, RuleRow
from conformance.results import ScenarioResult

SCHEMA_VERSION = 1


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
        "verdict": report.verdict,
        "rules": [_rule(row) for row in report.rows],
        "unmapped_scenarios": [scenario_to_dict(s) for s in report.unmapped],
        "summary": {
            "rules": report.summary.rule_count,
            **{status: report.summary.rules[status] for status in RULE_STATUSES},
            "scenarios": {"total": len(report.scenarios), **dict(sorted(report.summary.scenarios.items()))},
            # errors, not failures: the run measured more latency than the bound checked can bear
            "too_slow_to_judge": report.summary.too_slow,
        },
    }


def _rule(row: RuleRow) -> dict[str, Any]:
    rule = row.rule
    return {
        "id": rule.id,
        "statement": rule.statement,
        "releases": [r.value for r in rule.releases],
        "kind": rule.kind,
        "checks": rule.checks,
        "source": rule.source_text,
        "status": row.status,
        "status_by_release": {r.value: v.status for r, v in row.by_release.items()},
        "reason_by_release": {r.value: v.reason for r, v in row.by_release.items() if v.reason},
        "scenarios": [scenario_to_dict(s) for s in row.scenarios],
    }


def scenario_to_dict(result: ScenarioResult) -> dict[str, Any]:
    meta = result.meta
    return {
        "name": meta.name,
        "feature": meta.feature,
        "nodeid": meta.nodeid,
        "release": meta.release,
        "rules": list(meta.rules),
        "status": result.status,
        "duration_s": result.duration_s,
        "seed": meta.seed,
        "replay": meta.replay,
        "message": result.message,
        "failover": list(result.failover),
        "too_slow_to_judge": result.too_slow,
        "latency": result.latency,
    }


def render_json(report: ConformanceReport) -> str:
    return json.dumps(report_to_dict(report), indent=2, ensure_ascii=False) + "\n"
