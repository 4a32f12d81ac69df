"""`run --allure DIR` writes allure results, and says what to install when allure-pytest is missing."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from conformance import cli

REPO = Path(__file__).resolve().parents[2]


def test_missing_allure_plugin_is_one_clear_error(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "allure_pytest" else real(name, *a))
    assert cli.main(["run", "--allure", "x", "--release", "2.2"]) == 2
    err = capsys.readouterr().err
    assert "allure-pytest" in err and "Traceback" not in err


@pytest.mark.skipif(importlib.util.find_spec("allure_pytest") is None, reason="allure-pytest not installed")
def test_allure_results_are_written(tmp_path: Path) -> None:
    out = tmp_path / "allure"
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--release", "2.2", "-q", "--allure", str(out),
         "--report-dir", str(tmp_path / "reports"), "--scenario", "crashed HA guest"],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    results = list(out.glob("*-result.json"))
    assert results, f"no allure results in {out}"
