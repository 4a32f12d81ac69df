"""`--ovm-env ssh`: the feature suite on an existing pool of real Oracle VM Servers, over SSH.

A real pool is not built by the suite: a scenario's "Given a clustered server
pool of 3 servers on NFS shared storage" *adopts* the pool the inventory names
when it has that shape (at least as many servers, that storage), and is
skipped otherwise, saying why. The scenario's server1..serverN are the inventory's
servers in its order; the report's timeline says which is which, and the steps
compare host names through `known_as`, so nothing on a server is renamed.

Everything goes through read-only SSH sessions (strict host keys, allow-listed
reading commands, a timeout on each). What a scenario would change (a file, a
Manager operation, a fault) raises EnvironmentLimitation, so the scenario is
skipped with that reason and never passes. Destructive scenarios are not even
started unless `--ovm-allow-destructive` names this very pool (conformance
.options); even then this driver has no power control over real hardware, so
their faults are refused with the reason.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from environments.base import EnvironmentBroken, EnvironmentLimitation, PoolDriver, ReadOnlyViolation
from environments.model import (
    CommandResult,
    EventKind,
    FaultKind,
    GuestSpec,
    GuestState,
    OpResult,
    PoolSpec,
    PoolState,
    ServerSpec,
    ServerState,
    TimelineEvent,
)
from environments.ssh.connection import CommandRefused, HostUnreachable, SSHHost, redact
from environments.ssh.inventory import (
    Inventory,
    InventoryError,
    ServerEntry,
    WrongPoolError,
    allows_destructive,
    load_inventory,
)
from environments.ssh.readers import SERVICE, XM, XmListError, running_guests, service_states
from environments.ssh.remotefs import SSHHostFS
from ovmref.cluster.clusterconf import CLUSTER_CONF, parse_cluster_conf
from ovmref.cluster.services import SERVICE_ORDER, lock_file
from ovmref.errors import ConfigSyntaxError
from ovmref.host.sysconfig import OVS_RELEASE, parse_ovs_release
from ovmref.release import Release, UnknownReleaseError
from ovmref.timing import O2CBTimings

T = TypeVar("T")

# a command as the steps write it -> where an Oracle VM Server (OEL) keeps the program
PROGRAM_PATHS = {"service": SERVICE, "xm": XM}
STORAGE_WORDS = {"nfs": "NFS", "ocfs2-iscsi": "OCFS2 over iSCSI", "ocfs2-san": "OCFS2 over SAN"}
NO_MANAGER = (
    "Oracle VM Manager operations are not driven by the ssh environment: it observes the pool "
    "through its servers only"
)
NO_POWER = (
    "the ssh environment has no power control over real servers (a crash, hang or cut cable needs "
    "an out-of-band switch); run fault scenarios on sim, local or docker"
)
UNOBSERVABLE = {
    "roles": "server roles and the Server Pool Master are Oracle VM Manager's records, which the ssh "
    "environment does not query",
    "heartbeat": "each server's view of the o2hb heartbeat lives in its kernel; the ssh environment "
    "reads files and init scripts only",
}

# hosts found unreachable in this process: every later scenario reports them at once, not after
# another connect timeout each (the run goes on and the report names the host and why)
_UNREACHABLE: dict[tuple[str, int], str] = {}
# read-only sessions, kept for the scenarios that follow in this process (a login costs a key
# exchange per server per scenario otherwise); each scenario still reads afresh (its own SSHHostFS)
_SESSIONS: dict[ServerEntry, SSHHost] = {}
_SESSION_LOCK = threading.Lock()


@atexit.register
def _close_sessions() -> None:
    with _SESSION_LOCK:
        for host in _SESSIONS.values():
            host.close()
        _SESSIONS.clear()


def _session(entry: ServerEntry) -> SSHHost:
    """The process's read-only session to this server, logged in (again, if it was lost)."""
    with _SESSION_LOCK:
        host = _SESSIONS.get(entry)
        if host is None:
            host = _SESSIONS[entry] = SSHHost(entry, read_only=True)
    host.connect()  # no-op while connected; raises HostUnreachable saying why
    return host


class SSHDriver(PoolDriver):
    name = "ssh"

    def __init__(
        self,
        release: Release,
        seed: int,
        timings: O2CBTimings | None = None,
        inventory: str | os.PathLike[str] | None = None,
        allow_destructive: str | None = None,
        **_options: Any,
    ) -> None:
        super().__init__(release, seed, timings)
        if inventory is None:
            raise EnvironmentBroken("the ssh environment needs an inventory: --ovm-inventory pool.yaml")
        try:
            self.inventory: Inventory = load_inventory(Path(inventory))
            destructive = allows_destructive(self.inventory, allow_destructive, inventory)
        except (InventoryError, WrongPoolError) as exc:
            raise EnvironmentBroken(str(exc)) from None
        self.capabilities = frozenset({"host-commands"} | ({"destructive"} if destructive else set()))
        self._start = time.monotonic()
        self._timeline: list[TimelineEvent] = []
        self._hosts: dict[str, SSHHost] = {}  # by inventory name
        self._fs: dict[str, SSHHostFS] = {}
        self._as: dict[str, ServerEntry] = {}  # scenario name -> the real server it stands for
        self._spec: PoolSpec | None = None
        self._init_scripts: dict[str, bool] = {}  # server -> its init scripts manage the HA services

    # ---- adopting the pool -----------------------------------------------------------------
    def build_pool(self, spec: PoolSpec) -> OpResult:
        """Adopt the inventory's pool if it has the shape the scenario asks for.

        A pool with more servers than the scenario names is adopted whole: the scenario's servers
        are its first ones, the others follow as server<N+1>.., and "every server" means all of
        them (a check of one NFS source that left two servers out would pass a broken pool)."""
        inv = self.inventory
        if len(spec.servers) > len(inv.servers):
            raise EnvironmentLimitation(
                f"the scenario needs a pool of {len(spec.servers)} servers; {inv.pool} has {len(inv.servers)}"
            )
        taken = {s.name for s in spec.servers}
        extra = (f"server{n}" for n in range(1, 10_000) if f"server{n}" not in taken)
        spec = replace(
            spec,
            servers=spec.servers
            + tuple(ServerSpec(name=next(extra)) for _ in inv.servers[len(spec.servers) :]),
        )
        if spec.storage != inv.storage:
            raise EnvironmentLimitation(
                f"the scenario needs {STORAGE_WORDS[spec.storage]} shared storage; {inv.pool} is on "
                f"{STORAGE_WORDS.get(inv.storage, inv.storage)}"
            )
        if not spec.ha_enabled or not spec.clustered:
            raise EnvironmentLimitation(
                f"the scenario needs a pool {'without HA' if spec.clustered else 'without clustering'}; "
                f"the ssh environment adopts {inv.pool} as it is, an HA pool"
            )
        with ThreadPoolExecutor(max_workers=min(8, len(inv.servers))) as logins:  # side by side
            for failure in logins.map(self._connect, inv.servers):
                if failure is not None:
                    raise failure
        release = self._read_release()
        if release != self.release:
            raise EnvironmentLimitation(
                f"{inv.pool} runs Oracle VM {release}; this scenario run is for {self.release} "
                f"(run with --release {release})"
            )
        self._as = {s.name: e for s, e in zip(spec.servers, inv.servers, strict=True)}
        self._spec = spec
        for scenario_name, entry in self._as.items():
            real = entry.fqdn or entry.name
            self._mark("adopt", scenario_name, f"{scenario_name} is {real} ({entry.address})")
        return OpResult(True, f"adopted pool {inv.pool} ({len(inv.servers)} servers, {inv.cluster_root})")

    def effective_spec(self, spec: PoolSpec) -> PoolSpec:
        """The pool as it is: all its servers and its own cluster root (host names: `known_as`)."""
        servers = self._spec.servers if self._spec is not None else spec.servers
        return replace(
            spec, name=self.inventory.pool, cluster_root=self.inventory.cluster_root, servers=servers
        )

    def known_as(self, server: str) -> str | None:
        entry = self._as.get(server)
        return None if entry is None else (entry.fqdn or entry.name)

    def require(self, *aspects: str) -> None:
        for aspect in aspects:
            if aspect in UNOBSERVABLE:
                raise EnvironmentLimitation(UNOBSERVABLE[aspect])

    def _connect(self, entry: ServerEntry) -> EnvironmentBroken | None:
        """Log in to one server (or reuse this process's session); the error, if it cannot be reached."""
        key = (entry.host, entry.port)
        if key in _UNREACHABLE:
            return EnvironmentBroken(f"{entry.name} ({entry.address}) is unreachable: {_UNREACHABLE[key]}")
        try:
            host = _session(entry)
        except HostUnreachable as exc:
            _UNREACHABLE[key] = str(exc)
            return EnvironmentBroken(f"{entry.name} ({entry.address}) is unreachable: {exc}")
        self._hosts[entry.name] = host
        self._fs[entry.name] = SSHHostFS(host)
        return None

    def _read_release(self) -> Release:
        """The inventory's release, else what every server's /etc/ovs-release says (they must agree)."""
        if self.inventory.release is not None:
            return self.inventory.release
        seen: dict[Release, list[str]] = {}
        for name, fs in self._fs.items():
            text = self._guard(name, partial(fs.read_text, OVS_RELEASE))
            if text is None:
                raise EnvironmentBroken(f"{name}: {OVS_RELEASE} is missing; give release in the inventory")
            try:
                seen.setdefault(Release.parse(parse_ovs_release(text)), []).append(name)
            except (ConfigSyntaxError, UnknownReleaseError) as exc:
                raise EnvironmentBroken(f"{name}: {exc}") from None
        if len(seen) > 1:
            said = "; ".join(f"{r} on {', '.join(names)}" for r, names in seen.items())
            raise EnvironmentBroken(f"the servers of {self.inventory.pool} run different releases: {said}")
        return next(iter(seen))

    # ---- what a scenario would change: refused, with the reason --------------------------------
    def add_server(self, spec: ServerSpec) -> OpResult:
        raise EnvironmentLimitation(NO_MANAGER)

    def enable_pool_ha(self) -> OpResult:
        raise EnvironmentLimitation(NO_MANAGER)

    def disable_pool_ha(self) -> OpResult:
        raise EnvironmentLimitation(NO_MANAGER)

    def create_guest(self, spec: GuestSpec) -> OpResult:
        raise EnvironmentLimitation(NO_MANAGER)

    def set_guest_ha(self, guest: str, enabled: bool) -> OpResult:
        raise EnvironmentLimitation(NO_MANAGER)

    def start_guest(self, guest: str) -> OpResult:
        raise EnvironmentLimitation(NO_MANAGER)

    def stop_guest(self, guest: str) -> OpResult:
        raise EnvironmentLimitation(NO_MANAGER)

    def migrate_guest(self, guest: str, target: str) -> OpResult:
        raise EnvironmentLimitation(NO_MANAGER)

    def shutdown_server(self, server: str, *, migrate: bool, restart: bool = False) -> OpResult:
        raise EnvironmentLimitation(NO_MANAGER)

    def delete_server(self, server: str, *, migrate: bool) -> OpResult:
        raise EnvironmentLimitation(NO_MANAGER)

    def set_maintenance(self, server: str, on: bool) -> OpResult:
        raise EnvironmentLimitation(NO_MANAGER)

    def set_inbound_migration_lock(self, server: str, locked: bool) -> OpResult:
        raise EnvironmentLimitation(NO_MANAGER)

    def set_master(self, server: str) -> OpResult:
        raise EnvironmentLimitation(NO_MANAGER)

    def shutdown_from_command_line(self, server: str, *, restart: bool = False) -> OpResult:
        raise EnvironmentLimitation(NO_POWER)

    def inject(self, fault: FaultKind, servers: Sequence[str]) -> int:
        raise EnvironmentLimitation(NO_POWER)

    def recover(self, server: str) -> None:
        raise EnvironmentLimitation(NO_POWER)

    def heal_network(self) -> None:
        raise EnvironmentLimitation(NO_POWER)

    def crash_guest(self, guest: str) -> None:
        raise EnvironmentLimitation(NO_POWER)

    def write_file(self, server: str, path: str, text: str) -> None:
        entry = self._entry(server)
        raise ReadOnlyViolation(
            f"the scenario would write {path} on {server} ({entry.fqdn or entry.name}); the ssh "
            "environment never changes a real server's files"
        )

    # ---- reading the pool --------------------------------------------------------------------
    def _entry(self, server: str) -> ServerEntry:
        try:
            return self._as[server]
        except KeyError:
            raise EnvironmentLimitation(f"{server} is not a server of the adopted pool") from None

    def _host(self, server: str) -> SSHHost:
        return self._hosts[self._entry(server).name]

    def _files(self, server: str) -> SSHHostFS:
        return self._fs[self._entry(server).name]

    def _guard(self, server: str, call: Callable[[], T]) -> T:
        """Run one read: a command the read-only allow-list refuses makes the scenario skip; a
        session lost on the way is an environment problem naming the host."""
        try:
            return call()
        except HostUnreachable as exc:
            raise EnvironmentBroken(f"{server} became unreachable: {exc}") from None
        except CommandRefused as exc:  # a PermissionError, but the pool is fine: the scenario skips
            raise ReadOnlyViolation(f"on {server} ({self._entry(server).name}): {exc}") from None
        except OSError as exc:  # SSHHostFS names the server, the path and what failed
            raise EnvironmentBroken(f"{server}: {exc}") from None

    def run(self, server: str, argv: Sequence[str]) -> CommandResult:
        """Run an allow-listed reading command; `service` and `xm` at Oracle VM Server's own paths.

        On a server whose init scripts do not manage the HA services (not an Oracle VM Server's
        init, such as a lookalike container), `service NAME status` is judged by the service's
        /var/lock/subsys file, as the validator judges it, and the result shows the command run."""
        host = self._host(server)
        args = list(argv)
        if args and args[0] in PROGRAM_PATHS:
            args[0] = PROGRAM_PATHS[args[0]]
        if (
            args[:1] == [SERVICE]
            and len(args) == 3
            and args[2] == "status"
            and not self._init_answers(server)
        ):
            result = self._service_by_lock(server, host, args[1])
        else:
            result = self._guard(server, lambda: host.run(args))
        self._mark("command", server, f"{' '.join(result.argv)} -> rc {result.rc}")
        return result

    def _init_answers(self, server: str) -> bool:
        """Whether the server's init scripts manage the HA services (the validator's test, asked
        once): where `service` is missing or knows none of them, every one is judged by lock files."""
        if server not in self._init_scripts:
            host = self._host(server)
            said = self._guard(server, lambda: service_states(host, SERVICE_ORDER))
            self._init_scripts[server] = said is not None
        return self._init_scripts[server]

    def _service_by_lock(self, server: str, host: SSHHost, service: str) -> CommandResult:
        lock = lock_file(service)
        probe: CommandResult = self._guard(server, lambda: host.run(["test", "-e", lock]))
        if probe.rc == 0:
            return replace(probe, stdout=f"{service} is running ({lock} exists; no init script answers)\n")
        return replace(probe, rc=3, stdout=f"{service} is stopped (no {lock}; no init script answers)\n")

    def read_file(self, server: str, path: str) -> str | None:
        fs = self._files(server)
        text = self._guard(server, lambda: fs.read_text(path))
        self._mark("read", server, f"{path}: {'missing' if text is None else f'{len(text)} chars'}")
        return text

    def file_exists(self, server: str, path: str) -> bool:
        fs = self._files(server)
        found = self._guard(server, lambda: fs.exists(path))
        self._mark("read", server, f"{path}: {'exists' if found else 'missing'}")
        return found

    def observe(self) -> PoolState:
        """Every adopted server with its cluster.conf node number and the guests `xm list` shows,
        asked of all servers side by side (`xm list` alone takes a second on a busy Oracle VM 2.x).

        Roles, the master and heartbeat views are Manager and kernel state (see `require`)."""
        with ThreadPoolExecutor(max_workers=min(8, max(1, len(self._as)))) as pool:
            seen = list(pool.map(self._server_state, self._as))
        guests = {
            g: GuestState(name=g, state="running", server=s.name, ha=False) for s in seen for g in s.guests
        }
        return PoolState(
            time_ms=self.now_ms(),
            release=self.release,
            ha_enabled=True,
            master=None,
            servers={s.name: s for s in seen},
            guests=guests,
        )

    def _server_state(self, name: str) -> ServerState:
        host = self._host(name)
        if not host.connected:  # a session lost since adoption: log in again, or say why not
            self._guard(name, host.connect)
        node = self._node_number(name)
        try:
            found = self._guard(name, partial(running_guests, host))
        except XmListError:
            found = None
        return ServerState(
            name=name,
            state="running",
            node=node,
            roles=(),
            guests=tuple(d.name for d in found or ()),
            free_memory_mb=0,
        )

    def _node_number(self, server: str) -> int:
        """The server's own node number in its cluster.conf (-1 where it names no such node)."""
        entry, fs = self._entry(server), self._files(server)
        text = self._guard(server, lambda: fs.read_text(CLUSTER_CONF))
        if text is None:
            return -1
        try:
            conf = parse_cluster_conf(text)
        except ConfigSyntaxError:
            return -1
        wanted = {entry.name, entry.fqdn or entry.name}
        return next((n.number for n in conf.nodes if n.name in wanted or n.name.split(".")[0] in wanted), -1)

    # ---- time and evidence ---------------------------------------------------------------------
    def now_ms(self) -> int:
        return int((time.monotonic() - self._start) * 1000)

    def advance(self, ms: int) -> None:
        """Real time passes on a real pool."""
        time.sleep(max(0, ms) / 1000)

    def timeline(self) -> list[TimelineEvent]:
        return list(self._timeline)

    def _mark(self, kind: EventKind, server: str | None, detail: str) -> None:
        self._timeline.append(TimelineEvent(self.now_ms(), kind, server, detail=redact(detail)))

    def close(self) -> None:
        """The sessions stay open for the next scenario (closed when the process ends)."""
        self._hosts.clear()
        self._fs.clear()
