"""What a pytest-bdd scenario test says about itself: rules, releases, environments, where it lives.

pytest-bdd 9 keeps the parsed scenario for each generated test function in
`scenario_wrapper_template_registry`; the tags it applied are our marks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

import pytest
from pytest_bdd.parser import ScenarioTemplate
from pytest_bdd.scenario import scenario_wrapper_template_registry

from conformance.catalog import Catalog
from conformance.results import ScenarioMeta, StepInfo
from conformance.suite import feature_label
from ovmref.release import Release, UnknownReleaseError

PROBLEM_KEY = pytest.StashKey[str]()  # a scenario's tag problems: it fails as a suite error


def template_of(function: object) -> ScenarioTemplate | None:
    """The pytest-bdd ScenarioTemplate behind a generated test function, if any."""
    try:
        return scenario_wrapper_template_registry.get(cast(Callable[..., object], function))
    except TypeError:  # not weak-referenceable: not a scenario
        return None


def is_scenario(function: object, fixturenames: Sequence[str]) -> bool:
    return template_of(function) is not None or "_pytest_bdd_example" in fixturenames


def scenario_name(function: object, default: str) -> str:
    template = template_of(function)
    return str(template.name) if template is not None else default


def feature_path(function: object, nodeid: str) -> str:
    """The .feature file as reports name it (the test module when unknown)."""
    template = template_of(function)
    if template is None:
        return nodeid.split("::", 1)[0]
    return feature_label(template.feature.filename)


def _location(function: object, label: Callable[[str], str], fallback: str) -> str:
    template = template_of(function)
    if template is None:
        return fallback
    return f"{label(template.feature.filename)}:{template.line_number}: scenario {template.name!r}"


def describe(item: pytest.Function, release: Release, environment: str, seed: int) -> ScenarioMeta:
    """Everything the report says about a scenario run before it runs: its Given/When/Then, examples
    filled in, and a title of its own (an Outline's examples would otherwise share one)."""
    template = template_of(item.obj)
    callspec = getattr(item, "callspec", None)
    example: dict[str, Any] = dict(callspec.params.get("_pytest_bdd_example", {})) if callspec else {}
    name = str(template.name) if template is not None else item.name
    title, line, feature_name = name, 0, ""
    steps: tuple[StepInfo, ...] = ()
    if template is not None:
        rendered = template.render(example)
        title = rendered.name
        if example and title == name:  # the examples are not in the title: say which one this is
            title = f"{name} ({', '.join(f'{k} = {v}' for k, v in example.items())})"
        steps = tuple(_step_info(step) for step in rendered.steps)
        line = template.line_number
        feature_name = str(template.feature.name)
    return ScenarioMeta(
        nodeid=item.nodeid,
        name=name,
        title=title,
        feature=feature_path(item.obj, item.nodeid),
        feature_name=feature_name,
        line=line,
        rules=rule_ids(item),
        release=release.value,
        environment=environment,
        seed=seed,
        replay="",
        example=tuple((str(k), str(v)) for k, v in example.items()),
        steps=steps,
        destructive=item.get_closest_marker("destructive") is not None,
    )


def _step_info(step: Any) -> StepInfo:
    table: tuple[tuple[str, ...], ...] = ()
    if step.datatable is not None:
        table = tuple(tuple(str(cell) for cell in row) for row in step.datatable.raw())
    return StepInfo(
        keyword=str(step.keyword).strip(),
        text=str(step.name),
        line=int(step.line_number),
        table=table,
        doc=str(step.docstring or ""),
    )


def _mark_values(marks: Iterable[pytest.Mark]) -> list[str]:
    return [str(arg) for mark in marks for arg in (mark.args or ("",))]


def rule_ids(node: pytest.Item) -> tuple[str, ...]:
    values = _mark_values(node.iter_markers("ovm_rule"))
    return tuple(sorted(set(values), key=values.index))


def tag_problems(
    function: object,
    definition: pytest.Item,
    catalog: Catalog,
    known_envs: Sequence[str],
    label: Callable[[str], str],
) -> list[str]:
    """Every @rule/@release/@env tag that names nothing real, each as 'FILE:LINE: scenario ...: problem'."""
    where = _location(function, label, definition.nodeid)
    problems: list[str] = []
    catalog_name = str(catalog.path) if catalog.path else "the rule catalog"
    for rule_id in _mark_values(definition.iter_markers("ovm_rule")):
        if rule_id not in catalog:
            problems.append(f"{where}: @rule:{rule_id} is not in {catalog_name}")
    for text in _mark_values(definition.iter_markers("ovm_release")):
        try:
            Release.parse(text)
        except UnknownReleaseError as exc:
            problems.append(f"{where}: @release:{text}: {exc}")
    for env in _mark_values(definition.iter_markers("ovm_env")):
        if env not in known_envs:
            problems.append(f"{where}: @env:{env} names no environment (known: {', '.join(known_envs)})")
    return problems


def not_applicable_reason(item: pytest.Item, release: Release, environment: str, catalog: Catalog) -> str:
    """Why this scenario does not apply to (release, environment), or '' when it does."""
    tagged = {Release.parse(v) for v in _mark_values(item.iter_markers("ovm_release"))}
    if tagged and release not in tagged:
        only = ", ".join(r.value for r in sorted(tagged, key=lambda r: r.value))
        return f"not applicable: the scenario is for release {only}, not {release}"
    envs = sorted(set(_mark_values(item.iter_markers("ovm_env"))))
    if envs and environment not in envs:
        return f"not applicable: only meaningful on {', '.join(envs)}"
    rules = [catalog[r] for r in rule_ids(item) if r in catalog]
    if rules and not any(rule.applies_to(release) for rule in rules):
        ids = ", ".join(rule.id for rule in rules)
        return f"not applicable: {ids} is not stated for {release}"
    return ""
