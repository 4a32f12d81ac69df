"""`python -m conformance`: user errors are one line and exit 2; `run` reports and replays."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from report_helpers import read_report, scenario_rows
from sandbox_project import CATALOG, child_env, write_project

# The CLI with the sandbox's fake environment registered (as the sandbox's conftest does for pytest).
WITH_FAKE_ENV = (
    "import sys, environments; environments._REGISTRY['fake'] = 'fake_pool:FakeDriver'; "
    "from conformance.cli import main; sys.exit(main(sys.argv[1:]))"
)


def cli(*args: str, cwd: Path | None = None, fake_env: bool = False) -> subprocess.CompletedProcess[str]:
    head = [sys.executable, "-c", WITH_FAKE_ENV] if fake_env else [sys.executable, "-m", "conformance"]
    return subprocess.run(
        [*head, *args], cwd=cwd, env=child_env(), capture_output=True, text=True, check=False, timeout=300
    )


def assert_user_error(done: subprocess.CompletedProcess[str], expected: str) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert expected in lines[0]
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "--release", "4.0"], "error: unknown Oracle VM release '4.0'"),
        (["run", "--env", "vmware"], "error: unknown environment 'vmware': choose one of"),
        (["run", "--seed", "abc"], "argument --seed: invalid int value: 'abc'"),
        (["run", "-n", "lots"], "-n: expected 'auto' or a number, got 'lots'"),
        (["rules", "--release", "2.3"], "unknown Oracle VM release '2.3'"),
        (["rules", "--release", "all"], "--release: give one release, not 'all'"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["check", "/etc/hostname"], "cannot tell the file's format from its name; use --kind"),
        (["rules", "--", "-x"], "unexpected arguments after '--': -x"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(args: list[str], expected: str) -> None:
    assert_user_error(cli(*args), expected)


def test_bad_catalog_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "rules.yaml"
    bad.write_text(CATALOG.replace("kind: role", "kind: wish"))
    assert_user_error(cli("rules", "--catalog", str(bad)), f"{bad}:15: kind of rule HA-MASTER is 'wish'")


def test_rules_lists_the_catalog(tmp_path: Path) -> None:
    catalog = tmp_path / "rules.yaml"
    catalog.write_text(CATALOG)
    done = cli("rules", "--catalog", str(catalog), "--release", "2.1", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert [r["id"] for r in json.loads(done.stdout)] == ["HA-RESTART", "HA-MASTER", "HA-OLD", "HA-BROKEN"]
    table = cli("rules", "--catalog", str(catalog)).stdout.splitlines()
    assert table[0].split() == ["ID", "RELEASES", "KIND", "CHECKS", "STATEMENT"]
    assert table[3].split()[:4] == ["HA-OLD", "2.1", "consideration", "read-only"]
    assert table[-1] == "5 of 5 rules"


@pytest.mark.slow
def test_run_reports_and_a_replay_reproduces_the_failure(tmp_path: Path) -> None:
    project = write_project(tmp_path / "project", layout="features")
    reports = tmp_path / "reports"
    common = ["--project", str(project), "--report-dir", str(reports)]
    done = cli("run", "--env", "fake", "--seed", "9", "--run-id", "full", "-q", *common, fake_env=True)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"report: {reports / 'full' / 'index.html'}" in done.stdout
    assert f"json:   {reports / 'full' / 'conformance.json'}" in done.stdout
    assert done.stdout.rstrip().endswith("FAIL: 5 rules (3 passed, 1 failed, 1 skipped, 0 not-applicable)")

    failed = next(s for s in scenario_rows(read_report(tmp_path, "full")) if s["status"] == "failed")
    argv = shlex.split(failed["replay"])
    assert argv[:4] == ["python", "-m", "conformance", "run"]
    replay = cli(*argv[3:], "--run-id", "replay", *common, fake_env=True)
    assert replay.returncode == 1, replay.stdout + replay.stderr
    (again,) = [s for s in scenario_rows(read_report(tmp_path, "replay")) if s["status"] != "skipped"]
    assert (again["nodeid"], again["seed"], again["status"], again["message"]) == (
        failed["nodeid"],
        failed["seed"],
        "failed",
        failed["message"],
    )


@pytest.mark.slow
def test_run_selects_scenarios_by_name(tmp_path: Path) -> None:
    project = write_project(tmp_path / "project", layout="features")
    done = cli(
        "run",
        "--env=fake",
        "--release=3.x",
        "--scenario",
        "A crashed server's guest restarts",
        "--project",
        str(project),
        "--report-dir",
        str(tmp_path / "reports"),
        "--run-id=one",
        fake_env=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = scenario_rows(read_report(tmp_path, "one"))
    assert [(s["name"], s["release"], s["status"]) for s in rows] == [
        ("A crashed server's guest restarts on another server", "3.x", "passed")
    ]
