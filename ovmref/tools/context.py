"""What an Oracle VM command-line tool may know about its server and pool, and what it returns.

Tools are functions over (HostFS, argv, ToolContext): no process, no clock,
no network. Whatever a real tool would learn from the outside world (the
pool's members from the agent, reachable storage, the site DNS, the time
for a backup name) comes in the context, with ports for the two effects
that leave the host: formatting a heartbeat file and propagating a file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ovmref.release import Release
from ovmref.storage.shared import SharedStorage, SharedVolume, StorageMap

__all__ = [
    "PoolMember",
    "SharedStorage",
    "SharedVolume",
    "StorageMap",
    "ToolContext",
    "ToolError",
    "ToolResult",
]


@dataclass(frozen=True)
class PoolMember:
    """A server of the pool as the Server Pool Master knows it; `node` is its O2CB node number."""

    name: str
    fqdn: str
    node: int


@dataclass(frozen=True)
class ToolResult:
    rc: int
    stdout: str = ""
    stderr: str = ""

    @property
    def succeeded(self) -> bool:
        return self.rc == 0


class ToolError(Exception):
    """A tool refuses or fails; run_tool turns it into a ToolResult with this exit status."""

    def __init__(self, message: str, rc: int = 1) -> None:
        super().__init__(message)
        self.rc = rc


def _no_propagation(server: str, path: str, text: str) -> None:
    raise ToolError(f"no way to reach {server} from this server to copy {path}")


@dataclass
class ToolContext:
    """This server (short name, FQDN, IP, release, master or not), its pool and its ports."""

    hostname: str
    fqdn: str
    ip: str
    release: Release
    storage: SharedStorage
    format_heartbeat_file: Callable[[str], None]
    is_master: bool = False
    members: tuple[PoolMember, ...] = ()
    propagate: Callable[[str, str, str], None] = _no_propagation
    now_s: int = 0
    dns_zone: Mapping[str, str] | None = None  # the site DNS: FQDN -> IPv4; None = no DNS server
    cluster_name: str = "ocfs2"

    def is_self(self, member: PoolMember) -> bool:
        return member.name in (self.hostname, self.fqdn) or member.fqdn in (self.hostname, self.fqdn)
