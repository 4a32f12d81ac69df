"""debugfs.ocfs2 -R stats reads back what mkfs.ocfs2 made: on in-memory servers, and as the real tool."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from environments.ocfs2file import MIN_SIZE_BYTES, _which, format_heartbeat_file, tools_missing
from ovmref.host.installed_pool import InstalledPool, example_servers
from ovmref.release import Release
from ovmref.storage.shared import Ocfs2Format
from ovmref.tools.debugfs import render_stats
from steps.host import _CLUSTERS, _STATS

HB = "/OVS/.server_pool_hb"
MAKEREPO = "/usr/lib/ovs/ovs-makerepo"


def _read_back(text: str) -> dict[str, str]:
    found = {}
    for name, pattern in _STATS.items():
        m = pattern.search(text)
        assert m is not None, f"no {name} in:\n{text}"
        found[name] = m.group(1)
    return found


def _nfs_pool() -> InstalledPool:
    pool = InstalledPool(Release.R2_1, example_servers(2))
    pool.run("vmserver1", ["umount", "/OVS"])
    result = pool.run("vmserver1", [MAKEREPO, "example.com:/OVS", "C", "cluster root"])
    assert result.rc == 0, result.stderr
    return pool


def test_stats_show_the_options_mkfs_was_given_on_every_server() -> None:
    pool = _nfs_pool()
    for argv in (
        ["dd", "if=/dev/zero", f"of={HB}", "bs=1M", "count=300"],
        ["mkfs.ocfs2", "-L", "pool_hb_32", "-N", "32", "-b", "4k", "-C", "8k", "--force", HB],
    ):
        result = pool.run("vmserver1", argv)
        assert result.rc == 0, result.stderr
    pool.run("vmserver2", ["umount", "/OVS"])
    assert pool.run("vmserver2", [MAKEREPO, "example.com:/OVS", "C", "cluster root"]).rc == 0
    stats = pool.run("vmserver2", ["debugfs.ocfs2", "-R", "stats", HB])
    assert (stats.rc, stats.stderr) == (0, "")
    assert _read_back(stats.stdout) == {
        "label": "pool_hb_32",
        "node slots": "32",
        "block size": "12",
        "cluster size": "13",
    }
    assert "Clusters: 38400\n" in stats.stdout  # 300 MiB of 8 KiB clusters


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-R", "hb", HB], "only the stats request"),
        (["-R", "stats", "/OVS/missing"], "No such file or directory"),
        (["-R", "stats", "/etc/hosts"], "Bad magic number in superblock"),
    ],
)
def test_what_debugfs_cannot_read_is_an_error(argv: list[str], message: str) -> None:
    pool = _nfs_pool()
    result = pool.run("vmserver1", ["debugfs.ocfs2", *argv])
    assert result.rc != 0 and message in result.stderr, result


@pytest.mark.skipif(bool(tools_missing()), reason=f"ocfs2-tools not installed ({tools_missing()})")
def test_the_simulated_stats_read_back_like_the_real_tools(tmp_path: Path) -> None:
    """The step reads the real debugfs.ocfs2's stats and ours with the same patterns, to the same values."""
    volume = tmp_path / "server_pool_hb.img"
    region = format_heartbeat_file(volume, MIN_SIZE_BYTES)
    exe = _which("debugfs.ocfs2")
    assert exe is not None
    real = subprocess.run(
        [exe, "-R", "stats", str(volume)], capture_output=True, text=True, timeout=60, check=False
    ).stdout
    ours = render_stats(
        Ocfs2Format(region.uuid, "server_pool_hb", 16, 2048, 4096, clusters=MIN_SIZE_BYTES // 4096)
    )
    sizes = [m.group(1) if (m := _CLUSTERS.search(text)) else None for text in (real, ours)]
    assert sizes == [str(MIN_SIZE_BYTES // 4096)] * 2, sizes
    assert _read_back(real) == _read_back(ours) == {
        "label": "server_pool_hb",
        "node slots": "16",
        "block size": "11",
        "cluster size": "12",
    }
