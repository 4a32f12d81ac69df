"""Defect: the HA guests of a failed server are restarted one O2CB dead threshold late.

The server the master picks for a failed server's guest holds the start command back for
dead_threshold heartbeat iterations before it acts on it (a restart after a failure is a start
command naming the dead incarnations whose lease it may take over). "guest vm1 is running on another
server within the failover bound" must fail.

    OVM_TEST_AGENT_WRAPPER=tests/defects/late_restart.py python -m conformance run --env local ...
"""

from __future__ import annotations

import sys
from typing import Any

from ovmref import effects as fx
from ovmref import events as ev
from ovmref.agent import Agent
from ovmref.failover import messages as msg

TIMER = "defect.late-restart."


def apply() -> None:
    """Patch this process's ovmref (the simulator's tests call it in-process too)."""
    on_message, handle = Agent._on_message, Agent._handle

    def held_back(self: Agent, now: int, peer: int, m: object) -> list[fx.Effect]:
        if not isinstance(m, msg.StartGuestCmd) or not m.expect:
            return on_message(self, now, peer, m)
        held: dict[str, tuple[int, Any] | None] = self.__dict__.setdefault("_late_restarts", {})
        if m.guest not in held:
            held[m.guest] = (peer, m)
            return [fx.SetTimer(TIMER + m.guest, now + self.timings.dead_ms)]
        if held[m.guest] is not None:
            return []  # the master's resend of the same command: still held back
        return on_message(self, now, peer, m)  # released already: later commands act at once

    def released(self: Agent, now: int, event: ev.Event) -> list[fx.Effect]:
        if isinstance(event, ev.TimerFired) and event.name.startswith(TIMER):
            held: dict[str, tuple[int, Any] | None] = self.__dict__.get("_late_restarts", {})
            guest = event.name[len(TIMER):]
            command, held[guest] = held.get(guest), None
            return [] if command is None else on_message(self, now, *command)
        return handle(self, now, event)

    Agent._on_message = held_back  # type: ignore[method-assign]
    Agent._handle = released  # type: ignore[method-assign]


if __name__ == "__main__":
    apply()
    from environments.local import serverd

    sys.exit(serverd.main())
