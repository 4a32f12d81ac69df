"""The simulated shared storage behind the cluster root: heartbeat region, leases, pool database.

One object all simulated servers reach (unless a server lost its storage
path). Operations are atomic, as the real lease file / DLM must be.
"""

from __future__ import annotations

from ovmref.failover.pooldb import PoolDB
from ovmref.lease import LeaseTable

BLOCK_BYTES = 512


class SimSharedStorage:
    def __init__(self) -> None:
        self.region: dict[int, bytes] = {}
        self.leases = LeaseTable()
        self._pooldb: PoolDB | None = None
        self.lost: set[str] = set()  # servers whose path to the storage is broken

    def write_slot(self, node: int, data: bytes) -> None:
        if len(data) != BLOCK_BYTES:
            raise ValueError(f"heartbeat slot must be {BLOCK_BYTES} bytes, got {len(data)}")
        self.region[node] = data

    def read_region(self, nodes: list[int]) -> dict[int, bytes]:
        empty = bytes(BLOCK_BYTES)
        return {n: self.region.get(n, empty) for n in nodes}

    def store_pooldb(self, db: PoolDB) -> None:
        # the master persists after every change and a dead master changes nothing more,
        # so keeping the reference and copying on load equals copying on every store
        self._pooldb = db

    def load_pooldb(self) -> PoolDB | None:
        return self._pooldb.snapshot() if self._pooldb is not None else None

    def peek_pooldb(self) -> PoolDB | None:
        """The stored database itself, read-only, for observation without a copy."""
        return self._pooldb
