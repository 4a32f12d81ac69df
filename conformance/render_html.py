"""index.html: a self-contained QA report, read offline in one file.

Top down: the verdict and what it rests on; the rules that did not pass and
the scenarios that did not pass (open, with the command that replays each);
then every rule (status per release, statement, the documents' quotes, its
scenarios) and every scenario with its Given/When/Then, the failing step
marked and its message. Everything that passed is folded; scenarios that do
not apply are folded together per feature. A small script adds filters
(status, release, rule, feature, words) and draws a passing run's timeline
when it is opened: those timelines travel deflated in the page, one blob
for all, which keeps a full run well under a megabyte. Without the script
the page still reads in full (only passing timelines are not drawn).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import zlib
from collections.abc import Iterable, Mapping
from importlib.resources import files
from typing import Any

from conformance.catalog import Rule
from conformance.report_model import ConformanceReport, RuleRow
from conformance.results import ScenarioResult
from conformance.statuses import PRECEDENCE, STATUSES, label, worst
from conformance.timeline_svg import CSS as TIMELINE_CSS
from conformance.timeline_svg import render_timeline_svg
from environments.outcome import FaultOutcome

CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;padding:1em 1.5em;color:#1d2329;
max-width:1400px;line-height:1.4}
h1{font-size:1.4em;margin:.2em 0} h2{font-size:1.15em;margin-top:1.4em;border-bottom:1px solid #d5dbe1}
h3{font-size:1em;margin:.6em 0 .2em}
code,pre{font-family:ui-monospace,'SFMono-Regular',Menlo,monospace;font-size:.85em;overflow-wrap:anywhere}
pre{background:#f5f7fa;border:1px solid #d5dbe1;padding:.4em .6em;margin:.3em 0;white-space:pre-wrap;
overflow-wrap:anywhere}
.st{display:inline-block;padding:.05em .45em;border-radius:3px;font-weight:600;font-size:.8em;
white-space:nowrap}
.passed{background:#d7f5dd;color:#14532d} .failed{background:#fde0e0;color:#8a1010}
.suite-error{background:#f3d9ff;color:#5b1a7a} .environment-error{background:#ffe6c7;color:#7a3d00}
.not-run{background:#fff6c2;color:#5c4b00} .unknown{background:#e3e8ff;color:#23306b}
.not-applicable{background:#eceff1;color:#455a64}
.st.none{background:#fff;color:#9aa5b1;border:1px dashed #c5ccd3}
.verdict{font-size:1.1em;padding:.5em .8em;border-radius:4px;margin:.4em 0}
.verdict-PASS{background:#d7f5dd;color:#14532d} .verdict-FAIL{background:#fde0e0;color:#8a1010}
.verdict-PARTIAL{background:#fff6c2;color:#5c4b00} .verdict-INCOMPLETE{background:#e3e8ff;color:#23306b}
.verdict-SUITE-ERROR{background:#f3d9ff;color:#5b1a7a}
.verdict-ENVIRONMENT-ERROR{background:#ffe6c7;color:#7a3d00}
dl.run{display:flex;flex-wrap:wrap;gap:.2em 1.5em;margin:.4em 0;font-size:.9em}
dl.run div{display:flex;gap:.4em} dl.run dt{font-weight:600} dl.run dd{margin:0}
form#filters{position:sticky;top:0;background:#fff;border-bottom:1px solid #d5dbe1;padding:.4em 0;z-index:2;
display:flex;flex-wrap:wrap;gap:.3em 1em;align-items:center;font-size:.85em}
form#filters fieldset{border:0;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.2em .6em}
form#filters legend{float:left;font-weight:600;margin-right:.4em}
form#filters input[type=search],form#filters select{font-size:1em;max-width:14em}
#shown{color:#4a5560}
[id]{scroll-margin-top:7em} details{margin:.25em 0}
summary{cursor:pointer;list-style-position:outside;margin-left:1.1em}
details.rule,details.scenario{border:1px solid #d5dbe1;border-radius:4px;padding:.25em .5em}
details.rule[open],details.scenario[open]{background:#fbfcfd}
summary .title{font-weight:600} summary .badges{white-space:nowrap}
.rid{font-family:ui-monospace,monospace;font-weight:700;font-size:.85em}
.reason,.meta{font-size:.82em;color:#4a5560} .meta code{font-size:1em}
blockquote{margin:.3em 0 .3em .8em;padding:.1em .6em;border-left:3px solid #b0bac4;color:#333;font-size:.9em}
blockquote footer{font-size:.85em;color:#4a5560}
ol.steps{list-style:none;padding-left:.2em;margin:.4em 0}
ol.steps li{padding:.05em .3em;border-left:3px solid transparent}
ol.steps b{color:#1f5fa8;margin-right:.3em}
ol.steps li.o-failed,ol.steps li.o-undefined,ol.steps li.o-error{background:#fde0e0;border-left-color:#d0021b}
ol.steps li.o-not-reached{color:#8a949e} ol.steps li::before{display:inline-block;width:1.2em;font-weight:700}
ol.steps li:not([class])::before{content:"✓";color:#2e7d32}
ol.steps li.o-failed::before{content:"✗";color:#d0021b}
ol.steps li.o-undefined::before{content:"?";color:#d0021b} ol.steps li.o-error::before{content:"!"}
ol.steps li.o-not-reached::before{content:"·"}
ol.steps .where{font-size:.8em;color:#8a1010;margin-left:.4em}
table.data{border-collapse:collapse;margin:.2em 0 .2em 2.2em;font-size:.82em}
table.data td{border:1px solid #d5dbe1;padding:.05em .4em}
.run-result{border-top:1px dashed #d5dbe1;margin-top:.4em;padding-top:.3em}
.run-result h4{margin:.1em 0;font-size:.9em}
.na-list{font-size:.82em;color:#455a64;margin:.2em 0}
.tl{max-width:100%;overflow-x:auto} .tl svg{max-width:100%;height:auto}
.tl-lazy{font-size:.82em;color:#4a5560;font-style:italic}
figcaption{font-size:.88em} figcaption p{margin:.2em 0}
.over{color:#8a1010;font-weight:600} .within{color:#14532d} .within-failed{color:#4a5560}
ul.attention{padding-left:1.2em} ul.attention li{margin:.3em 0} p.moved{margin:.25em 0 .25em 1.1em}
@media (max-width:950px){body{padding:.5em .7em} summary .badges{white-space:normal}}
"""

_EXAMPLE_ORDER: dict[str, int] = {status: i for i, status in enumerate(PRECEDENCE)}


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def anchor(result: ScenarioResult) -> str:
    """A stable id for one scenario run (node ids are not valid HTML ids)."""
    return "sc-" + hashlib.sha1(result.meta.nodeid.encode()).hexdigest()[:12]


def _css_word(text: str) -> str:
    return esc(text.replace(" ", "-"))


def badge(status: str, text: str | None = None, title: str | None = None) -> str:
    hover = f' title="{esc(title)}"' if title else ""
    return f'<span class="st {esc(status)}"{hover}>{esc(text or label(status))}</span>'


def _script() -> str:
    return files("conformance").joinpath("report.js").read_text(encoding="utf-8")


# ---- the page ------------------------------------------------------------------------------
def readiness_html(data: Mapping[str, Any]) -> str:
    """validate's N+1 table: per server, what HA does with each guest if it fails, or is taken down."""

    def cell(outcomes: list[Mapping[str, Any]]) -> str:
        items = [
            f'<li class="ready-{esc(o["action"])}">{esc(o["guest"])} ({esc(o["memory_mb"])} MB): '
            f"{esc(o['action'].replace('_', ' '))}{' on ' + esc(o['target']) if o['target'] else ''}"
            f" <small>{esc(o['why'])}</small></li>"
            for o in outcomes
        ]
        return f"<ul>{''.join(items)}</ul>" if items else "no guest"

    pool = data["pool_ha"]
    rows = [
        f"<tr><td>{esc(s['server'])}</td>"
        + (
            f"<td>{cell(s['if_failed'])}</td><td>{esc(s['planned'])}: {cell(s['if_planned'])}</td>"
            if s["known"]
            else '<td colspan="2">unknown: its guests and memory were not read</td>'
        )
        + "</tr>"
        for s in data["n_plus_one"]
    ]
    return (
        '<h2 id="readiness">HA readiness: the N+1 table</h2>'
        f"<p>Pool HA: {esc('unknown' if pool is None else 'on' if pool else 'off')} "
        f"<small>({esc(data['pool_ha_source'])})</small>; {len(data['guests'])} guests on "
        f"{len(data['servers'])} servers.</p>"
        + (
            f"<p>Manager read-out: {esc(data['manager'])}"
            + (f"; master: {esc(data['master'])}" if data.get("master") else "")
            + "</p>"
            if data.get("manager")
            else ""
        )
        + '<table class="readiness"><tr><th>server</th><th>if it failed now</th>'
        "<th>if taken down on purpose</th></tr>" + "".join(rows) + "</table>"
        + (
            "<p>Read-out notes:</p><ul>" + "".join(f"<li>{esc(n)}</li>" for n in data["notes"]) + "</ul>"
            if data.get("notes")
            else ""
        )
    )


def render_html(report: ConformanceReport) -> str:
    run = report.run
    examples = _examples(report.scenarios)
    lazy: dict[str, str] = {}
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>OVM HA conformance {esc(report.verdict)} {esc(run.run_id)}</title>",
        f"<style>{CSS}{TIMELINE_CSS}</style></head><body>",
        "<h1>Oracle VM HA conformance report</h1>",
        f'<p class="verdict verdict-{_css_word(report.verdict)}" id="verdict">'
        f"<strong>{esc(report.verdict)}</strong>"
        f" &mdash; {esc(report.verdict_line().partition(': ')[2])}</p>",
        _run_facts(report),
        _filters(report),
        _attention(report, examples, lazy),
        readiness_html(report.readiness) if report.readiness is not None else "",
        f'<h2 id="rules">Rules ({len(report.rows)})</h2>',
        *[_rule(row, report) for row in sorted(report.rows, key=lambda r: _EXAMPLE_ORDER[r.status])],
        f'<h2 id="scenarios">Scenarios ({len(examples)}, {len(report.scenarios)} runs)</h2>',
        _features(examples, report, lazy),
    ]
    if lazy:
        blob = zlib.compress(json.dumps(lazy, separators=(",", ":")).encode(), 9)
        parts.append(
            '<script type="application/octet-stream" id="timeline-data">'
            + base64.b64encode(blob).decode()
            + "</script>"
        )
    parts.append(f"<script>{_script()}</script></body></html>")
    return "\n".join(p for p in parts if p) + "\n"


def _run_facts(report: ConformanceReport) -> str:
    run = report.run
    facts = [
        ("Run", run.run_id),
        ("Environment", run.environment),
        *([("Pool", run.target)] if run.target else []),
        ("Releases", ", ".join(r.value for r in run.releases)),
        ("Seed", str(run.seed)),
        ("Started", f"{run.started} ({run.duration_s:.1f} s)"),
        *([("Selection", run.selection)] if run.selection else []),
        *([("Stopped early", run.stopped_early)] if run.stopped_early else []),
    ]
    items = "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>" for k, v in facts)
    rules = report.summary.rules
    scen = report.summary.scenarios
    counts = (
        f"<div><dt>Rules</dt><dd>{_counts(rules)}</dd></div>"
        f"<div><dt>Scenario runs</dt><dd>{_counts(scen)}"
        + (
            f" ({report.summary.too_slow} environment errors too slow to judge)"
            if report.summary.too_slow
            else ""
        )
        + "</dd></div>"
    )
    return f'<dl class="run">{items}{counts}</dl>'


def _counts(counter: dict[str, int]) -> str:
    return " ".join(f"{badge(s)}&nbsp;{counter[s]}" for s in STATUSES if counter.get(s)) or "none"


def _filters(report: ConformanceReport) -> str:
    """Hidden until the script runs (without it there is nothing to filter with)."""
    statuses = "".join(
        f'<label><input type="checkbox" name="status" value="{s}" checked> {badge(s)}</label>'
        for s in STATUSES
    )
    releases = "".join(
        f'<label><input type="checkbox" name="release" value="{esc(r.value)}" checked> {esc(r.value)}</label>'
        for r in report.run.releases
    )
    features = sorted({s.meta.feature for s in report.scenarios})
    options = '<option value="">every feature</option>' + "".join(
        f'<option value="{esc(f)}">{esc(f)}</option>' for f in features
    )
    rule_ids = "".join(f'<option value="{esc(r.rule.id)}">' for r in report.rows)
    return (
        '<form id="filters" hidden>'
        f"<fieldset><legend>Status</legend>{statuses}</fieldset>"
        f"<fieldset><legend>Release</legend>{releases}</fieldset>"
        '<label>Rule <input type="search" name="rule" list="rule-ids" placeholder="e.g. HA-ENABLE"></label>'
        f'<datalist id="rule-ids">{rule_ids}</datalist>'
        f'<label>Feature <select name="feature">{options}</select></label>'
        '<label>Words <input type="search" name="words" placeholder="server2, fence..."></label>'
        '<button type="button" id="expand">expand all</button>'
        '<button type="button" id="collapse">collapse all</button>'
        '<span id="shown"></span></form>'
    )


# ---- what needs attention ------------------------------------------------------------------
def _attention(report: ConformanceReport, examples: list[list[ScenarioResult]], lazy: dict[str, str]) -> str:
    rows = report.bad_rows
    bad = [
        runs for runs in examples if _worst(runs) in ("failed", "suite-error", "environment-error", "unknown")
    ]
    bad.sort(key=lambda runs: _EXAMPLE_ORDER[_worst(runs)])
    if not rows and not bad:
        return ""
    parts = [f'<h2 id="failed">Rules that did not pass ({len(rows)})</h2>']
    if rows:
        items = []
        for row in rows:
            replays = "".join(f'<pre class="replay">{esc(r)}</pre>' for r in row.replays[:1])
            more = (
                f'<p class="reason">and {len(row.replays) - 1} more scenario runs below</p>'
                if len(row.replays) > 1
                else ""
            )
            items.append(
                f"<li>{badge(row.status)} "
                f'<a class="rid" href="#rule-{esc(row.rule.id)}">{esc(row.rule.id)}</a> '
                f"{esc(row.rule.statement)}{replays}{more}</li>"
            )
        parts.append(f'<ul class="attention">{"".join(items)}</ul>')
    else:
        parts.append('<p class="reason">none: what did not pass below names no catalog rule</p>')
    parts.append(f'<h2 id="failed-scenarios">Scenarios that did not pass ({len(bad)})</h2>')
    parts += [_scenario(runs, report, lazy) for runs in bad]
    return "\n".join(parts)


def _is_bad(runs: list[ScenarioResult]) -> bool:
    return _worst(runs) in ("failed", "suite-error", "environment-error", "unknown")


# ---- rules ---------------------------------------------------------------------------------
def _rule(row: RuleRow, report: ConformanceReport) -> str:
    rule = row.rule
    per_release = "".join(
        badge(v.status, r.value, f"{r.value}: {label(v.status)}{': ' + v.reason if v.reason else ''}") + " "
        for r, v in row.by_release.items()
    )
    runs = " ".join(f"{r.value}:{v.status}" for r, v in row.by_release.items())
    features = " ".join(sorted({s.meta.feature for s in row.scenarios}))
    reasons = "".join(
        f"<li>{esc(r.value)}: {badge(v.status)} {esc(v.reason)}</li>"
        for r, v in row.by_release.items()
        if v.reason
    )
    groups = []
    for group in row.groups:
        badges = "".join(_run_badge(group.by_release.get(r.value, ()), r.value) for r in report.run.releases)
        count = f' <span class="reason">&times;{group.examples} examples</span>' if group.examples > 1 else ""
        groups.append(f"<li>{badges} {esc(group.name)}{count}</li>")
    scenarios = (
        f'<ul class="sc">{"".join(groups)}</ul>' if groups else '<p class="reason">no scenario ran</p>'
    )
    opened = " open" if row.status in ("failed", "suite-error", "environment-error") else ""
    return (
        f'<details class="rule filterable" id="rule-{esc(rule.id)}" data-kind="rule" data-runs="{esc(runs)}" '
        f'data-rules="{esc(rule.id)}" data-features="{esc(features)}"{opened}>'
        f'<summary>{badge(row.status)} <span class="rid">{esc(rule.id)}</span> '
        f'<span class="badges">{per_release}</span> {esc(rule.statement)}</summary>'
        f'<p class="meta">{esc(rule.kind)}; checking it on a real pool is {esc(rule.checks)}; releases '
        f"{esc(', '.join(r.value for r in rule.releases))}</p>"
        f"{_sources(rule)}"
        f"{'<ul class=reason>' + reasons + '</ul>' if reasons else ''}"
        f"<h3>Scenarios</h3>{scenarios}</details>"
    )


def _sources(rule: Rule) -> str:
    """The documents' own words, with where they are written."""
    return "".join(
        f"<blockquote>{esc(s.quote)}<footer>{esc(s.doc.title)}, {esc(s.section)}</footer></blockquote>"
        for s in rule.sources
    )


def _run_badge(runs: Iterable[ScenarioResult], release: str) -> str:
    runs = list(runs)
    if not runs:
        return f'<span class="st none" title="{esc(release)}: no run">{esc(release)}</span> '
    status = worst([r.status for r in runs])
    target = next(r for r in runs if r.status == status)
    counts = ", ".join(
        f"{sum(1 for r in runs if r.status == s)} {label(s)}"
        for s in STATUSES
        if any(r.status == s for r in runs)
    )
    return (
        f'<a class="st {esc(status)}" href="#{anchor(target)}" title="{esc(release)}: {esc(counts)}">'
        f"{esc(release)}</a> "
    )


# ---- scenarios -----------------------------------------------------------------------------
def _examples(scenarios: tuple[ScenarioResult, ...]) -> list[list[ScenarioResult]]:
    """The runs of each scenario example (one per release), in feature and line order."""
    groups: dict[tuple[object, ...], list[ScenarioResult]] = {}
    for s in sorted(scenarios, key=lambda s: (s.meta.feature, s.meta.line, s.meta.nodeid)):
        groups.setdefault(s.meta.example_key, []).append(s)
    return list(groups.values())


def _worst(runs: list[ScenarioResult]) -> str:
    return worst([r.status for r in runs])


def _features(examples: list[list[ScenarioResult]], report: ConformanceReport, lazy: dict[str, str]) -> str:
    by_feature: dict[str, list[list[ScenarioResult]]] = {}
    for runs in examples:
        by_feature.setdefault(runs[0].meta.feature, []).append(runs)
    parts = []
    for feature, groups in by_feature.items():
        title = groups[0][0].meta.feature_name or feature
        applicable = [g for g in groups if _worst(g) != "not-applicable"]
        na = [g for g in groups if _worst(g) == "not-applicable"]
        statuses = sorted({r.status for g in groups for r in g}, key=_EXAMPLE_ORDER.__getitem__)
        parts.append(
            # its scenarios' feature filter reads this (report.js): not repeated on each of them
            f'<details class="feature-group" data-features="{esc(feature)}" open>'
            f"<summary><strong>{esc(title)}</strong> "
            f'<code class="meta">{esc(feature)}</code> {" ".join(badge(s) for s in statuses)}</summary>'
        )
        parts += [_stub(g) if _is_bad(g) else _scenario(g, report, lazy) for g in applicable]
        if na:
            parts.append(
                f'<details class="na-group"><summary class="reason">{len(na)} scenarios not applicable to '
                "the releases or environment of this run</summary>"
            )
            parts += [_scenario(g, report, lazy) for g in na]
            parts.append("</details>")
        parts.append("</details>")
    return "\n".join(parts)


def _stub(runs: list[ScenarioResult]) -> str:
    """A scenario that did not pass, in its feature: a line pointing at its block at the top."""
    first = runs[0]
    return (
        f'<p class="moved">{badge(_worst(runs))} <a href="#ex-{anchor(first)}">{esc(first.meta.display)}</a> '
        '<span class="reason">(above, under "Scenarios that did not pass")</span></p>'
    )


def _scenario(runs: list[ScenarioResult], report: ConformanceReport, lazy: dict[str, str]) -> str:
    """One scenario example, rendered once in the page: its steps, then what each release made of them."""
    first = runs[0]
    meta = first.meta
    status = _worst(runs)
    run_words = " ".join(f"{r.meta.release or '-'}:{r.status}" for r in runs)
    data = (
        f'data-kind="scenario" data-runs="{esc(run_words)}" '
        f'data-rules="{esc(" ".join(meta.rules))}"'
    )
    opened = " open" if _is_bad(runs) else ""
    releases = "".join(
        f'<a class="st {esc(r.status)}" href="#{anchor(r)}" '
        f'title="{esc(label(r.status))}">{esc(r.meta.release or "suite")}</a> '
        for r in runs
    )
    rules = ", ".join(f'<a href="#rule-{esc(r)}">{esc(r)}</a>' for r in meta.rules) or "no rule"
    where = f"{meta.feature}:{meta.line}" if meta.line else meta.feature
    head = (
        f'<details class="scenario filterable" id="ex-{anchor(first)}" {data}{opened}>'
        f'<summary>{badge(status)} <span class="title">{esc(meta.display)}</span> '
        f'<span class="badges">{releases}</span></summary>'
        f'<p class="meta"><code>{esc(where)}</code>; rules {rules}</p>'
    )
    body = [_steps(runs)]
    shown = [r for r in runs if r.status != "not-applicable"]
    na = [r for r in runs if r.status == "not-applicable"]
    body += [_run_result(r, lazy, inline=r.status != "passed") for r in shown]
    if na:
        body.append(
            '<p class="na-list">'
            + "; ".join(
                f'<span id="{anchor(r)}">{esc(r.meta.release)}: {esc(r.message or "not applicable")}</span>'
                for r in na
            )
            + "</p>"
        )
    return head + "".join(body) + "</details>"


def _steps(runs: list[ScenarioResult]) -> str:
    """The Given/When/Then once; a step's outcome per release where the releases disagree."""
    steps = runs[0].meta.steps
    if not steps:
        return ""
    ran = [r for r in runs if r.step_outcomes]
    items = []
    for i, step in enumerate(steps):
        outcomes = {r.meta.release: r.step_outcomes[i] for r in ran if i < len(r.step_outcomes)}
        distinct = set(outcomes.values())
        shown = _step_outcome(distinct)
        where = ""
        if len(distinct) > 1 or shown in ("failed", "undefined", "error"):
            bad = [rel for rel, o in outcomes.items() if o in ("failed", "undefined", "error")]
            if bad:
                where = f'<span class="where">{esc(_STEP_WORD[shown])} on {esc(", ".join(bad))}</span>'
        table = ""
        if step.table:
            rows = "".join(
                "<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in step.table
            )
            table = f'<table class="data">{rows}</table>'
        doc = f"<pre>{esc(step.doc)}</pre>" if step.doc else ""
        outcome = "" if shown == "passed" else f' class="o-{esc(shown)}"'
        items.append(
            # the outcome's mark is drawn by the style sheet (li.o-*::before): one rule, not a span per
            # step; a passed step, the common case, has no class at all (li:not([class])), which keeps
            # the full run's page under its megabyte
            f"<li{outcome}><b>{esc(step.keyword)}</b>{esc(step.text)}{where}{table}{doc}</li>"
        )
    return f'<ol class="steps">{"".join(items)}</ol>'


_STEP_WORD = {
    "failed": "failed",
    "undefined": "no step definition",
    "error": "could not be judged",
    "passed": "",
    "not-reached": "",
    "": "",
}


def _step_outcome(outcomes: set[str]) -> str:
    for outcome in ("undefined", "error", "failed", "passed", "not-reached"):
        if outcome in outcomes:
            return outcome
    return ""


def _run_result(s: ScenarioResult, lazy: dict[str, str], inline: bool) -> str:
    meta = s.meta
    # a passing run's node id is in conformance.json and junit.xml; the page names it where there is
    # something to look into or replay (it keeps the full run's page under a megabyte)
    node = f"; <code>{esc(meta.nodeid)}</code>" if s.status != "passed" else ""
    parts = [
        f'<div class="run-result" id="{anchor(s)}"><h4>{badge(s.status)} '
        f"{esc(('Oracle VM ' + meta.release) if meta.release else 'suite')}</h4>"
        f'<p class="meta">seed {esc(meta.seed)}; {s.duration_s:.3f} s{node}</p>'
    ]
    if s.status != "passed" and s.message:
        step = f"{esc(s.failed_step_text)}: " if s.failed_step_text and s.status == "failed" else ""
        text = (
            s.message.removeprefix(f"step '{s.failed_step_text}' failed: ")
            if s.failed_step_text
            else s.message
        )
        parts.append(f'<pre class="message">{step}{esc(text)}</pre>')
    if s.status != "passed":
        parts.append(f'<pre class="replay">{esc(meta.replay)}</pre>')
    parts.append(_timing_checks(s.latency))
    if s.has_fault:
        title = f"{meta.display} [{meta.release}]"
        captions = "".join(_caption(f, s.status) for f in s.failover)
        if s.timeline_truncated:
            captions += '<p class="reason">Timeline truncated: heartbeats were thinned out.</p>'
        if inline:
            drawing = f'<div class="tl">{render_timeline_svg(s.timeline, title, s.failover)}</div>'
        else:
            key = anchor(s)
            lazy[key] = render_timeline_svg(s.timeline, title, s.failover)
            drawing = (
                f'<div class="tl tl-lazy" data-tl="{key}">The timeline of this passing run is drawn when the '
                "scenario is opened (it needs the page's script).</div>"
            )
        parts.append(f'<figure class="timeline">{drawing}<figcaption>{captions}</figcaption></figure>')
    parts.append("</div>")
    return "".join(parts)


def _timing_checks(latency: dict[str, Any]) -> str:
    """The run's time limits: measured against the bound, and what a real-time run granted."""
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
        verdict = c["verdict"]
        word = "environment-error" if verdict == "too slow to judge" else verdict
        rows.append(
            f"<li>{esc(c['check'])}: {measured} (bound {_secs(c['bound_ms'])}); {grant}; "
            f"{badge(word, verdict)}</li>"
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
    return f'<p class="timing">Timing checks:</p><ul class="timing">{"".join(rows)}</ul>{tail}'


def _secs(ms: int) -> str:
    return f"{ms / 1000:g} s"


def _caption(f: FaultOutcome, status: str) -> str:
    """One line per fault: detection, fence, and each guest running again against the bound.

    Green means "within the bound" only on a scenario that passed: on a failed one, a guest back in
    time may still be back in the wrong place, so the words stay and the colour goes."""
    where = f" on {esc(f.server)}" if f.server else ""
    what = f.fault.kind.replace("_", " ")
    bits = [f"<strong>{esc(what)}</strong>{where} at {_secs(f.at_ms)}"]
    if f.detected_after_ms is not None:
        who = f" ({esc(f.detected_by)})" if f.detected_by else ""
        bits.append(f"detected after <strong>{_secs(f.detected_after_ms)}</strong>{who}")
    else:
        bits.append("no node_down recorded")
    if f.fenced_after_ms is not None:
        bits.append(f"fenced after {_secs(f.fenced_after_ms)}")
    within_class = "within" if status == "passed" else "within-failed"
    for g in f.guests:
        after = g.after_ms(f.at_ms)
        if after is None:
            bits.append(f"{esc(g.guest)}: {esc(g.setback)}")
            continue
        text = f"{esc(g.guest)} running on {esc(g.server or '?')} after <strong>{_secs(after)}</strong>"
        if g.setback:  # held up on the way (powered off for want of a server): the bound does not apply
            bits.append(f"{text} ({esc(g.setback)})")
            continue
        if g.bound_ms is not None and after > g.bound_ms:
            text = f'<span class="over">{text} &gt; bound {_secs(g.bound_ms)}</span>'
        elif g.bound_ms is not None:
            text = f'<span class="{within_class}">{text} &le; bound {_secs(g.bound_ms)}</span>'
        bits.append(text)
    if f.bound_ms is not None and not any(g.running_ms is not None for g in f.guests):
        bits.append(f"failover bound {_secs(f.bound_ms)}")
    prefix = "" if status == "passed" else f"{badge(status)} "
    return f'<p class="fault-summary">{prefix}{"; ".join(bits)}.</p>'
