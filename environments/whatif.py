"""What happens to this pool if ...: a pool definition and a list of faults, played on the simulator.

For administrators planning capacity and preferred servers: which guests
restart where, which are powered off for lack of room, and how long it takes,
with the same reference implementation the conformance suite checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from environments.invariants import describe, double_runs
from environments.model import FaultKind, PoolState
from environments.pooldef import PoolDefinition
from environments.sim.driver import SimDriver

FAULT_KINDS: tuple[str, ...] = ("crash", "hang", "storage", "partition")


class WhatIfError(ValueError):
    """The scenario cannot be played (unknown server, unknown fault kind, the pool did not form)."""


@dataclass(frozen=True)
class Fault:
    kind: str
    server: str

    @classmethod
    def parse(cls, text: str) -> Fault:
        kind, sep, server = text.partition(":")
        if not sep or kind not in FAULT_KINDS or not server:
            raise WhatIfError(
                f"bad fault {text!r}: write KIND:SERVER with KIND one of {', '.join(FAULT_KINDS)}"
            )
        return cls(kind, server)


@dataclass(frozen=True)
class WhatIfResult:
    before: PoolState
    after: PoolState
    lines: tuple[str, ...]
    violations: tuple[str, ...]


def play(definition: PoolDefinition, faults: Sequence[Fault], seed: int = 1) -> WhatIfResult:
    driver = SimDriver(definition.release, seed, record_heartbeats=False)
    built = driver.build_pool(definition.pool)
    if not built.ok:
        raise WhatIfError(f"the pool could not be set up: {built.message}")
    for guest in definition.guests:
        made = driver.create_guest(guest)
        if not made.ok:
            raise WhatIfError(f"guest {guest.name}: {made.message}")
    started = driver.start_guests([g.name for g in definition.guests])
    lines = [f"{g.name}: {r.message}" for g, r in zip(definition.guests, started, strict=True) if not r.ok]
    before = driver.observe()
    for fault in faults:
        if fault.server not in before.servers:
            raise WhatIfError(f"no server named {fault.server!r} (servers: {', '.join(before.servers)})")
        start = driver.now_ms()
        kind: FaultKind = fault.kind  # type: ignore[assignment]
        driver.inject(kind, [fault.server])
        driver.advance(driver.failover_bound_ms(kind))
        lines.append(f"after {fault.kind} of {fault.server} (+{(driver.now_ms() - start) / 1000:.0f} s):")
        for e in driver.timeline():
            if e.t_ms >= start and e.kind in (
                "node_down",
                "fence",
                "restart",
                "guest_powered_off",
                "guest_not_restarted",
                "master",
                "ha_failed",
            ):
                what = f"{e.guest}: " if e.guest else ""
                lines.append(f"  {(e.t_ms - start) / 1000:6.1f} s  {e.kind:<19} {what}{e.detail}")
    after = driver.observe()
    violations = tuple(f"{describe(a)} overlaps {describe(b)}" for a, b in double_runs(driver.timeline()))
    return WhatIfResult(before, after, tuple(lines), violations)


def render(result: WhatIfResult) -> str:
    out = list(result.lines)
    out.append("")
    out.append(f"{'guest':<12} {'before':<22} {'after':<22} restarts")
    for name, g in sorted(result.after.guests.items()):
        b = result.before.guests.get(name)
        was = f"{b.state} on {b.server}" if b and b.server else (b.state if b else "-")
        now = f"{g.state} on {g.server}" if g.server else g.state
        out.append(f"{name:<12} {was:<22} {now:<22} {g.restarts}")
    if result.violations:
        out.append("SAFETY VIOLATIONS: " + "; ".join(result.violations))
    return "\n".join(out)
