"""The rule catalog loader: a good catalog loads; every kind of mistake names file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from sandbox_project import CATALOG

from conformance.catalog import (
    CatalogError,
    Document,
    Source,
    default_catalog_path,
    find_seeds_dir,
    load_catalog,
    parse_catalog,
    quote_in_seed,
)
from ovmref.release import Release


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    return path


def test_fixture_catalog_loads_with_typed_rules(tmp_path: Path) -> None:
    catalog = load_catalog(write(tmp_path, CATALOG))
    assert catalog.ids == ("HA-RESTART", "HA-MASTER", "HA-OLD", "HA-BROKEN", "HA-UNTESTED")
    old = catalog["HA-OLD"]
    assert old.releases == (Release.R2_1,)
    assert old.applies_to(Release.R2_1) and not old.applies_to(Release.R3)
    assert old.kind == "consideration" and old.checks == "read-only"
    assert old.sources[0].doc == Document("ug21", "User's Guide 2.1, ch. 9 HA", "ug21.txt")
    assert old.source_text == "User's Guide 2.1, ch. 9 HA, 9.1"
    assert "HA-OLD" in catalog and "HA-NOPE" not in catalog
    assert [r.id for r in catalog.for_release(Release.R2_1)] == [
        "HA-RESTART",
        "HA-MASTER",
        "HA-OLD",
        "HA-BROKEN",
    ]
    with pytest.raises(KeyError):
        catalog["HA-NOPE"]


def test_source_text_joins_every_source() -> None:
    text = CATALOG.replace(
        '      - {doc: con30, section: "6.10", quote: "takes over the master role"}',
        '      - {doc: con30, section: "6.10", quote: "takes over the master role"}\n'
        '      - {doc: ug21, section: "9.2", quote: "x"}',
    )
    rule = parse_catalog(text)["HA-MASTER"]
    assert rule.source_text == "Concepts Guide 3.0, 6.10 HA, 6.10; User's Guide 2.1, ch. 9 HA, 9.2"


def test_release_spellings_are_parsed_as_families() -> None:
    text = CATALOG.replace('releases: ["2.1"]', 'releases: ["2.1.5", 2.1]')
    assert parse_catalog(text)["HA-OLD"].releases == (Release.R2_1,)


@pytest.mark.parametrize(
    ("old", "new", "line", "problem"),
    [
        ("    kind: consideration\n", "    kind: consideration\n    owner: me\n", 23, "unknown key 'owner'"),
        (
            "  - id: HA-BROKEN\n",
            "  - id: HA-OLD\n",
            26,
            "duplicate rule id HA-OLD (first defined on line 19)",
        ),
        (
            'releases: ["2.1"]',
            'releases: ["2.1", "4.0"]',
            21,
            "bad release in rule HA-OLD: unknown Oracle VM",
        ),
        (
            '{doc: con30, section: "6.10", quote: "master role"}',
            "{doc: ug99, section: x, quote: y}",
            39,
            "unknown doc 'ug99' in rule HA-UNTESTED",
        ),
        (
            "    checks: read-only\n    sources:\n"
            '      - {doc: ug21, section: "9.1", quote: "HA also fails"}\n',
            "    checks: read-only\n",
            19,
            "missing field 'sources' in a rule",
        ),
        (
            '      - {doc: ug21, section: "9.1", quote: "restarted"}',
            '      - {doc: ug21, section: "9.1"}',
            32,
            "missing field 'quote' in a source of rule HA-BROKEN",
        ),
        ("kind: role", "kind: wish", 15, "kind of rule HA-MASTER is 'wish'"),
        ("  - id: HA-OLD", "  - id: ha-old", 19, "must be upper-case letters"),
        ('statement: "A rule no scenario checks."', "statement: [a, b]", 34, "statement of rule HA-UNTESTED"),
        ('releases: ["2.2", "3.x"]', "releases: []", 35, "releases of rule HA-UNTESTED is empty"),
        (
            "    kind: scenario\n",
            "    kind: scenario: x\n",
            8,
            "not valid YAML: mapping values are not allowed",
        ),
    ],
)
def test_each_mistake_names_file_line_and_problem(
    tmp_path: Path, old: str, new: str, line: int, problem: str
) -> None:
    assert old in CATALOG
    path = write(tmp_path, CATALOG.replace(old, new, 1))
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    assert str(caught.value).startswith(f"{path}:{line}: "), str(caught.value)
    assert problem in str(caught.value)
    assert caught.value.line == line


def test_unreadable_and_empty_catalogs_are_catalog_errors(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"missing\.yaml: cannot read the rule catalog"):
        load_catalog(tmp_path / "missing.yaml")
    with pytest.raises(CatalogError, match="the catalog is empty"):
        load_catalog(write(tmp_path, "# nothing\n"))
    with pytest.raises(CatalogError, match=r":1: missing field 'rules' in the catalog"):
        load_catalog(write(tmp_path, "documents: {}\n"))


def test_quote_in_seed_ignores_whitespace_differences(tmp_path: Path) -> None:
    (tmp_path / "doc.txt").write_text("If the Server Pool Master fails,\n  HA also fails for the\tservers.\n")
    doc = Document("d", "A document", "doc.txt")
    assert quote_in_seed(Source(doc, "9.1", "Master fails, HA also fails for the servers."), tmp_path)
    assert not quote_in_seed(Source(doc, "9.1", "HA never fails"), tmp_path)


def test_default_catalog_path_is_the_repositorys() -> None:
    assert default_catalog_path() == Path(__file__).resolve().parents[2] / "features" / "rules.yaml"


@pytest.mark.skipif(not default_catalog_path().exists(), reason="features/rules.yaml not written yet")
def test_every_quote_of_the_real_catalog_appears_in_its_document() -> None:
    seeds = find_seeds_dir()
    if seeds is None:
        pytest.skip("the Oracle documents (shared/seeds) are not available here")
    catalog = load_catalog()
    missing = [
        f"{r.id}: {s.doc.key}: {s.quote!r}" for r in catalog for s in r.sources if not quote_in_seed(s, seeds)
    ]
    assert not missing, "quotes not found in their documents:\n" + "\n".join(missing)
