"""The step library: Oracle VM's own words ("server2 fails") translated into PoolDriver calls.

Loaded as a pytest plugin (`pytest_plugins = ["conformance.plugin", "steps"]`).
pytest-bdd registers each step as a fixture of the module that defines it,
so every step module is a plugin too. `python -m steps.glossary` documents them.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from environments.base import EnvironmentLimitation
from steps import (
    failover,
    faults,
    fencing,
    guest_state,
    guests,
    heartbeat,
    host,
    master,
    migration,
    placement,
    pool,
    properties,
    time,
)

STEP_MODULES = (
    pool,
    guests,
    faults,
    time,
    host,
    failover,
    guest_state,
    placement,
    migration,
    fencing,
    heartbeat,
    master,
    properties,
)
# records holds the default `fault` and `manager_action` fixtures that When steps override
pytest_plugins = [*(m.__name__ for m in STEP_MODULES), "steps.records"]


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, object, object]:
    """A driver that cannot do what a step asks makes the scenario skip with its reason, never pass.

    Only scenarios (pytest-bdd tests) are concerned; unit tests keep their exceptions.
    """
    try:
        return (yield)
    except EnvironmentLimitation as exc:
        if "_pytest_bdd_example" not in pyfuncitem.fixturenames:
            raise
        pytest.skip(f"environment limitation: {exc}")
