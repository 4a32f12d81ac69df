"""A live local pool's heartbeat file, read by Debian's own debugfs.ocfs2 -R hb.

ovs-makerepo made `.server_pool_hb` with mkfs.ocfs2 and the agents write
o2hb blocks into its heartbeat system file; the real tool must list every
live node with a sequence that advances, and a crashed node's must stop.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from environments.local.driver import LocalDriver
from environments.model import PoolSpec, ServerSpec
from environments.ocfs2file import LABEL, dump_heartbeat, heartbeat_region, tools_missing
from ovmref.release import Release

pytestmark = pytest.mark.skipif(
    bool(tools_missing()), reason=f"needs ocfs2-tools ({', '.join(tools_missing())} missing)"
)


@pytest.fixture
def pool() -> Iterator[LocalDriver]:
    driver = LocalDriver(Release.R2_2, seed=3, record_heartbeats=False)
    try:
        servers = tuple(ServerSpec(f"server{i}") for i in (1, 2, 3))
        result = driver.build_pool(PoolSpec(servers=servers))
        assert result.ok, result.message
        yield driver
    finally:
        driver.close()


def _sequences(driver: LocalDriver) -> dict[int, int]:
    assert driver.volume_dir is not None
    return {slot.node: slot.seq for slot in dump_heartbeat(driver.volume_dir / ".server_pool_hb")}


def test_debugfs_lists_every_live_node_with_an_advancing_sequence(pool: LocalDriver) -> None:
    assert pool.volume_dir is not None
    region = heartbeat_region(pool.volume_dir / ".server_pool_hb")
    assert region.label == LABEL
    first = _sequences(pool)
    assert sorted(first) == [0, 1, 2], f"debugfs.ocfs2 -R hb lists {first}"
    pool.advance(3 * pool.timings.iteration_ms)
    second = _sequences(pool)
    assert all(second[n] > first[n] for n in (0, 1, 2)), f"sequences did not advance: {first} -> {second}"


def test_a_crashed_node_stops_heartbeating_in_the_file(pool: LocalDriver) -> None:
    pool.inject("crash", ["server3"])
    frozen = _sequences(pool)[2]
    before = _sequences(pool)
    pool.advance(3 * pool.timings.iteration_ms)
    after = _sequences(pool)
    assert after[2] == frozen, "the crashed node's slot still changes"
    assert after[0] > before[0] and after[1] > before[1], f"live nodes stopped: {before} -> {after}"
