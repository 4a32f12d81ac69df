"""`-p tests.campaign.mutant_plugin` with OVM_CAMPAIGN_MUTANT=<name>: the whole pytest run uses that mutant.

How a test proves a scenario fails on a broken implementation: run the very
same feature file in a child pytest with the mutant applied, and without.
"""

from __future__ import annotations

import contextlib
import os

import pytest

from tests.campaign.mutants import apply

_stack = contextlib.ExitStack()


def pytest_configure(config: pytest.Config) -> None:
    name = os.environ.get("OVM_CAMPAIGN_MUTANT")
    if name:
        _stack.enter_context(apply(name))


def pytest_unconfigure(config: pytest.Config) -> None:
    _stack.close()
