"""`--ovm-env ssh`: the feature suite on an existing pool of real Oracle VM Servers, over SSH.

A real pool is not built by the suite: a scenario's "Given a clustered server
pool of 3 servers on NFS shared storage" *adopts* the pool the inventory names
when it has that shape (at least as many servers, that storage), and is
skipped otherwise, saying why. The scenario's server1..serverN are the inventory's
servers in its order; the report's timeline says which is which, and the steps
compare host names through `known_as`, so nothing on a server is renamed.

Everything goes through read-only SSH sessions (strict host keys, allow-listed
reading commands, a timeout on each). `observe()` is the readiness read-out
(environments/ssh/guest_readout.py): each server's guests and free memory (`xm list`, `xm info`),
the guests' HA flags (3.x vm.cfg, else the inventory's `ha:`), the pool's HA (the inventory), and on
3.x, when the inventory names a Manager, its GET-only read-out (environments/manager), read once per
scenario: the pool's HA, the guests' HA and the Server Pool Master. What none of them establishes is
unknown (None), and a step that needs it is skipped through `require`, saying why. What a
scenario would change (a file, a Manager operation, a fault) raises EnvironmentLimitation, so
the scenario is skipped with that reason and never passes. Destructive scenarios are not even
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
from typing import TYPE_CHECKING, Any, TypeVar

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
from environments.ssh.guest_readout import ServerSession, read_pool
from environments.ssh.inventory import (
    Inventory,
    InventoryError,
    ManagerEntry,
    ServerEntry,
    WrongPoolError,
    allows_destructive,
    load_inventory,
)
from environments.ssh.readers import SERVICE, XM, service_states
from environments.ssh.remotefs import SSHHostFS
from ovmref.cluster.clusterconf import CLUSTER_CONF, parse_cluster_conf
from ovmref.cluster.services import SERVICE_ORDER, lock_file
from ovmref.errors import ConfigSyntaxError
from ovmref.host.sysconfig import OVS_RELEASE, parse_ovs_release
from ovmref.release import Release, UnknownReleaseError
from ovmref.timing import O2CBTimings

if TYPE_CHECKING:
    from environments.manager.facts import ManagerFacts, ManagerPool

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
    "roles": "server roles are Oracle VM Manager's records, which the ssh environment does not "
    "read (its Manager read-out gives the Server Pool Master only)",
    "heartbeat": "each server's view of the o2hb heartbeat lives in its kernel; the ssh environment "
    "reads files and init scripts only",
}
NO_MASTER_2X = (
    "the Server Pool Master is Oracle VM Manager 2.x's record, and no file or command of a 2.x server "
    "names it (the ssh environment reads a Manager's REST API on 3.x only)"
)
NO_MASTER_3X = "the Server Pool Master is Oracle VM Manager's record (ServerPool.masterServerId)"

# hosts found unreachable in this process: every later scenario reports them at once, not after
# another connect timeout each (the run goes on and the report names the host and why)
_UNREACHABLE: dict[tuple[str, int], str] = {}
# read-only sessions, kept for the scenarios that follow in this process (a login costs a key
# exchange per server per scenario otherwise); each scenario still reads afresh (its own SSHHostFS)
_SESSIONS: dict[ServerEntry, SSHHost] = {}
# Managers found unusable in this process (unreachable, refusing, no credentials): later scenarios
# say why at once instead of waiting for another timeout each; a Manager that answered is read afresh
_MANAGER_UNUSABLE: dict[ManagerEntry, str] = {}
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
        self._manager: ManagerFacts | str | None = None  # read once a scenario; str: why it said nothing

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
                f"the ssh environment adopts {inv.pool} as it is, and changes no pool's HA setting"
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
        pool_ha, where = self._pool_ha()
        if pool_ha is False:
            raise EnvironmentLimitation(f"the scenario needs an HA pool; {inv.pool} has HA off ({where})")
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
        """Skip the step, saying why, where the read-out does not establish what it needs."""
        for aspect in aspects:
            if aspect in UNOBSERVABLE:
                raise EnvironmentLimitation(UNOBSERVABLE[aspect])
            if aspect == "master" and self._master() is None:
                raise EnvironmentLimitation(self._why_no_master())
            if aspect == "pool-ha":
                known, where = self._pool_ha()
                if known is None:
                    raise EnvironmentLimitation(f"whether HA is on for {self.inventory.pool} is {where}")

    # ---- what the Manager and the inventory say ---------------------------------------------------
    def _manager_facts(self) -> ManagerFacts | str | None:
        """The Manager's read-out, asked once a scenario (None: the inventory names no Manager)."""
        entry = self.inventory.manager
        if entry is None:
            return None
        if self._manager is None:
            from environments.manager.join import manager_facts

            if entry in _MANAGER_UNUSABLE:
                self._manager = _MANAGER_UNUSABLE[entry]
                self._mark("manager", None, f"manager: {self._manager} (found so earlier in this run)")
            else:
                self._manager = manager_facts(
                    entry, self.release, lambda line: self._mark("manager", None, line)
                )
                if isinstance(self._manager, str):
                    _MANAGER_UNUSABLE[entry] = self._manager
        return self._manager

    def _manager_pool(self) -> ManagerPool | None:
        facts = self._manager_facts()
        if facts is None or isinstance(facts, str):
            return None
        return facts.pool_for(self.inventory.pool, [e.name for e in self.inventory.servers])

    def _pool_ha(self) -> tuple[bool | None, str]:
        """Whether the pool has HA on, and where that was read (the Manager wins), or why unknown."""
        pool = self._manager_pool()
        if pool is not None:
            return pool.clustered, f"Oracle VM Manager {self.inventory.manager_host}: ServerPool.clusterId"
        stated = self.inventory.ha.pool if self.inventory.ha is not None else None
        if stated is not None:
            return stated, "the inventory's ha.pool"
        return None, "unknown: the Manager keeps the pool's HA setting; give ha.pool in the inventory"

    def _master(self) -> str | None:
        """The scenario's name of the Server Pool Master, as the Manager says (None: not known)."""
        pool = self._manager_pool()
        if pool is None or pool.master is None:
            return None
        return next((n for n, e in self._as.items() if e.name == pool.master), None)

    def _why_no_master(self) -> str:
        if self.release is not Release.R3:
            return NO_MASTER_2X
        facts = self._manager_facts()
        if facts is None:
            return f"{NO_MASTER_3X}, and the inventory names no manager"
        if isinstance(facts, str):
            return f"{NO_MASTER_3X}: {facts}"
        pool = self._manager_pool()
        if pool is None:
            return f"{NO_MASTER_3X}: the Manager lists no pool {self.inventory.pool!r} or holding its servers"
        return f"{NO_MASTER_3X}: it names {pool.master}, not a server of the inventory"

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
        """The adopted servers with their cluster.conf node numbers, free memory and guests, from the
        readiness read-out (servers asked side by side: `xm list` alone takes a second on a busy
        Oracle VM 2.x), joined with the Manager's facts on 3.x. Unknown HA flags stay None; the
        Server Pool Master is the Manager's (None without it); maintenance and the inbound lock are
        the Manager's or the inventory's `ha:`; other roles and heartbeat views are not observed
        (see `require`)."""
        names = {e.name: n for n, e in self._as.items()}  # inventory name -> scenario name
        with ThreadPoolExecutor(max_workers=min(8, max(1, len(self._as)))) as pool:
            nodes = dict(zip(self._as, pool.map(self._node_number, self._as), strict=True))
            try:
                readout = read_pool(
                    self.inventory.pool,
                    self.release,
                    list(names),
                    self._server_session,
                    self.inventory.ha,
                    map_servers=pool.map,
                )
            except HostUnreachable as exc:  # names the host
                raise EnvironmentBroken(f"a server became unreachable: {exc}") from None
            except CommandRefused as exc:
                raise ReadOnlyViolation(str(exc)) from None
        facts = self._manager_facts()
        if facts is not None:
            from environments.manager.join import joined

            readout = joined(readout, facts)
        master = self._master()
        pool_ha, _ = self._pool_ha()
        guests = {
            g.name: GuestState(
                name=g.name, state="running", server=names[g.server], ha=g.ha, memory_mb=g.memory_mb
            )
            for g in readout.guests
        }
        servers = {
            names[s.name]: ServerState(
                name=names[s.name],
                state="maintenance" if s.maintenance else "running",  # the Manager's, or ha.maintenance
                node=nodes[names[s.name]],
                roles=("master",) if names[s.name] == master else (),
                guests=tuple(g.name for g in readout.guests if g.server == s.name),
                free_memory_mb=s.free_mb or 0,  # 0 where `xm info` was not read (why_unknown says)
                inbound_lock=s.inbound_lock,
            )
            for s in readout.servers
        }
        return PoolState(
            time_ms=self.now_ms(),
            release=self.release,
            ha_enabled=pool_ha,
            master=master,
            servers=servers,
            guests=guests,
        )

    def _server_session(self, name: str) -> ServerSession:
        """The server's read-only session and files (logged in again if the session was lost)."""
        host = self._hosts[name]
        if not host.connected:  # a session lost since adoption: log in again, or say why not
            host.connect()
        return ServerSession(host, self._fs[name])

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
