"""The rule catalog itself: loadable, quoting its documents verbatim, holding the fixed prerequisite ids."""

from __future__ import annotations

import pytest
from scenario_index import CATALOG

from conformance.catalog import Catalog, find_seeds_dir, load_catalog, quote_in_seed

PREREQUISITE_IDS = {
    "PRE-RELEASE-MIN",
    "PRE-SAME-SHARED-STORAGE",
    "PRE-SAME-CLUSTER-ROOT",
    "PRE-CLUSTER-ROOT-MOUNT",
    "PRE-REPOSITORIES-FILE",
    "PRE-NO-LOCAL-OVS",
    "PRE-NO-LOCAL-OCFS2-ROOT",
    "PRE-FQDN",
    "PRE-HOSTNAME-NOT-LOOPBACK",
    "PRE-NAME-RESOLUTION-CONSISTENT",
    "PRE-CLUSTERCONF-IDENTICAL",
    "PRE-CLUSTERCONF-NO-LOOPBACK",
    "PRE-SERVICES-UP-3X",
    "PRE-NODE-SLOTS",
    "PRE-NFS-HEARTBEAT-FILE",
    "PRE-SERVICES-UP",
    "PRE-MULTI-SERVER",
    "PRE-CLUSTERED-POOL",
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(CATALOG)


def test_catalog_holds_every_documented_area(catalog: Catalog) -> None:
    assert 60 <= len(catalog) <= 90
    kinds = {rule.kind for rule in catalog}
    assert kinds == {
        "prerequisite", "procedure", "scenario", "placement", "role", "consideration", "readiness"
    }


def test_prerequisite_ids_are_exactly_those_prereq_checks_emit(catalog: Catalog) -> None:
    from ovmref.prereq import CHECKS

    ids = {rule.id for rule in catalog if rule.id.startswith("PRE-")}
    assert ids == PREREQUISITE_IDS
    assert set(CHECKS) == PREREQUISITE_IDS


def test_each_release_checks_exactly_the_prerequisites_the_catalog_states_for_it(catalog: Catalog) -> None:
    """One rule list per release: ovmref.prereq applies a rule to a release iff rules.yaml says so."""
    from ovmref.prereq import RULES_BY_RELEASE

    for release, checked in RULES_BY_RELEASE.items():
        stated = {r.id for r in catalog.for_release(release) if r.id.startswith("PRE-")}
        assert set(checked) == stated, (
            f"{release}: checked but not stated {sorted(set(checked) - stated)}, "
            f"stated but not checked {sorted(stated - set(checked))}"
        )
        assert len(checked) == len(set(checked)), f"{release}: a rule is listed twice"


def test_every_quote_is_verbatim_in_its_seed_document(catalog: Catalog) -> None:
    seeds = find_seeds_dir()
    if seeds is None:
        pytest.skip("the seed documents are not on this machine")
    quoted = [(rule.id, s) for rule in catalog for s in rule.sources]
    quoted += [(rule.id, f.source) for rule in catalog for f in rule.outside]
    quoted += [(entry.id, s) for entry in catalog.untestable for s in entry.sources]
    missing = [f"{rid}: {s.doc.key} {s.quote[:70]!r}" for rid, s in quoted if not quote_in_seed(s, seeds)]
    assert not missing, "quotes not found in their seed documents:\n" + "\n".join(missing)


def test_outside_facts_cite_reference_documents_and_untestable_entries_say_why(catalog: Catalog) -> None:
    """Item 18 of issue 13: a fact no seed states names the reference that does; an entry that no
    scenario can check says why, and is not a rule a run would report as not run."""
    for rule in catalog:
        for fact in rule.outside:
            assert fact.source.doc.reference, f"{rule.id}: {fact.fact!r} cites a seed"
            assert fact.fact and fact.source.quote
    assert catalog.untestable, "the catalog records what it cannot test"
    rule_ids = set(catalog.ids)
    for entry in catalog.untestable:
        assert entry.id not in rule_ids and len(entry.reason) > 40, entry.id
    by_id = {r.id: r for r in catalog}
    for rule_id in ("HB-DEAD-THRESHOLD", "HB-SELF-FENCE-STORAGE", "CLUS-QUORUM", "HB-CLEAN-LEAVE"):
        assert by_id[rule_id].outside, f"{rule_id} states O2CB facts: their outside source is listed"


def test_releases_that_disagree_have_a_rule_each(catalog: Catalog) -> None:
    """2.1: HA fails with the master; 2.2: takeover by lock; 3.x: migrate first; 2.x: prompt."""
    by_id = {rule.id: {r.value for r in rule.releases} for rule in catalog}
    assert by_id["MASTER-FAIL-21"] == {"2.1"}
    assert by_id["MASTER-TAKEOVER-22"] == {"2.2"}
    assert by_id["PLAN-MIGRATE-FIRST-3X"] == {"3.x"}
    assert by_id["PLAN-MANAGER-PROMPT-2X"] == {"2.1", "2.2"}


def test_every_rule_quotes_a_source_and_states_itself(catalog: Catalog) -> None:
    for rule in catalog:
        assert rule.sources, rule.id
        assert rule.statement.endswith("."), f"{rule.id}: the statement is a sentence"
