"""What one step hands to the next: the fault injected, the Manager operation done, and their moment.

Then-steps measure from these (a failover bound runs from the fault), so
the When step records the time and a snapshot of the pool *before* acting.
They travel as pytest-bdd `target_fixture` values, never in a shared bag: the
`fault` and `manager_action` fixtures here are None until a When step hands
one on, and a Then step declares the one it needs as a parameter.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, field

import pytest

from environments.model import CommandResult, FaultKind, OpResult, PoolState

SERVER = r"[A-Za-z][\w.-]*"  # a server or guest name: one word, no spaces
SERVERS = rf"{SERVER}(?:(?:, | and ){SERVER})*"  # 'a', 'a and b' or 'a, b and c'
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


@pytest.fixture
def fault() -> Fault | None:
    """No fault yet: a When step that injects one hands it on in its place (`target_fixture="fault"`)."""
    return None


@pytest.fixture
def manager_action() -> ManagerAction | None:
    """No Manager operation yet: a When step that performs one hands it on in its place."""
    return None


def required_fault(fault: Fault | None) -> Fault:
    """The fault a Then step measures from; a clear error when the scenario injected none."""
    __tracebackhide__ = True
    if fault is None:
        raise AssertionError("this Then step measures from a fault: add a When step that injects one first")
    return fault


def required_action(manager_action: ManagerAction | None) -> ManagerAction:
    """The Manager operation a Then step checks; a clear error when the scenario performed none."""
    __tracebackhide__ = True
    if manager_action is None:
        raise AssertionError(
            "this Then step checks a Manager operation: add a When step that performs one first"
        )
    return manager_action


def latest(fault: Fault | None, manager_action: ManagerAction | None) -> Fault | ManagerAction | None:
    """The later of the fault and the Manager operation: what the pool is expected to be reacting to.

    A plain function of the two handed-on values, not a fixture of its own: pytest caches a fixture
    for the whole scenario, and a When step that hands on a new fault does not reset the fixtures
    derived from the old one, so a `reference` fixture would still name the first fault."""
    found = [v for v in (fault, manager_action) if v is not None]
    return max(found, key=lambda v: v.at_ms) if found else None


@dataclass
class History:
    """What a scenario did to its pool, in order: every fault ("the first fault" is the first of
    them) and the instants servers were brought back ("comes back"). Kept with the scenario's own
    driver, so that every step that has the driver has it (the campaign calls steps with the
    driver alone)."""

    faults: list[Fault] = field(default_factory=list)
    recoveries: list[int] = field(default_factory=list)


_HISTORIES: weakref.WeakKeyDictionary[object, History] = weakref.WeakKeyDictionary()


def history_of(driver: object) -> History:
    """The history of the scenario that `driver` (fresh for each scenario) runs."""
    return _HISTORIES.setdefault(driver, History())


def remember_fault(driver: object, fault: Fault) -> Fault:
    """Keep the fault in the scenario's history as well as handing it on as the last one."""
    history_of(driver).faults.append(fault)
    return fault


def first_fault(driver: object) -> Fault:
    """The scenario's first fault; a clear error when it has none."""
    __tracebackhide__ = True
    faults = history_of(driver).faults
    if not faults:
        raise AssertionError("this Then step measures from the first fault: add a When step that injects one")
    return faults[0]


def remember_recovery(driver: object, at_ms: int) -> None:
    history_of(driver).recoveries.append(at_ms)


def last_recovery(driver: object) -> int | None:
    """When a server was last brought back, or None."""
    recoveries = history_of(driver).recoveries
    return recoveries[-1] if recoveries else None
