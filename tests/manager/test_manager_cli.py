"""`ovm-conformance validate --inventory` end to end: a real sshd on loopback for the server (see
tests/ssh/sshd_server; skipped, saying why, without openssh-server) and the lookalike Manager. The
Manager's read-out is announced, a refusing Manager is one line naming it while the SSH checks run,
and its password is in no output and no report file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.manager.lookalike import PASSWORD, PASSWORD_ENV, Lookalike, loopback_inventory
from tests.reports.sandbox_project import child_env
from tests.ssh.sshd_server import Sshd

pytest.importorskip("paramiko", reason="validate needs the ssh extra (paramiko)")


def _run(tmp_path: Path, sshd: Sshd, look: Lookalike) -> tuple[subprocess.CompletedProcess[str], Path]:
    inventory = loopback_inventory(tmp_path / "inventory.yaml", sshd, look)
    env = child_env()
    env[PASSWORD_ENV] = PASSWORD
    reports = tmp_path / "r"
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "validate", "--inventory", str(inventory), "--report-dir",
         str(reports), "--run-id", "m1"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False, timeout=240,
    )  # fmt: skip
    return done, reports


def _no_password(done: subprocess.CompletedProcess[str], reports: Path) -> None:
    assert "Traceback" not in done.stdout + done.stderr
    assert PASSWORD not in done.stdout + done.stderr
    written = [p for p in reports.rglob("*") if p.is_file()]
    assert written, done.stdout + done.stderr
    for path in written:
        assert PASSWORD.encode() not in path.read_bytes(), path


def test_validate_reads_the_manager_and_never_shows_its_password(
    tmp_path: Path, sshd: Sshd, manager: Lookalike
) -> None:
    done, reports = _run(tmp_path, sshd, manager)
    _no_password(done, reports)
    assert "Oracle VM Manager 127.0.0.1" in done.stdout and "(GET only)" in done.stdout
    assert [m for m, _, _ in manager.seen] == ["GET", "GET", "GET"]
    data = json.loads((reports / "m1" / "conformance.json").read_text())
    assert data["readiness"]["manager"] == "Oracle VM Manager 127.0.0.1"
    assert data["readiness"]["master"] == "vmserver1" and data["readiness"]["pool_ha"] is True
    assert data["readiness"]["pool_ha_source"] == "Oracle VM Manager 127.0.0.1: ServerPool.clusterId"


def test_a_refusing_manager_is_one_line_and_the_ssh_checks_still_run(
    tmp_path: Path, sshd: Sshd, manager: Lookalike
) -> None:
    manager.status = 503
    done, reports = _run(tmp_path, sshd, manager)
    _no_password(done, reports)
    lines = [line for line in done.stdout.splitlines() if line.startswith("manager: ")]
    assert lines == ["manager: Oracle VM Manager 127.0.0.1: GET Server answered HTTP 503"], done.stdout
    data = json.loads((reports / "m1" / "conformance.json").read_text())
    judged = {r["id"]: r["status"] for r in data["rules"]}
    assert any(rule.startswith("PRE-") and status != "not-run" for rule, status in judged.items()), judged
    assert judged["READY-HA-RESTART-ON-CRASH"] == "unknown"
    assert data["readiness"]["pool_ha"] is None
