"""The simulated cluster network: which server can reach which (partitions)."""

from __future__ import annotations

from collections.abc import Iterable


class SimNetwork:
    latency_ms = 1

    def __init__(self) -> None:
        self._cut: set[frozenset[str]] = set()

    def partition(self, side: Iterable[str], everyone: Iterable[str]) -> None:
        """Cut every link between `side` and the rest of `everyone`."""
        inside = set(side)
        for a in inside:
            for b in everyone:
                if b not in inside:
                    self._cut.add(frozenset((a, b)))

    def heal(self) -> None:
        self._cut.clear()

    def reachable(self, a: str, b: str) -> bool:
        return a == b or frozenset((a, b)) not in self._cut
