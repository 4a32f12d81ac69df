"""/etc/fstab and /proc/mounts: the six-field mount table format (fstab(5)).

/proc/mounts is kept as text in every host FS with the same format, so tools
and checks read "what is mounted" the same way on the simulator, on local
directories and on a real server.

A real mount table holds more than a model's: `rootfs / rootfs rw 0 0` first (the initramfs root,
shown before the real root device on the later "/" line: find_string ids 57050221515,
3732035595), pseudo file systems (proc, sysfs, nfsd on /proc/fs/nfsd, rpc_pipefs, configfs,
ocfs2_dlmfs, ...), and names with octal escapes (`\\040` for a space). Reading is as lenient as
libmount is with fstab: a line it cannot use is skipped, and told to the caller when it asks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ovmref.errors import ConfigSyntaxError, Problems, problem

FSTAB = "/etc/fstab"
PROC_MOUNTS = "/proc/mounts"

_ESCAPE = re.compile(r"\\([0-7]{3})")


@dataclass(frozen=True)
class MountEntry:
    source: str  # fs_spec: device, LABEL=, or host:/export
    mountpoint: str  # fs_file
    fstype: str
    options: str = "defaults"
    freq: int = 0
    passno: int = 0

    def render(self) -> str:
        return f"{self.source} {self.mountpoint} {self.fstype} {self.options} {self.freq} {self.passno}"

    @property
    def is_ovs(self) -> bool:
        """Mounted on /OVS or below: what `ovs-cluster-check --alter-fstab` moves out of /etc/fstab."""
        return self.mountpoint == "/OVS" or self.mountpoint.startswith("/OVS/")

    @property
    def option_list(self) -> tuple[str, ...]:
        return tuple(self.options.split(","))

    @property
    def is_nfs(self) -> bool:
        """An NFS client mount: type nfs/nfs4, or a `host:/export` source whatever the type says (a
        lookalike's stand-in); nfsd is the NFS *server's* pseudo file system, sourced `nfsd`."""
        return self.fstype in ("nfs", "nfs4") or (":/" in self.source and self.fstype != "nfsd")


def _unescape(field: str) -> str:
    """fstab(5) and /proc/mounts write a space as \\040, a tab as \\011, a backslash as \\134."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), field)


def parse_fstab(text: str, path: str = FSTAB, problems: Problems = None) -> list[MountEntry]:
    """Lines of 4 to 6 fields separated by spaces or TABs (CR tolerated); freq and passno default
    to 0 (fstab(5)). A bad line raises, or with `problems` is recorded there and skipped."""
    entries: list[MountEntry] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        if not 4 <= len(fields) <= 6:
            problem(
                problems,
                ConfigSyntaxError(
                    path,
                    lineno,
                    f"expected 6 fields (spec file vfstype mntops freq passno), got {len(fields)}",
                ),
            )
            continue
        numbers = fields[4:]
        bad = next(
            (
                f"{name} must be a number, got {value!r}"
                for name, value in zip(("freq", "passno"), numbers, strict=False)
                if not value.isdigit()
            ),
            None,
        )
        if bad is None and not (fields[1].startswith("/") or fields[1] in ("swap", "none")):
            bad = f"mount point {fields[1]!r} is not an absolute path"
        if bad is not None:
            problem(problems, ConfigSyntaxError(path, lineno, bad))
            continue
        entries.append(
            MountEntry(
                _unescape(fields[0]), _unescape(fields[1]), fields[2], fields[3], *(int(n) for n in numbers)
            )
        )
    return entries


def read_mount_table(text: str, path: str = PROC_MOUNTS) -> list[MountEntry]:
    """A real server's /proc/mounts or /etc/fstab, lenient as libmount: unusable lines are skipped."""
    return parse_fstab(text, path, problems=[])


def render_fstab(entries: list[MountEntry]) -> str:
    return "".join(e.render() + "\n" for e in entries)


def mount_on(entries: list[MountEntry], mountpoint: str) -> MountEntry | None:
    """What is mounted on `mountpoint` now: the last entry for it (a later mount hides an earlier)."""
    wanted = mountpoint.rstrip("/") or "/"
    found = [e for e in entries if (e.mountpoint.rstrip("/") or "/") == wanted]
    return found[-1] if found else None


def root_device(entries: list[MountEntry]) -> str | None:
    """The device holding /: the last "/" line that is not the initramfs `rootfs`."""
    real = [e for e in entries if e.mountpoint == "/" and e.fstype != "rootfs" and e.source != "rootfs"]
    return real[-1].source if real else None
