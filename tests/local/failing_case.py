"""A test that fails with a local pool up, through the suite's own `ovm_driver` fixture.

Run explicitly by test_cleanup.py (`pytest -p conformance.plugin --ovm-env local
tests/local/failing_case.py`); its name keeps the normal test run from collecting it.
"""

from __future__ import annotations

import json

from environments.base import PoolDriver
from tests.local.pool_child import build_pool, report


def test_fails_with_a_pool_up(ovm_driver: PoolDriver) -> None:
    build_pool(ovm_driver)
    print("READY " + json.dumps(report(ovm_driver)), flush=True)
    raise AssertionError("failing on purpose with servers and guests running")
