"""index.html as a QA report: Given/When/Then with the failing step marked, filled Outline titles,
failed first, quotes visible, passing folded, captions that never read as success on a failure."""

from __future__ import annotations

import base64
import json
import re
import zlib

from sandbox_project import CATALOG

from conformance.catalog import parse_catalog
from conformance.render_html import anchor, render_html
from conformance.report_model import RunInfo, build_report
from conformance.results import ScenarioMeta, ScenarioResult, ScenarioStatus, StepInfo
from environments.model import InjectedFault
from environments.outcome import FaultOutcome, NextRun
from ovmref.release import Release

CAT = parse_catalog(CATALOG)
RUN = RunInfo("r", "fake", (Release.R2_2, Release.R3), 1, "2025-01-01T00:00:00+00:00", 1.0)
STEPS = (
    StepInfo("Given", "a pool of 2 servers with guest vm1 on server1", 5),
    StepInfo("When", "server1 crashes", 6),
    StepInfo("Then", "vm1 runs on server2 within the failover bound", 7),
)
TIMELINE = (
    {"t_ms": 0, "kind": "guest_start", "server": "s1", "guest": "vm1", "detail": ""},
    {"t_ms": 2000, "kind": "guest_running", "server": "s1", "guest": "vm1", "detail": ""},
    {
        "t_ms": 3000,
        "kind": "fault",
        "server": "s1",
        "guest": None,
        "detail": "crash",
        "fault": {"kind": "crash", "victims": ["s1"]},
    },
    {"t_ms": 3000, "kind": "guest_stop", "server": "s1", "guest": "vm1", "detail": "crashed"},
    {"t_ms": 8000, "kind": "node_down", "server": "s1", "guest": None, "detail": "master s2 saw s1 dead"},
    {"t_ms": 8000, "kind": "guest_start", "server": "s2", "guest": "vm1", "detail": ""},
    {"t_ms": 10_500, "kind": "guest_running", "server": "s2", "guest": "vm1", "detail": ""},
)
# what environments.outcome makes of TIMELINE with a 9 s failover bound
OUTCOMES = (
    FaultOutcome(
        InjectedFault("crash", ("s1",)),
        "s1",
        3000,
        detected_ms=8000,
        detected_by="master s2 saw s1 dead",
        bound_ms=9000,
        guests=(NextRun("vm1", "s1", "s2", 10_500, bound_ms=9000),),
    ),
)


def run(
    name: str,
    release: str,
    status: ScenarioStatus,
    example: tuple[tuple[str, str], ...] = (),
    rule: str = "HA-RESTART",
    title: str = "",
    outcomes: tuple[str, ...] = ("passed", "passed", "passed"),
    **kw: object,
) -> ScenarioResult:
    suffix = "-".join(v for _, v in example)
    nodeid = f"t.py::test_{name.replace(' ', '_')}[{release}{'-' + suffix if suffix else ''}]"
    meta = ScenarioMeta(
        nodeid,
        name,
        "features/f.feature",
        (rule,),
        release,
        "fake",
        1,
        f"replay {nodeid}",
        title=title or name,
        line=4,
        feature_name="Failover",
        example=example,
        steps=STEPS,
    )
    failed = next((i for i, o in enumerate(outcomes) if o not in ("passed", "not-reached")), -1)
    return ScenarioResult(
        meta=meta,
        status=status,
        duration_s=0.1,
        step_outcomes=outcomes,
        failed_step=failed,
        **kw,  # type: ignore[arg-type]
    )


def section(page: str, ident: str) -> str:
    found = re.search(rf'<div class="run-result" id="{ident}">.*?</div>', page, re.S)
    assert found is not None, ident
    return found.group(0)


def test_scenarios_show_given_when_then_with_the_failing_step_marked() -> None:
    broken = run(
        "restart",
        "3.x",
        "failed",
        outcomes=("passed", "passed", "failed"),
        message="step 'Then vm1 runs on server2 within the failover bound' failed: vm1 is running on server1",
    )
    page = render_html(build_report(CAT, [run("restart", "2.2", "passed"), broken], RUN))
    steps = [  # a passed step carries no class: the style sheet marks li:not([class]) as passed
        (outcome or "passed", keyword, text)
        for outcome, keyword, text in re.findall(r'<li(?: class="o-([a-z-]+)")?><b>(\w+)</b>([^<]+)', page)
    ]
    assert ("failed", "Then", "vm1 runs on server2 within the failover bound") in steps
    assert ("passed", "Given", "a pool of 2 servers with guest vm1 on server1") in steps
    assert '<span class="where">failed on 3.x</span>' in page
    message = section(page, anchor(broken))
    assert "vm1 is running on server1" in message and "replay t.py::test_restart[3.x]" in message


def test_outline_examples_get_titles_of_their_own_and_one_block_each() -> None:
    results = [
        run("outline <chosen>", rel, "passed", example=(("chosen", c),), title=f"outline {c}")
        for rel in ("2.2", "3.x")
        for c in ("server2", "server3")
    ]
    page = render_html(build_report(CAT, results, RUN))
    titles = re.findall(r'<span class="title">([^<]+)</span>', page)
    assert titles.count("outline server2") == 1 and titles.count("outline server3") == 1
    assert "&lt;chosen&gt;" not in "".join(titles)


def test_failed_rules_then_failed_scenarios_come_first_and_passing_is_folded() -> None:
    broken = run("broken", "2.2", "failed", rule="HA-BROKEN", outcomes=("passed", "failed", "not-reached"))
    page = render_html(build_report(CAT, [run("fine", "2.2", "passed"), broken], RUN))
    top = page[: page.index('<h2 id="rules">')]
    assert top.index('id="failed"') < top.index('id="failed-scenarios"')
    assert 'href="#rule-HA-BROKEN"' in top and "replay t.py::test_broken[2.2]" in top
    rule_order = re.findall(r'<details class="rule filterable" id="rule-([A-Z-]+)"', page)
    assert rule_order[0] == "HA-BROKEN", "the failed rule first"
    opened = re.findall(r'<details class="rule filterable" id="rule-([A-Z-]+)"[^>]*\sopen>', page)
    assert opened == ["HA-BROKEN"], "only what failed is open"
    fine = re.search(r'<details class="scenario filterable"[^>]*>(?:(?!</details>).)*fine', page, re.S)
    assert fine is not None and " open>" not in fine.group(0)[:400]


def test_not_applicable_runs_are_folded_into_one_line() -> None:
    page = render_html(
        build_report(
            CAT,
            [
                run("x", "2.2", "passed"),
                run("x", "3.x", "not-applicable", message="not applicable: not for 3.x"),
            ],
            RUN,
        )
    )
    assert '<p class="na-list">' in page and "3.x: not applicable: not for 3.x" in page
    assert page.count('<div class="run-result"') == 1, "no run section for a run that does not apply"


def test_the_documents_quotes_are_visible() -> None:
    page = render_html(build_report(CAT, [], RUN))
    assert (
        "<blockquote>the guests are migrated or restarted<footer>User&#x27;s Guide 2.1, ch. 9 HA, 9.1 High"
        in page
    )


def test_a_caption_never_reads_as_success_on_a_failed_scenario() -> None:
    ok = run("ok", "2.2", "passed", timeline=TIMELINE, failover=OUTCOMES)
    wrong_place = run(
        "wrong",
        "3.x",
        "failed",
        timeline=TIMELINE,
        failover=OUTCOMES,
        outcomes=("passed", "passed", "failed"),
        message="vm1 ran on the wrong server",
    )
    page = render_html(build_report(CAT, [ok, wrong_place], RUN))
    assert '<span class="within">vm1 running on s2 after <strong>7.5 s</strong> &le; bound 9 s</span>' in page
    failed_caption = re.search(
        r'id="' + anchor(wrong_place) + r'".*?<figcaption>(.*?)</figcaption>', page, re.S
    )
    assert failed_caption is not None
    assert 'class="within"' not in failed_caption.group(1)
    assert 'class="within-failed"' in failed_caption.group(1) and "failed" in failed_caption.group(1)


def test_failed_timelines_are_inline_and_passing_ones_drawn_on_demand_from_one_blob() -> None:
    ok = run("ok", "2.2", "passed", timeline=TIMELINE, failover=OUTCOMES)
    bad = run(
        "bad", "3.x", "failed", timeline=TIMELINE, failover=OUTCOMES, outcomes=("passed", "passed", "failed")
    )
    page = render_html(build_report(CAT, [ok, bad], RUN))
    inline = re.findall(r"<svg.*?</svg>", page, re.S)
    assert len(inline) == 1, "the failed run's timeline, once: its scenario is rendered once, at the top"
    assert all("<style>" not in svg for svg in inline), "one shared style sheet in <head>"
    assert 'class="bound"' in inline[0], "the failover bound is drawn"
    assert f'data-tl="{anchor(ok)}"' in page
    blob = re.search(r'<script type="application/octet-stream" id="timeline-data">(.*?)</script>', page, re.S)
    assert blob is not None
    drawn = json.loads(zlib.decompress(base64.b64decode(blob.group(1))))
    assert list(drawn) == [anchor(ok)] and drawn[anchor(ok)].startswith("<svg")


def test_filters_cover_status_release_rule_and_feature() -> None:
    page = render_html(build_report(CAT, [run("x", "2.2", "passed")], RUN))
    form = page[page.index('<form id="filters"') : page.index("</form>")]
    for status in ("passed", "failed", "suite-error", "environment-error", "not-run", "not-applicable"):
        assert f'name="status" value="{status}"' in form
    assert 'name="release" value="2.2"' in form and 'name="release" value="3.x"' in form
    assert 'name="rule"' in form and '<option value="features/f.feature">' in form
    assert 'data-runs="2.2:passed"' in page
