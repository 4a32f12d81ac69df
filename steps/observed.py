"""Reading the observed pool for a Then step: a guest by name, how to show it, what it did lately.

Shared by every Then-step module, so a failed check words a guest the same way everywhere.
"""

from __future__ import annotations

from environments.base import PoolDriver
from environments.model import GuestState, PoolState

UP = ("running", "maintenance")


def guest(state: PoolState, name: str) -> GuestState:
    __tracebackhide__ = True
    assert name in state.guests, f"the pool has no guest {name} (guests: {', '.join(state.guests)})"
    return state.guests[name]


def show(g: GuestState) -> str:
    return f"{g.name} is {g.state} on {g.server or 'no server'} after {g.restarts} restart(s)"


def history(driver: PoolDriver, name: str, last: int = 8) -> str:
    """The guest's latest timeline events, to explain a failed check."""
    events = [e for e in driver.timeline() if e.guest == name][-last:]
    return "\n  history: " + "; ".join(f"{e.t_ms} ms {e.kind} on {e.server} ({e.detail})" for e in events)
