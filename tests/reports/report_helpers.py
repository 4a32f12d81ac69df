"""Reading a sandbox run's report files back, for assertions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_report(root: Path, run_id: str | None = None) -> dict[str, Any]:
    run_dir = root / "reports" / (run_id or "latest")
    data: dict[str, Any] = json.loads((run_dir / "conformance.json").read_text())
    return data


def statuses(report: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {rule["id"]: rule["status_by_release"] for rule in report["rules"]}


def scenario_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every scenario run listed under any rule (a scenario checking two rules appears once)."""
    seen: dict[str, dict[str, Any]] = {}
    for rule in report["rules"]:
        for scenario in rule["scenarios"]:
            seen.setdefault(scenario["nodeid"], scenario)
    for scenario in report["unmapped_scenarios"]:
        seen.setdefault(scenario["nodeid"], scenario)
    return list(seen.values())
