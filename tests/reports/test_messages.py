"""A failed scenario's message is the check's own words: no pytest introspection, no addresses."""

from __future__ import annotations

import pytest
from pytest_bdd.exceptions import StepDefinitionNotFoundError

from conformance import messages
from conformance.suite import SuiteError
from environments.base import EnvironmentBroken


def _raised(source: str) -> BaseException:
    """The exception a rewritten assert raises (pytest rewrites this module's asserts)."""

    def moved(state: object) -> bool:
        return False

    with pytest.raises(AssertionError) as info:
        if source == "bare":
            assert moved(object())
        else:
            assert moved(object()), "vm1 is running on server1, expected server2"
    return info.value


def test_an_assert_with_a_message_keeps_only_the_message() -> None:
    text = messages.clean(_raised("message"), "Then vm1 runs on server2")
    assert text == "step 'Then vm1 runs on server2' failed: vm1 is running on server1, expected server2"


def test_a_bare_assert_has_no_object_addresses() -> None:
    text = messages.clean(_raised("bare"))
    assert text.startswith("check failed: assert ")
    assert " at 0x" not in text and "<locals>" in text  # the expression, without where it lived in memory


def test_kinds() -> None:
    assert messages.classify(AssertionError("x"), "call") == ""
    assert messages.classify(EnvironmentBroken("host down"), "call") == "environment"
    assert messages.classify(RuntimeError("pool did not start"), "setup") == "environment"
    assert messages.classify(SuiteError("bad tag"), "setup") == "suite"
    missing = StepDefinitionNotFoundError(
        'Step definition is not found: When "server2 explodes". Line 11 in scenario "S" in the feature '
        '"/x/features/a.feature"'
    )
    assert messages.classify(missing, "call") == "suite"
    assert 'no step definition matches When "server2 explodes"' in messages.clean(missing)
