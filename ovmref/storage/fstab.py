"""/etc/fstab and /proc/mounts: the six-field mount table format (fstab(5)).

/proc/mounts is kept as text in every host FS with the same format, so tools
and checks read "what is mounted" the same way on the simulator, on local
directories and on a real server.
"""

from __future__ import annotations

from dataclasses import dataclass

from ovmref.errors import ConfigSyntaxError

FSTAB = "/etc/fstab"
PROC_MOUNTS = "/proc/mounts"


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


def parse_fstab(text: str, path: str = FSTAB) -> list[MountEntry]:
    """Lines of 4 to 6 whitespace-separated fields; freq and passno default to 0 (fstab(5))."""
    entries: list[MountEntry] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        if not 4 <= len(fields) <= 6:
            raise ConfigSyntaxError(
                path, lineno, f"expected 6 fields (spec file vfstype mntops freq passno), got {len(fields)}"
            )
        numbers = fields[4:]
        for name, value in zip(("freq", "passno"), numbers, strict=False):
            if not value.isdigit():
                raise ConfigSyntaxError(path, lineno, f"{name} must be a number, got {value!r}")
        if not (fields[1].startswith("/") or fields[1] in ("swap", "none")):
            raise ConfigSyntaxError(path, lineno, f"mount point {fields[1]!r} is not an absolute path")
        entries.append(MountEntry(fields[0], fields[1], fields[2], fields[3], *(int(n) for n in numbers)))
    return entries


def render_fstab(entries: list[MountEntry]) -> str:
    return "".join(e.render() + "\n" for e in entries)
