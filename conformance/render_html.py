"""index.html: a self-contained report a reviewer can read offline, without JavaScript.

Header (run, verdict, counts), the rule matrix (status per release in colour
and words), then one evidence section per scenario: message and replay
command, and an SVG timeline whenever the scenario injected a fault.
"""

from __future__ import annotations

import hashlib
import html

from conformance.report_model import ConformanceReport, RuleRow
from conformance.results import ScenarioResult
from conformance.timeline_svg import render_timeline_svg

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:1.5em;color:#1d2329}
h1{font-size:1.4em;margin-bottom:.2em} h2{font-size:1.15em;margin-top:1.6em} h3{font-size:1em}
table{border-collapse:collapse;width:100%;font-size:.9em}
th,td{border:1px solid #d5dbe1;padding:.3em .5em;vertical-align:top;text-align:left}
th{background:#eef1f4} .statement{max-width:34em} .source{font-size:.85em;color:#4a5560;max-width:22em}
.st{display:inline-block;padding:.05em .45em;border-radius:3px;font-weight:600;font-size:.85em}
.passed{background:#d7f5dd;color:#14532d} .failed{background:#fde0e0;color:#8a1010}
.error{background:#ffe6c7;color:#7a3d00} .skipped{background:#fff6c2;color:#5c4b00}
.not-applicable{background:#eceff1;color:#455a64}
.verdict-PASS{color:#14532d} .verdict-FAIL{color:#8a1010} .verdict-INCOMPLETE{color:#7a3d00}
dl.run{display:grid;grid-template-columns:max-content auto;gap:.1em 1em} dl.run dt{font-weight:600}
pre{background:#f5f7fa;border:1px solid #d5dbe1;padding:.5em;overflow-x:auto;white-space:pre-wrap}
section.scenario{border-top:1px solid #d5dbe1;margin-top:1em;padding-top:.5em}
ul.sc{margin:0;padding-left:1.1em} .reason{font-size:.8em;color:#4a5560}
"""


_EVIDENCE_ORDER = {"failed": 0, "error": 1, "passed": 2, "skipped": 3, "not-applicable": 4}


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def anchor(result: ScenarioResult) -> str:
    """A stable id for a scenario's evidence section (node ids are not valid HTML ids)."""
    return "sc-" + hashlib.sha1(result.meta.nodeid.encode()).hexdigest()[:12]


def badge(status: str) -> str:
    return f'<span class="st {esc(status)}">{esc(status)}</span>'


def render_html(report: ConformanceReport) -> str:
    run = report.run
    releases = ", ".join(r.value for r in run.releases)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>OVM HA conformance {esc(run.run_id)}</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>Oracle VM HA conformance report</h1>",
        f'<p class="verdict verdict-{esc(report.verdict)}"><strong>Verdict: {esc(report.verdict)}</strong>'
        f" &mdash; {esc(_verdict_words(report))}</p>",
        '<dl class="run">',
        f"<dt>Run</dt><dd>{esc(run.run_id)}</dd>",
        f"<dt>Environment</dt><dd>{esc(run.environment)}</dd>",
        f"<dt>Releases</dt><dd>{esc(releases)}</dd>",
        f"<dt>Seed</dt><dd>{esc(run.seed)}</dd>",
        f"<dt>Started</dt><dd>{esc(run.started)} ({run.duration_s:.1f} s)</dd>",
        f"<dt>Rules</dt><dd>{_counts(report.summary.rules)} of {report.summary.rule_count}</dd>",
        f"<dt>Scenarios</dt><dd>{_counts(report.summary.scenarios)} of {len(report.scenarios)}</dd>",
        "</dl>",
        "<h2>Rule matrix</h2>",
        _matrix(report),
    ]
    if report.unmapped:
        parts.append("<h2>Scenarios naming no catalog rule</h2><ul>")
        parts += [
            f'<li><a href="#{anchor(s)}">{esc(s.meta.nodeid)}</a> {badge(s.status)}</li>'
            for s in report.unmapped
        ]
        parts.append("</ul>")
    parts.append("<h2>Scenario evidence</h2><p>Failures first, then errors, passes, skips.</p>")
    parts += [_evidence(s) for s in sorted(report.scenarios, key=lambda s: _EVIDENCE_ORDER[s.status])]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _verdict_words(report: ConformanceReport) -> str:
    if report.verdict == "FAIL":
        return "at least one applicable rule failed; see the replay command of each failed scenario"
    if report.verdict == "INCOMPLETE":
        return "no rule failed, but some checks could not be completed (errors, or nothing passed)"
    return "every rule that was checked passed"


def _counts(counter: dict[str, int]) -> str:
    return ", ".join(f"{badge(status)} {n}" for status, n in sorted(counter.items()) if n) or "none"


def _matrix(report: ConformanceReport) -> str:
    head = "".join(f"<th>{esc(r.value)}</th>" for r in report.run.releases)
    rows = "\n".join(_matrix_row(row, report) for row in report.rows)
    return (
        '<table class="matrix"><thead><tr><th>Rule</th><th>Statement</th><th>Source</th>'
        f"<th>Status</th>{head}<th>Scenarios</th></tr></thead><tbody>\n{rows}\n</tbody></table>"
    )


def _matrix_row(row: RuleRow, report: ConformanceReport) -> str:
    rule = row.rule
    cells = []
    for release in report.run.releases:
        verdict = row.by_release[release]
        reason = f'<div class="reason">{esc(verdict.reason)}</div>' if verdict.reason else ""
        cells.append(f"<td>{badge(verdict.status)}{reason}</td>")
    scenarios = "".join(
        f'<li><a href="#{anchor(s)}">{esc(s.meta.name)} [{esc(s.meta.release)}]</a> {badge(s.status)}</li>'
        for s in row.scenarios
    )
    return (
        f'<tr id="rule-{esc(rule.id)}"><td><strong>{esc(rule.id)}</strong><br>'
        f'<span class="reason">{esc(rule.kind)}, {esc(rule.checks)}</span></td>'
        f'<td class="statement">{esc(rule.statement)}</td><td class="source">{esc(rule.source_text)}</td>'
        f"<td>{badge(row.status)}</td>{''.join(cells)}"
        f'<td><ul class="sc">{scenarios}</ul></td></tr>'
    )


def _evidence(s: ScenarioResult) -> str:
    meta = s.meta
    rules = ", ".join(f'<a href="#rule-{esc(r)}">{esc(r)}</a>' for r in meta.rules) or "none"
    parts = [
        f'<section class="scenario" id="{anchor(s)}">',
        f"<h3>{esc(meta.name)} [{esc(meta.release)}] {badge(s.status)}</h3>",
        f"<p>Feature <code>{esc(meta.feature)}</code>; rules {rules}; seed {esc(meta.seed)}; "
        f"{s.duration_s:.3f} s; <code>{esc(meta.nodeid)}</code></p>",
    ]
    if s.message and s.status != "passed":
        parts.append(f'<pre class="message">{esc(s.message)}</pre>')
    parts.append(f'<p>Replay:</p><pre class="replay">{esc(meta.replay)}</pre>')
    if s.failover:
        parts.append("<p>Failover marks:</p><ul>")
        parts += [f"<li>{esc(_failover_line(mark))}</li>" for mark in s.failover]
        parts.append("</ul>")
    if s.has_fault:
        parts.append(render_timeline_svg(s.timeline, title=f"{meta.name} [{meta.release}]"))
        if s.timeline_truncated:
            parts.append('<p class="reason">Timeline truncated: heartbeats were thinned out.</p>')
    parts.append("</section>")
    return "\n".join(parts)


def _failover_line(mark: dict[str, object]) -> str:
    return ", ".join(f"{key}={value}" for key, value in mark.items())
