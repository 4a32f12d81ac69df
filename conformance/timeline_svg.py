"""Draw a scenario's timeline as inline SVG: one lane per server and per guest.

A reader should see, without any script, where each guest ran (a bar per
stretch on a server, coloured and named after the server, lighter while it
boots, with a marker where it stopped), when each server was down, its
heartbeats stopping, who detected the failure, the fence, the master's
restart decisions and the new master. Hover any mark for its detail.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from conformance.timeline_facts import (
    DownStretch,
    GuestStretch,
    PoweredOff,
    down_stretches,
    guest_stretches,
    in_time_order,
    powered_off_stretches,
)
from environments.outcome import FaultOutcome

LABEL_W = 120
PLOT_W = 760
RIGHT_PAD = 70
LANE_H = 34
BAR_H = 14
TOP_PAD = 22  # room above the lanes for the failover bound's label
AXIS_H = 34
LEGEND_H = 22
NEAR_PX = 11  # marks closer than this on one lane are stacked in rows instead of drawn on top
ROWS = (0, -10, 10)  # vertical offsets of those rows
SMALL_CHAR_PX = 5.4  # rough width of one 9px sans-serif character (generous: labels must not touch)
TEXT_H = 10  # labels whose baselines are closer than this share a line
TEXT_GAP = 4
MINOR_MERGE_PX = 3.0  # detail events closer than this on one lane share one dot (hover lists all)
TICK_GAP_PX = 1.5  # heartbeat ticks closer than this are drawn once
CHAR_PX = 5.8  # rough width of one 10px sans-serif character

# Colours of servers, in natural order of their names; none is red/orange (faults, detection)
SERVER_COLOURS = ("#1f5fa8", "#2e7d32", "#8c564b", "#00838f", "#ad1457", "#5d6d7e", "#827717", "#283593")
STOP_COLOUR = "#d0021b"
DOWN_FILL = "#f6d5d5"

# One style sheet for every timeline of a page (the HTML report carries it once, in its <head>);
# a standalone SVG (an allure attachment) carries it itself.
CSS = (
    "svg.timeline text{font-family:sans-serif;font-size:10px}"
    "svg.timeline .dot{fill:#b0bac4}svg.timeline .hb{stroke:#9aa5b1;fill:none}"
    "svg.timeline .barname{fill:#fff;font-size:9px}"
    "svg.timeline .bound{stroke:#8a1010;stroke-width:1.2;stroke-dasharray:6,3}"
    "svg.timeline .boundlabel{fill:#8a1010;font-size:9px;font-weight:600}"
)
STYLE = f"<style>{CSS}</style>"


@dataclass(frozen=True)
class Mark:
    shape: str
    colour: str
    label: str


# The kinds the report explains; anything else (commands, o2hb/o2net details) is a small grey dot.
# guest_start/guest_running/guest_stop become bars and heartbeat ticks a path, so they are not here.
MARKS: dict[str, Mark] = {
    "fault": Mark("bar", "#d0021b", "fault"),
    "recover": Mark("bar", "#2e7d32", "recover"),
    "node_down": Mark("diamond", "#f57c00", "node down (detected)"),
    "node_up": Mark("diamond", "#2e7d32", "node up"),
    "fence": Mark("cross", "#111111", "fence"),
    "reboot": Mark("circle", "#1565c0", "reboot"),
    "rejoin": Mark("circle", "#2e7d32", "rejoin"),
    "halt": Mark("square", "#37474f", "halt"),
    "leave": Mark("square", "#90a4ae", "leave cluster"),
    "master": Mark("triangle", "#6a1b9a", "master"),
    "restart": Mark("chevron", "#1565c0", "restart decision"),
    "guest_powered_off": Mark("square", "#616161", "guest powered off"),
    "guest_not_restarted": Mark("square", "#8d6e63", "guest not restarted"),
    "start_failed": Mark("cross", "#d0021b", "start failed"),
    "ha_failed": Mark("cross", "#8a1010", "HA failed"),
    "migrate": Mark("arrow", "#00838f", "migrate"),
}
MINOR = Mark("dot", "#b0bac4", "other (hover for details)")
HEARTBEAT = Mark("tick", "#9aa5b1", "heartbeat")
_BAR_KINDS = frozenset({"guest_start", "guest_running", "guest_stop"})
# guest events that belong on the guest's lane even though they name a server
_GUEST_LANE_KINDS = _BAR_KINDS | {"migrate", "guest_not_restarted", "start_failed", "fault"}


def _short_label(e: Mapping[str, Any]) -> str:
    kind, guest = e.get("kind"), e.get("guest") or ""
    return {
        "node_down": "detected",
        "fence": "fenced",
        "master": "master",
        "restart": f"restart {guest}",
        "guest_powered_off": f"{guest} off",
        "ha_failed": "HA failed",
        "start_failed": "start failed",
    }.get(str(kind), "")


@dataclass(frozen=True)
class _Lane:
    key: tuple[str, str]  # ("server", name) | ("guest", name) | ("pool", "")
    label: str


@dataclass(frozen=True)
class _Scale:
    t0: int
    span: int

    @classmethod
    def of(cls, events: list[dict[str, Any]], also: Iterable[int] = ()) -> _Scale:
        """From the start to a little after the last event that is not a heartbeat (and after every
        time in `also`: the failover bounds, which a reader must see against the events)."""
        first = min((int(e["t_ms"]) for e in events), default=0)
        last = max((int(e["t_ms"]) for e in events), default=first)
        # simulated clocks start at 0 (pool built); real clocks may not: then start at the first event
        t0 = 0 if 0 <= first <= last - first else first
        key = [int(e["t_ms"]) for e in events if e.get("kind") != "heartbeat"]
        if key:  # cut long heartbeat tails, but leave room for the marks of the last key event
            last = min(last, max(key) + max((max(key) - t0) // 10, 10_000))
            last = max(last, max(key) + (max(key) - t0) // 40)
        extra = [t for t in also if t > last]
        if extra:
            last = max(extra) + max((max(extra) - t0) // 40, 500)
        return cls(t0, max(last - t0, 1000))

    @property
    def end(self) -> int:
        return self.t0 + self.span

    def shows(self, t_ms: int) -> bool:
        return self.t0 <= t_ms <= self.end

    def x(self, t_ms: int | None, *, missing: float = LABEL_W) -> float:
        """x of a time, clipped to the plot; `missing` for an unknown time (before/after the timeline)."""
        if t_ms is None:
            return missing
        return LABEL_W + (min(max(t_ms, self.t0), self.end) - self.t0) / self.span * PLOT_W


class _Placer:
    """Stacks marks that would overlap on a lane into rows, and keeps labels apart."""

    def __init__(self) -> None:
        self.rows: dict[tuple[tuple[str, str], int], list[float]] = {}
        self.texts: list[tuple[float, float, float]] = []  # (x0, x1, baseline y) of every label drawn

    def row(self, lane: tuple[str, str], x: float) -> int:
        for offset in ROWS:
            taken = self.rows.setdefault((lane, offset), [])
            if all(abs(x - other) >= NEAR_PX for other in taken):
                taken.append(x)
                return offset
        return 0

    def text_fits(self, x: float, y: float, text: str, anchor: str = "start") -> bool:
        """Whether a 9 px label at (x, y) stays clear of every label already placed; if so it is placed.

        A label that does not fit is left out: the mark's tooltip still says everything."""
        width = SMALL_CHAR_PX * len(text)
        x0 = x - width / 2 if anchor == "middle" else x
        x1 = x0 + width
        for a0, a1, ay in self.texts:
            if abs(ay - y) < TEXT_H and x0 < a1 + TEXT_GAP and a0 < x1 + TEXT_GAP:
                return False
        self.texts.append((x0, x1, y))
        return True


def render_timeline_svg(
    events: Iterable[Mapping[str, Any]],
    title: str = "",
    failover: Iterable[FaultOutcome] = (),
    standalone: bool = False,
) -> str:
    """SVG markup for the events (dicts shaped like TimelineEvent.as_dict()).

    Each fault outcome (environments.outcome) that carries a bound draws it: a
    dashed line where that fault's failover bound ends. `standalone` embeds
    the style sheet (a page with several timelines carries CSS once)."""
    evs = in_time_order(events)
    stretches = guest_stretches(evs)
    downs = down_stretches(evs)
    offs = powered_off_stretches(evs)
    lanes = _lanes(evs, stretches)
    y_of = {lane.key: float(TOP_PAD + i * LANE_H) for i, lane in enumerate(lanes)}
    servers = sorted({lane.key[1] for lane in lanes if lane.key[0] == "server"}, key=_natural)
    colours = {name: SERVER_COLOURS[i % len(SERVER_COLOURS)] for i, name in enumerate(servers)}
    failover = list(failover)
    scale = _Scale.of(evs, _bound_times(failover))
    width = LABEL_W + PLOT_W + RIGHT_PAD
    plot_h = len(lanes) * LANE_H
    legend = _legend(evs, stretches, downs, width)
    height = TOP_PAD + plot_h + AXIS_H + LEGEND_H * len(legend)
    name = _esc(title or "scenario timeline")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{name}">',
        f"<title>{name}</title>",
        *([STYLE] if standalone else []),
    ]
    placer = _Placer()
    for i, lane in enumerate(lanes):
        parts.extend(_lane_background(lane, y_of[lane.key], i, colours))
    for down in downs:
        if ("server", down.server) in y_of:
            parts.append(_down(down, y_of[("server", down.server)], scale, placer))
    for off in offs:
        parts.append(_powered_off(off, y_of[("guest", off.guest)], scale))
    for guest in sorted({s.guest for s in stretches}, key=_natural):
        mine = [s for s in stretches if s.guest == guest]
        for i, stretch in enumerate(mine):
            following = next((s.start_ms for s in mine[i + 1 :] if s.server != stretch.server), None)
            parts.append(_bar(stretch, y_of[("guest", guest)], scale, colours, following))
    for e in evs:
        if e.get("kind") == "fault" and scale.shows(int(e["t_ms"])):  # a faint guide across every lane
            fx = scale.x(int(e["t_ms"]))
            parts.append(
                f'<line x1="{fx:.1f}" y1="{TOP_PAD}" x2="{fx:.1f}" y2="{TOP_PAD + plot_h}" '
                f'stroke="#d0021b" stroke-dasharray="3,3" stroke-opacity="0.5"/>'
            )
    parts.extend(_bounds(failover, scale, plot_h, placer))
    parts.extend(_heartbeats(evs, y_of, scale))
    parts.extend(_marks(evs, y_of, scale, stretches, placer))
    parts.extend(_axis(scale, TOP_PAD + plot_h))
    parts.extend(_draw_legend(legend, TOP_PAD + plot_h + AXIS_H))
    parts.append("</svg>")
    return "\n".join(parts)


# ---- lanes ---------------------------------------------------------------------------------
def _lane_key(e: Mapping[str, Any]) -> tuple[str, str]:
    if e.get("guest") and (e.get("kind") in _GUEST_LANE_KINDS or not e.get("server")):
        return ("guest", str(e["guest"]))
    if e.get("server"):
        return ("server", str(e["server"]))
    return ("pool", "")


def _lanes(events: list[dict[str, Any]], stretches: list[GuestStretch]) -> list[_Lane]:
    servers = {s.server for s in stretches}
    guests = {str(e["guest"]) for e in events if e.get("guest")}
    pool = False
    for e in events:
        kind, name = _lane_key(e)
        if kind == "server":
            servers.add(name)
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


def _lane_background(lane: _Lane, y: float, i: int, colours: dict[str, str]) -> list[str]:
    fill = "#f5f7fa" if i % 2 == 0 else "#ffffff"
    out = [
        f'<rect x="{LABEL_W}" y="{y}" width="{PLOT_W}" height="{LANE_H}" fill="{fill}"/>',
        f'<text x="{LABEL_W - 16}" y="{y + LANE_H / 2 + 4}" text-anchor="end" font-size="11">'
        f"{_esc(lane.label)}</text>",
    ]
    if lane.key[0] == "server":  # the colour its guests' bars take
        out.append(
            f'<rect x="{LABEL_W - 12}" y="{y + LANE_H / 2 - 4}" width="8" height="8" '
            f'fill="{colours[lane.key[1]]}"/>'
        )
    return out


# ---- stretches -----------------------------------------------------------------------------
def _secs(t_ms: int | None) -> str:
    return "?" if t_ms is None else f"{t_ms / 1000:g}"


def _bar(
    s: GuestStretch, lane_y: float, scale: _Scale, colours: dict[str, str], following: int | None
) -> str:
    """One stretch of a guest on a server: light while booting, solid while running, then a stop mark."""
    colour = colours.get(s.server, SERVER_COLOURS[-1])
    x0 = scale.x(s.start_ms)
    x_run = scale.x(s.running_ms, missing=x0 if s.start_ms is None else LABEL_W + PLOT_W)
    x1 = scale.x(s.end_ms, missing=LABEL_W + PLOT_W)
    x_run = min(x_run, x1)
    y = lane_y + (LANE_H - BAR_H) / 2
    phases = []
    if s.start_ms is not None and s.running_ms != s.start_ms:
        phases.append(f"booting {_secs(s.start_ms)}-{_secs(s.running_ms or s.end_ms)} s")
    if s.running_ms is not None or s.start_ms is None:
        phases.append(f"running {_secs(s.running_ms)}-{_secs(s.end_ms) if s.end_ms is not None else 'end'} s")
    stopped = f"; stopped: {s.stop_detail}" if s.end_ms is not None else "; still there at the end"
    tip = f"{s.guest} on {s.server}: {', '.join(phases)}{stopped}"
    out = [f'<g class="stretch" data-server="{_esc(s.server)}"><title>{_esc(tip)}</title>']
    if x_run > x0:
        out.append(
            f'<rect class="booting" x="{x0:.1f}" y="{y}" width="{x_run - x0:.1f}" height="{BAR_H}" '
            f'fill="{colour}" fill-opacity="0.3" stroke="{colour}" stroke-width="0.8"/>'
        )
    if x1 > x_run:
        out.append(
            f'<rect class="running" x="{x_run:.1f}" y="{y}" width="{x1 - x_run:.1f}" height="{BAR_H}" '
            f'fill="{colour}"/>'
        )
    text_w = CHAR_PX * len(s.server) * 0.9
    if x1 - x_run >= text_w + 6:  # inside the running part, white on colour
        out.append(f'<text class="barname" x="{x_run + 3:.1f}" y="{y + BAR_H - 4}">{_esc(s.server)}</text>')
    else:  # beside it, if nothing else of this guest is drawn there
        room_to = scale.x(following, missing=LABEL_W + PLOT_W + RIGHT_PAD)
        if room_to - x1 >= text_w + 10:
            out.append(
                f'<text x="{x1 + 7:.1f}" y="{y + BAR_H - 4}" font-size="9" fill="{colour}">'
                f"{_esc(s.server)}</text>"
            )
    out.append("</g>")
    if s.end_ms is not None:
        out.append(_stop(s, x1, y + BAR_H / 2))
    return "".join(out)


def _stop(s: GuestStretch, x: float, cy: float) -> str:
    """A red cross where a guest stopped; a plain end cap when it only moved (live migration)."""
    tip = f"t={_secs(s.end_ms)}s guest_stop {s.guest} on {s.server}: {s.stop_detail}"
    if s.handed_over:
        body = f'<path d="M{x:.1f},{cy - 9}v18" stroke="#455a64" stroke-width="1.5"/>'
    else:  # a white halo keeps the red cross visible on any bar colour
        cross = f"M{x - 5:.1f},{cy - 5}l10,10m-10,0l10,-10"
        body = (
            f'<path d="{cross}" stroke="#fff" stroke-width="4.5"/>'
            f'<path d="{cross}" stroke="{STOP_COLOUR}" stroke-width="2.2"/>'
        )
    return f'<g class="ev guest_stop"><title>{_esc(tip)}</title>{body}</g>'


def _down(d: DownStretch, lane_y: float, scale: _Scale, placer: _Placer) -> str:
    x0, x1 = scale.x(d.start_ms), scale.x(d.end_ms, missing=LABEL_W + PLOT_W)
    until = f"{_secs(d.end_ms)} s" if d.end_ms is not None else "the end"
    tip = f"{d.server} down from {_secs(d.start_ms)} s until {until}: {d.cause}"
    text = ""
    mid, ty = (x0 + x1) / 2, lane_y + LANE_H - 5
    if x1 - x0 > 80 and placer.text_fits(mid, ty, "down", "middle"):  # the fault, fence labels: its left end
        text = (
            f'<text x="{(x0 + x1) / 2:.1f}" y="{lane_y + LANE_H - 5}" font-size="9" text-anchor="middle" '
            f'fill="#8a1010">down</text>'
        )
    return (
        f'<g class="down"><title>{_esc(tip)}</title><rect x="{x0:.1f}" y="{lane_y + 1}" '
        f'width="{max(x1 - x0, 1):.1f}" height="{LANE_H - 2}" fill="{DOWN_FILL}"/>{text}</g>'
    )


def _powered_off(p: PoweredOff, lane_y: float, scale: _Scale) -> str:
    x0, x1 = scale.x(p.start_ms), scale.x(p.end_ms, missing=LABEL_W + PLOT_W)
    until = f"{_secs(p.end_ms)} s" if p.end_ms is not None else "the end"
    tip = f"{p.guest} powered off from {_secs(p.start_ms)} s until {until}: {p.detail}"
    y = lane_y + (LANE_H - BAR_H) / 2
    return (
        f'<g class="powered-off"><title>{_esc(tip)}</title><rect x="{x0:.1f}" y="{y}" '
        f'width="{max(x1 - x0, 1):.1f}" height="{BAR_H}" fill="none" stroke="#616161" '
        f'stroke-dasharray="4,3"/></g>'
    )


def _bound_times(failover: Iterable[FaultOutcome]) -> list[int]:
    return [t for o in failover if (t := o.bound_ends_ms) is not None]


def _bounds(failover: Iterable[FaultOutcome], scale: _Scale, plot_h: float, placer: _Placer) -> list[str]:
    """A dashed line across every lane where a fault's failover bound ends, labelled with it."""
    out = []
    for outcome in failover:
        t = outcome.bound_ends_ms
        if outcome.bound_ms is None or t is None or not scale.shows(t):
            continue
        x = scale.x(t)
        bound_s = outcome.bound_ms / 1000
        tip = f"failover bound of the {outcome.fault.kind.replace('_', ' ')}: {bound_s:g} s after it"
        text = f"bound {bound_s:g} s"
        width = SMALL_CHAR_PX * len(text)
        tx = x - 3 - width if x > LABEL_W + PLOT_W - 60 else x + 3  # inside the drawing
        label = ""
        if placer.text_fits(tx, TOP_PAD - 2, text):
            label = f'<text class="boundlabel" x="{tx:.1f}" y="{TOP_PAD - 2}">{_esc(text)}</text>'
        out.append(
            f'<g class="ev bound-mark"><title>{_esc(tip)}</title>'
            f'<line class="bound" x1="{x:.1f}" y1="{TOP_PAD - 8}" x2="{x:.1f}" y2="{TOP_PAD + plot_h}"/>'
            f"{label}</g>"
        )
    return out


# ---- heartbeats and marks ------------------------------------------------------------------
def _heartbeats(events: list[dict[str, Any]], y_of: dict[tuple[str, str], float], scale: _Scale) -> list[str]:
    """One path of ticks per server; ticks that would fall on the same pixel are drawn once."""
    ticks: dict[str, list[float]] = {}
    for e in events:
        if e.get("kind") == "heartbeat" and e.get("server") and scale.shows(int(e["t_ms"])):
            xs = ticks.setdefault(str(e["server"]), [])
            x = scale.x(int(e["t_ms"]))
            if not xs or x - xs[-1] >= TICK_GAP_PX:
                xs.append(x)
    out = []
    for server, xs in ticks.items():
        cy = y_of[("server", server)] + LANE_H / 2
        d = "".join(f"M{x:.1f} {cy - 5:g}v10" for x in xs)
        count = sum(1 for e in events if e.get("kind") == "heartbeat" and e.get("server") == server)
        tip = f"{server}: {count} heartbeats written"
        out.append(f'<g class="ev heartbeat"><title>{_esc(tip)}</title><path class="hb" d="{d}"/></g>')
    return out


def _marks(
    events: list[dict[str, Any]],
    y_of: dict[tuple[str, str], float],
    scale: _Scale,
    stretches: list[GuestStretch],
    placer: _Placer,
) -> list[str]:
    ends = {(s.guest, s.server, s.end_ms) for s in stretches}
    out: list[str] = []
    minor: dict[tuple[str, str], list[tuple[float, list[str]]]] = {}
    for e in events:
        kind = str(e.get("kind"))
        if kind == "heartbeat" or not scale.shows(int(e["t_ms"])):
            continue
        if kind in _BAR_KINDS and e.get("guest") and e.get("server"):
            guest, server, t = str(e["guest"]), str(e["server"]), int(e["t_ms"])
            if kind == "guest_stop" and (guest, server, t) not in ends:  # stopped again, nothing to end
                lone = GuestStretch(guest, server, t, None, t, str(e.get("detail") or ""))
                out.append(_stop(lone, scale.x(t), y_of[("guest", guest)] + LANE_H / 2))
            continue  # the rest is drawn as guest bars
        key = _lane_key(e)
        cx = scale.x(int(e["t_ms"]))
        mark = MARKS.get(kind)
        if mark is None:  # a detail: grey dots, merged when they share a spot
            dots = minor.setdefault(key, [])
            if dots and cx - dots[-1][0] < MINOR_MERGE_PX:
                dots[-1][1].append(_tip(e))
            else:
                dots.append((cx, [_tip(e)]))
            continue
        cy = y_of[key] + LANE_H / 2
        if mark.shape != "bar":
            cy += placer.row(key, cx)
        label = _short_label(e)
        if label and not placer.text_fits(cx + 8, cy + 12, label):
            label = ""
        bar_text = ""
        if mark.shape == "bar":
            bar_text = kind + (f": {e['detail']}" if e.get("detail") else "")
            if not placer.text_fits(cx + 4, cy - 6, bar_text):
                bar_text = ""
        out.append(_mark(e, mark, cx, cy, label, bar_text))
    for key, dots in minor.items():
        cy = y_of[key] + 5
        out += [
            f'<circle class="dot" cx="{cx:.1f}" cy="{cy:g}" r="2"><title>{_esc(chr(10).join(tips))}</title>'
            "</circle>"
            for cx, tips in dots
        ]
    return out


def _tip(e: Mapping[str, Any]) -> str:
    t_s = int(e.get("t_ms", 0)) / 1000
    where = f" on {e['server']}" if e.get("server") else ""
    who = f" {e['guest']}" if e.get("guest") else ""
    detail = f": {e['detail']}" if e.get("detail") else ""
    return f"t={t_s:g}s {e.get('kind', '')}{who}{where}{detail}"


def _mark(e: Mapping[str, Any], mark: Mark, cx: float, cy: float, label: str, bar_text: str = "") -> str:
    kind = str(e.get("kind", ""))
    body = _shape(mark, cx, cy)
    if bar_text:
        body += _small_text(cx + 4, cy - 6, mark.colour, bar_text)
    if label:
        body += _small_text(cx + 8, cy + 12, mark.colour, label)
    return f'<g class="ev {_esc(kind)}"><title>{_esc(_tip(e))}</title>{body}</g>'


def _small_text(x: float, y: float, colour: str, text: str) -> str:
    return f'<text x="{x:.1f}" y="{y:g}" font-size="9" fill="{colour}">{_esc(text)}</text>'


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
    if mark.shape == "chevron":
        return (
            f'<path d="M{cx - 6:.1f},{cy - 5} L{cx - 1:.1f},{cy} L{cx - 6:.1f},{cy + 5} M{cx:.1f},{cy - 5} '
            f'L{cx + 5:.1f},{cy} L{cx:.1f},{cy + 5}" stroke="{c}" stroke-width="2" fill="none"/>'
        )
    if mark.shape == "arrow":
        return (
            f'<path d="M{cx - 6:.1f},{cy} L{cx + 6:.1f},{cy} M{cx + 1:.1f},{cy - 5} L{cx + 6:.1f},{cy} '
            f'L{cx + 1:.1f},{cy + 5}" stroke="{c}" stroke-width="2" fill="none"/>'
        )
    return f'<circle cx="{cx:.1f}" cy="{cy}" r="5" fill="{c}"/>'


# ---- axis and legend -----------------------------------------------------------------------
def _axis(scale: _Scale, y: float) -> list[str]:
    t0, span, x = scale.t0, scale.span, scale.x
    step = _tick_step_ms(span)
    out = [f'<line x1="{LABEL_W}" y1="{y}" x2="{LABEL_W + PLOT_W}" y2="{y}" stroke="#333"/>']
    t = -(-t0 // step) * step
    while t <= t0 + span:
        px = x(t)
        out.append(f'<line x1="{px:.1f}" y1="{y}" x2="{px:.1f}" y2="{y + 5}" stroke="#333"/>')
        out.append(f'<text x="{px:.1f}" y="{y + 17}" text-anchor="middle">{t / 1000:g}</text>')
        t += step
    out.append(f'<text x="{LABEL_W + PLOT_W}" y="{y + 30}" text-anchor="end">time (s)</text>')
    return out


def _tick_step_ms(span_ms: int) -> int:
    for step_s in (0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600):
        step = int(step_s * 1000)
        if span_ms / step <= 12:
            return step
    return 3600_000 * max(1, span_ms // (3600_000 * 12))


# Samples for the bar-like things (not in MARKS): shape -> (label)
_BOOTING = Mark("booting", SERVER_COLOURS[0], "booting")
_RUNNING = Mark("running", SERVER_COLOURS[0], "running (colour and name: server)")
_STOPPED = Mark("stop", STOP_COLOUR, "guest stopped")
_DOWN = Mark("down", DOWN_FILL, "server down")


def _legend(
    events: list[dict[str, Any]], stretches: list[GuestStretch], downs: list[DownStretch], width: int
) -> list[list[Mark]]:
    """The marks present, wrapped into rows that fit the drawing's width."""
    kinds = {str(e.get("kind")) for e in events}
    shown: list[Mark] = []
    if stretches:
        shown += [_BOOTING, _RUNNING]
    if any(s.end_ms is not None and not s.handed_over for s in stretches):
        shown.append(_STOPPED)
    if downs:
        shown.append(_DOWN)
    if "heartbeat" in kinds:
        shown.append(HEARTBEAT)
    shown += [mark for kind, mark in MARKS.items() if kind in kinds]
    if kinds - set(MARKS) - _BAR_KINDS - {"heartbeat"}:
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
    return 30 + 5.5 * len(mark.label)


def _legend_sample(mark: Mark, px: float, ry: float) -> str:
    c = mark.colour
    if mark.shape == "bar":
        return f'<rect x="{px + 3:.1f}" y="{ry + 3}" width="4" height="12" fill="{c}"/>'
    if mark.shape == "booting":
        return (
            f'<rect x="{px:.1f}" y="{ry + 4}" width="14" height="10" fill="{c}" fill-opacity="0.3" '
            f'stroke="{c}" stroke-width="0.8"/>'
        )
    if mark.shape in ("running", "down"):
        return f'<rect x="{px:.1f}" y="{ry + 4}" width="14" height="10" fill="{c}"/>'
    if mark.shape == "stop":
        return _shape(Mark("cross", c, ""), px + 6, ry + 9)
    return _shape(mark, px + 6, ry + 9)


def _draw_legend(rows: list[list[Mark]], y: float) -> list[str]:
    out: list[str] = []
    for r, row in enumerate(rows):
        px = float(LABEL_W)
        ry = y + r * LEGEND_H
        for mark in row:
            out.append(
                f'<g class="legend">{_legend_sample(mark, px, ry)}<text x="{px + 18:.1f}" y="{ry + 13}">'
                f"{_esc(mark.label)}</text></g>"
            )
            px += _legend_width(mark)
    return out


def _esc(text: str) -> str:
    return html.escape(str(text), quote=True)
