"""mkfs.ocfs2 [options] <device|file>: make an OCFS2 file system, as the documents tell administrators.

User's Guide 9.2 formats a shared LUN (`mkfs.ocfs2 -L mylabel -b 4K -C 4K
-J size=64M -N 16 /dev/sdb1`); the white paper formats the NFS heartbeat file
it made with dd (`mkfs.ocfs2 -L server_pool_hb -N 16 -b 2k -C 4k --force
/OVS/.server_pool_hb`). Options are checked with the real tool's limits and
messages (ocfs2-tools: block size 512..4096 and cluster size 4K..1M in powers
of two, 1..255 node slots, journal of at least 4 MiB, a label of fewer than
64 characters). A file system already there is only overwritten with
--force/-F: the real tool asks "Proceed (y/N)" and a run without a terminal
answers no. A device mounted on this server or heartbeating here is never
formatted.

Effects: a block device gets a new OCFS2 identity on its shared volume (new
UUID, label, slots, sizes) and loses its content; a file (which must exist,
made by dd) is formatted through the heartbeat-file port and its format is
recorded on the volume holding it.
"""

from __future__ import annotations

import getopt
import re

from ovmref.cluster.services import ServiceTable
from ovmref.hostfs import HostFS
from ovmref.storage.layout import configfs_region_dir
from ovmref.storage.mounts import read_mounts
from ovmref.storage.repositories import normalize_source
from ovmref.storage.shared import (
    OCFS2_MAX_SLOTS,
    ORACLE_NODE_SLOTS,
    Ocfs2Format,
    SharedVolume,
    new_ocfs2_uuid,
)
from ovmref.storage.volume_files import volume_file
from ovmref.tools.context import ToolContext, ToolError, ToolResult
from ovmref.tools.storage_ops import boot_cluster

USAGE = (
    "usage: mkfs.ocfs2 [-b block-size] [-C cluster-size] [-L volume-label] [-N number-of-node-slots] "
    "[-J journal-options] [-T filesystem-type] [-M mount-type] [-F] [-q] device"
)
SHORT_OPTIONS = "b:C:L:N:J:T:M:Fq"
LONG_OPTIONS = [
    "block-size=",
    "cluster-size=",
    "label=",
    "node-slots=",
    "journal-options=",
    "fs-type=",
    "mount=",
    "force",
    "quiet",
]
MIN_BLOCK, MAX_BLOCK = 512, 4096
MIN_CLUSTER, MAX_CLUSTER = 4096, 1024 * 1024
MIN_JOURNAL = 4 * 1024 * 1024
MAX_LABEL = 64  # OCFS2_MAX_VOL_LABEL_LEN, including the terminating NUL
FS_TYPES = ("mail", "datafiles", "vmstore")
MOUNT_TYPES = ("cluster", "local")
DEFAULT_BLOCK = DEFAULT_CLUSTER = 4096
_SIZE = re.compile(r"([0-9]+)([kKmMgGtT]?)")
_SUFFIX = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str) -> int | None:
    """mkfs.ocfs2's numbers: `4096`, `4k`, `4K`, `64M`, `1G`; None when unreadable."""
    m = _SIZE.fullmatch(text)
    return int(m.group(1)) * _SUFFIX[m.group(2).lower()] if m else None


def _power_of_two_in(value: int | None, low: int, high: int) -> bool:
    return value is not None and low <= value <= high and value & (value - 1) == 0


def _bits(size: int) -> int:
    return size.bit_length() - 1


def _journal_size(text: str) -> int:
    """-J size=64M (the only journal option the documents use; [no]block32 are accepted)."""
    size: int | None = None
    for option in text.split(","):
        if option in ("block32", "noblock32"):
            continue
        key, _, value = option.partition("=")
        if key != "size" or not value:
            raise ToolError(
                f"Bad journal options specified ({text!r}). Valid journal options are: "
                "size=<journal size>, [no]block32",
                rc=1,
            )
        size = parse_size(value)
        if size is None:
            raise ToolError(f"Invalid journal size: {value}")
        if size < MIN_JOURNAL:
            raise ToolError(f"Invalid journal size: {value}: size must be at least {MIN_JOURNAL} bytes")
    if size is None:
        raise ToolError(f"Bad journal options specified ({text!r}): no size=<journal size>")
    return size


class MkfsRequest:
    """The parsed and validated command line."""

    def __init__(self, args: list[str]) -> None:
        try:
            opts, rest = getopt.gnu_getopt(args, SHORT_OPTIONS, LONG_OPTIONS)
        except getopt.GetoptError as exc:
            raise ToolError(f"{exc}\n{USAGE}", rc=1) from None
        self.label = ""
        self.node_slots = ORACLE_NODE_SLOTS
        self.block_size = DEFAULT_BLOCK
        self.cluster_size = DEFAULT_CLUSTER
        self.journal_size: int | None = None
        self.force = False
        self.quiet = False
        self.local = False
        for flag, value in opts:
            self._apply(flag, value)
        if len(rest) != 1:
            what = (
                "no device given"
                if not rest
                else f"unexpected arguments after {rest[0]}: {' '.join(rest[1:])}"
            )
            raise ToolError(f"{what}\n{USAGE}", rc=1)
        self.target = rest[0]

    def _apply(self, flag: str, value: str) -> None:
        if flag in ("-b", "--block-size"):
            size = parse_size(value)
            if not _power_of_two_in(size, MIN_BLOCK, MAX_BLOCK) or size is None:
                raise ToolError(
                    f"Invalid blocksize {value}: specify a blocksize between {MIN_BLOCK} and {MAX_BLOCK} "
                    "in powers of 2"
                )
            self.block_size = size
        elif flag in ("-C", "--cluster-size"):
            size = parse_size(value)
            if not _power_of_two_in(size, MIN_CLUSTER, MAX_CLUSTER) or size is None:
                raise ToolError(
                    f"Invalid clustersize {value}: specify a clustersize between {MIN_CLUSTER} and "
                    f"{MAX_CLUSTER} in powers of 2"
                )
            self.cluster_size = size
        elif flag in ("-L", "--label"):
            if len(value) >= MAX_LABEL:
                raise ToolError(
                    f"Volume label too long: must be less than {MAX_LABEL} characters ({len(value)} given)"
                )
            self.label = value
        elif flag in ("-N", "--node-slots"):
            if not value.isdigit() or not 1 <= int(value) <= OCFS2_MAX_SLOTS:
                raise ToolError(
                    f"Invalid number of node slots {value!r}: must be between 1 and {OCFS2_MAX_SLOTS}"
                )
            self.node_slots = int(value)
        elif flag in ("-J", "--journal-options"):
            self.journal_size = _journal_size(value)
        elif flag in ("-T", "--fs-type"):
            if value not in FS_TYPES:
                raise ToolError(f"Bad fs type {value!r}: valid types are {', '.join(FS_TYPES)}")
        elif flag in ("-M", "--mount"):
            if value not in MOUNT_TYPES:
                raise ToolError(f"Bad mount type {value!r}: valid types are {', '.join(MOUNT_TYPES)}")
            self.local = value == "local"
        elif flag in ("-F", "--force"):
            self.force = True
        else:  # -q, --quiet: getopt accepts no other flag
            self.quiet = True

    def format_for(self, uuid: str, size: int | None = None) -> Ocfs2Format:
        """The file system this request makes; `size` in bytes, where known (a file made by dd)."""
        clusters = None if size is None else size // self.cluster_size
        return Ocfs2Format(
            uuid, self.label, self.node_slots, self.block_size, self.cluster_size, self.journal_size, clusters
        )


def _refuse_existing(target: str, existing: Ocfs2Format | None, force: bool) -> None:
    if existing is not None and not force:
        label = f"label {existing.label!r}, " if existing.label else ""
        raise ToolError(
            f"{target} already holds an OCFS2 file system ({label}UUID {existing.uuid}): "
            "mkfs.ocfs2 asks before overwriting it (Proceed (y/N)) and without a terminal the answer is no; "
            "add --force (-F) to overwrite it. Aborting operation."
        )


def _refuse_in_use(fs: HostFS, ctx: ToolContext, target: str, volume: SharedVolume) -> None:
    """Never formatted while in use here: mounted, or its heartbeat region active (even with --force)."""
    mounted = [m for m in read_mounts(fs) if normalize_source(m.source) == volume.source]
    if mounted:
        raise ToolError(f"{target} is mounted on {mounted[0].mountpoint}; will not make a ocfs2 volume here!")
    device = volume.ocfs2.device
    if device is not None and ServiceTable(fs).is_running("o2cb"):
        region = configfs_region_dir(boot_cluster(fs, ctx), device.uuid)
        if fs.is_dir(region):
            raise ToolError(
                f"{target} is heartbeating on this server (region {device.uuid}): "
                f"stop it first (ocfs2_hb_ctl -K -d {target})"
            )


def _empty(volume: SharedVolume) -> None:
    """A new file system holds nothing: what was on the device is gone for every server."""
    tree = volume.tree
    pending = [f"/{name}" for name in tree.listdir("/")]
    ordered: list[str] = []
    while pending:
        path = pending.pop()
        ordered.append(path)
        if tree.kind(path) == "dir":
            pending += [f"{path}/{name}" for name in tree.listdir(path)]
    for path in reversed(ordered):
        tree.remove(path)


def _format_device(fs: HostFS, ctx: ToolContext, request: MkfsRequest, volume: SharedVolume) -> Ocfs2Format:
    _refuse_in_use(fs, ctx, request.target, volume)
    previous = volume.ocfs2.device
    _refuse_existing(request.target, previous, request.force)
    uuid = new_ocfs2_uuid(
        volume.source, previous.uuid if previous else "", request.label, ctx.fqdn, ctx.now_s
    )
    fmt = request.format_for(uuid)
    _empty(volume)
    volume.ocfs2.format_device(fmt)
    return fmt


def _format_file(fs: HostFS, ctx: ToolContext, request: MkfsRequest) -> Ocfs2Format:
    path = request.target
    if not fs.exists(path):
        raise ToolError(
            f"Could not open device {path}: No such file or directory (make it first, e.g. with dd)"
        )
    if fs.is_dir(path):
        raise ToolError(f"Could not open device {path}: Is a directory")
    held = volume_file(fs, ctx.storage, path)
    if held is None:
        raise ToolError(
            f"{path} is not on storage this server can reach: only files on a mounted repository "
            "(such as the NFS heartbeat file .server_pool_hb) can be formatted on a simulated server"
        )
    volume, inner = held
    previous = volume.ocfs2.file(inner)
    _refuse_existing(path, previous, request.force)
    uuid = new_ocfs2_uuid(volume.source, inner, previous.uuid if previous else "", request.label, ctx.now_s)
    ctx.format_heartbeat_file(path)
    if not fs.exists(path):
        raise ToolError(f"formatting {path} left no file behind")
    fmt = request.format_for(uuid, volume.ocfs2.size(inner))
    volume.ocfs2.format_file(inner, fmt)
    return fmt


def _summary(fmt: Ocfs2Format, local: bool) -> str:
    lines = [
        f"Cluster stack: {'none (local mount)' if local else 'classic o2cb'}",
        f"Label: {fmt.label}",
        f"Block size: {fmt.block_size} ({_bits(fmt.block_size)} bits)",
        f"Cluster size: {fmt.cluster_size} ({_bits(fmt.cluster_size)} bits)",
    ]
    if fmt.journal_size is not None:
        lines.append(f"Journal size: {fmt.journal_size}")
    lines += [
        f"Node slots: {fmt.node_slots}",
        f"UUID: {fmt.uuid}",
        "Creating bitmaps: done",
        "Initializing superblock: done",
        "Writing system files: done",
        "Writing superblock: done",
        "Formatting Journals: done",
        "Formatting slot map: done",
        "Writing lost+found: done",
        "mkfs.ocfs2 successful",
    ]
    return "".join(f"{line}\n" for line in lines)


def mkfs_ocfs2(fs: HostFS, args: list[str], ctx: ToolContext) -> ToolResult:
    request = MkfsRequest(args)
    if request.target.startswith("/dev/"):
        volume = ctx.storage.resolve(request.target)
        if volume is None or volume.nfs:
            raise ToolError(f"Could not open device {request.target}: No such file or directory")
        fmt = _format_device(fs, ctx, request, volume)
    else:
        fmt = _format_file(fs, ctx, request)
    summary = _summary(fmt, request.local)
    return ToolResult(0, "" if request.quiet else summary)
