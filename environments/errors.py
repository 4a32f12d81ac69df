"""What can go wrong under a scenario that is not the pool's verdict.

Two kinds, told apart by type so the pytest plugin never needs a conversion site:
- EnvironmentBroken: the environment itself is broken (an unreachable host, a container that
  does not start, a missing image or network tool). The scenario's status is "environment
  error", never a failed rule. Every infrastructure error (HostUnreachable, PoolError,
  ImageUnavailable, NetworkUnavailable) is one.
- EnvironmentLimitation: the environment works but cannot do what the step asks (a read-only
  pool, a fault a real host cannot inject). The scenario is skipped with the reason, never passed.

A leaf module: every environment's infrastructure code imports it without importing the port.
"""

from __future__ import annotations


class EnvironmentBroken(Exception):
    """The environment itself is broken (unreachable host, missing tool): not a conformance failure."""


class TooSlowToJudge(EnvironmentBroken):
    """The latency measured in a real-time run is too large a share of the bound a check judges
    (environments.latency.TOO_SLOW_SHARE): an environment error naming it, not a failed rule."""


class EnvironmentLimitation(Exception):
    """This environment cannot perform the requested action; the scenario is skipped with this reason."""


class ReadOnlyViolation(EnvironmentLimitation):
    """A write was attempted through a read-only driver."""
