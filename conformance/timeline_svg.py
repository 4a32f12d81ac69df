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
LANE_H = 34
TOP_PAD = 14
AXIS_H = 34
LEGEND_H = 22
NEAR_PX = 11  # marks closer than this on one lane are stacked in rows instead of drawn on top
ROWS = (0, -10, 10)  # vertical offsets of those rows
LABEL_GAP_PX = 50


@dataclass(frozen=True)
class Mark:
    shape: str
    colour: str
    label: str


# The kinds the report explains; anything else (commands, o2hb details) is a small grey dot
MARKS: dict[str, Mark] = {
    "heartbeat": Mark("tick", "#9aa5b1", "heartbeat"),
    "fault": Mark("bar", "#d0021b", "fault"),
    "recover": Mark("bar", "#2e7d32", "recover"),
    "node_down": Mark("diamond", "#f57c00", "node down (detected)"),
    "node_up": Mark("diamond", "#2e7d32", "node up"),
    "fence": Mark("cross", "#111111", "fence"),
    "reboot": Mark("circle", "#1565c0", "reboot"),
    "rejoin": Mark("circle", "#2e7d32", "rejoin"),
    "master": Mark("triangle", "#6a1b9a", "master"),
    "guest_stop": Mark("square", "#d0021b", "guest stop"),
    "guest_powered_off": Mark("square", "#616161", "guest powered off"),
    "guest_start": Mark("triangle", "#1565c0", "guest start"),
    "guest_running": Mark("circle", "#2e7d32", "guest running"),
    "migrate": Mark("arrow", "#00838f", "migrate"),
}
MINOR = Mark("dot", "#b0bac4", "other (hover for details)")
_LABELLED_KINDS = frozenset({"guest_running", "migrate"})  # labelled with the server they happen on
_GUEST_KINDS = frozenset({"guest_stop", "guest_powered_off", "guest_start", "guest_running", "migrate"})


@dataclass(frozen=True)
class _Lane:
    key: tuple[str, str]  # ("server", name) | ("guest", name) | ("pool", "")
    label: str


@dataclass(frozen=True)
class _Scale:
    t0: int
    span: int

    @classmethod
    def of(cls, events: list[dict[str, Any]]) -> _Scale:
        """From the start to a little after the last event that is not a heartbeat or detail."""
        first = min((int(e["t_ms"]) for e in events), default=0)
        last = max((int(e["t_ms"]) for e in events), default=first)
        # simulated clocks start at 0 (pool built); real clocks may not: then start at the first event
        t0 = 0 if 0 <= first <= last - first else first
        key = [int(e["t_ms"]) for e in events if MARKS.get(str(e.get("kind")), MINOR).shape != "tick"]
        if key:
            last = min(last, max(key) + max((max(key) - t0) // 10, 10_000))
        return cls(t0, max(last - t0, 1000))

    def shows(self, t_ms: int) -> bool:
        return self.t0 <= t_ms <= self.t0 + self.span

    def x(self, t_ms: int) -> float:
        return LABEL_W + (t_ms - self.t0) / self.span * PLOT_W


class _Placer:
    """Stacks marks that would overlap on a lane into rows, and keeps labels apart."""

    def __init__(self) -> None:
        self.rows: dict[tuple[tuple[str, str], int], list[float]] = {}
        self.labels: dict[tuple[str, str], list[float]] = {}

    def row(self, lane: tuple[str, str], x: float) -> int:
        for offset in ROWS:
            taken = self.rows.setdefault((lane, offset), [])
            if all(abs(x - other) >= NEAR_PX for other in taken):
                taken.append(x)
                return offset
        return 0

    def label_fits(self, lane: tuple[str, str], x: float) -> bool:
        taken = self.labels.setdefault(lane, [])
        if any(abs(x - other) < LABEL_GAP_PX for other in taken):
            return False
        taken.append(x)
        return True


def render_timeline_svg(events: Iterable[Mapping[str, Any]], title: str = "") -> str:
    """SVG markup for the events (dicts shaped like TimelineEvent.as_dict())."""
    evs = sorted((dict(e) for e in events), key=lambda e: int(e.get("t_ms", 0)))
    lanes = _lanes(evs)
    index = {lane.key: i for i, lane in enumerate(lanes)}
    scale = _Scale.of(evs)
    width = LABEL_W + PLOT_W + RIGHT_PAD
    plot_h = len(lanes) * LANE_H
    legend = _legend({str(e.get("kind")) for e in evs}, width)
    height = TOP_PAD + plot_h + AXIS_H + LEGEND_H * len(legend)
    name = _esc(title or "scenario timeline")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{name}">',
        f"<title>{name}</title>",
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
            fx = scale.x(int(e["t_ms"]))
            parts.append(
                f'<line x1="{fx:.1f}" y1="{TOP_PAD}" x2="{fx:.1f}" y2="{TOP_PAD + plot_h}" '
                f'stroke="#d0021b" stroke-dasharray="3,3" stroke-opacity="0.5"/>'
            )
    placer = _Placer()
    for e in (e for e in evs if scale.shows(int(e["t_ms"]))):
        key = _lane_key(e)
        cx = scale.x(int(e["t_ms"]))
        cy = TOP_PAD + index[key] * LANE_H + LANE_H / 2
        mark = MARKS.get(str(e.get("kind")), MINOR)
        if mark.shape in ("tick", "dot", "bar"):
            parts.append(_mark(e, mark, cx, cy - 12 if mark.shape == "dot" else cy, ""))
            continue
        cy += placer.row(key, cx)
        label = ""
        if e.get("kind") in _LABELLED_KINDS and e.get("server") and placer.label_fits(key, cx):
            label = str(e["server"])
        parts.append(_mark(e, mark, cx, cy, label))
    parts.extend(_axis(scale, TOP_PAD + plot_h))
    parts.extend(_draw_legend(legend, TOP_PAD + plot_h + AXIS_H))
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


def _mark(e: Mapping[str, Any], mark: Mark, cx: float, cy: float, label: str) -> str:
    kind = str(e.get("kind", ""))
    t_s = int(e.get("t_ms", 0)) / 1000
    where = f" on {e['server']}" if e.get("server") else ""
    who = f" {e['guest']}" if e.get("guest") else ""
    detail = f": {e['detail']}" if e.get("detail") else ""
    tip = f"<title>{_esc(f't={t_s:g}s {kind}{who}{where}{detail}')}</title>"
    body = _shape(mark, cx, cy)
    if mark.shape == "bar":
        body += (
            f'<text x="{cx + 4:.1f}" y="{cy - 6}" font-size="9" font-family="sans-serif" '
            f'fill="{mark.colour}">{_esc(kind + detail)}</text>'
        )
    if label:
        body += (
            f'<text x="{cx + 8:.1f}" y="{cy + 12}" font-size="9" font-family="sans-serif" '
            f'fill="{mark.colour}">{_esc(label)}</text>'
        )
    return f'<g class="ev {_esc(kind)}">{tip}{body}</g>'


def _shape(mark: Mark, cx: float, cy: float) -> str:
    c = mark.colour
    if mark.shape == "tick":
        return f'<line x1="{cx:.1f}" y1="{cy - 5}" x2="{cx:.1f}" y2="{cy + 5}" stroke="{c}"/>'
    if mark.shape == "dot":
        return f'<circle cx="{cx:.1f}" cy="{cy}" r="2" fill="{c}"/>'
    if mark.shape == "bar":
        return f'<rect x="{cx - 2:.1f}" y="{cy - 14}" width="4" height="28" fill="{c}"/>'
    if mark.shape == "diamond":
        points = f"{cx:.1f},{cy - 6} {cx + 6:.1f},{cy} {cx:.1f},{cy + 6} {cx - 6:.1f},{cy}"
        return f'<polygon points="{points}" fill="{c}"/>'
    if mark.shape == "cross":
        return (
            f'<path d="M{cx - 5:.1f},{cy - 5} L{cx + 5:.1f},{cy + 5} M{cx - 5:.1f},{cy + 5} '
            f'L{cx + 5:.1f},{cy - 5}" stroke="{c}" stroke-width="2.5"/>'
        )
    if mark.shape == "square":
        return f'<rect x="{cx - 4.5:.1f}" y="{cy - 4.5}" width="9" height="9" fill="{c}"/>'
    if mark.shape == "triangle":
        return f'<polygon points="{cx:.1f},{cy - 6} {cx + 6:.1f},{cy + 5} {cx - 6:.1f},{cy + 5}" fill="{c}"/>'
    if mark.shape == "arrow":
        return (
            f'<path d="M{cx - 6:.1f},{cy} L{cx + 6:.1f},{cy} M{cx + 1:.1f},{cy - 5} L{cx + 6:.1f},{cy} '
            f'L{cx + 1:.1f},{cy + 5}" stroke="{c}" stroke-width="2" fill="none"/>'
        )
    return f'<circle cx="{cx:.1f}" cy="{cy}" r="5" fill="{c}"/>'


def _axis(scale: _Scale, y: float) -> list[str]:
    t0, span, x = scale.t0, scale.span, scale.x
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


def _legend(kinds: set[str], width: int) -> list[list[Mark]]:
    """The marks present, wrapped into rows that fit the drawing's width."""
    shown = [mark for kind, mark in MARKS.items() if kind in kinds]
    if kinds - set(MARKS):
        shown.append(MINOR)
    rows: list[list[Mark]] = [[]]
    px = float(LABEL_W)
    for mark in shown:
        w = _legend_width(mark)
        if rows[-1] and px + w > width:
            rows.append([])
            px = float(LABEL_W)
        rows[-1].append(mark)
        px += w
    return rows


def _legend_width(mark: Mark) -> float:
    return 26 + 5.5 * len(mark.label)


def _draw_legend(rows: list[list[Mark]], y: float) -> list[str]:
    out: list[str] = []
    for r, row in enumerate(rows):
        px = float(LABEL_W)
        ry = y + r * LEGEND_H
        for mark in row:
            if mark.shape == "bar":
                sample = f'<rect x="{px + 3:.1f}" y="{ry + 3}" width="4" height="12" fill="{mark.colour}"/>'
            else:
                sample = _shape(mark, px + 5, ry + 9)
            out.append(
                f'<g class="legend">{sample}<text x="{px + 14:.1f}" y="{ry + 13}" '
                f'font-size="10" font-family="sans-serif">{_esc(mark.label)}</text></g>'
            )
            px += _legend_width(mark)
    return out


def _esc(text: str) -> str:
    return html.escape(str(text), quote=True)
