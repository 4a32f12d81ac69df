"""What a real Oracle VM Server tells beyond its files: its init scripts' status and its guests.

Both are read with allow-listed commands only (`service NAME status`, `xm list`), so they run
on a read-only session. A server without the command (a lookalike container has no `service`
or `xm`) gives None: the caller falls back to what the files say, and says so.

`service NAME status` follows the LSB exit codes of Oracle Enterprise Linux's init scripts:
0 running, 1 dead with its pid file left, 2 dead with its subsys lock left (a crash), 3
stopped, 4 or anything else unknown. `xm list` prints one line per domain:

    Name                                      ID   Mem VCPUs      State   Time(s)
    Domain-0                                   0   543     2     r-----  21087.3
    vm1                                        3  1024     1     -b----    117.5
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from environments.model import CommandResult
from ovmref.prereq import ServiceState

NO_COMMAND_RC = 127  # the shell's "command not found"
SERVICE = "/sbin/service"  # where Oracle VM Server (OEL) has them, as the read-only allow-list names them
XM = "/usr/sbin/xm"
_LSB: Mapping[int, ServiceState] = {0: "running", 1: "dead", 2: "dead", 3: "stopped"}


class Runs(Protocol):
    """What the readers need of a session (SSHHost has it)."""

    def run(self, argv: Sequence[str], timeout_s: float | None = None) -> CommandResult: ...


def service_states(host: Runs, names: Iterable[str]) -> dict[str, ServiceState] | None:
    """Each init script's answer; None where the server has no `service` command, or its init
    scripts do not manage one of these services ("unrecognized service": not an Oracle VM Server,
    such as a lookalike container, whose services are then judged by their lock files)."""
    states: dict[str, ServiceState] = {}
    for name in names:
        result = host.run([SERVICE, name, "status"])
        if result.rc == NO_COMMAND_RC and not states:
            return None
        if "unrecognized service" in result.stdout + result.stderr:
            return None
        states[name] = _LSB.get(result.rc, "unknown")
    return states


@dataclass(frozen=True)
class Domain:
    name: str
    domid: int
    memory_mb: int
    vcpus: int
    state: str


class XmListError(ValueError):
    """`xm list` printed something that is not its table; the line is named."""


def parse_xm_list(text: str) -> list[Domain]:
    """The guest domains of `xm list` (Domain-0, the server itself, left out)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    if lines[0].split()[:1] != ["Name"]:
        raise XmListError(f"line 1: not the header of `xm list`: {lines[0]!r}")
    domains = []
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split()
        if len(fields) < 6:
            raise XmListError(f"line {number}: expected 6 columns, got {len(fields)}: {line!r}")
        name = " ".join(fields[:-5])  # the last five columns are fixed: ID Mem VCPUs State Time(s)
        domid, mem, vcpus, state = fields[-5:-1]
        try:
            domain = Domain(name, int(domid), int(mem), int(vcpus), state)
        except ValueError:
            raise XmListError(f"line {number}: ID, Mem and VCPUs must be numbers: {line!r}") from None
        if domain.domid != 0:
            domains.append(domain)
    return domains


def running_guests(host: Runs) -> list[Domain] | None:
    """The guests the server's hypervisor runs; None where it has no `xm` (not an Oracle VM 2.x
    server) or `xm list` fails."""
    result = host.run([XM, "list"])
    if result.rc != 0:
        return None
    return parse_xm_list(result.stdout)
