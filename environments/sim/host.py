"""One simulated Oracle VM Server: its files, power state, agent and guest domains."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from environments.model import ServerSpec
from ovmref import events as ev
from ovmref.agent import Agent
from ovmref.states.power import PoweredServer, PowerEvent, PowerState, server_power
from ovmref.states.table import StateMachine

if TYPE_CHECKING:
    from environments.sim.scheduler import _Entry
    from ovmref.host.installed_pool import PoolHostFS


@dataclass
class SimHost(PoweredServer):
    spec: ServerSpec
    node: int
    fs: PoolHostFS
    #: moved only through ovmref.states.power's table
    power: StateMachine[PowerState, PowerEvent] = field(default_factory=server_power)
    agent: Agent | None = None
    #: guest domains really present on this server: guest -> "booting" | "running"
    guests: dict[str, str] = field(default_factory=dict)
    #: bumped on every boot, fence, halt: scheduled callbacks of an older incarnation are void
    incarnation: int = 0
    timers: dict[str, _Entry] = field(default_factory=dict)
    #: events that arrived while the server was hung, delivered when it resumes
    deferred: list[ev.Event] = field(default_factory=list)
    #: the ovs-agent daemon runs (the o2cb heartbeat can run without it)
    agent_daemon: bool = True

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def executing(self) -> bool:
        """Up and not frozen: it can run guests and act."""
        return self.up and self.agent is not None

    @property
    def answers_rpc(self) -> bool:
        """Its ovs-agent daemon can take commands from the master or the Manager."""
        return self.executing and self.agent_daemon

    def running_guests(self) -> list[str]:
        return sorted(g for g, phase in self.guests.items() if phase == "running")
