"""The readiness rules (features/rules.yaml, kind `readiness`) judged on a read-out and its N+1.

Each gives findings as the prerequisite checks do (ovmref.prereq.Finding): passed, failed with
the guests and servers named, or unknown with what could not be read.
"""

from __future__ import annotations

from ovmref.prereq import Finding
from ovmref.readiness.nplus1 import NPlusOne, ServerWhatIf
from ovmref.readiness.readout import PoolReadout
from ovmref.release import Release

GUEST_HA_POOL_OFF = "READY-GUEST-HA-POOL-OFF"
POOL_HA_GUEST_OFF = "READY-POOL-HA-GUEST-OFF"
FAILOVER_CAPACITY = "READY-FAILOVER-CAPACITY"
PLANNED_CAPACITY = "READY-PLANNED-CAPACITY"
PREFERRED_AVAILABLE = "READY-PREFERRED-AVAILABLE"
RESTART_ON_CRASH = "READY-HA-RESTART-ON-CRASH"
RESTART = "RESTART"  # Vm.restartActionOnCrash as real 3.x JSON shows it for a restarted guest
READINESS_RULES = (
    GUEST_HA_POOL_OFF,
    POOL_HA_GUEST_OFF,
    FAILOVER_CAPACITY,
    PLANNED_CAPACITY,
    PREFERRED_AVAILABLE,
    RESTART_ON_CRASH,
)


def _names(names: list[str]) -> str:
    return ", ".join(repr(n) for n in names)


def readiness_findings(readout: PoolReadout, table: NPlusOne) -> list[Finding]:
    return [
        *_ha_flags(readout),
        *(f for s in table.servers for f in _capacity(s, readout)),
        _preferred(readout),
        *_restart_on_crash(readout),
    ]


def _ha_flags(readout: PoolReadout) -> list[Finding]:
    guests = readout.guests
    unknown = [g.name for g in guests if g.ha is None]
    if readout.pool_ha is None:
        why = f"the pool's HA setting is not known ({readout.pool_ha_source})"
        return [
            Finding(GUEST_HA_POOL_OFF, None, "unknown", why),
            Finding(POOL_HA_GUEST_OFF, None, "unknown", why),
        ]
    if readout.pool_ha:
        off = [g.name for g in guests if g.ha is False]
        first = Finding(GUEST_HA_POOL_OFF, None, "passed", "HA is enabled on the pool")
        if off:
            second = Finding(
                POOL_HA_GUEST_OFF,
                None,
                "failed",
                f"HA is on in the pool but off on guest(s) {_names(off)}: "
                "not restarted when their server fails",
            )
        elif unknown:
            second = Finding(
                POOL_HA_GUEST_OFF, None, "unknown", f"the HA flag of {_names(unknown)} is not known"
            )
        else:
            second = Finding(POOL_HA_GUEST_OFF, None, "passed", f"HA is on for all {len(guests)} guest(s)")
        return [first, second]
    on = [g.name for g in guests if g.ha]
    second = Finding(POOL_HA_GUEST_OFF, None, "passed", "HA is off in the pool")
    if on:
        first = Finding(
            GUEST_HA_POOL_OFF,
            None,
            "failed",
            f"HA is off in the pool but on for guest(s) {_names(on)}: HA is disabled for them",
        )
    elif unknown:
        first = Finding(GUEST_HA_POOL_OFF, None, "unknown", f"the HA flag of {_names(unknown)} is not known")
    else:
        first = Finding(GUEST_HA_POOL_OFF, None, "passed", "HA is off in the pool and on no guest")
    return [first, second]


def _capacity(s: ServerWhatIf, readout: PoolReadout) -> list[Finding]:
    if not s.known:
        why = readout.server(s.server)
        reason = (
            why.why_unknown if why is not None and why.why_unknown else "its guests and memory were not read"
        )
        return [
            Finding(FAILOVER_CAPACITY, s.server, "unknown", f"{s.server}: {reason}"),
            Finding(PLANNED_CAPACITY, s.server, "unknown", f"{s.server}: {reason}"),
        ]
    out = []
    for rule, outcomes, what in (
        (FAILOVER_CAPACITY, s.failure, f"if {s.server} failed now"),
        (PLANNED_CAPACITY, s.planned, f"for a {s.planned_kind} of {s.server}"),
    ):
        off = [o for o in outcomes if o.action == "powered_off"]
        unknown = [o.guest for o in outcomes if o.action == "unknown"]
        if off:
            short = sum(o.memory_mb for o in off)
            out.append(
                Finding(
                    rule,
                    s.server,
                    "failed",
                    f"{what}, guest(s) {_names([o.guest for o in off])} would be powered off: "
                    f"no server has room for their {short} MB",
                )
            )
        elif unknown:
            out.append(
                Finding(rule, s.server, "unknown", f"{what}: the HA of {_names(unknown)} is not known")
            )
        else:
            placed = [f"{o.guest}->{o.target}" for o in outcomes if o.target]
            out.append(
                Finding(rule, s.server, "passed", f"{what}: " + (", ".join(placed) or "no guest to move"))
            )
    return out


def _preferred(readout: PoolReadout) -> Finding:
    if not readout.pool_ha:
        return Finding(
            PREFERRED_AVAILABLE,
            None,
            "passed" if readout.pool_ha is False else "unknown",
            "HA is off in the pool" if readout.pool_ha is False else "the pool's HA setting is not known",
        )
    usable = {
        s.name
        for s in readout.servers
        if s.reachable and s.free_mb is not None and not s.maintenance and not s.inbound_lock
    }
    protected = [g for g in readout.guests if g.ha]
    unknown = [g.name for g in protected if g.preferred is None]
    stranded = [g.name for g in protected if g.preferred and not (set(g.preferred) - {g.server}) & usable]
    if stranded:
        return Finding(
            PREFERRED_AVAILABLE,
            None,
            "failed",
            f"HA guest(s) {_names(stranded)}: none of their preferred servers (other than their own) is "
            "available (down, unreachable, in maintenance or locked)",
        )
    if unknown:
        return Finding(
            PREFERRED_AVAILABLE,
            None,
            "unknown",
            f"the preferred servers of {_names(unknown)} are not known (the Manager keeps them: give them in "
            "the inventory's ha.guests)",
        )
    return Finding(
        PREFERRED_AVAILABLE,
        None,
        "passed",
        f"every HA guest ({len(protected)}) has a preferred server available, or none set (Auto)",
    )


def _restart_on_crash(readout: PoolReadout) -> list[Finding]:
    """Advisory (features/rules.yaml, `reading`): the documents say nothing of restartActionOnCrash,
    so a guest with HA on whose crash action is not RESTART is `unknown` (no verdict), named.

    Judged on 3.x only, and only where the inventory names a Manager (no server file gives the action);
    `unknown` when it was named but not read."""
    if readout.release is not Release.R3 or not readout.manager:
        return []
    if not readout.manager_read:
        return [Finding(RESTART_ON_CRASH, None, "unknown", f"not known: {readout.manager}")]
    protected = [g for g in readout.guests if g.ha]
    odd = [g for g in protected if g.restart_on_crash is not None and g.restart_on_crash != RESTART]
    if odd:
        listed = ", ".join(f"{g.name!r} ({g.restart_on_crash})" for g in odd)
        return [
            Finding(
                RESTART_ON_CRASH,
                None,
                "unknown",
                f"advisory: HA guest(s) {listed} have restartActionOnCrash other than {RESTART}; the "
                "documents do not say how HA treats it, so no verdict: check it in Oracle VM Manager",
            )
        ]
    missing = [g.name for g in protected if g.restart_on_crash is None]
    undecided = [g.name for g in readout.guests if g.ha is None]
    unread = [s.name for s in readout.servers if not s.reachable or s.why_unknown]
    if unread and not missing and not undecided:
        return [Finding(RESTART_ON_CRASH, None, "unknown", f"the guests of {_names(unread)} were not read")]
    if missing or undecided:
        what = (
            f"the restartActionOnCrash of HA guest(s) {_names(missing)} "
            f"({readout.manager} does not list them)"
            if missing
            else f"the HA flag of {_names(undecided)}"
        )
        return [Finding(RESTART_ON_CRASH, None, "unknown", f"{what} is not known")]
    return [
        Finding(
            RESTART_ON_CRASH,
            None,
            "passed",
            f"every HA guest ({len(protected)}) has restartActionOnCrash {RESTART}",
        )
    ]
