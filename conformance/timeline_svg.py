"""Draw a scenario's timeline as inline SVG: one lane per server and per guest.

A reader should see, without any script, the heartbeats stop after the
fault, when peers declared the node down, the fence, and when each HA guest
stopped, started and ran again elsewhere.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

LABEL_W = 120
PLOT_W = 760
RIGHT_PAD = 70
MIN_GAP = 13  # px between marks on one lane; later ones are nudged right (tooltips keep exact times)
LANE_H = 30
TOP_PAD = 14
AXIS_H = 34
LEGEND_H = 22

# kind -> (shape, colour, legend label); shapes are drawn by _mark
MARKS: dict[str, tuple[str, str, str]] = {
    "heartbeat": ("tick", "#9aa5b1", "heartbeat"),
    "fault": ("bar", "#d0021b", "fault"),
    "recover": ("bar", "#2e7d32", "recover"),
    "node_down": ("diamond", "#f57c00", "node down (detected)"),
    "node_up": ("diamond", "#2e7d32", "node up"),
    "fence": ("cross", "#111111", "fence"),
    "reboot": ("circle", "#1565c0", "reboot"),
    "rejoin": ("circle", "#2e7d32", "rejoin"),
    "master": ("triangle", "#6a1b9a", "master"),
    "guest_stop": ("square", "#d0021b", "guest stop"),
    "guest_powered_off": ("square", "#616161", "guest powered off"),
    "guest_start": ("triangle", "#1565c0", "guest start"),
    "guest_running": ("circle", "#2e7d32", "guest running"),
    "migrate": ("arrow", "#00838f", "migrate"),
}
_DEFAULT_MARK = ("circle", "#455a64", "other")
_LABELLED_KINDS = frozenset({"guest_start", "guest_running", "migrate"})  # label with the server
_GUEST_KINDS = frozenset({"guest_stop", "guest_powered_off", "guest_start", "guest_running", "migrate"})


@dataclass(frozen=True)
class _Lane:
    key: tuple[str, str]  # ("server", name) | ("guest", name) | ("pool", "")
    label: str


def render_timeline_svg(events: Iterable[Mapping[str, Any]], title: str = "") -> str:
    """SVG markup for the events (dicts shaped like TimelineEvent.as_dict())."""
    evs = sorted((dict(e) for e in events), key=lambda e: int(e.get("t_ms", 0)))
    lanes = _lanes(evs)
    index = {lane.key: i for i, lane in enumerate(lanes)}
    first = min((int(e["t_ms"]) for e in evs), default=0)
    last = max((int(e["t_ms"]) for e in evs), default=first)
    # simulated clocks start at 0 (pool built); real clocks may not: then start at the first event
    t0 = 0 if 0 <= first <= last - first else first
    span = max(last - t0, 1000)
    width = LABEL_W + PLOT_W + RIGHT_PAD
    plot_h = len(lanes) * LANE_H
    height = TOP_PAD + plot_h + AXIS_H + LEGEND_H

    def x(t_ms: int) -> float:
        return LABEL_W + (t_ms - t0) / span * PLOT_W

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_esc(title or "scenario timeline")}">',
        f"<title>{_esc(title or 'scenario timeline')}</title>",
    ]
    for i, lane in enumerate(lanes):
        y = TOP_PAD + i * LANE_H
        fill = "#f5f7fa" if i % 2 == 0 else "#ffffff"
        parts.append(f'<rect x="{LABEL_W}" y="{y}" width="{PLOT_W}" height="{LANE_H}" fill="{fill}"/>')
        parts.append(
            f'<text x="{LABEL_W - 6}" y="{y + LANE_H / 2 + 4}" text-anchor="end" '
            f'font-size="11" font-family="sans-serif">{_esc(lane.label)}</text>'
        )
    for e in evs:
        if e.get("kind") == "fault":  # a faint guide across every lane
            parts.append(
                f'<line x1="{x(int(e["t_ms"])):.1f}" y1="{TOP_PAD}" x2="{x(int(e["t_ms"])):.1f}" '
                f'y2="{TOP_PAD + plot_h}" stroke="#d0021b" stroke-dasharray="3,3" stroke-opacity="0.5"/>'
            )
    last_x: dict[tuple[str, str], float] = {}
    for e in evs:
        key = _lane_key(e)
        lane_y = TOP_PAD + index[key] * LANE_H + LANE_H / 2
        px = x(int(e["t_ms"]))
        if e.get("kind") != "heartbeat":
            px = max(px, last_x.get(key, -MIN_GAP) + MIN_GAP)
            last_x[key] = px
        parts.append(_mark(e, px, lane_y))
    parts.extend(_axis(t0, span, TOP_PAD + plot_h, x))
    parts.extend(_legend({str(e.get("kind")) for e in evs}, TOP_PAD + plot_h + AXIS_H))
    parts.append("</svg>")
    return "\n".join(parts)


def _lane_key(e: Mapping[str, Any]) -> tuple[str, str]:
    if e.get("guest") and (e.get("kind") in _GUEST_KINDS or not e.get("server")):
        return ("guest", str(e["guest"]))
    if e.get("server"):
        return ("server", str(e["server"]))
    return ("pool", "")


def _lanes(events: list[dict[str, Any]]) -> list[_Lane]:
    servers: list[str] = []
    guests: list[str] = []
    pool = False
    for e in events:
        kind, name = _lane_key(e)
        if kind == "server" and name not in servers:
            servers.append(name)
        elif kind == "guest" and name not in guests:
            guests.append(name)
        elif kind == "pool":
            pool = True
    lanes = [_Lane(("server", s), s) for s in sorted(servers, key=_natural)]
    lanes += [_Lane(("guest", g), f"guest {g}") for g in sorted(guests, key=_natural)]
    if pool:
        lanes.append(_Lane(("pool", ""), "pool"))
    return lanes or [_Lane(("pool", ""), "pool")]


def _natural(name: str) -> tuple[str, int]:
    stem = name.rstrip("0123456789")
    digits = name[len(stem) :]
    return (stem, int(digits) if digits else -1)


def _mark(e: Mapping[str, Any], cx: float, cy: float) -> str:
    kind = str(e.get("kind", ""))
    shape, colour, _ = MARKS.get(kind, _DEFAULT_MARK)
    t_s = int(e.get("t_ms", 0)) / 1000
    where = f" on {e['server']}" if e.get("server") else ""
    who = f" {e['guest']}" if e.get("guest") else ""
    detail = f": {e['detail']}" if e.get("detail") else ""
    tip = f"<title>{_esc(f't={t_s:g}s {kind}{who}{where}{detail}')}</title>"
    if shape == "tick":
        body = f'<line x1="{cx:.1f}" y1="{cy - 5}" x2="{cx:.1f}" y2="{cy + 5}" stroke="{colour}"/>'
    elif shape == "bar":
        body = (
            f'<rect x="{cx - 2:.1f}" y="{cy - 12}" width="4" height="24" fill="{colour}"/>'
            f'<text x="{cx + 4:.1f}" y="{cy - 4}" font-size="9" font-family="sans-serif" '
            f'fill="{colour}">{_esc(kind + detail)}</text>'
        )
    elif shape == "diamond":
        body = (
            f'<polygon points="{cx:.1f},{cy - 7} {cx + 7:.1f},{cy} {cx:.1f},{cy + 7} {cx - 7:.1f},{cy}" '
            f'fill="{colour}"/>'
        )
    elif shape == "cross":
        body = (
            f'<path d="M{cx - 6:.1f},{cy - 6} L{cx + 6:.1f},{cy + 6} M{cx - 6:.1f},{cy + 6} '
            f'L{cx + 6:.1f},{cy - 6}" stroke="{colour}" stroke-width="3"/>'
        )
    elif shape == "square":
        body = f'<rect x="{cx - 5:.1f}" y="{cy - 5}" width="10" height="10" fill="{colour}"/>'
    elif shape == "triangle":
        points = f"{cx:.1f},{cy - 7} {cx + 7:.1f},{cy + 6} {cx - 7:.1f},{cy + 6}"
        body = f'<polygon points="{points}" fill="{colour}"/>'
    elif shape == "arrow":
        body = (
            f'<path d="M{cx - 7:.1f},{cy} L{cx + 7:.1f},{cy} M{cx + 2:.1f},{cy - 5} L{cx + 7:.1f},{cy} '
            f'L{cx + 2:.1f},{cy + 5}" stroke="{colour}" stroke-width="2" fill="none"/>'
        )
    else:
        body = f'<circle cx="{cx:.1f}" cy="{cy}" r="5" fill="{colour}"/>'
    label = ""
    if kind in _LABELLED_KINDS and e.get("server"):
        label = (
            f'<text x="{cx + 8:.1f}" y="{cy + 11}" font-size="9" font-family="sans-serif" '
            f'fill="{colour}">{_esc(str(e["server"]))}</text>'
        )
    return f'<g class="ev {_esc(kind)}">{tip}{body}{label}</g>'


def _axis(t0: int, span: int, y: float, x: Any) -> list[str]:
    step = _tick_step_ms(span)
    out = [f'<line x1="{LABEL_W}" y1="{y}" x2="{LABEL_W + PLOT_W}" y2="{y}" stroke="#333"/>']
    first = -(-t0 // step) * step
    t = first
    while t <= t0 + span:
        px = x(t)
        out.append(f'<line x1="{px:.1f}" y1="{y}" x2="{px:.1f}" y2="{y + 5}" stroke="#333"/>')
        out.append(
            f'<text x="{px:.1f}" y="{y + 17}" text-anchor="middle" font-size="10" '
            f'font-family="sans-serif">{t / 1000:g}</text>'
        )
        t += step
    out.append(
        f'<text x="{LABEL_W + PLOT_W}" y="{y + 30}" text-anchor="end" font-size="10" '
        f'font-family="sans-serif">time (s)</text>'
    )
    return out


def _tick_step_ms(span_ms: int) -> int:
    for step_s in (0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600):
        step = int(step_s * 1000)
        if span_ms / step <= 12:
            return step
    return 3600_000 * max(1, span_ms // (3600_000 * 12))


def _legend(kinds: set[str], y: float) -> list[str]:
    out: list[str] = []
    px = float(LABEL_W)
    for kind, (_shape, colour, label) in MARKS.items():
        if kind not in kinds:
            continue
        out.append(f'<rect x="{px:.1f}" y="{y + 4}" width="9" height="9" fill="{colour}"/>')
        out.append(
            f'<text x="{px + 12:.1f}" y="{y + 12}" font-size="10" '
            f'font-family="sans-serif">{_esc(label)}</text>'
        )
        px += 24 + 6 * len(label)
    return out


def _esc(text: str) -> str:
    return html.escape(str(text), quote=True)
