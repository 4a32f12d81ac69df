"""The states of a guest's record in the server pool database, as the master's HA logic moves it.

The record says where the master believes the guest is: not running (stopped), waiting for a server
(powered_off: an HA guest no server had room for), on its way to a server (starting), moving between
two (migrating) or running. What an agent reports wins over what the record believed, so a report
that the guest runs moves it to running from anywhere.

Sources: the User's Guide 2.1, 9.1 High Availability (HA) ("the guests shut down (Power Off) and are
restarted when a Virtual Machine Server becomes available"); the white paper's Oracle VM
Architecture for HA (a powered-off guest "is not associated with any particular physical server")
and Conclusions ("Auto-restart unexpectedly failed individual VMs"); the Concepts Guide 3.0, 6.10
How does High Availability (HA) Work? (live migration, maintenance mode). Rule ids are the catalog's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from ovmref.failover.pooldb import GuestRecord, GuestRecState
from ovmref.states.table import Transition, TransitionTable

GuestEvent = Literal["start", "restart", "power_off", "stop", "migrate", "report_running"]

STATES: dict[GuestRecState, str] = {
    "stopped": "not running and not to be restarted; on no server",
    "powered_off": "an HA guest waiting for a server with room; on no server",
    "starting": "a start was sent to its server; not reported running yet",
    "migrating": "a live migration from its server was sent",
    "running": "its server reported it running",
}

EVENTS: dict[GuestEvent, str] = {
    "start": "the master sends a start: a Manager start, or a waiting guest now has a server",
    "restart": "the master restarts an HA guest on another server: its own failed, or it crashed there",
    "power_off": "an HA guest that must run has no server with room (or its server could not start it)",
    "stop": "the guest is not running any more and will not be restarted",
    "migrate": "the master sends a live migration: a Manager request, or its server is drained",
    "report_running": "an agent reports the guest running on its server",
}

GuestTransition = Transition[GuestRecState, GuestEvent]

_ACTIVE: tuple[GuestRecState, ...] = ("starting", "migrating", "running")
_FAILOVER = (
    "FAIL-SERVER-RESTART, FAIL-GUEST-RESTART, PLAN-MANAGER-PROMPT-2X: the guests of a server that fails"
    " or restarts, and a guest that crashed, are restarted on another available server"
)
_POWER_OFF = (
    "FAIL-NO-SERVER-POWER-OFF, PLACE-CAPACITY-CAVEAT: 'If there is no preferred Virtual Machine Server or"
    " Virtual Machine Server available, the guests shut down (Power Off)'"
)
_STOP = (
    "HA-ENABLE-BOTH: without HA on both pool and guest it is not restarted; a guest its server stopped"
    " (a Manager stop, a drain) runs nowhere (PLACE-STOPPED-UNASSIGNED)"
)
_REPORT = (
    "CLUS-NO-DOUBLE-RUN: only the agent holding the guest's lease runs it, so its report is the truth,"
    " whatever the record believed"
)


def _from(
    sources: Iterable[GuestRecState], event: GuestEvent, target: GuestRecState, why: str
) -> list[GuestTransition]:
    return [Transition(source, event, target, why) for source in sources]


TRANSITIONS: tuple[GuestTransition, ...] = (
    Transition(
        "stopped",
        "start",
        "starting",
        "PLACE-AUTO-MAX-RESOURCES, PLACE-MANUAL-PREFERRED: a guest started from the Manager is placed on"
        " a server and started there",
    ),
    Transition(
        "powered_off",
        "start",
        "starting",
        "FAIL-NO-SERVER-POWER-OFF: a powered-off HA guest 'is restarted when a Virtual Machine Server"
        " becomes available'",
    ),
    *_from(_ACTIVE, "restart", "starting", _FAILOVER),
    *_from(_ACTIVE, "power_off", "powered_off", _POWER_OFF),
    *_from(_ACTIVE, "stop", "stopped", _STOP),
    Transition("powered_off", "stop", "stopped", "a Manager stop of a waiting guest: it is not restarted"),
    Transition(
        "running",
        "migrate",
        "migrating",
        "MIG-LIVE, MIG-MAINTENANCE-3X: running guests are moved to another server by live migration",
    ),
    Transition(
        "starting",
        "migrate",
        "migrating",
        "PLAN-MANAGER-PROMPT-2X: a server drained while a guest is still starting on it migrates that"
        " guest too",
    ),
    *_from(STATES, "report_running", "running", _REPORT),
)

GUEST_STATES: TransitionTable[GuestRecState, GuestEvent] = TransitionTable(
    "guest record", STATES, EVENTS, TRANSITIONS
)


def move(guest: GuestRecord, event: GuestEvent) -> None:
    """Carry `event` out on the record; IllegalTransition (the record unchanged) if it cannot happen."""
    guest.state = GUEST_STATES.next_state(guest.state, event)
