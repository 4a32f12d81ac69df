"""The readiness read-out of a real pool over the read-only SSH sessions.

Per server: its guests and their memory (`xm list`), its memory (`xm info`); on 3.x each running
guest's vm.cfg on the repository that holds it (`cat /OVS/Repositories/<repo>/VirtualMachines/<vm>
/vm.cfg`, found by listing /OVS/Repositories), for its `OVM_high_availability` flag
(ovmref.host.vmcfg cites the material). What no server holds (the pool's HA setting, 2.x guests'
HA flags, preferred servers, 3.x maintenance mode and inbound lock: the Manager's) comes from the
inventory's `ha:` section, and is `unknown` without it. Every command is on the read-only
allow-list; names read from a server are only ever words of an argv, and a guest name that is not
a plain directory name is never made into a path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from environments.ssh.inventory import HaFacts, Inventory
from environments.ssh.readers import Domain, Runs, XmInfoError, XmListError, running_guests, server_memory
from ovmref.host.sysconfig import OVS_RELEASE, parse_ovs_release
from ovmref.host.vmcfg import REPOSITORIES, GuestConfig, VmCfgError, guest_config, vm_cfg_path
from ovmref.hostfs import HostFS
from ovmref.readiness.readout import GuestReadout, PoolReadout, ServerReadout
from ovmref.release import Release, UnknownReleaseError

HA_UNKNOWN_2X = (
    "unknown: Oracle VM 2.x keeps a guest's HA flag in the Manager's database (no documented vm.cfg key)"
)
HA_UNKNOWN_3X = "unknown: no vm.cfg with OVM_high_availability found on /OVS/Repositories"
PREFERRED_UNKNOWN = "unknown: the Manager keeps preferred servers (no server file shows them)"
POOL_HA_UNKNOWN = "unknown: the Manager keeps the pool's HA setting; give ha.pool in the inventory"


# what one server's read gives: its read-out, its guests (each with its vm.cfg and where it was
# looked for), and notes
ServerRead = tuple[ServerReadout, list[tuple[Domain, GuestConfig | None, str]], list[str]]
# `map`, or a thread pool's `map`: the read applied to each server name, the results in order
MapServers = Callable[[Callable[[str], ServerRead], Iterable[str]], Iterable[ServerRead]]


@dataclass(frozen=True)
class ServerSession:
    """One reachable server: its command session and its files, both read-only."""

    host: Runs
    fs: HostFS


def read_server(
    name: str, session: ServerSession | None, release: Release, why_unreachable: str = ""
) -> ServerRead:
    """The server's memory and guests (each with its vm.cfg, if found, and where it looked)."""
    notes: list[str] = []
    if session is None:
        return ServerReadout(name, False, why_unknown=why_unreachable or "unreachable"), [], notes
    try:
        domains = running_guests(session.host)
        memory = server_memory(session.host)
    except (XmListError, XmInfoError) as exc:
        return ServerReadout(name, True, why_unknown=f"`xm` output not understood: {exc}"), [], notes
    if domains is None or memory is None:
        return ServerReadout(name, True, why_unknown="no `xm list` / `xm info` answer (no xend?)"), [], notes
    repositories: list[str] = []
    if release is Release.R3:
        try:
            repositories = sorted(session.fs.listdir(REPOSITORIES)) if session.fs.is_dir(REPOSITORIES) else []
        except OSError as exc:
            notes.append(f"{name}: {REPOSITORIES} cannot be listed: {exc}")
    guests = []
    for d in domains:
        config, where = _vm_cfg(session.fs, d.name, repositories) if release is Release.R3 else (None, "")
        if where and config is None:
            notes.append(f"{name}: guest {d.name!r}: {where}")
        guests.append((d, config, where))
    return ServerReadout(name, True, memory.free_mb, memory.total_mb), guests, notes


def _vm_cfg(fs: HostFS, guest: str, repositories: Sequence[str]) -> tuple[GuestConfig | None, str]:
    for repo in repositories:
        path = vm_cfg_path(repo, guest)
        if path is None:
            return None, "its name is not a repository directory name: its vm.cfg is not looked for"
        try:
            text = fs.read_text(path)
        except OSError as exc:
            return None, f"{path} cannot be read: {exc}"
        if text is None:
            continue
        try:
            return guest_config(path, text), path
        except VmCfgError as exc:
            return None, f"{path}: {exc}"
    return None, f"no VirtualMachines/{guest}/vm.cfg on the {len(repositories)} repositories"


def read_pool(
    pool: str,
    release: Release,
    servers: Sequence[str],
    open_session: Callable[[str], ServerSession | None],
    ha: HaFacts | None,
    unreachable: Mapping[str, str] | None = None,
    map_servers: MapServers = map,
) -> PoolReadout:
    """Every server's read-out, joined with what the inventory states (vm.cfg wins where both say).

    map_servers reads the servers (a thread pool's `map` reads them side by side; the result keeps
    the servers' order)."""
    stated = ha or HaFacts(None, (), (), {})
    readouts: list[ServerReadout] = []
    guests: list[GuestReadout] = []
    notes: list[str] = []

    def read(name: str) -> ServerRead:
        return read_server(name, open_session(name), release, (unreachable or {}).get(name, ""))

    for name, (server, found, said) in zip(servers, map_servers(read, servers), strict=True):
        notes += said
        readouts.append(
            ServerReadout(
                server.name,
                server.reachable,
                server.free_mb,
                server.total_mb,
                name in stated.maintenance,
                name in stated.inbound_lock,
                server.why_unknown,
            )
        )
        for domain, config, _where in found:
            given = stated.guests.get(domain.name)
            if config is not None and config.ha is not None:
                ha_flag: bool | None = config.ha
                source = f"vm.cfg {config.path}"
                if given is not None and given.ha is not None and given.ha != config.ha:
                    notes.append(
                        f"guest {domain.name!r}: the inventory says HA {given.ha}, {source} says {config.ha}"
                    )
            elif given is not None and given.ha is not None:
                ha_flag, source = given.ha, "inventory"
            else:
                ha_flag, source = None, HA_UNKNOWN_3X if release is Release.R3 else HA_UNKNOWN_2X
            preferred = given.preferred if given is not None else None
            guests.append(
                GuestReadout(
                    domain.name,
                    name,
                    domain.memory_mb,
                    domain.vcpus,
                    ha_flag,
                    source,
                    preferred,
                    "inventory" if preferred is not None else PREFERRED_UNKNOWN,
                )
            )
    pool_ha = stated.pool
    return PoolReadout(
        pool,
        release,
        pool_ha,
        "inventory" if pool_ha is not None else POOL_HA_UNKNOWN,
        tuple(readouts),
        tuple(guests),
        tuple(notes),
    )


class ReadoutError(Exception):
    """No server of the inventory answers, or none names its release: one line."""


def read_inventory(inventory: Inventory, log: Callable[[str], object] = print) -> PoolReadout:
    """Open every server of the inventory read-only, read the pool out, close the sessions."""
    from environments.ssh.connection import HostUnreachable, SSHHost
    from environments.ssh.remotefs import SSHHostFS

    opened: dict[str, SSHHost] = {}
    unreachable: dict[str, str] = {}
    try:
        for entry in inventory.servers:
            host = SSHHost(entry, read_only=True)
            try:
                host.connect()
            except HostUnreachable as exc:
                unreachable[entry.name] = str(exc)
                log(f"  {entry.name}: unreachable")
                continue
            opened[entry.name] = host
            log(f"  {entry.name}: connected")
        if not opened:
            raise ReadoutError("no server could be reached: " + "; ".join(unreachable.values()))
        files = {name: SSHHostFS(host) for name, host in opened.items()}
        release = inventory.release or _release(files)
        names = [s.name for s in inventory.servers]

        def session(name: str) -> ServerSession | None:
            return ServerSession(opened[name], files[name]) if name in opened else None

        try:
            return read_pool(inventory.pool, release, names, session, inventory.ha, unreachable)
        except HostUnreachable as exc:
            raise ReadoutError(f"a server was lost while it was read: {exc}") from None
    finally:
        for host in opened.values():
            host.close()


def _release(files: Mapping[str, HostFS]) -> Release:
    seen: dict[Release, int] = {}
    for fs in files.values():
        try:
            text = fs.read_text(OVS_RELEASE)
            if text is not None:
                release = Release.parse(parse_ovs_release(text))
                seen[release] = seen.get(release, 0) + 1
        except (OSError, ValueError, UnknownReleaseError):
            continue
    if not seen:
        raise ReadoutError(f"no server's {OVS_RELEASE} names a release: give release in the inventory")
    return max(seen, key=lambda r: (seen[r], r.value))
