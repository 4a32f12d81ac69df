"""A campaign's report: campaign.json, index.html, and each violation as a .feature and a .json.

Written into `<report dir>/<run id>/` the same way as a conformance run
(staged in a hidden directory, renamed into place, `latest` pointed at it),
with the suite's own look (CSS) and timelines (timeline_svg), so a campaign
sits next to the runs it may turn into regression scenarios.
"""

from __future__ import annotations

import json
import shlex
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.campaign.gherkin import feature_text
from conformance.render_html import CSS, esc
from conformance.report_files import point_latest
from conformance.timeline_svg import render_timeline_svg

JSON_NAME = "campaign.json"
HTML_NAME = "index.html"
FOUND_FEATURE = "found.feature"
VIOLATIONS_DIR = "violations"


@dataclass
class CampaignSummary:
    run_id: str
    env: str
    releases: list[str]
    seed: int
    requested: int
    schedules: int = 0
    not_applicable: int = 0
    shrink_runs: int = 0
    virtual_ms: int = 0
    elapsed_s: float = 0.0
    budget_s: float | None = None
    stopped: str = ""
    faults: Counter[str] = field(default_factory=Counter)
    shapes: Counter[str] = field(default_factory=Counter)
    violations: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.schedules / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def add_shard(self, data: dict[str, Any]) -> None:
        self.schedules += int(data["schedules"])
        self.not_applicable += int(data["not_applicable"])
        self.shrink_runs += int(data["shrink_runs"])
        self.virtual_ms += int(data["virtual_ms"])
        self.faults.update(data["faults"])
        self.shapes.update(data["shapes"])
        if data.get("stopped") == "budget":
            self.stopped = "budget"
        self.violations.extend(data["violations"])

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "environment": self.env,
            "releases": self.releases,
            "seed": self.seed,
            "schedules_requested": self.requested,
            "schedules_run": self.schedules,
            "not_applicable": self.not_applicable,
            "shrink_runs": self.shrink_runs,
            "simulated_s": round(self.virtual_ms / 1000),
            "elapsed_s": round(self.elapsed_s, 1),
            "schedules_per_s": round(self.rate, 2),
            "budget_s": self.budget_s,
            "stopped": self.stopped,
            "faults_by_kind": dict(sorted(self.faults.items())),
            "schedule_shapes": dict(sorted(self.shapes.items())),
            "violations": self.violations,
            "errors": self.errors,
        }


def violation_name(index: int) -> str:
    return f"violation-{index:02d}"


def replay_command(env: str, schedule_file: Path) -> str:
    return (
        f"python -m conformance campaign --env {shlex.quote(env)} --replay {shlex.quote(str(schedule_file))}"
    )


def feature_command(release: str, scenario_name: str) -> str:
    release_arg, name_arg = shlex.quote(release), shlex.quote(scenario_name)
    return f"python -m conformance run --env sim --release {release_arg} --scenario {name_arg}"


def write_campaign_report(summary: CampaignSummary, report_dir: Path) -> Path:
    report_dir.mkdir(parents=True, exist_ok=True)
    final = report_dir / summary.run_id
    staging = Path(tempfile.mkdtemp(prefix=f".{summary.run_id}.", dir=report_dir))
    try:
        vdir = staging / VIOLATIONS_DIR
        vdir.mkdir()
        for i, v in enumerate(summary.violations, 1):
            name = violation_name(i)
            (vdir / f"{name}.json").write_text(v["schedule"], encoding="utf-8")
            (vdir / f"{name}.feature").write_text(feature_text([v["scenario"]]), encoding="utf-8")
            v["schedule_file"] = str(final / VIOLATIONS_DIR / f"{name}.json")
            v["feature_file"] = str(final / VIOLATIONS_DIR / f"{name}.feature")
            v["replay"] = replay_command(summary.env, Path(v["schedule_file"]))
        if summary.violations:
            scenarios = [v["scenario"] for v in summary.violations]
            (staging / FOUND_FEATURE).write_text(feature_text(scenarios), encoding="utf-8")
        (staging / JSON_NAME).write_text(json.dumps(summary.as_dict(), indent=2) + "\n", encoding="utf-8")
        (staging / HTML_NAME).write_text(render_campaign_html(summary), encoding="utf-8")
        staging.chmod(0o755)
        if final.exists():
            shutil.rmtree(final)
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    point_latest(report_dir, final.name)
    return final


def _counts_table(title: str, counts: Counter[str]) -> str:
    rows = "".join(f"<tr><td>{esc(k)}</td><td>{v}</td></tr>" for k, v in sorted(counts.items()))
    return f"<h2>{esc(title)}</h2><table><tr><th>kind</th><th>count</th></tr>{rows}</table>"


def render_campaign_html(summary: CampaignSummary) -> str:
    verdict = "FAIL" if summary.violations else ("INCOMPLETE" if summary.errors else "PASS")
    words = (
        f"{len(summary.violations)} violation(s) found"
        if summary.violations
        else "could not run: " + summary.errors[0].splitlines()[0]
        if summary.errors
        else "no property was violated"
    )
    facts = [
        ("Run", summary.run_id),
        ("Environment", summary.env),
        ("Releases", ", ".join(summary.releases)),
        ("Seed", str(summary.seed)),
        (
            "Schedules",
            f"{summary.schedules} run of {summary.requested} requested"
            + (" (time budget spent)" if summary.stopped == "budget" else ""),
        ),
        (
            "Not applicable",
            f"{summary.not_applicable} (a step could not be carried out: they tested nothing)",
        ),
        ("Shrinking", f"{summary.shrink_runs} schedule runs"),
        (
            "Time",
            f"{summary.elapsed_s:.0f} s wall clock, {summary.virtual_ms / 1000:.0f} s of pool time, "
            f"{summary.rate:.1f} schedules/s",
        ),
    ]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>OVM HA campaign {esc(summary.run_id)}</title><style>{CSS}</style></head><body>",
        "<h1>Oracle VM HA fault campaign</h1>",
        f'<p class="verdict verdict-{verdict}"><strong>Verdict: {verdict}</strong> &mdash; {esc(words)}</p>',
        '<dl class="run">' + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in facts) + "</dl>",
        _counts_table("Faults injected, by kind (per server)", summary.faults),
        _counts_table("Schedules, by what they exercise", summary.shapes),
    ]
    for error in summary.errors:
        parts.append(f"<h2>Could not run</h2><pre>{esc(error)}</pre>")
    for i, v in enumerate(summary.violations, 1):
        parts += [
            f'<section class="scenario" id="{violation_name(i)}">',
            f"<h2>Violation {i}: {esc(v['check'])}</h2>",
            f"<p>Rules: {esc(', '.join(v['rules']))}; release {esc(v['release'])}; "
            f"found after {v['found_after']} schedule(s) of its shard.</p>",
            f"<pre>{esc(v['message'])}</pre>",
            "<h3>As a scenario (shrunk)</h3>",
            f"<pre>{esc(v['scenario'])}</pre>",
            f"<p>Replay: <code>{esc(v.get('replay', ''))}</code></p>",
            '<figure class="timeline">'
            + render_timeline_svg(v["timeline"], title=f"violation {i}: {v['check']}")
            + "</figure>",
            "</section>",
        ]
    parts.append("</body></html>")
    return "\n".join(parts)
