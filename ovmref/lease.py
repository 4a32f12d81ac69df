"""Leases on shared storage: the DLM-like lock that keeps a guest on one server.

Each guest (and the master role) has one lease: its holder is one
incarnation of a server, (node, o2hb generation), so a server that rebooted
does not hold what its previous boot took; and a fencing token that grows on
every change of holder. Taking a lease from another holder is a
compare-and-set against the incarnations the requester judged dead (one, or
several: a guest whose restart was in flight to a server that died may be
held by either its old server or that target), so two servers can never
both believe they hold it. The storage (simulated or a real file) applies
these operations atomically.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeAlias

ANY_GENERATION = 0  # generation 0 is never a live o2hb generation: "whatever incarnation"

Incarnation: TypeAlias = tuple[int, int]
"""One boot of one server: (node number, o2hb generation)."""

Expect: TypeAlias = Incarnation | frozenset[Incarnation] | None
"""Whom a lease may be taken from: one incarnation judged dead, a set of them, or nobody."""


def dead_holders(expect: Expect) -> frozenset[Incarnation]:
    """`expect` as a set of incarnations (a single one, or none, alike)."""
    if expect is None:
        return frozenset()
    if isinstance(expect, frozenset):
        return expect
    return frozenset({expect})


@dataclass(frozen=True)
class Lease:
    holder: Incarnation
    token: int


@dataclass(frozen=True)
class LeaseOutcome:
    granted: bool
    holder: Incarnation | None
    token: int


def _int(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"lease table: {what} must be an integer, got {value!r}")
    return value


def _matches(holder: Incarnation, expect: Expect) -> bool:
    node, generation = holder
    return any(node == n and gen in (ANY_GENERATION, generation) for n, gen in dead_holders(expect))


class LeaseTable:
    """The lease records as kept on the cluster root."""

    def __init__(self) -> None:
        self._leases: dict[str, Lease] = {}
        self._tokens: dict[str, int] = {}

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready copy, for a driver that keeps the table in a file.

        Tokens are kept for released leases too: the next holder must get a
        higher token than any holder before it.
        """
        return {
            "leases": {
                name: {"holder": [lease.holder[0], lease.holder[1]], "token": lease.token}
                for name, lease in sorted(self._leases.items())
            },
            "tokens": dict(sorted(self._tokens.items())),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> LeaseTable:
        """The table `to_dict` described; ValueError naming the first thing that does not fit."""
        if set(data) != {"leases", "tokens"}:
            raise ValueError(f"lease table: expected keys 'leases' and 'tokens', got {sorted(data)}")
        leases, tokens = data["leases"], data["tokens"]
        if not isinstance(leases, Mapping) or not isinstance(tokens, Mapping):
            raise ValueError("lease table: 'leases' and 'tokens' must be objects")
        table = cls()
        for name, token in tokens.items():
            table._tokens[str(name)] = _int(token, f"tokens[{name!r}]")
        for name, rec in leases.items():
            if not isinstance(rec, Mapping) or set(rec) != {"holder", "token"}:
                raise ValueError(f"lease table: leases[{name!r}] must be {{'holder', 'token'}}, got {rec!r}")
            holder = rec["holder"]
            if not isinstance(holder, list | tuple) or len(holder) != 2:
                raise ValueError(f"lease table: leases[{name!r}].holder must be [node, generation], "
                                 f"got {holder!r}")
            token = _int(rec["token"], f"leases[{name!r}].token")
            if table._tokens.get(str(name), 0) < token:
                raise ValueError(f"lease table: leases[{name!r}] has token {token} but the last token "
                                 f"handed out is {table._tokens.get(str(name), 0)}")
            node = _int(holder[0], f"leases[{name!r}].holder node")
            gen = _int(holder[1], f"leases[{name!r}].holder generation")
            table._leases[str(name)] = Lease((node, gen), token)
        return table

    def holder(self, name: str) -> Incarnation | None:
        lease = self._leases.get(name)
        return lease.holder if lease else None

    def acquire(self, name: str, node: int, generation: int, expect: Expect = None) -> LeaseOutcome:
        """Granted when the lease is free, already this incarnation's, or held by one in `expect`."""
        me = (node, generation)
        current = self._leases.get(name)
        if current is not None and current.holder == me:
            return LeaseOutcome(True, me, current.token)
        if current is None or _matches(current.holder, expect):
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

    def holders(self) -> dict[str, Incarnation]:
        """Every held lease and its holder, by lease name."""
        return {name: lease.holder for name, lease in sorted(self._leases.items())}

    def held_by(self, node: int, generation: int | None = None) -> list[str]:
        return sorted(
            n
            for n, lease in self._leases.items()
            if lease.holder[0] == node and (generation is None or lease.holder[1] == generation)
        )
