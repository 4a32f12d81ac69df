"""What a failed scenario says: its kind (a failed check, a suite error, an environment error) and
one clean message, free of pytest's assertion introspection and of object addresses.

A QA engineer reads "guest vm1 is running on server3, expected server2",
not `<function check_failover.<locals>.moved at 0x7f..>(PoolState(...))`.
"""

from __future__ import annotations

import re

import pytest
from pytest_bdd.exceptions import (
    GherkinParseError,
    NoScenariosFound,
    ScenarioValidationError,
    StepDefinitionNotFoundError,
    StepImplementationError,
)

from conformance.suite import SuiteError
from environments.base import EnvironmentBroken

MAX_MESSAGE = 2000
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_STEP_NOT_FOUND = re.compile(
    r'Step definition is not found: (?P<step>.*?)\. Line (?P<line>\d+) in scenario "(?P<scenario>.*)" '
    r'in the feature "(?P<feature>.*)"'
)
SUITE_PROBLEMS: tuple[type[BaseException], ...] = (
    SuiteError,
    StepDefinitionNotFoundError,
    StepImplementationError,
    ScenarioValidationError,
    GherkinParseError,
    NoScenariosFound,
    pytest.FixtureLookupError,
)


def suite_problem(exc: BaseException) -> bool:
    """True when the suite itself is wrong, whatever the pool does."""
    return isinstance(exc, SUITE_PROBLEMS)


def classify(exc: BaseException, when: str) -> str:
    """'suite', 'environment', or '' for a check that failed (the rule's verdict)."""
    if suite_problem(exc):
        return "suite"
    if isinstance(exc, EnvironmentBroken) or when != "call":
        return "environment"
    return ""


def clean(exc: BaseException, failed_step: str = "") -> str:
    """One readable message: the check's own words, the step that failed, no internals."""
    text = _text_of(exc)
    text = _ADDRESS.sub("", text).strip()
    if failed_step and not isinstance(exc, StepDefinitionNotFoundError):
        text = f"step '{failed_step}' failed: {text}"
    return text[:MAX_MESSAGE]


def _text_of(exc: BaseException) -> str:
    if isinstance(exc, StepDefinitionNotFoundError):
        found = _STEP_NOT_FOUND.search(str(exc))
        if found:
            from conformance.suite import feature_label

            return (
                f"{feature_label(found['feature'])}:{found['line']}: no step definition matches "
                f"{found['step']} (scenario {found['scenario']!r}); see docs/steps.md for the vocabulary"
            )
    if isinstance(exc, SuiteError | EnvironmentBroken):
        return str(exc)
    if isinstance(exc, GherkinParseError):
        return f"{exc.filename}:{exc.line}: {exc.message}"
    if isinstance(exc, AssertionError):
        return _assertion_text(str(exc))
    if isinstance(exc, pytest.fail.Exception | pytest.skip.Exception):
        return str(exc.msg)
    if isinstance(exc, pytest.FixtureLookupError):
        return f"a step asks for something no fixture provides: {exc.argname}"
    name = type(exc).__name__
    body = str(exc)
    return f"{name}: {body}" if body else name


def _assertion_text(text: str) -> str:
    """The assert's own message; pytest appends its introspection after '\nassert '."""
    if text.startswith("assert "):  # a bare assert: pytest's introspection is all there is
        lines = [line.strip().removeprefix("+").strip() for line in text.splitlines()[:3]]
        return "check failed: " + "; ".join(line for line in lines if line)
    message, _, _ = text.partition("\nassert ")
    return message.strip() or "check failed"
