"""A normal install works: the wheel ships the features and the catalog, and `ovm-conformance run`
finds them from an empty directory, in a fresh virtual environment.

The wheel's dependencies come from the package index (pip's own cache makes a second run quick);
where no index answers, the test is skipped and says so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _run(*args: str | Path, cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTEST_ADDOPTS")}
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    done = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", out, REPO, cwd=out)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (built,) = out.glob("ovm_ha_conformance-*.whl")
    return built


def test_the_wheel_ships_the_features_the_catalog_and_the_report_assets(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {p.relative_to(REPO).as_posix() for p in (REPO / "features").glob("*.feature")}
    assert shipped and shipped <= names
    for name in (
        "features/rules.yaml",
        "features/test_features.py",
        "features/__init__.py",
        "conformance/suite.ini",
        "conformance/report.js",
        "steps/__init__.py",
    ):
        assert name in names, name


def test_extras_are_named_by_what_they_do_and_the_base_install_has_no_dev_tools(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(name).decode()
    extras = {
        line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Provides-Extra:")
    }
    assert extras == {"ssh", "containers", "dev"}
    base = [
        line for line in metadata.splitlines() if line.startswith("Requires-Dist:") and "extra ==" not in line
    ]
    assert not [line for line in base if any(tool in line for tool in ("mypy", "ruff", "tox", "hypothesis"))]
    paramiko = [line for line in metadata.splitlines() if line.startswith("Requires-Dist: paramiko")]
    assert any('extra == "ssh"' in line for line in paramiko)


def test_a_fresh_venv_runs_one_release_from_an_empty_directory(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    installed = _run(python, "-m", "pip", "install", "-q", wheel, cwd=tmp_path)
    if installed.returncode != 0 and "No matching distribution" in installed.stderr + installed.stdout:
        pytest.skip("no package index answers: the wheel's dependencies cannot be installed here")
    assert installed.returncode == 0, installed.stdout[-2000:] + installed.stderr[-2000:]
    empty = tmp_path / "empty"
    empty.mkdir()
    tool = env_dir / "bin" / "ovm-conformance"
    version = _run(tool, "--version", cwd=empty)
    assert version.returncode == 0 and version.stdout.startswith("ovm-conformance 0."), version.stderr
    rules = _run(tool, "rules", "--release", "2.2", cwd=empty)
    assert rules.returncode == 0, rules.stderr
    assert rules.stdout.splitlines()[-1].endswith(" rules")
    done = _run(tool, "run", "--release", "2.2", "-q", "--run-id", "wheel", cwd=empty)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((empty / "reports" / "wheel" / "conformance.json").read_text())
    assert report["verdict"] == "PASS" and report["summary"]["scenarios"]["passed"] > 100
    assert report["rules"][0]["scenarios"][0]["feature"].startswith("features/")
    assert (
        "site-packages" in _run(python, "-c", "import features; print(features.__file__)", cwd=empty).stdout
    )
    assert sorted(p.name for p in empty.iterdir()) == ["reports"], "nothing else written in the directory"
