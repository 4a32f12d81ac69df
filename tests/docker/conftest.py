"""Shared setup for the container tests: the image (built once, cached) and a two-server pool.

Every test here skips, saying why, where the optional `containers` dependencies are missing, no
Docker engine answers, or this machine cannot build the image (no mmdebstrap, no apt source).
A defect in the build itself fails instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.docker.docker_support import needs_containers
from tests.realtime_lane import realtime_lane


@pytest.fixture(autouse=True)
def _one_realtime_test_at_a_time(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """Container tests run in the real-time lane (tests/realtime_lane.py); the Docker-free ones
    (partition bookkeeping, reading host keys) do not need to."""
    if request.node.path.name in ("test_docker_network.py", "test_docker_host_key.py"):
        yield
        return
    with realtime_lane(tmp_path_factory):
        yield


@pytest.fixture(scope="session")
def image_tag() -> str:
    needs_containers()
    from environments.docker.image import ImageUnavailable, build_image

    try:
        return build_image(log=lambda _line: None)
    except ImageUnavailable as exc:
        pytest.skip(f"the lookalike image cannot be built here: {exc}")


@pytest.fixture(scope="module")
def pool2(image_tag: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Two servers of release 2.1 (the image's own default is 2.2): the env var must win."""
    from environments.docker.pool import ContainerPool
    from ovmref.release import Release

    pool = ContainerPool(2, release=Release.R2_1, image=image_tag)
    try:
        with realtime_lane(tmp_path_factory):  # containers start in the lane
            pool.start()
        yield pool
    finally:
        pool.close()
