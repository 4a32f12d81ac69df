"""Leases on shared storage: the DLM-like lock that keeps a guest on one server.

Each guest (and the master role) has one lease: holder (node, generation)
and a fencing token that grows on every change of holder. Taking a lease
from another holder is a compare-and-set against the holder the requester
judged dead, so two servers can never both believe they hold it. The
storage (simulated or a real file) applies these operations atomically.
"""

from __future__ import annotations

from dataclasses import dataclass

ANY_GENERATION = 0  # generation 0 is never a live o2hb generation: "whatever incarnation"


@dataclass(frozen=True)
class Lease:
    holder: tuple[int, int]
    token: int


@dataclass(frozen=True)
class LeaseOutcome:
    granted: bool
    holder: tuple[int, int] | None
    token: int


def _matches(holder: tuple[int, int], expect: tuple[int, int]) -> bool:
    node, gen = expect
    return holder[0] == node and (gen == ANY_GENERATION or holder[1] == gen)


class LeaseTable:
    """The lease records as kept on the cluster root."""

    def __init__(self) -> None:
        self._leases: dict[str, Lease] = {}
        self._tokens: dict[str, int] = {}

    def holder(self, name: str) -> tuple[int, int] | None:
        lease = self._leases.get(name)
        return lease.holder if lease else None

    def acquire(
        self, name: str, node: int, generation: int, expect: tuple[int, int] | None = None
    ) -> LeaseOutcome:
        me = (node, generation)
        current = self._leases.get(name)
        if current is not None and current.holder == me:
            return LeaseOutcome(True, me, current.token)
        if current is None or (expect is not None and _matches(current.holder, expect)):
            token = self._tokens.get(name, 0) + 1
            self._tokens[name] = token
            self._leases[name] = Lease(me, token)
            return LeaseOutcome(True, me, token)
        return LeaseOutcome(False, current.holder, current.token)

    def release(self, name: str, node: int, generation: int) -> bool:
        current = self._leases.get(name)
        if current is not None and current.holder == (node, generation):
            del self._leases[name]
            return True
        return False

    def held_by(self, node: int, generation: int | None = None) -> list[str]:
        return sorted(
            n
            for n, lease in self._leases.items()
            if lease.holder[0] == node and (generation is None or lease.holder[1] == generation)
        )
