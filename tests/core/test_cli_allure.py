"""`run --allure DIR` writes allure results from the report model: no extra to install, one test per
scenario and release, Given/When/Then as steps, and no fixture containers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_allure_results_are_one_per_scenario_and_release(tmp_path: Path) -> None:
    out = tmp_path / "allure"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance",
            "run",
            "--release",
            "2.2,3.x",
            "-q",
            "--allure",
            str(out),
            "--report-dir",
            str(tmp_path / "reports"),
            "--scenario",
            "crashed HA guest",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    results = [json.loads(p.read_text()) for p in out.glob("*-result.json")]
    assert results, f"no allure results in {out}"
    assert not list(out.glob("*-container.json")), "no fixture containers"
    report = json.loads(
        (tmp_path / "reports" / "latest" / "conformance.json").read_text()
        if (tmp_path / "reports" / "latest").exists()
        else next((tmp_path / "reports").glob("*/conformance.json")).read_text()
    )
    assert len(results) == report["summary"]["scenarios"]["total"]
    releases = {p["value"] for r in results for p in r["parameters"] if p["name"] == "release"}
    assert releases == {"2.2", "3.x"}
    ran = [r for r in results if r["status"] == "passed"]
    assert ran and all(r["steps"] and r["steps"][0]["name"].startswith("Given ") for r in ran)
    labels = {label["name"] for r in ran for label in r["labels"]}
    assert {"epic", "feature", "story", "severity"} <= labels
    assert all(r["name"].endswith(("[2.2]", "[3.x]")) for r in results)
