"""The one test of a campaign, parametrised over its shards (see plugin.py); not part of the suite.

A shard that finds a violation fails, so pytest's own summary names it too;
its result travels either way as a user property of the report.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable

import pytest

from conformance.campaign.plugin import ERROR_PROPERTY, RESULT_PROPERTY, CampaignConfig, violations_so_far
from conformance.campaign.search import driver_factory, run_shard


def test_shard(
    campaign_shard: tuple[int, int],
    campaign_config: CampaignConfig,
    record_property: Callable[[str, object], None],
) -> None:
    shard, count = campaign_shard
    config = campaign_config
    if config.deadline is not None and time.time() >= config.deadline:
        pytest.skip("the campaign's time budget is spent")
    if violations_so_far(config) >= config.max_violations:
        pytest.skip(f"{config.max_violations} violation(s) found already")
    try:
        result = run_shard(
            shard,
            count,
            campaign_seed=config.seed,
            releases=config.releases,
            make_driver=driver_factory(config.env),
            deadline=config.deadline,
        )
    except Exception:
        record_property(ERROR_PROPERTY, traceback.format_exc())
        raise
    record_property(RESULT_PROPERTY, json.dumps(result.as_dict()))
    if result.found:
        found = result.found[0]
        pytest.fail(f"shard {shard}: {found.check}\n{found.message}", pytrace=False)
