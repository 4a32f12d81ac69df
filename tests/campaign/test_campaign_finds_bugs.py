"""The campaign catches real bugs: each deliberate mutant of tests/campaign/mutants.py is found, shrunk,
and printed as a scenario that fails under pytest-bdd on the mutant and passes on the real code.

benchmarks/campaign_mutants.py measures how many schedules each takes (the bar: within 1,000);
here each must be found within a few hundred, so the test stays quick.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.campaign.search import Found, driver_factory, run_shard
from ovmref.release import ALL_RELEASES
from tests.campaign.mutants import MUTANTS, apply

REPO = Path(__file__).resolve().parents[2]
WITHIN = 300


def find(mutant: str, seed: int = 1) -> Found:
    with apply(mutant):
        result = run_shard(
            0, WITHIN, campaign_seed=seed, releases=ALL_RELEASES, make_driver=driver_factory("sim")
        )
    assert result.found, f"the campaign did not find {mutant} in {result.schedules} schedules"
    return result.found[0]


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_the_campaign_finds_each_deliberate_bug_and_shrinks_it(mutant: str) -> None:
    found = find(mutant)
    assert found.found_after <= WITHIN
    first_events = len(found.first_schedule.events) + len(found.first_schedule.guests)
    assert len(found.schedule.events) + len(found.schedule.guests) <= first_events, "shrinking made it bigger"
    text = found.scenario.text()
    assert f"@release:{found.schedule.release.value}" in text and "@rule:" in text
    assert found.check in text, "the broken property is one of the scenario's Then steps"


def run_feature(tmp_path: Path, feature: str, mutant: str | None) -> subprocess.CompletedProcess[str]:
    """The scenario as a user would commit it: a .feature file bound by pytest-bdd, run with the
    project's plugin and steps, in a child pytest (with the mutant applied, or not)."""
    (tmp_path / "found.feature").write_text(feature, encoding="utf-8")
    (tmp_path / "test_found.py").write_text(
        'from pytest_bdd import scenarios\n\nscenarios("found.feature")\n'
    )
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["conformance.plugin", "steps"]\n')
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("OVM_CAMPAIGN_MUTANT", None)
    if mutant:
        env["OVM_CAMPAIGN_MUTANT"] = mutant
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(tmp_path),
        "-p",
        "tests.campaign.mutant_plugin",
        "-q",
        "--ovm-no-report",
        "--ovm-release=all",
        "-p",
        "no:cacheprovider",
        f"--rootdir={tmp_path}",
    ]
    return subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.mark.parametrize("mutant", ["multi-failure", "least-free"])
def test_the_printed_scenario_fails_on_the_bug_and_passes_on_the_fixed_code(
    tmp_path: Path, mutant: str
) -> None:
    from conformance.campaign.gherkin import feature_text

    found = find(mutant)
    feature = feature_text([found.scenario.text()])
    broken = run_feature(tmp_path, feature, mutant)
    assert broken.returncode == 1, broken.stdout[-3000:] + broken.stderr[-2000:]
    assert "1 failed" in broken.stdout and found.check.split(",")[0] in broken.stdout
    fixed = run_feature(tmp_path, feature, None)
    assert fixed.returncode == 0, fixed.stdout[-3000:] + fixed.stderr[-2000:]
    assert "1 passed" in fixed.stdout
