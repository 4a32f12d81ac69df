"""One lane for the tests that keep real-time pools running or start containers, and what they share.

On two cores, a 17-server local pool starved by containers starting beside it cannot form in
time, and the local and docker conformance gates each keep several pools running at once. So
these tests hold an exclusive lock for as long as they run: one at a time across the xdist
workers of a run, the other worker going on with the light tests meanwhile. A lock, not
pytest-xdist's `--dist loadgroup`: with pytest 9, xdist 3.8 ignores the groups.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from environments.ocfs2file import tools_missing

#: The pace of the real-time runs in the project's tests: a 2 s heartbeat iteration takes 60 ms,
#: so a server on a busy machine may stall 1.8 s (2.x) before it misses a heartbeat deadline.
TEST_TIME_SCALE = "0.03"


@contextmanager
def realtime_lane(factory: pytest.TempPathFactory) -> Iterator[None]:
    """Hold the run's lane. The lock lives in the run's base temporary directory, which every
    xdist worker shares (theirs are `popen-gwN` inside it) and pytest prunes later."""
    base = factory.getbasetemp()
    run_dir = base.parent if base.name.startswith("popen-gw") else base
    with open(run_dir / "realtime-lane.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def local_unavailable() -> str | None:
    missing = tools_missing()
    return f"the local environment needs ocfs2-tools ({', '.join(missing)} missing)" if missing else None


def docker_unavailable() -> str | None:
    """Why the docker environment cannot run here: no containers extra, no engine, no image build."""
    local = local_unavailable()
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


def unavailable(env: str) -> str | None:
    return {"local": local_unavailable, "docker": docker_unavailable}.get(env, lambda: None)()


def realtime_env(**extra: str) -> dict[str, str]:
    """The environment of a child conformance run at the tests' pace (a caller's own scale wins)."""
    return dict(
        os.environ,
        OVM_LOCAL_TIME_SCALE=os.environ.get("OVM_LOCAL_TIME_SCALE", TEST_TIME_SCALE),
        OVM_DOCKER_TIME_SCALE=os.environ.get("OVM_DOCKER_TIME_SCALE", TEST_TIME_SCALE),
        **extra,
    )
