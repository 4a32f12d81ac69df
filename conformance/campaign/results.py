"""Gather the shards' results after pytest ran them, and tell the user what the campaign found."""

from __future__ import annotations

import json
from pathlib import Path

from conformance.campaign.plugin import SHARDS_DIR
from conformance.campaign.report import FOUND_FEATURE, HTML_NAME, CampaignSummary, feature_command

# pytest's exit statuses that mean the shards did not all run (1 is "some shard found a violation")
_PYTEST_TROUBLE = {2: "interrupted", 3: "internal error", 4: "usage error", 5: "no shard was collected"}


def collect(summary: CampaignSummary, workdir: Path, pytest_status: int) -> None:
    shards = workdir / SHARDS_DIR
    for path in sorted(shards.glob("shard*.json")) if shards.is_dir() else []:
        try:
            summary.add_shard(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError) as exc:
            summary.errors.append(f"{path.name}: unreadable shard result: {exc}")
    for path in sorted(shards.glob("shard*.error.txt")) if shards.is_dir() else []:
        text = path.read_text(encoding="utf-8").strip()
        last = text.splitlines()[-1] if text else "unknown error"
        summary.errors.append(f"{path.name.split('.')[0]}: {last}\n{text}")
    if pytest_status in _PYTEST_TROUBLE:
        summary.errors.append(f"pytest exited with status {pytest_status} ({_PYTEST_TROUBLE[pytest_status]})")
    summary.violations.sort(key=lambda v: (v["check"], v["release"], v["scenario"]))


def print_outcome(summary: CampaignSummary, run_dir: Path) -> None:
    print(
        f"campaign: {summary.schedules} schedules run ({summary.not_applicable} not applicable, "
        f"{summary.shrink_runs} runs to shrink) in {summary.elapsed_s:.0f} s, {summary.rate:.1f} schedules/s"
        + (" -- time budget spent" if summary.stopped == "budget" else "")
    )
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(summary.faults.items()))
    print(f"faults injected: {kinds or 'none'}")
    for error in summary.errors:
        print(f"could not run: {error.splitlines()[0]}")
    print(f"report: {run_dir / HTML_NAME}")
    if not summary.violations:
        if not summary.errors:
            print("no property was violated")
        return
    print(
        f"\n{len(summary.violations)} violation(s); each shrunk and written as a scenario "
        f"(all of them: {run_dir / FOUND_FEATURE}):"
    )
    for i, v in enumerate(summary.violations, 1):
        name = v["scenario"].splitlines()[1].strip().removeprefix("Scenario: ")
        print(f"\n--- violation {i}: {v['check']}\n{v['message']}\n")
        print(v["scenario"])
        print(f"replay:  {v['replay']}")
        print(f"as a test, once saved under features/:  {feature_command(v['release'], name)}")
