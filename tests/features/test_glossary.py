"""docs/steps.md is generated from the step library and must never be stale."""

from __future__ import annotations

import inspect

from steps.glossary import GLOSSARY, readable, render, step_definitions, used_steps


def test_docs_steps_md_is_up_to_date() -> None:
    expected = render(step_definitions(), used_steps())
    current = GLOSSARY.read_text(encoding="utf-8") if GLOSSARY.exists() else ""
    assert current == expected, "docs/steps.md is stale: run `python -m steps.glossary`"


def test_every_step_function_has_a_one_line_summary() -> None:
    for d in step_definitions():
        doc = inspect.getdoc(d.context.step_func) or ""
        assert doc.strip(), f"{d.module}:{d.line} has no docstring"
        assert not doc.startswith(("TODO", "XXX")), f"{d.module}:{d.line}"


def test_readable_patterns_name_parameters_and_options() -> None:
    assert readable(r"(?P<server>[A-Za-z][\w.-]*) fails") == "<server> fails"
    assert (
        readable(r"a pool(?: with HA (?P<ha>enabled|disabled))?") == "a pool[ with HA <ha: enabled|disabled>]"
    )
    assert readable(r"HA is (?P<negation>not )?on") == "HA is [not ]on"
    assert readable(r"(?:servers )?(?P<s>\w+) (?:fences itself|fence themselves)") == (
        "[servers ]<s> (fences itself|fence themselves)"
    )
    assert readable("plain text") == "plain text"
