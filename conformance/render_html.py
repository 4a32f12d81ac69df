"""index.html: a self-contained report a reviewer can read offline, without JavaScript.

Header (run, verdict, counts), a "jump to failed" list with replay commands
when anything failed, the rule matrix (status per release in colour and
words; each rule's scenarios grouped by name with a badge per release),
then one evidence section per scenario: message and replay command, and an
SVG timeline with a caption of the key durations whenever it injected a fault.
"""

from __future__ import annotations

import hashlib
import html
from typing import Any

from conformance.catalog import Rule
from conformance.report_model import ConformanceReport, RuleRow, ScenarioGroup
from conformance.results import ScenarioResult
from conformance.timeline_facts import FaultSummary, fault_summaries
from conformance.timeline_svg import render_timeline_svg

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:1.5em;color:#1d2329}
h1{font-size:1.4em;margin-bottom:.2em} h2{font-size:1.15em;margin-top:1.6em} h3{font-size:1em}
table{border-collapse:collapse;width:100%;font-size:.9em}
th,td{border:1px solid #d5dbe1;padding:.3em .5em;vertical-align:top;text-align:left}
th{background:#eef1f4} .statement{max-width:30em}
.source{font-size:.8em;color:#4a5560;width:14em;max-width:14em} td.scenarios{min-width:22em}
.st{display:inline-block;padding:.05em .45em;border-radius:3px;font-weight:600;font-size:.85em}
.passed{background:#d7f5dd;color:#14532d} .failed{background:#fde0e0;color:#8a1010}
.error{background:#ffe6c7;color:#7a3d00} .skipped{background:#fff6c2;color:#5c4b00}
.unknown{background:#e3e8ff;color:#23306b}
.not-applicable{background:#eceff1;color:#455a64}
.verdict-PASS{color:#14532d} .verdict-FAIL{color:#8a1010} .verdict-INCOMPLETE{color:#7a3d00}
dl.run{display:grid;grid-template-columns:max-content auto;gap:.1em 1em} dl.run dt{font-weight:600}
pre{background:#f5f7fa;border:1px solid #d5dbe1;padding:.5em;overflow-x:auto;white-space:pre-wrap}
section.scenario{border-top:1px solid #d5dbe1;margin-top:1em;padding-top:.5em}
ul.sc{margin:0;padding:0;list-style:none} ul.sc li{margin:.1em 0} .reason{font-size:.8em;color:#4a5560}
a.st{text-decoration:none;font-size:.75em;padding:0 .3em;margin-right:1px}
a.st:hover{outline:1px solid #1d2329}
.st.none{background:#fff;color:#9aa5b1;border:1px dashed #c5ccd3}
.n{font-size:.8em;color:#4a5560;white-space:nowrap}
.source span{display:block;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
ul.failed-list li{margin:.3em 0} ul.failed-list pre{margin:.2em 0}
figure.timeline{margin:.5em 0} figcaption{font-size:.9em;max-width:60em}
figcaption p{margin:.25em 0} .over{color:#8a1010;font-weight:600} .within{color:#14532d}
"""


_EVIDENCE_ORDER = {"failed": 0, "error": 1, "unknown": 2, "passed": 3, "skipped": 4, "not-applicable": 5}


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
        *([f"<dt>Pool</dt><dd>{esc(run.target)}</dd>"] if run.target else []),
        f"<dt>Releases</dt><dd>{esc(releases)}</dd>",
        f"<dt>Seed</dt><dd>{esc(run.seed)}</dd>",
        f"<dt>Started</dt><dd>{esc(run.started)} ({run.duration_s:.1f} s)</dd>",
        f"<dt>Rules</dt><dd>{_counts(report.summary.rules)} of {report.summary.rule_count}</dd>",
        f"<dt>Scenarios</dt><dd>{_counts(report.summary.scenarios)} of {len(report.scenarios)}"
        + (f" ({report.summary.too_slow} errors too slow to judge)" if report.summary.too_slow else "")
        + "</dd>",
        "</dl>",
        _failed_list(report),
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


def _failed_list(report: ConformanceReport) -> str:
    """Near the top: every failed (or errored) scenario run, linked, with the command that replays it."""
    bad = [s for s in report.scenarios if s.status in ("failed", "error")]
    if not bad:
        return ""
    bad.sort(key=lambda s: _EVIDENCE_ORDER[s.status])
    items = "\n".join(
        f'<li>{badge(s.status)} <a href="#{anchor(s)}">{esc(s.meta.name)} [{esc(s.meta.release)}]</a>'
        f' <span class="reason">{esc(", ".join(s.meta.rules) or "no rule")}</span>'
        f'<pre class="replay">{esc(s.meta.replay)}</pre></li>'
        for s in bad
    )
    return f'<h2 id="failed">Jump to failed ({len(bad)})</h2><ul class="failed-list">\n{items}\n</ul>'


def _matrix(report: ConformanceReport) -> str:
    head = "".join(f"<th>{esc(r.value)}</th>" for r in report.run.releases)
    rows = "\n".join(_matrix_row(row, report) for row in report.rows)
    return (
        '<table class="matrix"><thead><tr><th>Rule</th><th>Statement</th><th>Source</th>'
        f"<th>Status</th>{head}<th>Scenarios (a badge per release)</th></tr></thead>"
        f"<tbody>\n{rows}\n</tbody></table>"
    )


def _matrix_row(row: RuleRow, report: ConformanceReport) -> str:
    rule = row.rule
    releases = [r.value for r in report.run.releases]
    cells = []
    for release in report.run.releases:
        verdict = row.by_release[release]
        reason = f'<div class="reason">{esc(verdict.reason)}</div>' if verdict.reason else ""
        cells.append(f"<td>{badge(verdict.status)}{reason}</td>")
    groups = "".join(_group(group, releases) for group in row.groups)
    return (
        f'<tr id="rule-{esc(rule.id)}"><td><strong>{esc(rule.id)}</strong><br>'
        f'<span class="reason">{esc(rule.kind)}, {esc(rule.checks)}</span></td>'
        f'<td class="statement">{esc(rule.statement)}</td><td class="source">{_sources(rule)}</td>'
        f"<td>{badge(row.status)}</td>{''.join(cells)}"
        f'<td class="scenarios"><ul class="sc">{groups}</ul></td></tr>'
    )


def _sources(rule: Rule) -> str:
    """Document key and section; the full title on hover."""
    return "".join(
        f'<span title="{esc(f"{s.doc.title}, {s.section}")}">{esc(s.doc.key)} {esc(s.section)}</span>'
        for s in rule.sources
    )


def _group(group: ScenarioGroup, releases: list[str]) -> str:
    badges = "".join(_release_badge(group, release) for release in releases)
    count = f' <span class="n">&times;{group.examples} examples</span>' if group.examples > 1 else ""
    return f'<li class="grp">{badges} {esc(group.name)}{count}</li>'


def _release_badge(group: ScenarioGroup, release: str) -> str:
    target = group.representative(release)
    status = group.release_status(release)
    if target is None or status is None:
        return f'<span class="st none" title="{esc(release)}: not run">{esc(release)}</span>'
    runs = group.by_release[release]
    counts = ", ".join(
        f"{sum(1 for r in runs if r.status == st)} {st}" for st in sorted({r.status for r in runs})
    )
    return (
        f'<a class="st {esc(status)}" href="#{anchor(target)}" '
        f'title="{esc(release)}: {esc(counts)}">{esc(release)}</a>'
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
    parts.append(_timing_checks(s.latency))
    if s.has_fault:
        parts.append('<figure class="timeline">')
        parts.append(render_timeline_svg(s.timeline, title=f"{meta.name} [{meta.release}]"))
        captions = [_caption(f) for f in fault_summaries(s.timeline, s.failover)]
        if s.timeline_truncated:
            captions.append('<p class="reason">Timeline truncated: heartbeats were thinned out.</p>')
        parts.append(f"<figcaption>{''.join(captions)}</figcaption></figure>")
    parts.append("</section>")
    return "\n".join(parts)


def _timing_checks(latency: dict[str, Any]) -> str:
    """The scenario's time limits: measured against the bound, and what a real-time run granted."""
    checks = latency.get("checks") or []
    if not checks:
        return ""
    rows = []
    for c in checks:
        measured = "never" if c["measured_ms"] is None else _secs(c["measured_ms"])
        if latency.get("exact"):
            grant = "exact clock: nothing granted"
        else:
            lags = [f"{esc(step)} {lag:.1f} ms" for step, lag in (c.get("lag_ms") or {}).items()]
            lags.append(f"guest boot {c['guest_boot_ms']:.1f} ms")
            lags.append(f"fault round trip {c['fault_round_trip_ms']:.1f} ms")
            grant = (
                f"granted {_secs(c['granted_ms'])} ({c['share_of_bound']:.1%} of the bound): "
                f"{', '.join(lags)} of real time at scale {c['scale']:g}"
            )
        rows.append(
            f"<li>{esc(c['check'])}: {measured} (bound {_secs(c['bound_ms'])}); {grant}; "
            + (badge(c["verdict"]) if c["verdict"] != "too slow to judge"
               else '<span class="st error">too slow to judge</span>')
            + "</li>"
        )
    measured_parts = [
        f"{esc(source)} {m['count']:g} &times;, median {m['median_ms']:.1f} ms, max {m['max_ms']:.1f} ms"
        for source, m in sorted((latency.get("measured") or {}).items())
    ]
    tail = (
        f'<p class="reason">Latency measured (real time): {"; ".join(measured_parts)}.</p>'
        if measured_parts
        else ""
    )
    return f'<p>Timing checks:</p><ul class="timing">{"".join(rows)}</ul>{tail}'


def _secs(ms: int) -> str:
    return f"{ms / 1000:g} s"


def _caption(f: FaultSummary) -> str:
    """One line per fault: detection, fence, and each guest running again against the bound."""
    where = f" on {esc(f.server)}" if f.server else ""
    bits = [f"<strong>{esc(f.fault)}</strong>{where} at {_secs(f.at_ms)}"]
    if f.detected_after_ms is not None:
        who = f" ({esc(f.detected_by)})" if f.detected_by else ""
        bits.append(f"detected after <strong>{_secs(f.detected_after_ms)}</strong>{who}")
    else:
        bits.append("no node_down recorded")
    if f.fenced_after_ms is not None:
        bits.append(f"fenced after {_secs(f.fenced_after_ms)}")
    for g in f.guests:
        if g.after_ms is None:
            bits.append(f"{esc(g.guest)}: {esc(g.note)}")
            continue
        text = f"{esc(g.guest)} running on {esc(g.server or '?')} after <strong>{_secs(g.after_ms)}</strong>"
        if g.note:  # held up on the way (powered off for want of a server): the bound does not apply
            bits.append(f"{text} ({esc(g.note)})")
            continue
        if f.bound_ms is not None and g.after_ms > f.bound_ms:
            text = f'<span class="over">{text} &gt; bound {_secs(f.bound_ms)}</span>'
        elif f.bound_ms is not None:
            text = f'<span class="within">{text} &le; bound {_secs(f.bound_ms)}</span>'
        bits.append(text)
    if f.bound_ms is not None and not any(g.after_ms is not None for g in f.guests):
        bits.append(f"failover bound {_secs(f.bound_ms)}")
    return f'<p class="fault-summary">{"; ".join(bits)}.</p>'
