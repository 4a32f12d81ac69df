"""junit.xml from the report model, so CI systems show one test case per scenario and release.

Written from the model (not pytest's --junitxml) so it always exists in the
run directory and agrees with conformance.json; rule ids ride as properties.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from conformance.report_model import ConformanceReport
from conformance.results import ScenarioResult


def render_junit(report: ConformanceReport) -> str:
    counts = report.summary.scenarios
    suite = ET.Element(
        "testsuite",
        {
            "name": "ovm-ha-conformance",
            "tests": str(len(report.scenarios)),
            "failures": str(counts["failed"]),
            "errors": str(counts["error"]),
            "skipped": str(counts["skipped"] + counts["not-applicable"] + counts["unknown"]),
            "time": f"{report.run.duration_s:.3f}",
            "timestamp": report.run.started,
        },
    )
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("run_id", report.run.run_id),
        ("environment", report.run.environment),
        ("target", report.run.target),
        ("releases", ",".join(r.value for r in report.run.releases)),
        ("seed", str(report.run.seed)),
        ("verdict", report.verdict),
    ):
        ET.SubElement(props, "property", {"name": name, "value": value})
    for result in report.scenarios:
        suite.append(_testcase(result))
    ET.indent(suite)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


def _testcase(result: ScenarioResult) -> ET.Element:
    meta = result.meta
    path, _, name = meta.nodeid.partition("::")
    case = ET.Element(
        "testcase",
        {
            "classname": path.removesuffix(".py").replace("/", "."),
            "name": name or meta.nodeid,
            "time": f"{result.duration_s:.3f}",
            "file": path,
        },
    )
    props = ET.SubElement(case, "properties")
    for rule_id in meta.rules:
        ET.SubElement(props, "property", {"name": "rule", "value": rule_id})
    for key, value in (("release", meta.release), ("seed", str(meta.seed)), ("replay", meta.replay)):
        ET.SubElement(props, "property", {"name": key, "value": value})
    first_line = result.message.splitlines()[0] if result.message else ""
    if result.status == "failed":
        ET.SubElement(case, "failure", {"message": first_line}).text = result.message
    elif result.status == "error":
        ET.SubElement(case, "error", {"message": first_line}).text = result.message
    elif result.status in ("skipped", "not-applicable", "unknown"):
        ET.SubElement(case, "skipped", {"message": result.message or result.status})
    return case
