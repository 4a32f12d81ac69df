"""The power states of an Oracle VM Server, as every environment's driver powers and observes it.

A server is up, frozen, or off in one of several ways that differ in what happens next: a crashed
server stays off until someone powers it on, one that fenced itself or was restarted boots by
itself after the reboot delay, and a boot that cannot mount the cluster root waits for the storage.
The Manager's view names fewer states than the machine has (`SHOWN_AS`): a server waiting for its
storage is still "fenced" or "shutdown" to it.

Sources: the User's Guide 2.1, 9.1 High Availability (HA) and 9.3 Creating HA Clusters (quorum
"may require restarting one or more Oracle VM Servers"); the white paper's Special Considerations
(the services start in the order o2cb, ocfs2, ovsrepositories, ovs-agent); the Concepts Guide 3.0,
6.10 How does High Availability (HA) Work? The rule ids cited are the catalog's (features/rules.yaml).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from ovmref.states.table import StateMachine, Transition, TransitionTable

PowerState = Literal[
    "running",
    "hung",
    "crashed",
    "fenced",
    "fenced_awaiting_storage",
    "shutdown",
    "restarting",
    "restart_awaiting_storage",
    "deleted",
]
PowerEvent = Literal[
    "boot", "cluster_root_missing", "freeze", "thaw", "crash", "fence", "halt", "restart", "delete"
]
ShownState = Literal["running", "hung", "crashed", "fenced", "shutdown", "deleted"]
PowerTransition = Transition[PowerState, PowerEvent]

STATES: dict[PowerState, str] = {
    "running": "up: its services run, and its agent once the cluster stack does",
    "hung": "frozen: neither heartbeats nor runs guests; carries on as it was when thawed",
    "crashed": "off after a fault; stays off until it is powered on (recovered)",
    "fenced": "fenced itself; boots again after the reboot delay",
    "fenced_awaiting_storage": "fenced, and its boot could not mount the cluster root: boots when"
    " the storage returns",
    "shutdown": "shut down cleanly; stays off",
    "restarting": "shut down to restart; boots again after the reboot delay",
    "restart_awaiting_storage": "restarting, and its boot could not mount the cluster root: boots when"
    " the storage returns",
    "deleted": "shut down and removed from the pool; never used again",
}

EVENTS: dict[PowerEvent, str] = {
    "boot": "power on: the services start in order, then the agent joins the cluster",
    "cluster_root_missing": "a boot that cannot mount the cluster root (the server's storage is lost)",
    "freeze": "a hang fault stops every process of the server",
    "thaw": "the hang ends: the server carries on from where it stopped",
    "crash": "the server loses power, or its processes die without a halt",
    "fence": "the server fences itself (lost quorum, lost storage, or a runaway that came back)",
    "halt": "the agent halts the server: a Manager shutdown, or its own command line",
    "restart": "the agent halts the server to reboot it: a Manager or command-line restart",
    "delete": "the agent halts a server the Manager deleted from the pool",
}

_REBOOT = "CLUS-FENCE-REBOOT: a server that fences itself restarts after the reboot delay and rejoins"
_RESTART = "PLAN-RESTART-RETURNS: a server restarted from the Manager goes down, reboots and rejoins the pool"
_CRASH = (
    "FAIL-SERVER-RESTART: a server fails (the User's Guide 2.1, 9.1: 'when a Virtual Machine Server is"
    " shut down or fails'); cutting the power of one that is off leaves it off and cancels its reboot"
)
_STORAGE = (
    "PRE-CLUSTER-ROOT-MOUNT: a server boots into the cluster through the cluster root at /OVS; without"
    " it the boot waits, and the storage's return (recover) boots it"
)
_RACE = (
    "local and docker only: the server's process had already ended (with this exit status) when the"
    " freeze was sent, so what it did before is what happened"
)


def _from(
    sources: Iterable[PowerState], event: PowerEvent, target: PowerState, why: str
) -> list[PowerTransition]:
    return [Transition(source, event, target, why) for source in sources]


TRANSITIONS: tuple[PowerTransition, ...] = (
    Transition(
        "running",
        "boot",
        "running",
        "a pool is built on installed servers that are up: building it (or adding a server) starts"
        " their services in the documented order (PROC-SERVICE-ORDER)",
    ),
    Transition(
        "crashed",
        "boot",
        "running",
        "recovering a crashed server powers it on; it rejoins the cluster and the pool (CLUS-FENCE-REBOOT,"
        " HA-AGENT-START-PROPAGATE)",
    ),
    Transition("fenced", "boot", "running", _REBOOT),
    Transition("restarting", "boot", "running", _RESTART),
    *_from(("fenced_awaiting_storage", "restart_awaiting_storage"), "boot", "running", _STORAGE),
    Transition("fenced", "cluster_root_missing", "fenced_awaiting_storage", _STORAGE),
    Transition("restarting", "cluster_root_missing", "restart_awaiting_storage", _STORAGE),
    Transition(
        "running",
        "freeze",
        "hung",
        "FAIL-SERVER-RESTART names a hang among server failures: a hung server writes no heartbeat and"
        " runs no guest",
    ),
    Transition(
        "hung",
        "thaw",
        "running",
        "CLUS-FENCE-RUNAWAY: a runaway server comes back as it was (and fences itself if its peers"
        " declared it dead meanwhile)",
    ),
    *_from((s for s in STATES if s != "deleted"), "crash", "crashed", _CRASH),
    Transition(
        "running",
        "fence",
        "fenced",
        "CLUS-QUORUM, HB-SELF-FENCE-STORAGE, CLUS-FENCE-RUNAWAY: quorum 'may require restarting one or"
        " more Oracle VM Servers' (the User's Guide 2.1, 9.3 Creating HA Clusters)",
    ),
    Transition(
        "running",
        "halt",
        "shutdown",
        "HB-CLEAN-LEAVE, PLAN-CLI-SHUTDOWN-22: a server shut down cleanly leaves the heartbeat and stays off",
    ),
    Transition("running", "restart", "restarting", _RESTART),
    Transition(
        "running",
        "delete",
        "deleted",
        "PLAN-RESTART-RETURNS: a deleted server leaves the pool and is never used again",
    ),
    Transition("hung", "fence", "fenced", _RACE),
    Transition("hung", "halt", "shutdown", _RACE),
    Transition("hung", "restart", "restarting", _RACE),
    Transition("hung", "delete", "deleted", _RACE),
)

POWER_STATES: TransitionTable[PowerState, PowerEvent] = TransitionTable(
    "server power", STATES, EVENTS, TRANSITIONS
)

#: the name Oracle VM Manager's view (PoolState) gives each state
SHOWN_AS: dict[PowerState, ShownState] = {
    "running": "running",
    "hung": "hung",
    "crashed": "crashed",
    "fenced": "fenced",
    "fenced_awaiting_storage": "fenced",
    "shutdown": "shutdown",
    "restarting": "shutdown",
    "restart_awaiting_storage": "shutdown",
    "deleted": "deleted",
}

#: off, and booting by itself once the reboot delay has passed
REBOOTING: frozenset[PowerState] = frozenset({"fenced", "restarting"})
#: off, and booting once its storage returns
AWAITING_STORAGE: frozenset[PowerState] = frozenset({"fenced_awaiting_storage", "restart_awaiting_storage"})
#: off (but not deleted): a boot from here is a rejoin, marked on the timeline
OFF: frozenset[PowerState] = frozenset({"crashed", "shutdown", *REBOOTING, *AWAITING_STORAGE})


def server_power() -> StateMachine[PowerState, PowerEvent]:
    """A server's power as it is installed: up, its pool not built on it yet."""
    return StateMachine(POWER_STATES, "running")


class PoweredServer:
    """What a driver's host derives from its power machine, written once for sim and local hosts."""

    power: StateMachine[PowerState, PowerEvent]

    @property
    def state(self) -> ShownState:
        """Its power state as Oracle VM Manager names it."""
        return SHOWN_AS[self.power.state]

    @property
    def up(self) -> bool:
        """Powered on and not frozen."""
        return self.power.state == "running"
