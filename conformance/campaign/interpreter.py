"""Run a scenario's lines on a driver with the step definitions of `steps/`, as pytest-bdd would.

Each line is matched against the registered step patterns of its keyword
(And takes the keyword before it) and its function is called with the
parsed words and the driver, nothing else: the campaign only writes steps
that need no other fixture. A failing Then step is a violation and the run
goes on (so one run reports every property it breaks; pytest-bdd would stop
at the first, which is the one the printed scenario then fails on). A
Given or When step that cannot be carried out (an assertion, or an
environment that cannot do it) makes the schedule not applicable: it did
not test anything, so it is neither a pass nor a violation.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

from pytest_bdd.steps import StepFunctionContext, step_function_context_registry

import steps
from conformance.campaign.gherkin import Line
from environments.base import EnvironmentLimitation, PoolDriver

StepKind = Literal["given", "when", "then"]
DRIVER = "ovm_driver"


class UnknownStepError(LookupError):
    """A line no step definition (or more than one) matches: a bug in the scenario's writer."""


@dataclass(frozen=True)
class Violation:
    line: Line
    message: str

    @property
    def check(self) -> str:
        return self.line.text


@dataclass
class ScenarioRun:
    """What happened when a scenario's lines ran: its violations, or why it was not applicable."""

    violations: list[Violation] = field(default_factory=list)
    not_applicable: str = ""
    steps_run: int = 0


@cache
def _definitions() -> tuple[StepFunctionContext, ...]:
    modules = {m.__name__ for m in steps.STEP_MODULES}
    return tuple(
        c for c in list(step_function_context_registry.values()) if c.step_func.__module__ in modules
    )


@cache
def resolve(kind: StepKind, text: str) -> tuple[Callable[..., object], tuple[tuple[str, str], ...], bool]:
    """The step function a line calls, its arguments as (name, value) pairs, and whether it takes
    the driver."""
    found = [c for c in _definitions() if c.type == kind and c.parser.is_matching(text)]
    if len(found) != 1:
        what = "no step definition" if not found else f"{len(found)} step definitions"
        raise UnknownStepError(f"{kind.capitalize()} {text!r} matches {what}")
    context = found[0]
    parsed = context.parser.parse_arguments(text) or {}
    params = inspect.signature(context.step_func).parameters
    extra = set(params) - set(parsed) - {DRIVER}
    if extra:
        raise UnknownStepError(f"{kind.capitalize()} {text!r} needs fixtures {sorted(extra)}")
    args = tuple((k, v) for k, v in parsed.items() if k in params)
    return context.step_func, args, DRIVER in params


def run_scenario(lines: Sequence[Line], driver: PoolDriver) -> ScenarioRun:
    run = ScenarioRun()
    kind: StepKind = "given"
    for line in lines:
        if line.keyword != "And":
            kind = line.keyword.lower()  # type: ignore[assignment]
        func, args, wants_driver = resolve(kind, line.text)
        run.steps_run += 1
        try:
            func(**dict(args), **({DRIVER: driver} if wants_driver else {}))
        except AssertionError as exc:
            if kind == "then":
                run.violations.append(Violation(line, str(exc) or "assertion failed"))
                continue
            run.not_applicable = f"{line}: {exc}"
            return run
        except EnvironmentLimitation as exc:
            run.not_applicable = f"{line}: {exc}"
            return run
    return run
