"""The one vocabulary of outcomes: scenario and rule statuses, run verdicts, exit codes.

pytest says passed / failed / skipped; JUnit, allure and Cucumber each have
their own words. A conformance report needs finer ones (a rule that was not
run is not "skipped" in pytest's sense, an undefined step is not a failed
Oracle rule), so every translation between these vocabularies lives here
and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

# ---- statuses ------------------------------------------------------------------------------
Status = Literal[
    "passed",
    "failed",
    "suite-error",
    "environment-error",
    "unknown",
    "not-run",
    "not-applicable",
]
STATUSES: tuple[Status, ...] = get_args(Status)


@dataclass(frozen=True)
class StatusInfo:
    label: str  # for people: the console, the HTML
    meaning: str
    junit: str  # the JUnit element ("" for a plain pass)
    allure: str  # allure's status
    cucumber: str  # a Cucumber step status


STATUS_INFO: dict[Status, StatusInfo] = {
    "passed": StatusInfo("passed", "every step passed", "", "passed", "passed"),
    "failed": StatusInfo(
        "failed", "the pool broke the rule: a step's check failed", "failure", "failed", "failed"
    ),
    "suite-error": StatusInfo(
        "suite error",
        "the suite itself is wrong (a step with no definition, a malformed feature, a tag naming "
        "nothing): no verdict on the rule",
        "error",
        "broken",
        "undefined",
    ),
    "environment-error": StatusInfo(
        "environment error",
        "the environment could not run or judge the scenario (a host unreachable, a pool that did not "
        "start, a machine too slow to judge a timing): no verdict on the rule",
        "error",
        "broken",
        "failed",
    ),
    "unknown": StatusInfo(
        "unknown", "a fact the check needs could not be observed", "skipped", "unknown", "skipped"
    ),
    "not-run": StatusInfo(
        "not run",
        "not run here, with the reason: not selected, an environment that cannot do it, a "
        "destructive scenario not allowed on a real pool",
        "skipped",
        "skipped",
        "skipped",
    ),
    "not-applicable": StatusInfo(
        "not applicable",
        "the documents do not state the rule for this release, or the scenario is for another environment",
        "skipped",
        "skipped",
        "skipped",
    ),
}

# which status a reader must see first when several apply (a rule, a group of runs): first wins
PRECEDENCE: tuple[Status, ...] = (
    "failed",
    "suite-error",
    "environment-error",
    "unknown",
    "passed",
    "not-run",
    "not-applicable",
)
# no verdict on the rule: the run could not judge it
ERRORS: frozenset[Status] = frozenset({"suite-error", "environment-error"})


def label(status: str) -> str:
    info = STATUS_INFO.get(status)  # type: ignore[call-overload]
    return info.label if info is not None else status


def worst(statuses: list[Status] | set[Status], default: Status = "not-applicable") -> Status:
    return next((s for s in PRECEDENCE if s in statuses), default)


# ---- pytest's words -> ours ----------------------------------------------------------------
NOT_APPLICABLE_PREFIX = "not applicable:"


def from_pytest(when: str, outcome: str, reason: str, error_kind: str) -> Status | None:
    """One phase report (setup / call / teardown) as a status; None when it says nothing.

    `reason` is a skip's reason; `error_kind` is what the plugin classified an
    exception as ("suite", "environment" or "" for a failed check).
    A skip is `not-applicable` when its reason says so, else `not-run`.
    """
    if outcome == "passed":
        return "passed" if when == "call" else None
    if outcome == "skipped":
        return "not-applicable" if reason.startswith(NOT_APPLICABLE_PREFIX) else "not-run"
    if error_kind == "suite":
        return "suite-error"
    if error_kind == "environment" or when != "call":  # a fixture (the pool) failed, not a check
        return "environment-error"
    return "failed"


def terminal_word(status: Status) -> tuple[str, str, str]:
    """(category, letter, word) for pytest's progress and closing line, so it speaks our words."""
    return {
        "passed": ("passed", ".", "PASSED"),
        "failed": ("failed", "F", "FAILED"),
        "suite-error": ("suite error", "S", "SUITE ERROR"),
        "environment-error": ("environment error", "E", "ENVIRONMENT ERROR"),
        "unknown": ("unknown", "?", "UNKNOWN"),
        "not-run": ("not run", "s", "NOT RUN"),
        "not-applicable": ("not applicable", "-", "NOT APPLICABLE"),
    }[status]


# ---- run verdicts and exit codes -----------------------------------------------------------
Verdict = Literal["PASS", "PARTIAL", "FAIL", "SUITE ERROR", "ENVIRONMENT ERROR", "INCOMPLETE"]


class ExitCode:
    """What every command returns; README and --help list the same table."""

    PASSED = 0  # PASS, or PARTIAL: everything that ran passed
    FAILED = 1  # a rule failed
    USAGE = 2  # a usage or input error: nothing was run
    INCOMPLETE = 3  # something could not be observed, the run stopped early, or nothing passed
    ENVIRONMENT = 4  # the environment could not run or judge some scenarios
    SUITE = 5  # the suite itself is wrong: an undefined step, a malformed feature
    INTERRUPTED = 130  # Ctrl-C


EXIT_CODES: dict[Verdict, int] = {
    "PASS": ExitCode.PASSED,
    "PARTIAL": ExitCode.PASSED,
    "FAIL": ExitCode.FAILED,
    "SUITE ERROR": ExitCode.SUITE,
    "ENVIRONMENT ERROR": ExitCode.ENVIRONMENT,
    "INCOMPLETE": ExitCode.INCOMPLETE,
}

EXIT_CODE_HELP = """\
exit status:
  0  PASS, or PARTIAL (only some rules were run, and all of them passed)
  1  FAIL: a rule failed
  2  a usage or input error (bad option, unreadable or malformed file): nothing was run
  3  INCOMPLETE: something could not be observed, the run stopped early, or nothing passed
  4  ENVIRONMENT ERROR: the environment could not run or judge some scenarios
  5  SUITE ERROR: the suite itself is wrong (a step with no definition, a malformed feature)"""
