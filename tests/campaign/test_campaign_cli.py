"""`ovm-conformance campaign` as a user runs it: options, progress, report, exit statuses, xdist workers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.cli import main

SMALL = [
    "campaign",
    "--env",
    "sim",
    "--release",
    "2.2",
    "--schedules",
    "8",
    "--shard-size",
    "4",
    "--seed",
    "5",
]


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--schedules", "0"], "--schedules: expected a positive number, got 0"),
        (["--env", "docker"], "--env docker: a campaign injects faults, so it runs on sim or local only"),
        (["--env", "nowhere"], "unknown environment 'nowhere'"),
        (["--budget", "soon"], "--budget: expected a duration such as 90s, 10m or 1h, got 'soon'"),
        (["--release", "9.9"], "9.9"),
        (["-n", "many"], "-n: expected 'auto' or a number, got 'many'"),
        (["--replay", "no/such/schedule.json"], "no/such/schedule.json: cannot read"),
        (["--schedules", "lots"], "argument --schedules: invalid int value: 'lots'"),
    ],
)
def test_a_bad_option_is_one_line_and_status_2(
    args: list[str], problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["campaign", *args]) == 2
    err = capsys.readouterr().err
    assert problem in err and err.count("\n") == 1, err


def _report(out: str) -> dict[str, object]:
    html = next(line.split("report: ", 1)[1] for line in out.splitlines() if line.startswith("report: "))
    run_dir = Path(html).parent
    assert (run_dir / "index.html").is_file()
    data: dict[str, object] = json.loads((run_dir / "campaign.json").read_text(encoding="utf-8"))
    data["_dir"] = str(run_dir)
    return data


def test_a_clean_campaign_shows_progress_writes_its_report_and_exits_0(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert main([*SMALL, "--report-dir", str(tmp_path)]) == 0
    out = capfd.readouterr().out
    assert "campaign: 4/8 schedules, 1/2 shards, 0 violation(s)" in out
    assert "no property was violated" in out
    report = _report(out)
    assert report["schedules_run"] == 8 and report["violations"] == [] and report["faults_by_kind"]
    assert (tmp_path / "latest").resolve() == Path(str(report["_dir"]))
    assert not list(tmp_path.glob(".*")), "the shards' scratch directory is removed"


def test_violations_are_printed_as_scenarios_with_replay_commands_and_status_1(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OVM_CAMPAIGN_MUTANT", "restart-skipped")
    args = [
        "campaign",
        "--release",
        "all",
        "--schedules",
        "100",
        "--shard-size",
        "50",
        "--max-violations",
        "1",
    ]
    assert main([*args, "--report-dir", str(tmp_path), "--", "-p", "tests.campaign.mutant_plugin"]) == 1
    out = capfd.readouterr().out
    assert "--- violation 1: every HA guest is running" in out
    assert "  Scenario: " in out and "@rule:FAIL-SERVER-RESTART" in out
    replay = next(line.split("replay:  ", 1)[1] for line in out.splitlines() if line.startswith("replay:  "))
    run_dir = Path(str(_report(out)["_dir"]))
    assert (run_dir / "violations" / "violation-01.feature").read_text().startswith("Feature: ")
    assert "<svg" in (run_dir / "index.html").read_text()
    assert (run_dir / "found.feature").is_file()
    # the same schedule, replayed on the real code (no mutant in this process): it passes
    schedule = replay.split("--replay ", 1)[1]
    monkeypatch.delenv("OVM_CAMPAIGN_MUTANT")
    assert main(["campaign", "--env", "sim", "--replay", schedule]) == 0
    assert "no property was violated" in capfd.readouterr().out


def test_a_campaign_that_cannot_run_says_why_and_exits_3(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert main([*SMALL, "--report-dir", str(tmp_path), "--", "--no-such-pytest-option"]) == 3
    assert "could not run: pytest exited with status 4 (usage error)" in capfd.readouterr().out


def test_two_local_popen_workers_run_the_same_schedules_as_one_process(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """pytest-xdist's own way of naming workers (`--tx`), as for remote machines (`--tx ssh=...`)."""
    base = ["campaign", "--release", "all", "--schedules", "12", "--shard-size", "3", "--seed", "9"]
    assert main([*base, "--report-dir", str(tmp_path / "serial")]) == 0
    serial = _report(capfd.readouterr().out)
    assert (
        main([*base, "--report-dir", str(tmp_path / "xdist"), "--", "-d", "--tx", "popen", "--tx", "popen"])
        == 0
    )
    out = capfd.readouterr().out
    assert "[gw0] " in out or "bringing up nodes" in out
    spread = _report(out)
    for key in ("schedules_run", "not_applicable", "faults_by_kind", "schedule_shapes", "simulated_s"):
        assert spread[key] == serial[key], key
