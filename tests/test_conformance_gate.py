"""The reference implementation conforms: the whole suite, every release, on sim, local and docker.

The simulated run is the README's first command, run as CI would; the local
run is the same suite on pools of real processes in real time, the docker run
on pools of Oracle VM Server lookalike containers driven over SSH. A rule
that fails or is left untested on every release fails this test.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ovmref.heartbeat.ocfs2file import tools_missing
from tests.realtime_lane import realtime_lane

REPO = Path(__file__).resolve().parents[1]


def _local_unavailable() -> str | None:
    missing = tools_missing()
    return f"the local environment needs ocfs2-tools ({', '.join(missing)} missing)" if missing else None


def _docker_unavailable() -> str | None:
    """Why the docker environment cannot run here: no containers extra, no engine, no image build."""
    local = _local_unavailable()
    if local is not None:
        return local.replace("local", "docker")
    try:
        from environments.docker.image import ImageUnavailable, build_image, docker_client
    except ImportError as exc:
        return f"the docker environment needs the containers extra ({exc.name} missing)"
    try:
        docker_client().close()
        build_image(log=lambda _line: None)
    except ImageUnavailable as exc:
        return f"the docker environment cannot run here: {exc}"
    return None


@pytest.mark.slow
@pytest.mark.parametrize(
    "env",
    [
        "sim",
        pytest.param(
            "local",
            marks=pytest.mark.skipif(_local_unavailable() is not None, reason=str(_local_unavailable())),
        ),
        "docker",
    ],
)
def test_every_rule_passes(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, env: str) -> None:
    if env == "docker" and (why := _docker_unavailable()) is not None:
        pytest.skip(why)
    workers = {"sim": [], "local": ["-n", "2"], "docker": ["-n", "3"]}[env]  # real time: pools at once
    # CI runs this beside the other tests on two cores: at a slower pace than the default, a server
    # may stall longer (1.8 s for 2.x) before it misses a heartbeat deadline. At 0.02 the local gate
    # lost the 5-server split scenario 2 times in 3 under CI's load (never alone: 4 of 4 passed)
    child_env = dict(
        os.environ,
        OVM_LOCAL_TIME_SCALE=os.environ.get("OVM_LOCAL_TIME_SCALE", "0.03"),
        OVM_DOCKER_TIME_SCALE=os.environ.get("OVM_DOCKER_TIME_SCALE", "0.03"),
    )
    command = [sys.executable, "-m", "conformance", "run", "--env", env, "--release", "all", "-q",
               *workers, "--report-dir", str(tmp_path), "--run-id", "gate"]
    with realtime_lane(tmp_path_factory) if env != "sim" else contextlib.nullcontext():
        done = subprocess.run(
            command, cwd=REPO, capture_output=True, text=True, timeout=1800, check=False, env=child_env
        )
    report_path = tmp_path / "gate" / "conformance.json"
    assert report_path.is_file(), done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(report_path.read_text())
    failed = [(r["id"], s["nodeid"], s["message"][:200]) for r in report["rules"] for s in r["scenarios"]
              if s["status"] in ("failed", "environment-error", "suite-error")]
    assert not failed, "\n".join(map(str, failed))
    untested = [r["id"] for r in report["rules"] if r["status"] not in ("passed", "not-applicable")]
    assert not untested, f"rules neither passed nor not applicable: {untested}"
    assert done.returncode == 0, done.stdout[-2000:]
    assert sorted(report["releases"]) == ["2.1", "2.2", "3.x"]
    for name in ("index.html", "junit.xml"):
        assert (tmp_path / "gate" / name).is_file()
    if env == "docker":  # every container, network and volume went with the run's processes
        from environments.docker.pool import orphaned_resources

        assert orphaned_resources() == []
