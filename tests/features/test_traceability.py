"""Rules and scenarios point at each other: every rule is checked, every tag names something real."""

from __future__ import annotations

import pytest
import yaml
from scenario_index import CATALOG, example_tags, raw_scenario_names, scenarios

from ovmref.release import ALL_RELEASES
from steps.glossary import matches, step_definitions, used_steps

RELEASES = {r.value for r in ALL_RELEASES}
KNOWN_TAG_PREFIXES = ("rule:", "release:", "env:")


@pytest.fixture(scope="module")
def rules() -> dict[str, set[str]]:
    """Rule id -> the releases it is stated for."""
    data = yaml.safe_load(CATALOG.read_text(encoding="utf-8"))
    return {r["id"]: {str(v) for v in r["releases"]} for r in data["rules"]}


def test_every_rule_is_checked_by_a_scenario(rules: dict[str, set[str]]) -> None:
    named = {rule for s in scenarios() for rule in s.rules}
    unchecked = sorted(set(rules) - named - set(_readiness_rules()))
    assert not unchecked, f"rules no scenario names with @rule: {unchecked}"


def _readiness_rules() -> list[str]:
    data = yaml.safe_load(CATALOG.read_text(encoding="utf-8"))
    return [r["id"] for r in data["rules"] if r["kind"] == "readiness"]


def test_readiness_rules_are_exactly_those_validate_judges() -> None:
    """A readiness rule is checked by `validate`'s readiness findings, not by a scenario: each one the
    catalog names is judged there, and nothing is judged there that the catalog does not name."""
    from ovmref.readiness.findings import READINESS_RULES

    assert sorted(_readiness_rules()) == sorted(READINESS_RULES)


def test_every_scenario_names_known_rules(rules: dict[str, set[str]]) -> None:
    problems = []
    for s in scenarios():
        if not s.rules:
            problems.append(f"{s.where}: names no @rule:<ID>")
        problems += [f"{s.where}: @rule:{r} is not in {CATALOG.name}" for r in sorted(s.rules - set(rules))]
    assert not problems, "\n".join(problems)


def test_every_scenario_has_known_explicit_releases() -> None:
    problems = []
    for s in scenarios():
        if not s.releases:
            problems.append(f"{s.where}: no @release:<R> tag (write them explicitly)")
        problems += [
            f"{s.where}: @release:{r} is none of {sorted(RELEASES)}" for r in sorted(s.releases - RELEASES)
        ]
    assert not problems, "\n".join(problems)


def test_scenario_releases_are_releases_of_each_of_its_rules(rules: dict[str, set[str]]) -> None:
    problems = []
    for s in scenarios():
        for rule in sorted(s.rules & set(rules)):
            extra = s.releases - rules[rule]
            if extra:
                problems.append(
                    f"{s.where}: @release:{','.join(sorted(extra))} but {rule} is stated for "
                    f"{', '.join(sorted(rules[rule]))} only"
                )
    assert not problems, "\n".join(problems)


def test_scenario_names_are_unique_across_features() -> None:
    seen: dict[str, str] = {}
    problems = []
    for file, line, name in raw_scenario_names():
        if name in seen:
            problems.append(f"{file}:{line}: scenario {name!r} repeats {seen[name]}")
        seen.setdefault(name, f"{file}:{line}")
    assert not problems, "\n".join(problems)


def test_tags_are_only_the_known_kinds() -> None:
    problems = [
        f"{s.where}: unknown tag @{t}"
        for s in scenarios()
        for t in sorted(s.tags)
        if t != "destructive" and not t.startswith(KNOWN_TAG_PREFIXES)
    ]
    assert not problems, "\n".join(problems)


def test_examples_tables_carry_no_tags() -> None:
    """pytest-bdd applies Examples tags as raw pytest marks, so @rule/@release there would be lost."""
    assert not example_tags(), f"tags on Examples tables: {example_tags()}"


def test_every_step_line_matches_exactly_one_step_definition() -> None:
    definitions = step_definitions()
    problems = []
    for used in used_steps():
        found = [d for d in definitions if matches(d, used)]
        if len(found) != 1:
            what = "no step definition" if not found else "several: " + "; ".join(d.pattern for d in found)
            problems.append(f"{used.where}: {used.type.capitalize()} {used.text!r} matches {what}")
    assert not problems, "\n".join(problems)


def test_every_step_definition_is_used_by_a_feature() -> None:
    used = used_steps()
    idle = [
        f"{d.module}:{d.line} {d.keyword} {d.pattern}"
        for d in step_definitions()
        if not any(matches(d, u) for u in used)
    ]
    assert not idle, "step definitions no feature uses:\n" + "\n".join(idle)
