"""junit.xml from the report model: one <testsuite> per feature file and release, one test case per
scenario run, so CI dashboards group the runs as a reader would.

Written from the model (not pytest's --junitxml) so it always exists in the
run directory and agrees with conformance.json; rule ids ride as properties.
The classname is `features.<feature>.ovm<release>` (Jenkins shows
`features.<feature>` as the package and the release as the class; a release's
own dot would split it), the test name is the scenario's own title.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import PurePosixPath

from conformance.report_model import ConformanceReport
from conformance.results import ScenarioResult
from conformance.statuses import STATUS_INFO, label


def classname(result: ScenarioResult) -> str:
    meta = result.meta
    stem = PurePosixPath(meta.feature).with_suffix("").as_posix().replace("/", ".").replace(" ", "_")
    release = meta.release.replace(".", "") or "all"
    return f"{stem}.ovm{release}"


def suite_name(result: ScenarioResult) -> str:
    meta = result.meta
    return f"{meta.feature} [{meta.release}]" if meta.release else meta.feature


def render_junit(report: ConformanceReport) -> str:
    root = ET.Element("testsuites", {"name": "ovm-ha-conformance", "tests": str(len(report.scenarios))})
    counts = report.summary.scenarios
    root.set("failures", str(counts["failed"]))
    root.set("errors", str(counts["suite-error"] + counts["environment-error"]))
    root.set("time", f"{report.run.duration_s:.3f}")
    suites: dict[str, list[ScenarioResult]] = {}
    for result in sorted(report.scenarios, key=lambda r: (r.meta.feature, r.meta.release, r.meta.line)):
        suites.setdefault(suite_name(result), []).append(result)
    for name, results in suites.items():
        root.append(_suite(report, name, results))
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _suite(report: ConformanceReport, name: str, results: list[ScenarioResult]) -> ET.Element:
    tally = Counter(STATUS_INFO[r.status].junit for r in results)
    suite = ET.Element(
        "testsuite",
        {
            "name": name,
            "tests": str(len(results)),
            "failures": str(tally["failure"]),
            "errors": str(tally["error"]),
            "skipped": str(tally["skipped"]),
            "time": f"{sum(r.duration_s for r in results):.3f}",
            "timestamp": report.run.started,
        },
    )
    props = ET.SubElement(suite, "properties")
    for key, value in (
        ("run_id", report.run.run_id),
        ("environment", report.run.environment),
        ("target", report.run.target),
        ("release", results[0].meta.release),
        ("seed", str(report.run.seed)),
        ("verdict", report.verdict),
    ):
        ET.SubElement(props, "property", {"name": key, "value": value})
    seen: Counter[str] = Counter()
    for result in results:
        seen[result.meta.display] += 1
        suite.append(_testcase(result, seen[result.meta.display]))
    return suite


def _testcase(result: ScenarioResult, occurrence: int) -> ET.Element:
    meta = result.meta
    name = meta.display if occurrence == 1 else f"{meta.display} #{occurrence}"
    case = ET.Element(
        "testcase",
        {
            "classname": classname(result),
            "name": name,
            "time": f"{result.duration_s:.3f}",
            "file": meta.feature,
            **({"line": str(meta.line)} if meta.line else {}),
        },
    )
    props = ET.SubElement(case, "properties")
    for rule_id in meta.rules:
        ET.SubElement(props, "property", {"name": "rule", "value": rule_id})
    for key, value in (
        ("release", meta.release),
        ("status", result.status),
        ("seed", str(meta.seed)),
        ("nodeid", meta.nodeid),
        ("replay", meta.replay),
    ):
        ET.SubElement(props, "property", {"name": key, "value": value})
    element = STATUS_INFO[result.status].junit
    text = _gherkin(result)
    if element == "failure":
        ET.SubElement(case, "failure", {"message": _first_line(result), "type": "failed"}).text = text
    elif element == "error":
        ET.SubElement(case, "error", {"message": _first_line(result), "type": result.status}).text = text
    elif element == "skipped":
        ET.SubElement(case, "skipped", {"message": f"{label(result.status)}: {result.message}".rstrip(": ")})
    return case


def _first_line(result: ScenarioResult) -> str:
    return result.message.splitlines()[0] if result.message else label(result.status)


def _gherkin(result: ScenarioResult) -> str:
    """The scenario's steps, the failing one marked, then the message and the replay command."""
    lines = []
    for i, step in enumerate(result.meta.steps):
        outcome = result.step_outcomes[i] if i < len(result.step_outcomes) else ""
        mark = {"passed": "  ok ", "failed": "FAIL ", "undefined": "UNDEF", "error": " ERR "}.get(
            outcome, "  -- "
        )
        lines.append(f"{mark} {step.keyword} {step.text}")
    lines += ["", result.message, "", f"replay: {result.meta.replay}"]
    return "\n".join(lines).strip("\n")
