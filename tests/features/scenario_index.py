"""Every scenario of features/*.feature with its tags, rules, releases and location (for the tests)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pytest_bdd.feature import get_features
from pytest_bdd.gherkin_parser import get_gherkin_document

REPO = Path(__file__).resolve().parents[2]
FEATURES_DIR = REPO / "features"
CATALOG = FEATURES_DIR / "rules.yaml"


@dataclass(frozen=True)
class ScenarioEntry:
    file: str
    line: int
    name: str
    tags: frozenset[str]

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}: scenario {self.name!r}"

    @property
    def rules(self) -> set[str]:
        return {t.partition(":")[2] for t in self.tags if t.startswith("rule:")}

    @property
    def releases(self) -> set[str]:
        return {t.partition(":")[2] for t in self.tags if t.startswith("release:")}


def feature_files() -> list[Path]:
    return sorted(FEATURES_DIR.glob("*.feature"))


def scenarios() -> list[ScenarioEntry]:
    """Read with pytest-bdd's own parser; feature-level tags count for each scenario."""
    found = []
    for feature in get_features([str(p) for p in feature_files()]):
        rel = str(Path(feature.filename).relative_to(REPO))
        for template in feature.scenarios.values():
            rule_tags = template.rule.tags if template.rule else set()
            found.append(
                ScenarioEntry(
                    rel,
                    template.line_number,
                    template.name,
                    frozenset(template.tags | feature.tags | rule_tags),
                )
            )
    return found


def raw_scenario_names() -> list[tuple[str, int, str]]:
    """(file, line, name) of every scenario as written, duplicates included (pytest-bdd keeps the last)."""
    names = []
    for path in feature_files():
        doc = get_gherkin_document(str(path))
        for child in doc.feature.children:
            children = [child] if child.scenario else (child.rule.children if child.rule else [])
            names.extend(
                (path.name, c.scenario.location.line, c.scenario.name) for c in children if c.scenario
            )
    return names


def example_tags() -> list[tuple[str, int, set[str]]]:
    """Tags put on Examples tables: pytest-bdd turns them into raw marks, bypassing our tag hook."""
    found = []
    for path in feature_files():
        doc = get_gherkin_document(str(path))
        for child in doc.feature.children:
            if child.scenario:
                for ex in child.scenario.examples:
                    if ex.tags:
                        found.append((path.name, ex.location.line, {t.name for t in ex.tags}))
    return found
