"""The storage a server can reach: the port tools use to find a source's content.

`ovs-makerepo example.com:/OVS` or `/dev/sdb1` needs to know whether the
source is reachable from this server, whether it is NFS or a block device,
whether it is the server's own disk, and what its content is. The driver
answers through `SharedStorage`; `StorageMap` is the plain implementation the
simulator and tests use. A shared volume is one object on every host, so
writes through one host's mount are seen by all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from ovmref.host.trees import MemoryTree, Tree
from ovmref.storage.layout import is_nfs_source
from ovmref.storage.repositories import normalize_source, uuid_for_source

ORACLE_NODE_SLOTS = 16  # mkfs.ocfs2 -N 16 in every Oracle example (User's Guide 9.2, white paper)


@dataclass(frozen=True)
class SharedVolume:
    """A source's content as mounted: an NFS export, or an OCFS2 file system on a block device."""

    source: str
    tree: Tree
    uuid: str
    nfs: bool
    local_disk: bool = False
    node_slots: int = ORACLE_NODE_SLOTS

    @classmethod
    def create(cls, source: str, *, local_disk: bool = False, uuid: str | None = None) -> SharedVolume:
        """A fresh, empty volume; the UUID derives from the source unless given (mkfs's UUID)."""
        return cls(
            source=normalize_source(source),
            tree=MemoryTree(source),
            uuid=(uuid or uuid_for_source(source)).upper(),
            nfs=is_nfs_source(source),
            local_disk=local_disk,
        )


class SharedStorage(Protocol):
    def resolve(self, source: str) -> SharedVolume | None:
        """The volume behind `source` as this server sees it, or None when it cannot reach it."""
        ...


class StorageMap:
    """One server's view of storage: shared volumes (the same objects on every host) plus its own disks."""

    def __init__(
        self,
        shared: Mapping[str, SharedVolume] | Iterable[SharedVolume] = (),
        local: Iterable[SharedVolume] = (),
    ) -> None:
        volumes = shared.values() if isinstance(shared, Mapping) else shared
        self._volumes: dict[str, SharedVolume] = {v.source: v for v in volumes}
        self._volumes.update({v.source: v for v in local})
        self.unreachable: set[str] = set()

    def add(self, volume: SharedVolume) -> SharedVolume:
        self._volumes[volume.source] = volume
        return volume

    def resolve(self, source: str) -> SharedVolume | None:
        key = normalize_source(source)
        if key in self.unreachable:
            return None
        return self._volumes.get(key)
