"""index.html structure: grouped scenario rows with release badges, failed list, compact sources, captions."""

from __future__ import annotations

import re

from sandbox_project import CATALOG

from conformance.catalog import parse_catalog
from conformance.render_html import anchor, render_html
from conformance.report_model import RunInfo, build_report
from conformance.results import ScenarioMeta, ScenarioResult, ScenarioStatus
from ovmref.release import Release

CAT = parse_catalog(CATALOG)
RUN = RunInfo("r", "fake", (Release.R2_2, Release.R3), 1, "2025-01-01T00:00:00+00:00", 1.0)


def run(
    name: str, release: str, status: ScenarioStatus, example: int = 0, rule: str = "HA-RESTART", **kw: object
) -> ScenarioResult:
    nodeid = f"t.py::test_{name.replace(' ', '_')}[{release}-{example}]"
    meta = ScenarioMeta(nodeid, name, "f.feature", (rule,), release, "fake", 1, f"replay {nodeid}")
    return ScenarioResult(meta=meta, status=status, duration_s=0.1, **kw)  # type: ignore[arg-type]


def row_of(page: str, rule: str) -> str:
    found = re.search(rf'<tr id="rule-{rule}">.*?</tr>', page, re.S)
    assert found is not None
    return found.group(0)


def test_examples_and_releases_of_a_scenario_collapse_into_one_row_failed_first() -> None:
    failing = run("outline", "3.x", "failed", example=1)
    results = [
        run("plain", "2.2", "passed"),
        run("plain", "3.x", "passed"),
        run("outline", "2.2", "passed", example=0),
        run("outline", "2.2", "passed", example=1),
        run("outline", "3.x", "passed", example=0),
        failing,
    ]
    page = render_html(build_report(CAT, results, RUN))
    groups = re.findall(r'<li class="grp">(.*?)</li>', row_of(page, "HA-RESTART"))
    assert len(groups) == 2
    assert "outline" in groups[0] and "plain" in groups[1], "the group with a failure comes first"
    badges = re.findall(r'<a class="st ([a-z-]+)" href="#([^"]+)" title="([^"]+)">([^<]+)</a>', groups[0])
    assert badges == [
        ("passed", anchor(results[2]), "2.2: 2 passed", "2.2"),
        ("failed", anchor(failing), "3.x: 1 failed, 1 passed", "3.x"),
    ]
    assert "&times;2 examples" in groups[0] and "examples" not in groups[1]
    assert re.findall(r"<a class=\"st ([a-z-]+)\"", groups[1]) == ["passed", "passed"]


def test_a_release_without_a_run_gets_an_empty_badge() -> None:
    page = render_html(build_report(CAT, [run("only 2.2", "2.2", "passed")], RUN))
    (group,) = re.findall(r'<li class="grp">(.*?)</li>', row_of(page, "HA-RESTART"))
    assert '<span class="st none" title="3.x: not run">3.x</span>' in group


def test_failed_list_near_the_top_links_evidence_with_replay_commands() -> None:
    broken = run("broken", "2.2", "failed")
    errored = run("flaky", "3.x", "error")
    page = render_html(build_report(CAT, [run("fine", "2.2", "passed"), errored, broken], RUN))
    assert page.index('id="failed"') < page.index("<h2>Rule matrix</h2>")
    items = re.findall(r"<li>(.*?)</li>", page[page.index('id="failed"') :].split("</ul>")[0], re.S)
    assert len(items) == 2
    assert f'href="#{anchor(broken)}"' in items[0] and "replay t.py::test_broken[2.2-0]" in items[0]
    assert f'href="#{anchor(errored)}"' in items[1]
    assert f'id="{anchor(broken)}"' in page
    assert 'id="failed"' not in render_html(build_report(CAT, [run("fine", "2.2", "passed")], RUN))


def test_source_column_is_key_and_section_with_the_title_on_hover() -> None:
    page = render_html(build_report(CAT, [], RUN))
    source = re.search(r'<td class="source">(.*?)</td>', row_of(page, "HA-RESTART"))
    assert source is not None
    assert source.group(1) == (
        '<span title="User&#x27;s Guide 2.1, ch. 9 HA, 9.1 High Availability (HA)">'
        "ug21 9.1 High Availability (HA)</span>"
    )


def test_fault_scenarios_get_a_figure_with_a_caption_of_durations() -> None:
    timeline = (
        {"t_ms": 0, "kind": "guest_start", "server": "s1", "guest": "vm1", "detail": ""},
        {"t_ms": 2000, "kind": "guest_running", "server": "s1", "guest": "vm1", "detail": ""},
        {"t_ms": 3000, "kind": "fault", "server": "s1", "guest": None, "detail": "crash"},
        {"t_ms": 3000, "kind": "guest_stop", "server": "s1", "guest": "vm1", "detail": "crashed"},
        {"t_ms": 8000, "kind": "node_down", "server": "s1", "guest": None, "detail": "master s2 saw s1 dead"},
        {"t_ms": 8000, "kind": "guest_start", "server": "s2", "guest": "vm1", "detail": ""},
        {"t_ms": 10_500, "kind": "guest_running", "server": "s2", "guest": "vm1", "detail": ""},
    )
    within = run(
        "ok", "2.2", "passed", timeline=timeline, failover=({"server": "s1", "at_s": 3.0, "bound_s": 9.0},)
    )
    late = run(
        "late", "3.x", "failed", timeline=timeline, failover=({"server": "s1", "at_s": 3.0, "bound_s": 7.0},)
    )
    page = render_html(build_report(CAT, [within, late], RUN))
    captions = dict(
        re.findall(r'<section class="scenario" id="([^"]+)">.*?<figcaption>(.*?)</figcaption>', page, re.S)
    )
    ok, over = captions[anchor(within)], captions[anchor(late)]
    assert "<strong>crash</strong> on s1 at 3 s" in ok
    assert "detected after <strong>5 s</strong> (master s2 saw s1 dead)" in ok
    assert '<span class="within">vm1 running on s2 after <strong>7.5 s</strong> &le; bound 9 s</span>' in ok
    assert '<span class="over">vm1 running on s2 after <strong>7.5 s</strong> &gt; bound 7 s</span>' in over
    assert "Failover marks" not in page, "the caption replaces the raw marks"
    assert page.count("<svg") == 2
