"""A state machine as a table: state -> {event -> next state}, the way python-h11 writes HTTP's.

The table is data, so the same object answers "may this happen now?", carries a state forward, and
is drawn in the docs (`ovmref.states.markdown`). Each transition carries the reason it exists, so a
reader of the drawing sees why a server or a guest may go from one state to another.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

S = TypeVar("S", bound=str)
E = TypeVar("E", bound=str)


class IllegalTransition(ValueError):
    """An event the table does not allow in the current state; the state is left as it was."""

    def __init__(self, machine: str, state: str, event: str, allowed: Iterable[str]) -> None:
        self.machine, self.state, self.event = machine, state, event
        self.allowed = tuple(allowed)
        there = ", ".join(self.allowed) or "nothing"
        super().__init__(f"{machine}: {event!r} cannot happen in state {state!r} (allowed there: {there})")


@dataclass(frozen=True)
class Transition(Generic[S, E]):
    """`event` takes the machine from `source` to `target`; `why` cites what makes it so."""

    source: S
    event: E
    target: S
    why: str


class TransitionTable(Generic[S, E]):
    """The legal transitions of one machine, looked up as h11 does: `table[state][event]`."""

    def __init__(
        self,
        name: str,
        states: Mapping[S, str],
        events: Mapping[E, str],
        transitions: Iterable[Transition[S, E]],
    ) -> None:
        self.name = name
        #: every state with what it means, in the order the docs list them
        self.states = dict(states)
        #: every event with what it is
        self.events = dict(events)
        self.transitions = tuple(transitions)
        self._next: dict[S, dict[E, S]] = {state: {} for state in self.states}
        for t in self.transitions:
            if t.source not in self.states or t.target not in self.states or t.event not in self.events:
                raise ValueError(f"{name}: {t} names an undeclared state or event")
            if t.event in self._next[t.source]:
                raise ValueError(f"{name}: {t.event!r} is declared twice from {t.source!r}")
            self._next[t.source][t.event] = t.target

    def allows(self, state: S, event: E) -> bool:
        """Whether `event` may happen in `state`."""
        return event in self._next[state]

    def next_state(self, state: S, event: E) -> S:
        """The state `event` leads to from `state`; IllegalTransition if the table has no such move."""
        try:
            return self._next[state][event]
        except KeyError:
            raise IllegalTransition(self.name, state, event, self._next.get(state, {})) from None


class StateMachine(Generic[S, E]):
    """One thing's current state, moved only through its table (h11's ConnectionState, for one party)."""

    def __init__(self, table: TransitionTable[S, E], initial: S) -> None:
        if initial not in table.states:
            raise ValueError(f"{table.name}: no state {initial!r}")
        self.table = table
        self._state = initial

    @property
    def state(self) -> S:
        return self._state

    def allows(self, event: E) -> bool:
        return self.table.allows(self._state, event)

    def fire(self, event: E) -> S:
        """Carry out `event`; raises IllegalTransition (the state unchanged) if it cannot happen now."""
        self._state = self.table.next_state(self._state, event)
        return self._state

    def __repr__(self) -> str:
        return f"<{self.table.name} {self._state}>"
