"""How late a server process acts, summed up once per period for its event log.

The agent's timers (heartbeat iterations, keepalives, the quorum and fence timers) are set for
exact instants, and its peers' messages are stamped when they are written; on a busy machine
the process wakes after both. Every timer firing is measured against its deadline and every
message against its sending, and the worst lateness of each period (one heartbeat iteration)
is reported, so the log grows by a line per iteration, not one per timer or message, and a
single stall is never averaged away. The driver grants it to the timing checks
(environments/latency.py).
"""

from __future__ import annotations


class LatenessMeter:
    """Worst lateness since the last report; `note` returns it once a period has passed."""

    def __init__(self, period_s: float) -> None:
        if period_s <= 0:
            raise ValueError(f"the reporting period must be positive, got {period_s}")
        self.period_s = period_s
        self.worst_s = 0.0
        self._since: float | None = None

    def note(self, late_s: float, now_s: float) -> float | None:
        """Something happened `late_s` after it was due (asyncio may run a timer a hair early: counted
        as 0). Returns the period's worst lateness when the period is over, else None."""
        self.worst_s = max(self.worst_s, late_s, 0.0)
        if self._since is None:
            self._since = now_s
        if now_s - self._since < self.period_s:
            return None
        worst, self.worst_s, self._since = self.worst_s, 0.0, now_s
        return worst
