"""The pytest side of a campaign: one test per shard, so pytest-xdist spreads shards over workers.

`ovm-conformance campaign` runs pytest on `shard_test.py` with this plugin
(`-p conformance.campaign.plugin`). Each shard test runs its schedules and
hands its result back as a JSON user property of its report, which
pytest-xdist carries from any worker, local (`-n auto`) or remote (`--tx
ssh=...`), to the controlling process. There this plugin writes each
shard's result into the campaign directory and prints progress; the CLI
then builds the report from those files.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from conformance.options import parse_releases
from ovmref.release import Release

RESULT_PROPERTY = "ovm_campaign_shard"
ERROR_PROPERTY = "ovm_campaign_error"
SHARDS_DIR = "shards"


@dataclass(frozen=True)
class CampaignConfig:
    directory: Path
    env: str
    releases: tuple[Release, ...]
    schedules: int
    seed: int
    shard_size: int
    deadline: float | None  # wall-clock time.time() after which no new schedule starts
    max_violations: int

    @property
    def shard_counts(self) -> list[int]:
        shards = max(1, math.ceil(self.schedules / self.shard_size))
        return [min(self.shard_size, self.schedules - i * self.shard_size) for i in range(shards)]


CONFIG_KEY = pytest.StashKey[CampaignConfig]()
_CONFIGS: list[pytest.Config] = []
PROGRESS_KEY = pytest.StashKey[dict[str, float]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ovm-campaign", "ovm-conformance campaign shards")
    group.addoption("--campaign-dir", help="directory the controller writes shard results into")
    group.addoption("--campaign-env", default="sim")
    group.addoption("--campaign-release", default="all")
    group.addoption("--campaign-schedules", type=int, default=100)
    group.addoption("--campaign-seed", type=int, default=1)
    group.addoption("--campaign-shard-size", type=int, default=25)
    group.addoption("--campaign-deadline", type=float, default=None)
    group.addoption("--campaign-max-violations", type=int, default=3)


def pytest_configure(config: pytest.Config) -> None:
    directory = config.getoption("--campaign-dir")
    if directory is None:
        raise pytest.UsageError("--campaign-dir is required (run campaigns with `ovm-conformance campaign`)")
    config.stash[CONFIG_KEY] = CampaignConfig(
        Path(directory),
        config.getoption("--campaign-env"),
        parse_releases(config.getoption("--campaign-release")),
        max(1, config.getoption("--campaign-schedules")),
        config.getoption("--campaign-seed"),
        max(1, config.getoption("--campaign-shard-size")),
        config.getoption("--campaign-deadline"),
        max(1, config.getoption("--campaign-max-violations")),
    )
    config.stash[PROGRESS_KEY] = {"schedules": 0, "violations": 0, "shards": 0, "started": time.monotonic()}
    _CONFIGS[:] = [config]  # the report hook below is given no config


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "campaign_shard" not in metafunc.fixturenames:
        return
    counts = metafunc.config.stash[CONFIG_KEY].shard_counts
    metafunc.parametrize(
        "campaign_shard", list(enumerate(counts)), ids=[f"shard{i:05d}" for i in range(len(counts))]
    )


@pytest.fixture
def campaign_config(request: pytest.FixtureRequest) -> CampaignConfig:
    return request.config.stash[CONFIG_KEY]


def violations_so_far(config: CampaignConfig) -> int:
    """Violations the controller has written (0 for a remote worker, which cannot see them)."""
    shards = config.directory / SHARDS_DIR
    if not shards.is_dir():
        return 0
    found = 0
    for path in shards.glob("shard*.json"):
        try:
            found += len(json.loads(path.read_text(encoding="utf-8"))["violations"])
        except (OSError, ValueError, KeyError):
            continue
    return found


# ---- controller: results to files, progress to the terminal ---------------------------------------
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    props = dict(report.user_properties)
    if report.when != "call" or (RESULT_PROPERTY not in props and ERROR_PROPERTY not in props):
        return  # every phase's report carries the properties: the call's is the one
    if not _CONFIGS or hasattr(_CONFIGS[0], "workerinput"):
        return  # an xdist worker: its reports reach the controller, which alone writes results
    config = _CONFIGS[0]
    campaign: CampaignConfig = config.stash[CONFIG_KEY]
    shards = campaign.directory / SHARDS_DIR
    shards.mkdir(parents=True, exist_ok=True)
    name = report.nodeid.rsplit("[", 1)[-1].rstrip("]")
    if ERROR_PROPERTY in props:
        (shards / f"{name}.error.txt").write_text(str(props[ERROR_PROPERTY]), encoding="utf-8")
        return
    text = str(props[RESULT_PROPERTY])
    tmp = shards / f".{name}.json.tmp"
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(shards / f"{name}.json")
    data = json.loads(text)
    progress = config.stash[PROGRESS_KEY]
    progress["schedules"] += data["schedules"]
    progress["violations"] += len(data["violations"])
    progress["shards"] += 1
    took = time.monotonic() - progress["started"]
    rate = progress["schedules"] / took if took > 0 else 0.0
    line = (
        f"campaign: {int(progress['schedules'])}/{campaign.schedules} schedules, "
        f"{int(progress['shards'])}/{len(campaign.shard_counts)} shards, "
        f"{int(progress['violations'])} violation(s), {rate:.1f} schedules/s"
    )
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(line)
    else:
        print(line, flush=True)


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> tuple[str, str, str] | None:
    """No dots for shards: the progress lines say more."""
    if "shard_test.py::test_shard" in report.nodeid and (report.when == "call" or report.skipped):
        return report.outcome, "", ""
    return None
