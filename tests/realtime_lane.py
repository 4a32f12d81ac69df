"""One lane for the tests that keep real-time pools running or start containers.

On two cores, a 17-server local pool starved by containers starting beside it cannot form in
time, and the local and docker conformance gates each keep several pools running at once. So
these tests hold an exclusive lock for as long as they run: one at a time across the xdist
workers of a run, the other worker going on with the light tests meanwhile. A lock, not
pytest-xdist's `--dist loadgroup`: with pytest 9, xdist 3.8 ignores the groups.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


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
