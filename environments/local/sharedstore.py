"""The cluster root as one server process sees it: heartbeat slots, leases and the pool database.

Each server reaches the root through its own path, which the driver turns
into a broken symlink to simulate losing the storage. So nothing is cached:
every operation opens the root afresh and fails with OSError while the path
is broken, as I/O to a lost NFS mount or LUN would.

Leases follow `ovmref.lease.LeaseTable` exactly; the table lives in one JSON
file that is read, changed and atomically replaced under an exclusive POSIX
record lock (fcntl, which NFS honours), so two processes never both win a
lease. Readers that only observe need no lock: a replaced file is never torn.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TypeVar

from environments.local import wire
from ovmref.failover.pooldb import PoolDB
from ovmref.heartbeat.block import MAX_NODE
from ovmref.lease import Expect, LeaseOutcome, LeaseTable

SLOT_BYTES = 512  # o2hb slot stride that debugfs.ocfs2 and our readers assume
STATE_DIR = ".ovmref"
LEASES_FILE = "leases.json"
LEASES_LOCK = "leases.lock"
POOLDB_FILE = "pooldb.json"

# POSIX record locks belong to the process, not the thread: two threads of one server would both
# "hold" the file lock, so they queue here first.
_PROCESS_LOCK = threading.Lock()

T = TypeVar("T")


class CorruptStoreError(ValueError):
    """A state file on the cluster root that is not what this module writes."""


def _named(exc: OSError, path: Path) -> OSError:
    """The same error, naming the full path (the *at() calls only know a relative name)."""
    named = type(exc)(exc.errno, exc.strerror, str(path))
    named.__cause__ = exc
    return named


class SharedStore:
    def __init__(self, root: Path, heartbeat_file: str, heartbeat_offset: int) -> None:
        """`heartbeat_file` is relative to `root`; `heartbeat_offset` is node 0's slot in it."""
        if heartbeat_offset < 0:
            raise ValueError(f"heartbeat offset must be >= 0, got {heartbeat_offset}")
        self.root = Path(root)
        self.heartbeat_path = self.root / heartbeat_file
        self.heartbeat_offset = heartbeat_offset
        self.state_dir = self.root / STATE_DIR

    def __repr__(self) -> str:
        return f"SharedStore({str(self.root)!r}, heartbeat {self.heartbeat_path}@{self.heartbeat_offset})"

    # ---- disk heartbeat -------------------------------------------------------------------
    def _slot_offset(self, node: int) -> int:
        if not 0 <= node <= MAX_NODE:
            raise ValueError(f"node number must be 0..{MAX_NODE}, got {node}")
        return self.heartbeat_offset + node * SLOT_BYTES

    def write_slot(self, node: int, data: bytes) -> None:
        """Write node's whole slot in one pwrite (the heartbeat file must exist: it is formatted)."""
        if len(data) != SLOT_BYTES:
            raise ValueError(f"heartbeat slot must be {SLOT_BYTES} bytes, got {len(data)}")
        offset = self._slot_offset(node)
        fd = os.open(self.heartbeat_path, os.O_WRONLY | os.O_CLOEXEC)
        try:
            written = os.pwrite(fd, data, offset)
        finally:
            os.close(fd)
        if written != SLOT_BYTES:
            raise OSError(f"{self.heartbeat_path}: short write of node {node}'s slot at offset {offset}: "
                          f"{written} of {SLOT_BYTES} bytes")

    def read_region(self, nodes: Iterable[int]) -> dict[int, bytes]:
        """One pread over the slots of `nodes`, as o2hb reads the region in one I/O.

        Bytes past the end of the file read as zeros (a slot never written), as in a sparse file.
        """
        wanted = list(nodes)
        if not wanted:
            return {}
        first = min(self._slot_offset(n) for n in wanted)
        last = max(self._slot_offset(n) for n in wanted) + SLOT_BYTES
        fd = os.open(self.heartbeat_path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            span = os.pread(fd, last - first, first)
        finally:
            os.close(fd)
        span = span.ljust(last - first, b"\0")
        return {n: span[self._slot_offset(n) - first:][:SLOT_BYTES] for n in wanted}

    # ---- leases ---------------------------------------------------------------------------
    def acquire_lease(
        self, name: str, node: int, generation: int, expect: Expect
    ) -> LeaseOutcome:
        return self._update_leases(lambda t: t.acquire(name, node, generation, expect))

    def release_lease(self, name: str, node: int, generation: int) -> bool:
        return self._update_leases(lambda t: t.release(name, node, generation))

    def lease_holders(self) -> dict[str, tuple[int, int]]:
        """Every held lease and its holder, read without the lock (observation only)."""
        with self._root_fd() as root_fd:
            return self._load_leases(root_fd).holders()

    def _update_leases(self, change: Callable[[LeaseTable], T]) -> T:
        """Read the table, apply `change`, write it back if it changed: all under the lease lock."""
        with _PROCESS_LOCK, self._root_fd() as root_fd:
            self._make_state_dir(root_fd)
            lock_path = self.state_dir / LEASES_LOCK
            try:
                lock_fd = os.open(f"{STATE_DIR}/{LEASES_LOCK}", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC,
                                  0o644, dir_fd=root_fd)
            except OSError as exc:
                raise _named(exc, lock_path) from exc
            try:
                fcntl.lockf(lock_fd, fcntl.LOCK_EX)  # released by close, on every path out
                table = self._load_leases(root_fd)
                before = table.to_dict()
                result = change(table)
                after = table.to_dict()
                if after != before:
                    self._write_atomic(root_fd, LEASES_FILE, json.dumps(after, sort_keys=True).encode())
                return result
            finally:
                os.close(lock_fd)

    def _load_leases(self, root_fd: int) -> LeaseTable:
        raw = self._read(root_fd, LEASES_FILE)
        if raw is None:
            return LeaseTable()
        path = self.state_dir / LEASES_FILE
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise CorruptStoreError(f"{path}: not valid JSON ({exc}): {raw[:80]!r}") from None
        if not isinstance(data, dict):
            raise CorruptStoreError(f"{path}: expected a JSON object, got {type(data).__name__}")
        try:
            return LeaseTable.from_dict(data)
        except ValueError as exc:
            raise CorruptStoreError(f"{path}: {exc}") from None

    # ---- pool database --------------------------------------------------------------------
    def load_pooldb(self) -> PoolDB | None:
        """The stored pool database, or None if no master has stored one yet."""
        with self._root_fd() as root_fd:
            raw = self._read(root_fd, POOLDB_FILE)
        if raw is None:
            return None
        path = self.state_dir / POOLDB_FILE
        try:
            db = wire.decode(raw)
        except wire.WireError as exc:
            raise CorruptStoreError(f"{path}: {exc}") from None
        if not isinstance(db, PoolDB):
            raise CorruptStoreError(f"{path}: holds a {type(db).__name__}, not a pool database")
        return db

    def store_pooldb(self, db: PoolDB) -> None:
        """Replace the stored database atomically: a reader sees the old one or the new one."""
        data = wire.encode(db)
        with self._root_fd() as root_fd:
            self._make_state_dir(root_fd)
            self._write_atomic(root_fd, POOLDB_FILE, data)

    # ---- files under the root -------------------------------------------------------------
    @contextmanager
    def _root_fd(self) -> Iterator[int]:
        """The root, opened for this operation only: a broken path fails here, with its name.

        Opening the state files relative to this descriptor means one operation
        sees one directory, so "file missing" never hides "root gone".
        """
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            yield fd
        finally:
            os.close(fd)

    def _make_state_dir(self, root_fd: int) -> None:
        try:
            os.mkdir(STATE_DIR, 0o755, dir_fd=root_fd)
        except FileExistsError:
            pass
        except OSError as exc:
            raise _named(exc, self.state_dir) from exc

    def _read(self, root_fd: int, name: str) -> bytes | None:
        """The whole file `.ovmref/<name>`, or None if it does not exist (the root itself does)."""
        try:
            fd = os.open(f"{STATE_DIR}/{name}", os.O_RDONLY | os.O_CLOEXEC, dir_fd=root_fd)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise _named(exc, self.state_dir / name) from exc
        with os.fdopen(fd, "rb") as fh:
            return fh.read()

    def _write_atomic(self, root_fd: int, name: str, data: bytes) -> None:
        """Write a temp file beside `.ovmref/<name>` and rename it over: never a torn file.

        No fsync: the readers are other processes (page cache, or NFS close-to-open),
        and power loss is not something this environment simulates.
        """
        tmp = f"{STATE_DIR}/.{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644, dir_fd=root_fd)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, f"{STATE_DIR}/{name}", src_dir_fd=root_fd, dst_dir_fd=root_fd)
            except BaseException:
                with suppress(OSError):
                    os.unlink(tmp, dir_fd=root_fd)
                raise
        except OSError as exc:
            raise _named(exc, self.state_dir / name) from exc
