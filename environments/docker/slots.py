"""Server containers kept for the life of a test process and lent to one pool at a time.

Starting a container costs a second or more of real time (more on a busy
machine), which the feature suite would pay for every server of every
scenario. So each process keeps the containers it started, on one pair of
networks, and lends them out: a driver takes as many as its pool needs, names
each after its server (hostname, /etc/ovs-release), and gives them back
reset (agents and guests gone, mounts and routes undone, files wiped), or
has them removed when it cannot reset one. Nothing outlives the process:
the ContainerPool removes its containers and networks at exit, and a killed
process's leftovers are swept by the next pool (owner labels).

Each slot's directory on this host is bind-mounted at /ovm/server in its
container, and one storage directory at /ovm/storage in all of them.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from environments.docker.pool import ContainerPool, PoolError, PoolServer
from environments.model import ServerSpec
from ovmref.release import Release

SERVER_DIR = "/ovm/server"
STORAGE_DIR = "/ovm/storage"
WARM_PREFIX = "ovm-docker-"  # + pid: swept with the run directories of dead processes


def _base_dir() -> Path:
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else Path(tempfile.gettempdir())


class ServerSlots:
    def __init__(self, image: str | None) -> None:
        self.image = image
        self.base = Path(tempfile.mkdtemp(prefix=f"{WARM_PREFIX}{os.getpid()}-slots-", dir=_base_dir()))
        self.storage = self.base / "storage"
        self.storage.mkdir()
        self.pool: ContainerPool | None = None
        self.idle: list[str] = []
        self.busy: set[str] = set()
        self._count = 0
        self._closed = False
        atexit.register(self.close)

    def slot_dir(self, slot: str) -> Path:
        return self.base / "slots" / slot

    def _mounts(self, spec: ServerSpec) -> dict[str, str]:
        path = self.slot_dir(spec.name)
        path.mkdir(parents=True, exist_ok=True)
        return {str(path): SERVER_DIR, str(self.storage): STORAGE_DIR}

    def lend(self, count: int) -> list[PoolServer]:
        """`count` running containers for one pool, started here when too few are idle."""
        if self._closed:
            raise PoolError("the server slots are closed")
        missing = max(0, count - len(self.idle))
        new = [ServerSpec(self._next_name()) for _ in range(missing)]
        if new and self.pool is None:
            self.pool = ContainerPool(
                new, release=Release.R2_2, image=self.image, cluster_network=True, mounts=self._mounts
            )
            self.pool.start()
            self.idle += [s.name for s in new]
        elif new:
            assert self.pool is not None
            self.pool.add(*new)
            self.idle += [s.name for s in new]
        taken, self.idle = self.idle[:count], self.idle[count:]
        self.busy.update(taken)
        assert self.pool is not None
        return [self.pool.server(name) for name in taken]

    def _next_name(self) -> str:
        self._count += 1
        return f"slot{self._count}"

    def give_back(self, slot: str) -> None:
        """A reset slot, ready for the next pool."""
        self.busy.discard(slot)
        self.idle.append(slot)

    def discard(self, slot: str) -> None:
        """A slot that could not be reset: its container is removed and never lent again."""
        self.busy.discard(slot)
        if self.pool is not None and slot in self.pool.servers:
            self.pool.remove(slot)
        shutil.rmtree(self.slot_dir(slot), ignore_errors=True)

    def close(self) -> None:
        """Remove every container, the networks and the directories. Safe to call again."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        try:
            if self.pool is not None:
                self.pool.close()
        finally:
            shutil.rmtree(self.base, ignore_errors=True)
            _SLOTS.pop(self.image, None)


_SLOTS: dict[str | None, ServerSlots] = {}


def server_slots(image: str | None = None) -> ServerSlots:
    """This process's slots for `image` (the lookalike image, built if needed, when None)."""
    slots = _SLOTS.get(image)
    if slots is None:
        slots = _SLOTS[image] = ServerSlots(image)
    return slots
