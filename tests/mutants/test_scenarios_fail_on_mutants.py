"""Each sharpened scenario fails on the broken implementation it was written against.

One child pytest runs, on the simulator, every scenario that some mutant of
tests/mutants/library.py names, each with its own mutant patched in
(tests/mutants/plugin.py). A scenario that still passes, or that fails at
another step than the one meant to catch the bug (a Given that no longer
builds the pool proves nothing), is reported with its mutant. The normal
suite runs the same scenarios unpatched and they pass there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.mutants.library import MUTANTS, Mutant, Target
from tests.mutants.plugin import PLAN_VARIABLE, plan_key

REPO = Path(__file__).resolve().parents[2]


def _rounds() -> list[dict[str, str]]:
    """Plans for successive child runs: a scenario that several mutants target runs once per mutant,
    each time in another round."""
    rounds: list[dict[str, str]] = []
    for m in MUTANTS.values():
        keys = {plan_key(t.feature, t.scenario, r) for t in m.targets for r in t.releases}
        plan = next((p for p in rounds if not keys & p.keys()), None)
        if plan is None:
            plan = {}
            rounds.append(plan)
        plan.update(dict.fromkeys(keys, m.name))
    return rounds


def _run_child(tmp_path: Path, plan: dict[str, str]) -> dict[str, list[dict[str, object]]]:
    """Run the planned scenarios in a child pytest; their report entries by plan key and mutant."""
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(plan, indent=1), encoding="utf-8")
    env = dict(os.environ, **{PLAN_VARIABLE: str(plan_file)})
    command = [
        sys.executable,
        "-m",
        "pytest",
        "features/test_features.py",
        "-p",
        "tests.mutants.plugin",
        "--ovm-env",
        "sim",
        "--ovm-release",
        "all",
        "--ovm-report-dir",
        str(tmp_path / "reports"),
        "--ovm-run-id",
        "mutants",
        "-q",
        "-p",
        "no:randomly",
    ]
    done = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=1200, check=False
    )
    report = tmp_path / "reports" / "mutants" / "conformance.json"
    assert report.is_file(), done.stdout[-4000:] + done.stderr[-4000:]
    runs: dict[str, list[dict[str, object]]] = {}
    for rule in json.loads(report.read_text(encoding="utf-8"))["rules"]:
        for s in rule["scenarios"]:
            key = plan_key(str(s["feature"]), str(s["name"]), str(s["release"]))
            runs.setdefault(f"{key}::{plan.get(key)}", []).append(s)
    return runs


def _verdicts(m: Mutant, t: Target, runs: dict[str, list[dict[str, object]]]) -> list[str]:
    problems = []
    for release in t.releases:
        found = {
            str(s["nodeid"]): s
            for s in runs.get(f"{plan_key(t.feature, t.scenario, release)}::{m.name}", [])
            if all(str(dict(s.get("example") or {}).get(k)) == v for k, v in t.example.items())  # type: ignore[call-overload]
        }
        where = f"{m.name} (item {m.item}): {t.scenario!r} [{release}]" + (
            f" {t.example}" if t.example else ""
        )
        if not found:
            problems.append(f"{where}: did not run")
        for s in found.values():
            if s["status"] != "failed":
                problems.append(f"{where}: {s['status']}, but it should fail on a pool that {m.breaks}")
            elif t.step not in str(s["failed_step"]):
                problems.append(
                    f"{where}: failed at {s['failed_step']!r}, not at the step {t.step!r}: {s['message']}"
                )
    return problems


@pytest.mark.slow
def test_every_mutant_fails_its_scenarios_at_the_step_meant_to_catch_it(tmp_path: Path) -> None:
    runs: dict[str, list[dict[str, object]]] = {}
    for i, plan in enumerate(_rounds()):
        (tmp_path / str(i)).mkdir()
        runs.update(_run_child(tmp_path / str(i), plan))
    problems = [p for m in MUTANTS.values() for t in m.targets for p in _verdicts(m, t, runs)]
    assert not problems, "scenarios that do not catch their mutant:\n" + "\n".join(problems)


def test_the_mutants_name_scenarios_that_exist() -> None:
    """A renamed scenario would silently leave its mutant without a target."""
    from tests.features.scenario_index import scenarios

    names = {(s.file, s.name) for s in scenarios()}
    missing = [
        f"{m.name}: {t.feature}: {t.scenario!r}"
        for m in MUTANTS.values()
        for t in m.targets
        if (t.feature, t.scenario) not in names
    ]
    assert not missing, "\n".join(missing)
