"""What one step hands to the next: the fault injected, the Manager operation done, and their moment.

Then-steps measure from these (a failover bound runs from the fault), so
the When step records the time and a snapshot of the pool *before* acting.
They travel as pytest-bdd `target_fixture` values, never in a shared bag.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from environments.model import CommandResult, FaultKind, OpResult, PoolState

SERVER = r"[A-Za-z][\w.-]*"  # a server or guest name: one word, no spaces
_LIST_SPLIT = re.compile(r"\s*,\s*|\s+and\s+")


@dataclass(frozen=True)
class Fault:
    """A fault a When step injected: kind (for its failover bound), victims, time, pool before.

    `spread_ms`: the victims were hit one after another over that long from `at_ms`; the failover
    bound then runs from the last of them (a guest restarted onto a later victim is its victim too).
    """

    kind: FaultKind
    servers: tuple[str, ...]
    at_ms: int
    before: PoolState
    spread_ms: int = 0


@dataclass(frozen=True)
class ManagerAction:
    """An Oracle VM Manager operation a When step performed, with its answer."""

    operation: str
    target: str | None
    result: OpResult
    at_ms: int
    before: PoolState


@dataclass(frozen=True)
class CommandRun:
    """A command a When step ran on a server, with the server it ran on."""

    server: str
    result: CommandResult


def names(text: str) -> list[str]:
    """'server1', 'server1 and server2', 'server1, server2 and server3' -> the names, in order."""
    parts = [p for p in _LIST_SPLIT.split(text.strip()) if p]
    if not parts or any(not re.fullmatch(SERVER, p) for p in parts):
        raise ValueError(f"not a list of names: {text!r} (write 'a', 'a and b' or 'a, b and c')")
    return parts


def numbered_range(first: str, last: str) -> list[str]:
    """'vm1', 'vm4' -> vm1, vm2, vm3, vm4 (same prefix, ascending numbers)."""
    m1, m2 = re.fullmatch(r"(\D+)(\d+)", first), re.fullmatch(r"(\D+)(\d+)", last)
    if not m1 or not m2 or m1.group(1) != m2.group(1) or int(m1.group(2)) > int(m2.group(2)):
        raise ValueError(f"not a range of numbered names: {first} to {last}")
    return [f"{m1.group(1)}{i}" for i in range(int(m1.group(2)), int(m2.group(2)) + 1)]


def optional_fixture(request: pytest.FixtureRequest, name: str) -> object | None:
    """A value an earlier step may have handed on, or None when no step did."""
    try:
        value: object = request.getfixturevalue(name)
    except pytest.FixtureLookupError:
        return None
    return value


def last_fault(request: pytest.FixtureRequest) -> Fault:
    """The fault injected by an earlier When step; a clear error when the scenario has none."""
    fault = optional_fixture(request, "fault")
    if not isinstance(fault, Fault):
        raise AssertionError("this Then step measures from a fault: add a When step that injects one first")
    return fault


def last_action(request: pytest.FixtureRequest) -> ManagerAction:
    """The Manager operation of an earlier When step; a clear error when the scenario has none."""
    action = optional_fixture(request, "manager_action")
    if not isinstance(action, ManagerAction):
        raise AssertionError(
            "this Then step checks a Manager operation: add a When step that performs one first"
        )
    return action


def reference(request: pytest.FixtureRequest) -> Fault | ManagerAction | None:
    """The latest fault or Manager operation: what the pool is expected to be reacting to."""
    found = [
        v
        for v in (optional_fixture(request, "fault"), optional_fixture(request, "manager_action"))
        if isinstance(v, Fault | ManagerAction)
    ]
    return max(found, key=lambda v: v.at_ms) if found else None


#: every fault of the scenario, in order ("the first fault" is the first of them)
FAULTS: pytest.StashKey[list[Fault]] = pytest.StashKey()
#: the instants servers were brought back ("comes back"), in order
RECOVERIES: pytest.StashKey[list[int]] = pytest.StashKey()


def remember_fault(request: pytest.FixtureRequest, fault: Fault) -> Fault:
    """Keep the fault in the scenario's history as well as handing it on as the last one."""
    request.node.stash.setdefault(FAULTS, []).append(fault)
    return fault


def first_fault(request: pytest.FixtureRequest) -> Fault:
    """The scenario's first fault; a clear error when it has none."""
    faults = request.node.stash.get(FAULTS, [])
    if not faults:
        raise AssertionError("this Then step measures from the first fault: add a When step that injects one")
    first: Fault = faults[0]
    return first


def remember_recovery(request: pytest.FixtureRequest, at_ms: int) -> None:
    request.node.stash.setdefault(RECOVERIES, []).append(at_ms)


def last_recovery(request: pytest.FixtureRequest) -> int | None:
    """When a server was last brought back, or None."""
    recoveries = request.node.stash.get(RECOVERIES, [])
    return recoveries[-1] if recoveries else None
