"""How long a Then step waits for the pool to react to the last fault or Manager operation.

Every check waits on the driver's clock for the pool to react, up to a bound
derived from the O2CB timings (the failover bound of the last fault, or a
horizon for "never happens" checks), then asserts on observed state only.
"""

from __future__ import annotations

from collections.abc import Callable

from environments.base import PoolDriver
from environments.model import PoolState
from steps.records import Fault, ManagerAction, last_recovery, latest


def bound_of(driver: PoolDriver, ref: Fault | ManagerAction | None) -> tuple[int, int]:
    """(start, deadline) of the pool's reaction to `ref`: its failover bound after it happened."""
    if ref is None:
        now = driver.now_ms()
        return now, now + driver.failover_bound_ms("crash")
    if isinstance(ref, Fault):
        return ref.at_ms, ref.at_ms + ref.spread_ms + driver.failover_bound_ms(ref.kind)
    return ref.at_ms, ref.at_ms + driver.failover_bound_ms("crash")


def horizon(driver: PoolDriver, fault: Fault | None, manager_action: ManagerAction | None) -> tuple[int, int]:
    """(start, end) of the window in which the last fault or operation may still have effects."""
    start, deadline = bound_of(driver, latest(fault, manager_action))
    return start, deadline + driver.timings.iteration_ms


def patience_ms(driver: PoolDriver, fault: Fault | None, manager_action: ManagerAction | None) -> int:
    """How long an eventual check may wait from now: to the horizon plus a server reboot."""
    _, end = horizon(driver, fault, manager_action)
    return max(0, end - driver.now_ms()) + driver.timings.reboot_ms + driver.failover_bound_ms("crash")


def let_horizon_pass(driver: PoolDriver, fault: Fault | None, manager_action: ManagerAction | None) -> int:
    """Advance to the end of the horizon (never backwards); returns the horizon's start."""
    start, end = horizon(driver, fault, manager_action)
    driver.advance(max(0, end - driver.now_ms()))
    return start


def eventually(driver: PoolDriver, predicate: Callable[[PoolState], bool], timeout_ms: int) -> PoolState:
    driver.wait_until(predicate, max(0, timeout_ms))
    return driver.observe()


def settle_after_recovery(
    driver: PoolDriver, fault: Fault | None, manager_action: ManagerAction | None
) -> None:
    """A server brought back after the last fault or operation reboots, rejoins and gets guests
    restarted on it after the horizon of that fault: wait for the pool to settle first."""
    came_back = last_recovery(driver)
    ref = latest(fault, manager_action)
    if came_back is not None and (ref is None or came_back >= ref.at_ms):
        from steps.time import pool_settles  # a When step's helper, not a step of this module

        pool_settles(driver)
