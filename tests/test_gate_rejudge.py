"""The gates judge again only what was too slow to judge, and a failure stays a failure."""

from __future__ import annotations

from typing import Any

from tests.gate import GateRun


def _scenario(nodeid: str, status: str, too_slow: bool = False) -> dict[str, Any]:
    return {"nodeid": nodeid, "status": status, "too_slow_to_judge": too_slow, "message": ""}


def _gate(first: list[dict[str, Any]], rule_status: str, **kw: Any) -> GateRun:
    report = {"rules": [{"id": "FAIL-SERVER-RESTART", "status": rule_status, "scenarios": first}]}
    return GateRun("local", report, 4 if rule_status != "passed" else 0, "", 1.0, **kw)


def test_a_scenario_judged_again_and_passing_lets_the_gate_pass() -> None:
    first = [_scenario("a", "passed"), _scenario("b", "environment-error", too_slow=True)]
    gate = _gate(first, "environment-error", rejudged={"b": _scenario("b", "passed")}, rejudge_returncode=0)
    assert gate.passed and not gate.problems and not gate.rules_not_passed() and not gate.too_slow_to_judge


def test_too_slow_twice_fails_the_gate() -> None:
    first = [_scenario("b", "environment-error", too_slow=True)]
    again = _scenario("b", "environment-error", too_slow=True)
    gate = _gate(first, "environment-error", rejudged={"b": again}, rejudge_returncode=4)
    assert not gate.passed and gate.too_slow_to_judge == ["b"]
    assert gate.rules_not_passed() == ["FAIL-SERVER-RESTART"]


def test_a_failure_in_the_first_run_is_kept() -> None:
    first = [_scenario("a", "failed"), _scenario("b", "environment-error", too_slow=True)]
    gate = _gate(first, "failed", rejudged={"b": _scenario("b", "passed")}, rejudge_returncode=0)
    assert not gate.passed and [p[1] for p in gate.problems] == ["a"]
    assert gate.rules_not_passed() == ["FAIL-SERVER-RESTART"]


def test_without_anything_to_judge_again_the_run_decides() -> None:
    assert _gate([_scenario("a", "passed")], "passed").passed
    assert not _gate([_scenario("a", "failed")], "failed").passed
