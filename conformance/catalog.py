"""The rule catalog (features/rules.yaml): every documented HA rule with its sources.

Reports are organised by rule, not by test, so the catalog is the spine of a
run. It is parsed from YAML nodes (not plain `safe_load`) so every complaint
can name the file and line a maintainer has to fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from environments.yamlreader import YamlReader
from ovmref.errors import LocatedError
from ovmref.release import Release, UnknownReleaseError

# readiness: judged by `validate` on a real pool's read-out (ovmref.readiness), not by a scenario
RULE_KINDS = ("prerequisite", "procedure", "scenario", "placement", "role", "consideration", "readiness")
CHECK_KINDS = ("read-only", "configuration", "destructive")
RULE_ID = re.compile(r"[A-Z0-9]+(?:-[A-Z0-9]+)*")

_DOCUMENT_FIELDS = ("title", "seed", "reference", "url")
_RULE_FIELDS = ("id", "statement", "releases", "kind", "checks", "sources")
_RULE_OPTIONAL = ("outside", "reading")
_SOURCE_FIELDS = ("doc", "section", "quote")
_OUTSIDE_FIELDS = ("fact", "doc", "section", "quote")
_UNTESTABLE_FIELDS = ("id", "statement", "releases", "sources", "reason")


def default_catalog_path() -> Path:
    """The suite's `features/rules.yaml`, shipped beside this package (a checkout or an install)."""
    return Path(__file__).resolve().parent.parent / "features" / "rules.yaml"


class CatalogError(LocatedError):
    """The catalog is malformed; the message reads `FILE:LINE: problem` (`FILE: problem` if unreadable)."""

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"


@dataclass(frozen=True)
class Document:
    """One document the rules quote: an Oracle seed document (`seed`: its text file in the seeds
    directory), or a reference of the stack underneath (`reference`: an excerpt stored in this
    repository under features/, with the `url` it was taken from), for rules such as 3.x's O2CB
    ones that the Oracle VM documents do not state themselves."""

    key: str
    title: str
    seed: str = ""
    reference: str = ""
    url: str = ""


@dataclass(frozen=True)
class Source:
    """Where a rule is written down: document, section and the exact words."""

    doc: Document
    section: str
    quote: str


@dataclass(frozen=True)
class OutsideFact:
    """A fact a rule's statement adds to what its Oracle VM quotes say (an O2CB timing, the quorum
    tie-break), with where it does come from: a reference document's words. The trace test checks
    this quote too, so "the quote exists" is never read as "the rule follows from the seed quote"."""

    fact: str
    source: Source


@dataclass(frozen=True)
class Rule:
    id: str
    statement: str
    releases: tuple[Release, ...]
    kind: str
    checks: str
    sources: tuple[Source, ...]
    outside: tuple[OutsideFact, ...] = ()
    reading: str = ""  # how the statement was decided where the documents leave room, and why

    def applies_to(self, release: Release) -> bool:
        return release in self.releases

    @property
    def source_text(self) -> str:
        """'<title>, <section>; ...' for reports."""
        return "; ".join(f"{s.doc.title}, {s.section}" for s in self.sources)


@dataclass(frozen=True)
class Untestable:
    """Something the documents say that no scenario can check, with the reason (kept beside the
    rules so that a reader sees it was weighed, not forgotten)."""

    id: str
    statement: str
    releases: tuple[Release, ...]
    sources: tuple[Source, ...]
    reason: str


@dataclass(frozen=True)
class Catalog:
    documents: dict[str, Document]
    rules: tuple[Rule, ...]
    path: Path | None = None
    untestable: tuple[Untestable, ...] = ()

    def __getitem__(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def restricted_to(self, rule_ids: set[str]) -> Catalog:
        """The same catalog with only these rules (a validation checks the prerequisite rules only)."""
        return Catalog(
            self.documents, tuple(r for r in self.rules if r.id in rule_ids), self.path, self.untestable
        )

    def __contains__(self, rule_id: object) -> bool:
        return any(rule.id == rule_id for rule in self.rules)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(rule.id for rule in self.rules)

    def for_release(self, release: Release) -> tuple[Rule, ...]:
        return tuple(rule for rule in self.rules if rule.applies_to(release))


def load_catalog(path: Path | None = None) -> Catalog:
    """Parse and validate the catalog; any problem raises CatalogError naming file and line."""
    path = Path(path) if path is not None else default_catalog_path()
    return parse_catalog(_CatalogParser(path).read("the rule catalog"), path)


def parse_catalog(text: str, path: Path | str = "<catalog>") -> Catalog:
    parser = _CatalogParser(path)
    return parser.parse(parser.compose(text, "the catalog is empty: expected 'documents' and 'rules'"))


class _CatalogParser(YamlReader):
    """Walks the YAML node tree, keeping marks so errors carry line numbers."""

    error = CatalogError
    unmarked_line = 0
    not_a_mapping = "{what} must be a mapping"
    given_twice = "duplicate key {key!r} in {what}"
    sort_allowed = False

    def parse(self, root: yaml.Node) -> Catalog:
        top = self.mapping(root, ("documents", "rules", "untestable"), "the catalog", ("documents", "rules"))
        documents = self.documents(top["documents"])
        rules: list[Rule] = []
        seen: dict[str, int] = {}
        for node in self.sequence(top["rules"], "rules"):
            rule = self.rule(node, documents)
            if rule.id in seen:
                raise self.fail(node, f"duplicate rule id {rule.id} (first defined on line {seen[rule.id]})")
            seen[rule.id] = node.start_mark.line + 1
            rules.append(rule)
        untestable: list[Untestable] = []
        for node in self.sequence(top["untestable"], "untestable") if "untestable" in top else []:
            entry = self.untestable(node, documents)
            if entry.id in seen:
                raise self.fail(node, f"duplicate id {entry.id} (first defined on line {seen[entry.id]})")
            seen[entry.id] = node.start_mark.line + 1
            untestable.append(entry)
        return Catalog(
            documents=documents, rules=tuple(rules), path=Path(self.path), untestable=tuple(untestable)
        )

    # ---- node helpers ----------------------------------------------------------------
    def key(self, node: yaml.Node, what: str) -> str:
        return self.string(node, f"a key of {what}")

    def string(self, node: yaml.Node, what: str) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, f"{what} must be a single value")
        value = str(node.value).strip()
        if not value:
            raise self.fail(node, f"{what} is empty")
        return value

    # ---- catalog parts ---------------------------------------------------------------
    def documents(self, node: yaml.Node) -> dict[str, Document]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, "documents must be a mapping of key -> {title, seed | reference}")
        docs: dict[str, Document] = {}
        for key_node, value_node in node.value:
            key = self.string(key_node, "a document key")
            if key in docs:
                raise self.fail(key_node, f"duplicate document key {key!r}")
            fields = self.mapping(value_node, _DOCUMENT_FIELDS, f"document {key!r}", ("title",))
            if ("seed" in fields) == ("reference" in fields):
                raise self.fail(value_node, f"document {key!r} needs either a seed or a reference")
            docs[key] = Document(
                key=key,
                title=self.string(fields["title"], f"title of document {key!r}"),
                **{
                    name: self.string(fields[name], f"{name} of document {key!r}")
                    for name in ("seed", "reference", "url")
                    if name in fields
                },
            )
        return docs

    def rule(self, node: yaml.Node, documents: dict[str, Document]) -> Rule:
        fields = self.mapping(node, _RULE_FIELDS + _RULE_OPTIONAL, "a rule", _RULE_FIELDS)
        rule_id = self.string(fields["id"], "rule id")
        if not RULE_ID.fullmatch(rule_id):
            raise self.fail(
                fields["id"], f"rule id {rule_id!r} must be upper-case letters, digits and dashes"
            )
        what = f"rule {rule_id}"
        kind = self.choice(fields["kind"], f"kind of {what}", RULE_KINDS)
        checks = self.choice(fields["checks"], f"checks of {what}", CHECK_KINDS)
        return Rule(
            id=rule_id,
            statement=self.string(fields["statement"], f"statement of {what}"),
            releases=self.releases(fields["releases"], what),
            kind=kind,
            checks=checks,
            sources=self.sources(fields["sources"], what, documents),
            outside=self.outside(fields["outside"], what, documents) if "outside" in fields else (),
            reading=self.string(fields["reading"], f"reading of {what}") if "reading" in fields else "",
        )

    def untestable(self, node: yaml.Node, documents: dict[str, Document]) -> Untestable:
        fields = self.mapping(node, _UNTESTABLE_FIELDS, "an untestable entry", _UNTESTABLE_FIELDS)
        entry_id = self.string(fields["id"], "id of an untestable entry")
        if not RULE_ID.fullmatch(entry_id):
            raise self.fail(fields["id"], f"id {entry_id!r} must be upper-case letters, digits and dashes")
        what = f"untestable {entry_id}"
        return Untestable(
            id=entry_id,
            statement=self.string(fields["statement"], f"statement of {what}"),
            releases=self.releases(fields["releases"], what),
            sources=self.sources(fields["sources"], what, documents),
            reason=self.string(fields["reason"], f"reason of {what}"),
        )

    def outside(self, node: yaml.Node, what: str, documents: dict[str, Document]) -> tuple[OutsideFact, ...]:
        facts: list[OutsideFact] = []
        for item in self.sequence(node, f"outside facts of {what}"):
            fields = self.mapping(item, _OUTSIDE_FIELDS, f"an outside fact of {what}", _OUTSIDE_FIELDS)
            source = self._source(fields, what, documents)
            if not source.doc.reference:
                raise self.fail(
                    fields["doc"], f"an outside fact of {what} cites {source.doc.key}, a seed document: "
                    "outside facts come from reference documents"
                )
            fact = self.string(fields["fact"], f"fact of an outside fact of {what}")
            facts.append(OutsideFact(fact, source))
        return tuple(facts)

    def _source(self, fields: dict[str, yaml.Node], what: str, documents: dict[str, Document]) -> Source:
        doc_key = self.string(fields["doc"], f"doc of a source of {what}")
        if doc_key not in documents:
            known = ", ".join(sorted(documents)) or "none"
            raise self.fail(fields["doc"], f"unknown doc {doc_key!r} in {what} (documents: {known})")
        return Source(
            doc=documents[doc_key],
            section=self.string(fields["section"], f"section of a source of {what}"),
            quote=self.string(fields["quote"], f"quote of a source of {what}"),
        )

    def choice(self, node: yaml.Node, what: str, choices: tuple[str, ...]) -> str:
        value = self.string(node, what)
        if value not in choices:
            raise self.fail(node, f"{what} is {value!r}: expected one of {', '.join(choices)}")
        return value

    def releases(self, node: yaml.Node, what: str) -> tuple[Release, ...]:
        items = self.sequence(node, f"releases of {what}")
        if not items:
            raise self.fail(node, f"releases of {what} is empty")
        releases: list[Release] = []
        for item in items:
            text = self.string(item, f"a release of {what}")
            try:
                release = Release.parse(text)
            except UnknownReleaseError as exc:
                raise self.fail(item, f"bad release in {what}: {exc}") from None
            if release not in releases:
                releases.append(release)
        return tuple(releases)

    def sources(self, node: yaml.Node, what: str, documents: dict[str, Document]) -> tuple[Source, ...]:
        items = self.sequence(node, f"sources of {what}")
        if not items:
            raise self.fail(node, f"{what} has no sources: every rule must quote a document")
        sources: list[Source] = []
        for item in items:
            fields = self.mapping(item, _SOURCE_FIELDS, f"a source of {what}", _SOURCE_FIELDS)
            sources.append(self._source(fields, what, documents))
        return tuple(sources)


# ---- quotes against the documents -----------------------------------------------------
def normalise_whitespace(text: str) -> str:
    return " ".join(text.split())


def quote_in_seed(source: Source, seeds_dir: Path) -> bool:
    """True when the quote appears (whitespace-normalised) in its document's text: the seed file,
    or for a reference document its excerpt stored next to the catalog (features/)."""
    if source.doc.reference:
        path = default_catalog_path().parent / source.doc.reference
    else:
        path = Path(seeds_dir) / source.doc.seed
    text = path.read_text(encoding="utf-8")
    return normalise_whitespace(source.quote) in normalise_whitespace(text)


def find_seeds_dir() -> Path | None:
    """/work/shared/seeds, or ../shared/seeds next to the repository, when present."""
    repo = Path(__file__).resolve().parent.parent
    for candidate in (Path("/work/shared/seeds"), repo.parent / "shared" / "seeds"):
        if candidate.is_dir():
            return candidate
    return None
