"""What a real Oracle VM Server tells beyond its files: its init scripts' status and its guests.

All are read with allow-listed commands only (`service NAME status`, `xm list`), so they run
on a read-only session. A server without the command, or whose init scripts do not know the
Oracle VM Agent (every release has /etc/init.d/ovs-agent: CloudStack's OVM 2 configureOvm.sh, its
OVM3 clean_primary.sh), is not an Oracle VM Server's init (a Debian lookalike's o2cb script
describes the container, not the server it models): None, and the caller falls back to what the
files say, and says so.

`service NAME status` follows the LSB exit codes of Oracle Enterprise Linux's init scripts:
0 running, 1 dead with its pid file left, 2 dead with its subsys lock left (a crash), 3
stopped, 4 or anything else unknown; a script that is not there ("unrecognized service") is
absent, which only 2.2's ovsrepositories may be. o2cb's own report is read as text, the way
CloudStack's OVM 2 agent extension reads it (its exit status is 0 for an offline cluster too).
`xm list` prints one line per domain:

    Name                                      ID   Mem VCPUs      State   Time(s)
    Domain-0                                   0   543     2     r-----  21087.3
    vm1                                        3  1024     1     -b----    117.5
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from environments.model import CommandResult
from ovmref.cluster.o2cb_status import O2CBStatus, parse_o2cb_status
from ovmref.prereq import ServiceState

NO_COMMAND_RC = 127  # the shell's "command not found"
SERVICE = "/sbin/service"  # where Oracle VM Server (OEL) has them, as the read-only allow-list names them
XM = "/usr/sbin/xm"
AGENT = "ovs-agent"
_LSB: Mapping[int, ServiceState] = {0: "running", 1: "dead", 2: "dead", 3: "stopped"}


class Runs(Protocol):
    """What the readers need of a session (SSHHost has it)."""

    def run(self, argv: Sequence[str], timeout_s: float | None = None) -> CommandResult: ...


def _unrecognized(result: CommandResult) -> bool:
    return "unrecognized service" in result.stdout + result.stderr


def service_states(host: Runs, names: Iterable[str]) -> dict[str, ServiceState] | None:
    """Each init script's answer; None where the server has no `service` command or its init
    does not know the Oracle VM Agent (asked first): not an Oracle VM Server's init."""
    wanted = list(dict.fromkeys(names))
    states: dict[str, ServiceState] = {}
    for name in sorted(wanted, key=lambda n: n != AGENT):  # the agent first
        result = host.run([SERVICE, name, "status"])
        if result.rc == NO_COMMAND_RC and not states:
            return None
        if _unrecognized(result):
            if name == AGENT:
                return None
            states[name] = "absent"
        elif name == "o2cb" and (said := parse_o2cb_status(result.stdout)).online is not None:
            states[name] = "running" if said.online else "stopped"
        else:
            states[name] = _LSB.get(result.rc, "unknown")
    return {name: states[name] for name in wanted}


def o2cb_status(host: Runs) -> O2CBStatus | None:
    """What `service o2cb status` reports (cluster online, heartbeat mode, active regions); None
    where it cannot be asked or says nothing this reader knows. Ask it only of a server whose
    init `service_states` trusts."""
    result = host.run([SERVICE, "o2cb", "status"])
    if result.rc == NO_COMMAND_RC or _unrecognized(result):
        return None
    said = parse_o2cb_status(result.stdout)
    return said if said.understood else None


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


# ---- what the readiness read-out adds: the server's memory, the guests' configuration ----------
@dataclass(frozen=True)
class XenMemory:
    """`xm info`'s memory lines, in MB: all the machine has, and what no domain holds now."""

    total_mb: int
    free_mb: int


class XmInfoError(ValueError):
    """`xm info` printed no memory lines this reader knows."""


def parse_xm_info(text: str) -> XenMemory:
    """`key : value` lines, as `xm info` prints them on a Xen 3/4 dom0:

        total_memory           : 6141
        free_memory            : 4274

    (a real Xen 4.2 `xm info`: find_string index id 19534632190; an Oracle Linux UEK server's
    `xm info` as a test fixture: index id 33780924339)."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            values[key.strip()] = value.strip()
    try:
        return XenMemory(int(values["total_memory"]), int(values["free_memory"]))
    except KeyError as exc:
        raise XmInfoError(f"`xm info` has no {exc.args[0]} line") from None
    except ValueError:
        raise XmInfoError("`xm info`'s total_memory and free_memory must be numbers of MB") from None


def server_memory(host: Runs) -> XenMemory | None:
    """The server's memory; None where it has no `xm` or `xm info` fails."""
    result = host.run([XM, "info"])
    if result.rc != 0:
        return None
    return parse_xm_info(result.stdout)
