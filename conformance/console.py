"""What a run prints: short failures (the step, the message, the replay command) and a closing
summary that names each failed rule with its replay command, the verdict and where the report is.

pytest's own tracebacks of a scenario are hundreds of lines of pytest-bdd
internals; these few lines are what a QA engineer acts on.
"""

from __future__ import annotations

from conformance.report_model import ConformanceReport
from conformance.results import ScenarioResult
from conformance.statuses import PRECEDENCE, label

MAX_SHORT_FAILURES = 20
_BAD = ("failed", "suite-error", "environment-error", "unknown")


def bad_runs(report: ConformanceReport) -> list[ScenarioResult]:
    runs = [s for s in report.scenarios if s.status in _BAD]
    return sorted(runs, key=lambda s: (PRECEDENCE.index(s.status), s.meta.feature, s.meta.line))


def short_failure(s: ScenarioResult) -> list[str]:
    meta = s.meta
    where = f"{meta.feature}:{meta.line}" if meta.line else meta.feature
    release = f" [{meta.release}]" if meta.release else ""
    lines = [f"{label(s.status).upper()}  {where}{release}  {meta.display}"]
    if meta.rules:
        lines.append(f"    rules:  {', '.join(meta.rules)}")
    step = s.failed_step_text
    if step:
        lines.append(f"    step:   {step}")
    message = s.message.removeprefix(f"step '{step}' failed: ") if step else s.message
    first, *rest = (message or label(s.status)).splitlines() or [""]
    lines.append(f"    why:    {first}")
    lines += [f"            {line}" for line in rest[:6]]
    lines.append(f"    replay: {meta.replay}")
    return lines


def short_failures(report: ConformanceReport) -> list[str]:
    runs = bad_runs(report)
    out: list[str] = []
    for s in runs[:MAX_SHORT_FAILURES]:
        out += short_failure(s)
    if len(runs) > MAX_SHORT_FAILURES:
        out.append(f"... and {len(runs) - MAX_SHORT_FAILURES} more: see the report")
    return out


def closing_summary(report: ConformanceReport, html: str | None) -> list[str]:
    """The last lines of a run: the verdict, every rule that failed or could not be judged with the
    command that replays it, and the report."""
    lines = [report.verdict_line()]
    rows = report.bad_rows
    if rows:
        width = max(len(r.rule.id) for r in rows)
        lines.append("rules that did not pass, with the command that replays each:")
        for row in rows:
            replays = row.replays
            more = f"  (+{len(replays) - 1} more in the report)" if len(replays) > 1 else ""
            first = replays[0] if replays else ""
            lines.append(f"  {label(row.status):17} {row.rule.id:{width}}  {first}{more}")
    for s in report.suite_errors:
        if not s.meta.rules:  # a malformed feature file: no rule to list it under
            lines.append(f"  suite error       {s.message.splitlines()[0] if s.message else s.meta.display}")
    if html:
        lines.append(f"report: {html}")
    return lines
