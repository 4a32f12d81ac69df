"""The storage a server can reach: the port tools use to find a source's content.

`ovs-makerepo example.com:/OVS` or `/dev/sdb1` needs to know whether the
source is reachable from this server, whether it is NFS or a block device,
whether it is the server's own disk, and what its content is. The driver
answers through `SharedStorage`; `StorageMap` is the plain implementation the
simulator and tests use, backed by a `SiteStorage` that offers the site's
NFS exports and SAN LUNs on first use. A shared volume is one object on every
host, so writes through one host's mount, and mkfs.ocfs2 run on one host, are
seen by all.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from ovmref.host.trees import MemoryTree, Tree
from ovmref.storage.layout import is_nfs_source
from ovmref.storage.repositories import normalize_source, uuid_for_source

ORACLE_NODE_SLOTS = 16  # mkfs.ocfs2 -N 16 in every Oracle example (User's Guide 9.2, white paper)
OCFS2_MAX_SLOTS = 255  # OCFS2_MAX_SLOTS: mkfs.ocfs2 refuses more
# The white paper's heartbeat file: mkfs.ocfs2 -L server_pool_hb -N 16 -b 2k -C 4k
ORACLE_HEARTBEAT_LABEL = "server_pool_hb"
ORACLE_HEARTBEAT_BLOCK = 2048
ORACLE_HEARTBEAT_CLUSTER = 4096
SHARED_DEVICE = re.compile(r"/dev/sd[b-z][0-9]+")  # SAN/iSCSI LUN partitions; /dev/sda is the local disk


def new_ocfs2_uuid(*seeds: object) -> str:
    """A file system UUID derived from what makes this mkfs run unique (no randomness in ovmref)."""
    text = "|".join(str(s) for s in seeds)
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest().upper()


@dataclass(frozen=True)
class Ocfs2Format:
    """What mkfs.ocfs2 wrote: the file system's identity and geometry (sizes in bytes)."""

    uuid: str
    label: str = ""
    node_slots: int = ORACLE_NODE_SLOTS
    block_size: int = 4096
    cluster_size: int = 4096
    journal_size: int | None = None  # per slot; None = mkfs's default for the volume size
    clusters: int | None = None  # the volume's size in clusters; None = not known (a LUN's)


class Ocfs2Catalog:
    """The OCFS2 file systems on one volume: the device's own and those held in files on it.

    Mutable on purpose: it belongs to the shared volume, so a mkfs.ocfs2 run on
    one server is what every server then finds. File paths are inside the volume
    (`/.server_pool_hb` on the NFS cluster root), not host paths.
    """

    def __init__(self, device: Ocfs2Format | None = None) -> None:
        self._device = device
        self._files: dict[str, Ocfs2Format] = {}
        self._sizes: dict[str, int] = {}

    @property
    def device(self) -> Ocfs2Format | None:
        return self._device

    def format_device(self, fmt: Ocfs2Format) -> None:
        self._device = fmt

    def wipe_device(self) -> None:
        """The superblock was overwritten (dd if=/dev/zero): no file system any more."""
        self._device = None

    def file(self, path: str) -> Ocfs2Format | None:
        return self._files.get(path)

    def format_file(self, path: str, fmt: Ocfs2Format) -> None:
        self._files[path] = fmt

    def forget_file(self, path: str) -> None:
        self._files.pop(path, None)

    def note_size(self, path: str, size: int) -> None:
        """dd wrote `size` bytes to the file (a simulated server keeps at most 4 MiB of them)."""
        self._sizes[path] = size

    def size(self, path: str) -> int | None:
        """The size dd gave the file, if dd made it."""
        return self._sizes.get(path)


@dataclass(frozen=True)
class SharedVolume:
    """A source's content as mounted: an NFS export, or a block device with (or without) OCFS2 on it."""

    source: str
    tree: Tree
    nfs: bool
    local_disk: bool = False
    ocfs2: Ocfs2Catalog = field(default_factory=Ocfs2Catalog)

    @classmethod
    def create(
        cls,
        source: str,
        *,
        local_disk: bool = False,
        uuid: str | None = None,
        node_slots: int = ORACLE_NODE_SLOTS,
        formatted: bool = True,
        tree: Tree | None = None,
    ) -> SharedVolume:
        """A fresh, empty volume. A block device comes formatted with OCFS2 (UUID from the source
        unless given, `node_slots` slots) unless `formatted` is False (a new LUN). Its content is
        held in memory unless a `tree` (a real directory) is given."""
        nfs = is_nfs_source(source)
        if nfs and uuid is not None:
            raise ValueError(f"{source} is an NFS export: it has no file system UUID to set")
        device = None
        if not nfs and formatted:
            device = Ocfs2Format((uuid or uuid_for_source(source)).upper(), node_slots=node_slots)
        return cls(
            source=normalize_source(source),
            tree=tree if tree is not None else MemoryTree(source),
            nfs=nfs,
            local_disk=local_disk,
            ocfs2=Ocfs2Catalog(device),
        )

    @property
    def uuid(self) -> str:
        """The repository UUID: a block device's OCFS2 UUID (as last formatted), an export's derived one."""
        device = self.ocfs2.device
        return device.uuid if device is not None and not self.nfs else uuid_for_source(self.source)

    @property
    def formatted(self) -> bool:
        """NFS exports are always usable; a block device only with an OCFS2 file system on it."""
        return self.nfs or self.ocfs2.device is not None


class SharedStorage(Protocol):
    def resolve(self, source: str) -> SharedVolume | None:
        """The volume behind `source` as this server sees it, or None when it cannot reach it."""
        ...


class SiteStorage:
    """What the site's file server and SAN offer every server of a pool, created on first use.

    Any export of `nfs_host` (`example.com:/OVS2`, white paper: "incrementally
    create/add additional, shared repositories") and any LUN partition
    /dev/sd[b-z]N; the same object for every server, so all see the same
    content. A new LUN holds no file system until mkfs.ocfs2 formats it.
    """

    def __init__(
        self,
        nfs_host: str | None = None,
        volumes: Iterable[SharedVolume] = (),
        make_tree: Callable[[str], Tree] | None = None,
    ) -> None:
        self.nfs_host = nfs_host
        self._make_tree = make_tree
        self._volumes: dict[str, SharedVolume] = {v.source: v for v in volumes}

    def offers(self, source: str) -> bool:
        if is_nfs_source(source):
            return self.nfs_host is not None and source.split(":/", 1)[0] == self.nfs_host
        return SHARED_DEVICE.fullmatch(source) is not None

    def volume(self, source: str) -> SharedVolume | None:
        key = normalize_source(source)
        known = self._volumes.get(key)
        if known is not None or not self.offers(key):
            return known
        tree = self._make_tree(key) if self._make_tree is not None else None
        return self._volumes.setdefault(key, SharedVolume.create(key, formatted=False, tree=tree))

    @property
    def volumes(self) -> list[SharedVolume]:
        return list(self._volumes.values())


class StorageMap:
    """One server's view of storage: shared volumes (the same objects on every host), its own disks,
    then whatever the site offers; `unreachable` lists sources this server has lost."""

    def __init__(
        self,
        shared: Mapping[str, SharedVolume] | Iterable[SharedVolume] = (),
        local: Iterable[SharedVolume] = (),
        site: SiteStorage | None = None,
    ) -> None:
        volumes = shared.values() if isinstance(shared, Mapping) else shared
        self._volumes: dict[str, SharedVolume] = {v.source: v for v in volumes}
        self._volumes.update({v.source: v for v in local})
        self.site = site
        self.unreachable: set[str] = set()

    def add(self, volume: SharedVolume) -> SharedVolume:
        self._volumes[volume.source] = volume
        return volume

    def resolve(self, source: str) -> SharedVolume | None:
        key = normalize_source(source)
        if key in self.unreachable:
            return None
        known = self._volumes.get(key)
        if known is None and self.site is not None:
            return self.site.volume(key)
        return known
