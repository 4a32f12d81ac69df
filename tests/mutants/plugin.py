"""`-p tests.mutants.plugin` with OVM_MUTANT_PLAN=<plan.json>: each planned scenario runs on its mutant.

The plan maps (feature file, scenario name, release) to the name of a mutant
of tests/mutants/library.py; every other scenario is deselected. Each planned
scenario runs with its own mutant patched in for its whole run (pool build
included, never from the simulator's remembered pools) and nothing else: a
child pytest runs them one after the other.
"""

from __future__ import annotations

import json
import os
from collections.abc import Generator

import pytest

from conformance.scenario_info import feature_path, scenario_name
from environments.sim.driver import forget_configured_pools
from tests.mutants.library import MUTANTS

PLAN_VARIABLE = "OVM_MUTANT_PLAN"
Key = tuple[str, str, str]


def plan_key(feature: str, scenario: str, release: str) -> str:
    return f"{feature}::{scenario}::{release}"


def _load_plan() -> dict[str, str]:
    path = os.environ.get(PLAN_VARIABLE)
    if not path:
        return {}
    with open(path, encoding="utf-8") as handle:
        plan: dict[str, str] = json.load(handle)
    unknown = sorted(set(plan.values()) - set(MUTANTS))
    if unknown:
        raise pytest.UsageError(f"{path}: unknown mutants {unknown}")
    return plan


_PLAN = _load_plan()


def _key_of(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    if not isinstance(item, pytest.Function) or callspec is None or "ovm_release" not in callspec.params:
        return None
    feature = feature_path(item.obj, item.nodeid)
    return plan_key(feature, scenario_name(item.obj, item.name), str(callspec.params["ovm_release"]))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not _PLAN:
        return
    keep, drop = [], []
    for item in items:
        (keep if _key_of(item) in _PLAN else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
    items[:] = keep


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    key = _key_of(item)
    mutant = _PLAN.get(key) if key is not None else None
    if mutant is None:
        return (yield)
    # the simulator remembers configured pools: none built by a mutant may serve another scenario,
    # and none built before may spare the mutant's pool build
    forget_configured_pools()
    try:
        with MUTANTS[mutant].patch():
            return (yield)
    finally:
        forget_configured_pools()
