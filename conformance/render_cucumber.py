"""cucumber.json: the run in the JSON format of Cucumber's own json formatter, for BDD dashboards.

One feature per .feature file; one element per scenario run, titled with its
release and tagged @release:R and @rule:ID, its steps with Cucumber's step
statuses: a step with no definition is `undefined` (a suite error, not a
failed rule), the steps after a failure are `skipped`, and the scenarios
that were not run or not applicable have every step `skipped` with the
reason on the first one.
"""

from __future__ import annotations

import json
import re
from typing import Any

from conformance.report_model import ConformanceReport
from conformance.results import ScenarioResult
from conformance.statuses import STATUS_INFO, label

_STEP_STATUS = {"passed": "passed", "failed": "failed", "undefined": "undefined", "error": "failed"}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def render_cucumber(report: ConformanceReport) -> str:
    features: dict[str, dict[str, Any]] = {}
    for result in sorted(report.scenarios, key=lambda r: (r.meta.feature, r.meta.line, r.meta.release)):
        meta = result.meta
        feature = features.get(meta.feature)
        if feature is None:
            name = meta.feature_name or meta.feature
            feature = features[meta.feature] = {
                "uri": meta.feature,
                "id": _slug(name),
                "keyword": "Feature",
                "name": name,
                "description": "",
                "line": 1,
                "tags": [],
                "elements": [],
            }
        feature["elements"].append(_element(feature["id"], result))
    return json.dumps(list(features.values()), indent=1, ensure_ascii=False) + "\n"


def _element(feature_id: str, result: ScenarioResult) -> dict[str, Any]:
    meta = result.meta
    title = f"{meta.display} [{meta.release}]" if meta.release else meta.display
    tags = [f"@release:{meta.release}"] if meta.release else []
    tags += [f"@rule:{r}" for r in meta.rules] + (["@destructive"] if meta.destructive else [])
    return {
        "id": f"{feature_id};{_slug(title)}",
        "keyword": "Scenario Outline" if meta.example else "Scenario",
        "name": title,
        "description": meta.replay,
        "line": meta.line,
        "type": "scenario",
        "tags": [{"name": t, "line": max(meta.line - 1, 1)} for t in tags],
        "steps": _steps(result),
    }


def _steps(result: ScenarioResult) -> list[dict[str, Any]]:
    meta = result.meta
    out: list[dict[str, Any]] = []
    ran = bool(result.step_outcomes)
    for i, step in enumerate(meta.steps):
        outcome = result.step_outcomes[i] if i < len(result.step_outcomes) else ""
        status = _STEP_STATUS.get(outcome, "skipped")
        entry: dict[str, Any] = {
            "keyword": step.keyword + " ",
            "name": step.text,
            "line": step.line,
            "match": {"location": f"{meta.feature}:{step.line}"},
            "result": {"status": status},
        }
        if status in ("passed", "failed") and i < len(result.step_ms):  # as Cucumber: steps that ran
            entry["result"]["duration"] = int(result.step_ms[i] * 1e6)  # nanoseconds
        if step.table:
            entry["rows"] = [{"cells": list(row)} for row in step.table]
        if step.doc:
            entry["doc_string"] = {"value": step.doc, "content_type": "", "line": step.line + 1}
        if status in ("failed", "undefined") and i == result.failed_step:
            entry["result"]["error_message"] = _message(result)
        if not ran and i == 0 and result.status != "passed":  # not run: say why on the first step
            entry["result"]["error_message"] = f"{label(result.status)}: {result.message}".rstrip(": ")
            if result.status in ("suite-error", "environment-error", "failed"):
                entry["result"]["status"] = STATUS_INFO[result.status].cucumber
        out.append(entry)
    if ran and result.status in ("environment-error", "suite-error", "failed") and result.failed_step < 0:
        out.append(_after_hook(result))  # failed outside the steps (the pool's setup, its teardown)
    if not meta.steps and result.status != "passed":
        out.append(_after_hook(result))
    return out


def _after_hook(result: ScenarioResult) -> dict[str, Any]:
    return {
        "keyword": "After ",
        "name": label(result.status),
        "line": result.meta.line,
        "hidden": True,
        "result": {
            "status": STATUS_INFO[result.status].cucumber,
            "error_message": _message(result),
            "duration": 0,
        },
    }


def _message(result: ScenarioResult) -> str:
    kind = f"{label(result.status)}: " if result.status != "failed" else ""
    return f"{kind}{result.message}\nreplay: {result.meta.replay}"
