"""allure results from the report model: one test per scenario and release, Given/When/Then as steps.

Written by the controller from the same model as every other report (so the
verdicts agree, with or without pytest-xdist), in allure's results format
(`<uuid>-result.json` plus attachments): labels epic (the feature file's
area), feature (the Feature), story (each rule), severity (from the rule's
kind), tags; the release, seed and example as parameters; a link to each
of the rule's sources with its quote in the description; the timeline SVG
as an attachment. Statuses follow conformance.statuses: an error of the
suite or of the environment is `broken`, never `failed`.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path, PurePosixPath
from typing import Any

from conformance.catalog import Catalog, Rule
from conformance.report_model import ConformanceReport
from conformance.results import ScenarioResult
from conformance.statuses import STATUS_INFO, label

SEVERITY_OF_KIND = {
    "prerequisite": "blocker",
    "scenario": "critical",
    "role": "critical",
    "placement": "normal",
    "procedure": "normal",
    "consideration": "minor",
    "readiness": "critical",  # validate's HA readiness of a real pool: would HA work now
}
_SEVERITY_ORDER = ("blocker", "critical", "normal", "minor", "trivial")
_STEP_STATUS = {"passed": "passed", "failed": "failed", "undefined": "broken", "error": "broken"}


def area_of(feature: str) -> str:
    """'features/server_failure.feature' -> 'Server failure'."""
    stem = PurePosixPath(feature).stem.replace("_", " ").strip()
    return stem[:1].upper() + stem[1:] if stem else feature


def severity(rules: list[Rule]) -> str:
    found = [SEVERITY_OF_KIND.get(r.kind, "normal") for r in rules] or ["normal"]
    return min(found, key=_SEVERITY_ORDER.index)


def write_allure(report: ConformanceReport, catalog: Catalog, directory: Path) -> list[Path]:
    """Write one result per scenario run into `directory`; returns the result files."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for result in report.scenarios:
        rules = [catalog[r] for r in result.meta.rules if r in catalog]
        data, attachments = allure_result(result, rules, catalog, report)
        for name, body in attachments.items():
            _write(directory / name, body)
        path = directory / f"{data['uuid']}-result.json"
        _write(path, json.dumps(data, ensure_ascii=False))
        written.append(path)
    _write(directory / "environment.properties", _environment(report))
    _write(directory / "categories.json", json.dumps(CATEGORIES, indent=1))
    return written


def allure_result(
    result: ScenarioResult, rules: list[Rule], catalog: Catalog, report: ConformanceReport
) -> tuple[dict[str, Any], dict[str, str]]:
    meta = result.meta
    test_uuid = str(uuid.uuid4())
    start = int(result.started * 1000) if result.started else 0
    stop = start + int(result.duration_s * 1000)
    status = STATUS_INFO[result.status].allure
    labels = [
        {"name": "epic", "value": area_of(meta.feature)},
        {"name": "feature", "value": meta.feature_name or meta.feature},
        *({"name": "story", "value": f"{r.id}: {r.statement}"} for r in rules),
        {"name": "severity", "value": severity(rules)},
        {"name": "parentSuite", "value": f"Oracle VM {meta.release}" if meta.release else "suite"},
        {"name": "suite", "value": meta.feature},
        {"name": "framework", "value": "pytest-bdd"},
        {"name": "language", "value": "python"},
        *({"name": "tag", "value": f"rule:{r}"} for r in meta.rules),
        *([{"name": "tag", "value": "destructive"}] if meta.destructive else []),
        {"name": "tag", "value": f"release:{meta.release}"},
    ]
    parameters = [
        {"name": "release", "value": meta.release},
        {"name": "environment", "value": meta.environment},
        {"name": "seed", "value": str(meta.seed), "excluded": True},
        *({"name": k, "value": v} for k, v in meta.example),
    ]
    attachments: dict[str, str] = {}
    files = []
    if result.has_fault:
        from conformance.timeline_svg import render_timeline_svg

        name = f"{test_uuid}-timeline.svg"
        attachments[name] = render_timeline_svg(
            result.timeline,
            title=f"{meta.display} [{meta.release}]",
            failover=result.failover,
            standalone=True,
        )
        files.append({"name": "timeline", "source": name, "type": "image/svg+xml"})
    data: dict[str, Any] = {
        "uuid": test_uuid,
        "historyId": _digest(f"{meta.nodeid}"),
        "testCaseId": _digest(f"{meta.feature}:{meta.line}:{meta.name}"),
        "name": f"{meta.display} [{meta.release}]" if meta.release else meta.display,
        "fullName": f"{meta.feature}:{meta.line}: {meta.display} [{meta.release}]",
        "status": status,
        "stage": "finished",
        "description": _description(result, rules),
        "steps": _steps(result, start),
        "attachments": files,
        "parameters": parameters,
        "labels": labels,
        "links": [
            {"type": "link", "name": f"{r.id}: {s.doc.title}, {s.section}", "url": _source_url(catalog, r)}
            for r in rules
            for s in r.sources
        ],
        "start": start,
        "stop": stop,
    }
    if result.status != "passed":
        data["statusDetails"] = {
            "message": f"{label(result.status)}: {result.message}"
            if result.message
            else label(result.status),
            "trace": f"replay: {meta.replay}",
        }
    return data, attachments


def _steps(result: ScenarioResult, start: int) -> list[dict[str, Any]]:
    steps = []
    t = start
    for i, step in enumerate(result.meta.steps):
        outcome = result.step_outcomes[i] if i < len(result.step_outcomes) else ""
        took = int(result.step_ms[i]) if i < len(result.step_ms) else 0
        entry: dict[str, Any] = {
            "name": f"{step.keyword} {step.text}",
            "status": _STEP_STATUS.get(outcome, "skipped"),
            "stage": "finished",
            "start": t,
            "stop": t + took,
        }
        if step.table:
            entry["parameters"] = [
                {"name": " | ".join(step.table[0]), "value": " | ".join(row)} for row in step.table[1:]
            ]
        if i == result.failed_step:
            entry["statusDetails"] = {"message": result.message}
        t += took
        steps.append(entry)
    return steps


def _description(result: ScenarioResult, rules: list[Rule]) -> str:
    lines = []
    for rule in rules:
        lines.append(f"**{rule.id}** ({rule.kind}): {rule.statement}")
        lines += [f"> {s.quote}\n>\n> — {s.doc.title}, {s.section}" for s in rule.sources]
    lines.append(f"Replay: `{result.meta.replay}`")
    return "\n\n".join(lines)


def _source_url(catalog: Catalog, rule: Rule) -> str:
    """The rule in the catalog that quotes its sources (the documents themselves have no stable URL)."""
    path = catalog.path.resolve() if catalog.path is not None else Path("rules.yaml")
    return f"{path.as_uri()}#{rule.id}" if path.is_absolute() else f"rules.yaml#{rule.id}"


def _digest(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _environment(report: ConformanceReport) -> str:
    run = report.run
    pairs = {
        "environment": run.environment,
        "releases": ",".join(r.value for r in run.releases),
        "seed": str(run.seed),
        "run_id": run.run_id,
        "verdict": report.verdict,
        "target": run.target,
    }
    return "".join(f"{k}={v}\n" for k, v in pairs.items() if v)


# allure's categories: errors of the suite and of the environment apart from failed rules
CATEGORIES = [
    {"name": "Failed Oracle VM HA rules", "matchedStatuses": ["failed"]},
    {"name": "Suite errors (no verdict)", "matchedStatuses": ["broken"], "messageRegex": "suite error.*"},
    {
        "name": "Environment errors (no verdict)",
        "matchedStatuses": ["broken"],
        "messageRegex": "environment error.*",
    },
    {"name": "Not run", "matchedStatuses": ["skipped"], "messageRegex": "not run.*"},
    {"name": "Not applicable", "matchedStatuses": ["skipped"], "messageRegex": "not applicable.*"},
]


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
