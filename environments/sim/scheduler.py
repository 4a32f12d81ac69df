"""Deterministic discrete-event scheduler: the simulator's clock.

Like trio's MockClock, time moves only by jumping to the next deadline, so a
60 s heartbeat dead threshold costs microseconds. Ties run in scheduling
order (a sequence number), so a seed fully determines a run.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(eq=False)
class _Entry:
    at_ms: int
    seq: int
    action: Callable[[], None]
    cancelled: bool = False


class Scheduler:
    def __init__(self) -> None:
        self.now_ms = 0
        # (at, seq, entry): tuples compare in C, and seq makes every key unique and breaks ties
        self._heap: list[tuple[int, int, _Entry]] = []
        self._seq = 0
        self.executed = 0

    def at(self, at_ms: int, action: Callable[[], None]) -> _Entry:
        """Run `action` at absolute time `at_ms` (never in the past)."""
        self._seq += 1
        entry = _Entry(max(at_ms, self.now_ms), self._seq, action)
        heapq.heappush(self._heap, (entry.at_ms, entry.seq, entry))
        return entry

    def after(self, delay_ms: int, action: Callable[[], None]) -> _Entry:
        return self.at(self.now_ms + delay_ms, action)

    @staticmethod
    def cancel(entry: _Entry) -> None:
        entry.cancelled = True

    def next_at_ms(self) -> int | None:
        """When the next action that is still scheduled runs (None: nothing is scheduled)."""
        heap = self._heap
        while heap and heap[0][2].cancelled:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def run_until(self, until_ms: int) -> None:
        """Run every action due up to and including `until_ms`, then set the clock there."""
        heap = self._heap
        pop = heapq.heappop
        while heap and heap[0][0] <= until_ms:
            at_ms, _, entry = pop(heap)
            if entry.cancelled:
                continue
            self.now_ms = at_ms
            self.executed += 1
            entry.action()
        self.now_ms = max(self.now_ms, until_ms)
