"""Timeline facts (guest stretches, powered-off spells, server down time) and how the SVG draws them."""

from __future__ import annotations

import re
from typing import Any

from conformance.timeline_facts import (
    DownStretch,
    GuestStretch,
    down_stretches,
    guest_stretches,
    powered_off_stretches,
)
from conformance.timeline_svg import LABEL_W, PLOT_W, render_timeline_svg
from environments.model import InjectedFault
from environments.outcome import FaultOutcome


def ev(
    t: int, kind: str, server: str | None = None, guest: str | None = None, detail: str = ""
) -> dict[str, Any]:
    """An event as the report stores it; a fault's detail names its kind, as the drivers write it."""
    event: dict[str, Any] = {"t_ms": t, "kind": kind, "server": server, "guest": guest, "detail": detail}
    if kind == "fault":
        injected = "guest_crash" if guest else detail
        event["fault"] = {"kind": injected, "victims": [guest or server]}
    return event


# A crash of s3 at 10 s: s1 (master) detects it at 40 s and restarts vm1 on s2 (boots 5 s); vm2, without
# HA, is not restarted; s3 is recovered at 60 s and rejoins at 70 s.
CRASH = [
    ev(0, "master", "s1", detail="s1 is the server pool master"),
    ev(1000, "guest_start", "s3", "vm1", "boot"),
    ev(6000, "guest_running", "s3", "vm1"),
    ev(2000, "guest_start", "s3", "vm2", "boot"),
    ev(7000, "guest_running", "s3", "vm2"),
    *[
        ev(t, "heartbeat", s)
        for t in range(0, 80_000, 2000)
        for s in ("s1", "s2", "s3")
        if s != "s3" or t < 10_000
    ],
    ev(10_000, "fault", "s3", detail="crash"),
    ev(10_000, "guest_stop", "s3", "vm1", "crashed"),
    ev(10_000, "guest_stop", "s3", "vm2", "crashed"),
    ev(40_000, "node_down", "s3", detail="master s1 saw s3 dead"),
    ev(40_000, "restart", "s2", "vm1", "restarting vm1 on s2 (was on s3)"),
    ev(40_000, "guest_not_restarted", "s1", "vm2", "HA is not enabled on the guest"),
    ev(40_001, "guest_start", "s2", "vm1", "boot"),
    ev(45_001, "guest_running", "s2", "vm1"),
    ev(50_000, "o2net-connected", "s1", detail="connected to node 2"),
    ev(60_000, "recover", "s3"),
    ev(70_000, "rejoin", "s3"),
]


def test_guest_stretches_per_server_with_booting_and_stop_detail() -> None:
    stretches = [s for s in guest_stretches(CRASH) if s.guest == "vm1"]
    assert stretches == [
        GuestStretch("vm1", "s3", 1000, 6000, 10_000, "crashed"),
        GuestStretch("vm1", "s2", 40_001, 45_001, None, ""),
    ]


def test_a_stop_without_a_start_is_a_stretch_only_the_first_time() -> None:
    events = [
        ev(5000, "guest_stop", "s1", "vm1", "crashed"),  # running there before the timeline began
        ev(6000, "guest_start", "s2", "vm1", "live migration"),
        ev(6200, "guest_running", "s2", "vm1"),
        ev(7000, "guest_stop", "s2", "vm1", "frozen with its hung server"),
        ev(9000, "guest_stop", "s2", "vm1", "killed: its server fenced itself"),  # already stopped there
    ]
    assert guest_stretches(events) == [
        GuestStretch("vm1", "s1", None, None, 5000, "crashed"),
        GuestStretch("vm1", "s2", 6000, 6200, 7000, "frozen with its hung server"),
    ]


def test_down_stretches_from_crash_hang_fence_and_halt() -> None:
    events = [
        ev(1000, "fault", "s1", detail="crash"),
        ev(3000, "recover", "s1"),  # a crashed server boots on recover: still down until it rejoins
        ev(5000, "rejoin", "s1"),
        ev(1000, "fault", "s2", detail="hang"),
        ev(4000, "recover", "s2"),  # thawed: runs again without rebooting
        ev(2000, "fault", "s3", detail="hang"),
        ev(6000, "recover", "s3"),
        ev(6000, "fence", "s3", detail="overdue self-fence"),  # ... unless it fences itself on waking
        ev(9000, "rejoin", "s3"),
        ev(7000, "halt", "s4", detail="deleted"),
        ev(1000, "fault", "s5", detail="storage"),  # still running until it fences itself
        ev(8000, "fault", "s5", "g1", detail="guest crash"),  # a guest's fault: the server stays up
    ]
    events.sort(key=lambda e: e["t_ms"])
    assert down_stretches(events) == [
        DownStretch("s1", 1000, 5000, "crashed"),
        DownStretch("s2", 1000, 4000, "hung"),
        DownStretch("s3", 2000, 6000, "hung"),
        DownStretch("s3", 6000, 9000, "fenced: overdue self-fence"),
        DownStretch("s4", 7000, None, "halted: deleted"),
    ]


def test_powered_off_until_started_again() -> None:
    events = [
        ev(1000, "guest_powered_off", "s1", "vm2", "no server available"),
        ev(5000, "guest_start", "s2", "vm2", "boot"),
        ev(6000, "guest_powered_off", "s1", "vm3", "no server"),
    ]
    assert [(p.guest, p.start_ms, p.end_ms) for p in powered_off_stretches(events)] == [
        ("vm2", 1000, 5000),
        ("vm3", 6000, None),
    ]


def _x(t_ms: int, span_ms: int) -> float:
    return LABEL_W + t_ms / span_ms * PLOT_W


def test_svg_draws_a_bar_per_stretch_coloured_and_named_after_its_server() -> None:
    svg = render_timeline_svg(CRASH, title="crash")
    bars = re.findall(r'<g class="stretch" data-server="([^"]+)"><title>([^<]*)</title>(.*?)</g>', svg)
    assert [(server, tip.split(":")[0]) for server, tip, _ in bars] == [
        ("s3", "vm1 on s3"),
        ("s2", "vm1 on s2"),
        ("s3", "vm2 on s3"),
    ]
    _server, tip, body = bars[0]
    assert tip == "vm1 on s3: booting 1-6 s, running 6-10 s; stopped: crashed"
    assert ">s3</text>" in body, "the server's name is written in or beside its bar"
    booting = re.search(r'class="booting" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', body)
    running = re.search(
        r'class="running" x="([\d.]+)" y="[\d.]+" width="([\d.]+)" height="\d+" fill="(#\w+)"', body
    )
    assert booting and running
    # the scale runs from 0 to the last event (the heartbeats at 78 s): booting 1-6 s, running 6-10 s
    assert float(booting.group(1)) == round(_x(1000, 78_000), 1)
    assert abs(float(booting.group(2)) - 5000 / 78_000 * PLOT_W) < 0.2
    assert abs(float(running.group(1)) - _x(6000, 78_000)) < 0.2
    assert abs(float(running.group(2)) - 4000 / 78_000 * PLOT_W) < 0.2
    colours = dict(re.findall(r'data-server="(\w+)">.*?class="running"[^>]*fill="(#\w+)"', svg))
    assert colours["s2"] != colours["s3"], "a colour per server"
    # the stop, with its detail on hover; a still-running stretch has none
    assert svg.count('<g class="ev guest_stop"><title>t=10s guest_stop vm1 on s3: crashed</title>') == 1
    assert "t=40.001s guest_stop" not in svg


def test_svg_marks_server_events_down_time_and_thins_heartbeats() -> None:
    svg = render_timeline_svg(CRASH, title="crash")
    lane_y = {
        m[1]: float(m[0])
        for m in re.findall(r'<rect x="120" y="([\d.]+)" [^>]*/>\s*<text[^>]*>([^<]+)<', svg)
    }
    assert list(lane_y) == ["s1", "s2", "s3", "guest vm1", "guest vm2"]
    down = re.search(r'<g class="down"><title>([^<]*)</title><rect x="[\d.]+" y="([\d.]+)"', svg)
    assert down and down.group(1) == "s3 down from 10 s until 70 s: crashed"
    assert float(down.group(2)) == lane_y["s3"] + 1, "shaded on the crashed server's lane"
    for kind in ("fault", "node_down", "restart", "master", "recover", "rejoin"):
        assert f'<g class="ev {kind}">' in svg, kind
    assert "t=40s node_down on s3: master s1 saw s3 dead" in svg
    assert ">restart vm1</text>" in svg
    # one path of ticks per server, one tick per heartbeat that is a pixel apart
    paths = re.findall(r'<g class="ev heartbeat"><title>([^<]*)</title><path class="hb" d="([^"]+)"/>', svg)
    assert [tip for tip, _ in paths] == [
        "s1: 40 heartbeats written",
        "s2: 40 heartbeats written",
        "s3: 5 heartbeats written",
    ]
    assert [d.count("M") for _, d in paths] == [40, 40, 5]
    # an unexplained kind is a grey dot with hover text
    assert '<circle class="dot"' in svg and "t=50s o2net-connected on s1: connected to node 2" in svg


def test_svg_draws_duplicate_heartbeats_and_close_details_once() -> None:
    events = [ev(t, "heartbeat", "s1") for t in (1000, 1000, 1001, 5000)] + [
        ev(3000, "command", "s1", detail="a"),
        ev(3001, "command", "s1", detail="b"),
        ev(9000, "fault", "s1", detail="crash"),
    ]
    svg = render_timeline_svg(events)
    (d,) = re.findall(r'<path class="hb" d="([^"]+)"', svg)
    assert d.count("M") == 2
    (dot,) = re.findall(r'<circle class="dot"[^>]*><title>([^<]*)</title>', svg)
    assert dot == "t=3s command on s1: a\nt=3.001s command on s1: b"


def test_svg_draws_a_lone_stop_and_a_powered_off_guest() -> None:
    events = [
        ev(0, "guest_start", "s1", "vm1"),
        ev(1000, "guest_running", "s1", "vm1"),
        ev(2000, "guest_stop", "s1", "vm1", "frozen with its hung server"),
        ev(2000, "fault", "s1", detail="hang"),
        ev(9000, "guest_stop", "s1", "vm1", "killed: its server fenced itself"),
        ev(9000, "guest_powered_off", "s2", "vm1", "no server available"),
    ]
    svg = render_timeline_svg(events)
    assert svg.count('class="stretch"') == 1
    assert "t=9s guest_stop vm1 on s1: killed: its server fenced itself" in svg
    assert '<g class="powered-off"><title>vm1 powered off from 9 s until the end: no server available' in svg
    assert '<g class="ev guest_powered_off">' in svg, "the master's decision, on its lane"


def _text_boxes(svg: str) -> list[tuple[float, float, float, str]]:
    """(x0, x1, y, text) of every small label, with the renderer's own width estimate."""
    import re as _re

    from conformance.timeline_svg import SMALL_CHAR_PX

    boxes = []
    for attrs, text in _re.findall(
        r'<text ([^>]*font-size="9"[^>]*|class="boundlabel"[^>]*)>([^<]+)</text>', svg
    ):
        x = float(_re.search(r'x="([\d.]+)"', attrs).group(1))  # type: ignore[union-attr]
        y = float(_re.search(r'y="([\d.]+)"', attrs).group(1))  # type: ignore[union-attr]
        width = SMALL_CHAR_PX * len(text)
        x0 = x - width / 2 if 'text-anchor="middle"' in attrs else x
        boxes.append((x0, x0 + width, y, text))
    return boxes


def test_labels_never_overlap_even_when_marks_crowd_together() -> None:
    events = [
        {"t_ms": 0, "kind": "heartbeat", "server": f"server{i}", "guest": None, "detail": ""} for i in (1, 2)
    ]
    for i in range(12):  # a burst of labelled marks within a second on one lane
        events.append(
            {
                "t_ms": 50_000 + i * 80,
                "kind": "restart",
                "server": "server1",
                "guest": f"vm{i}",
                "detail": "restart on server2",
            }
        )
        events.append(
            {
                "t_ms": 50_000 + i * 80,
                "kind": "fault",
                "server": "server2",
                "guest": None,
                "detail": "crash with a long detail",
            }
        )
    svg = render_timeline_svg(
        events,
        failover=[
            FaultOutcome(InjectedFault("crash", ("server2",)), "server2", 50_000, bound_ms=1000),
            FaultOutcome(InjectedFault("crash", ("server2",)), "server2", 50_080, bound_ms=1000),
        ],
    )
    boxes = _text_boxes(svg)
    assert boxes, "some labels are drawn"
    for i, (a0, a1, ay, at) in enumerate(boxes):
        for b0, b1, by, bt in boxes[i + 1 :]:
            assert not (abs(ay - by) < 10 and a0 < b1 and b0 < a1), f"{at!r} overlaps {bt!r}"


def test_the_failover_bound_is_marked_even_past_the_last_event() -> None:
    events = [
        {"t_ms": 0, "kind": "guest_running", "server": "s1", "guest": "vm1", "detail": ""},
        {"t_ms": 10_000, "kind": "fault", "server": "s1", "guest": None, "detail": "crash"},
        {"t_ms": 12_000, "kind": "node_down", "server": "s1", "guest": None, "detail": ""},
    ]
    crash = FaultOutcome(InjectedFault("crash", ("s1",)), "s1", 10_000, bound_ms=71_000)
    svg = render_timeline_svg(events, failover=[crash])
    assert svg.count('class="bound"') == 1 and ">bound 71 s<" in svg
    assert "<style>" not in svg and "<style>" in render_timeline_svg(events, standalone=True)
