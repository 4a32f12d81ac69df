"""`local`: every Oracle VM Server of the pool is a real process, in real time.

Each server has its own root directory (its /etc, /proc/mounts, /OVS link,
installed and clustered by Oracle's documented commands run on those files),
and the cluster root is one real directory all servers reach through their
own path, which storage loss breaks. When o2cb has a heartbeat region the
server's agent runs as `environments.local.serverd`: the same sans-IO agent
the simulator runs, writing o2hb blocks into a real mkfs.ocfs2-formatted
heartbeat file, talking TCP on its cluster.conf address inside its own
network namespace, holding leases under an fcntl lock, and running guests as
child processes. Faults are real: SIGKILL, SIGSTOP/SIGCONT, a bridge port
moved away, a storage path broken. This driver is the power switch and the
Manager: it starts, kills and reboots processes and reads what they did.

How a server process is started, reached, signalled and powered off is kept
in small methods (`_launch`, `_control_socket`, `_signal`, `_cut_power`,
`_took_effect`, `_rebooting`, `_storage_target`, `_make_network`): the docker
environment runs the same pool logic with each server in a container reached
over SSH by overriding just those.

Time: the pool runs `time_scale` times faster than the documented timings
(0.01 by default: a 2 s heartbeat iteration takes 20 ms). The driver's clock,
timings and timeline are in pool time, so features read exactly as on the
simulator; processes run on the scaled real timings. What the real machine
adds (timers firing late, slow guest boots, control round trips, the moment a
fault took effect) is measured into a LatencyLedger (environments/latency.py),
and each timing check is granted what was measured, never a fixed allowance.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from environments.agentpool import ServerView, build_problem, initial_pooldb, master_to_expect, pool_state
from environments.base import EnvironmentBroken, EnvironmentLimitation
from environments.hostdir import DirectoryHostFS, DirectoryTree
from environments.hostsetup import PoolHostSetup, server_info
from environments.latency import LAG, LatencyLedger
from environments.local import wire
from environments.local.network import NamespaceNetwork, namespace_support, pid_alive, sweep_stale
from environments.local.serverconfig import (
    CONTROL_NAME,
    EVENTS_NAME,
    EXIT_FENCED,
    EXIT_HALTED,
    EXIT_LEFT,
    EXIT_REBOOT,
    STORAGE_LINK,
    ServerConfig,
)
from environments.local.sharedstore import SharedStore
from environments.managed import ManagedPoolDriver
from environments.model import (
    EVENT_KINDS,
    CommandResult,
    EventKind,
    FaultKind,
    InjectedFault,
    OpResult,
    PoolSpec,
    PoolState,
    ServerSpec,
    TimelineEvent,
    event_kind,
)
from environments.ocfs2file import MIN_SIZE_BYTES, format_heartbeat_file, heartbeat_region_offset
from ovmref import control as ctl
from ovmref.failover import requests as rq
from ovmref.failover.pooldb import PoolDB
from ovmref.host.installed_pool import PoolHostFS, ServerInfo
from ovmref.host.trees import Tree
from ovmref.hostfs import HostFS
from ovmref.release import Release
from ovmref.states.power import (
    AWAITING_STORAGE,
    OFF,
    REBOOTING,
    PoweredServer,
    PowerEvent,
    PowerState,
    server_power,
)
from ovmref.states.table import StateMachine
from ovmref.storage.layout import HEARTBEAT_FILE_NAME
from ovmref.timing import O2CBTimings

DEFAULT_TIME_SCALE = 0.01
O2NET_PORT = 7777  # cluster.conf ip_port in every Oracle example
COMMAND_MS = 100  # pool time a host command is given to take effect (as on the simulator)
MIGRATION_MS = 200  # pool time a live-migrated guest takes to resume on the target
RPC_TIMEOUT_S = 15.0
POLL_S = 0.004  # the supervisor's polling interval (real seconds)
FORMATION_REAL_S = 1.0  # real seconds per server a pool may take to form beyond the pool-time bound
COMMAND_SETTLE_S = 0.03  # real time a command's effects on other servers take to land (messages, files)
STARTUP_TIMEOUT_S = 10.0  # real seconds a server process may take to start (~0.2 s of CPU when idle)
RUN_DIR_PREFIX = "ovm-local-"
AGENT_WRAPPER_VARIABLE = "OVM_TEST_AGENT_WRAPPER"  # tests only: a script patching ovmref, then serverd
_LOST = ".storage-lost"  # what a broken storage path points at (never exists)
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]


def _base_dir() -> Path:
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else Path(tempfile.gettempdir())


class ServerProc(Protocol):
    """A running server process as its supervisor sees it (a local Popen, or one run over SSH)."""

    @property
    def pid(self) -> int: ...

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...


class ControlSocket(Protocol):
    """A connected control stream to one server process (a unix socket, or an SSH channel)."""

    def settimeout(self, timeout: float | None) -> None: ...

    def sendall(self, data: bytes) -> None: ...

    def recv(self, size: int) -> bytes: ...

    def close(self) -> None: ...


class PoolNetwork(Protocol):
    """The network between the pool's servers: where a partition is made and healed."""

    def add_server(self, name: str, ip: str) -> object: ...

    def remove_server(self, name: str) -> None: ...

    def partition(self, side: Iterable[str]) -> None: ...

    #: the monotonic instant (s) the last partition began to cut anything (after its preparations)
    cut_began: float | None

    def heal(self) -> None: ...

    def reachable(self, a: str, b: str) -> bool: ...

    def close(self) -> None: ...


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name).strip("._") or "x"


@dataclass
class LocalHost(PoweredServer):
    spec: ServerSpec
    node: int
    fs: DirectoryHostFS
    dir: Path
    ip: str
    #: moved only through ovmref.states.power's table
    power: StateMachine[PowerState, PowerEvent] = field(default_factory=server_power)
    process: ServerProc | None = None
    incarnation: int = 0
    agent_daemon: bool = True
    #: when the pending reboot is due, while the power state is one of REBOOTING (an instant, which
    #: a state cannot carry: the state says whether a reboot is pending, this says when)
    reboot_at_ms: int = 0
    status: dict[str, Any] | None = None
    events_read: int = 0  # bytes of events.jsonl already read
    running: dict[str, int] = field(default_factory=dict)  # guest -> pid, per the events (this incarnation)
    killed_by_us: bool = False
    agent_started: bool = False  # this launch's agent has recorded agent_start (its control socket is up)
    joined_at: int | None = None  # when this launch's agent joined the cluster domain (and said Hello)
    configured_at: int | None = None  # when the master last asked for its configuration to be copied to it
    master_at: int | None = None  # when this launch's agent last took the master role

    def configured(self, master: LocalHost, now_ms: int, wait_ms: int) -> bool:
        """Nothing the master will copy to it is still coming: the master's configuration reached it
        since it joined (the join's Hello asks for it), or `wait_ms` passed since both its join and
        the master's taking the role (a Hello that reached the master before it held the role was
        dropped: nothing will come of it)."""
        joined, configured = self.joined_at, self.configured_at
        if joined is None:
            return False
        if configured is not None and configured >= joined:
            return True
        return master.master_at is not None and now_ms >= max(joined, master.master_at) + wait_ms

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def has_agent(self) -> bool:
        return self.process is not None

    @property
    def executing(self) -> bool:
        return self.up and self.process is not None


class LocalDriver(ManagedPoolDriver):
    name = "local"
    run_dir_prefix = RUN_DIR_PREFIX
    poll_s = POLL_S  # how often (real seconds) the supervisor looks at its servers while time passes
    formation_real_s = FORMATION_REAL_S
    # False: each agent starts once the ones started before it answer, so a pool's servers join one
    # after the other and the master's propagation to each lands before the pool counts as formed
    agents_start_together = False
    default_time_scale = DEFAULT_TIME_SCALE
    time_scale_variable = "OVM_LOCAL_TIME_SCALE"

    def __init__(
        self,
        release: Release,
        seed: int,
        timings: O2CBTimings | None = None,
        time_scale: float | None = None,
        heartbeat_file_bytes: int = MIN_SIZE_BYTES,
        record_heartbeats: bool = True,
        workdir: str | os.PathLike[str] | None = None,
        **_options: Any,
    ) -> None:
        super().__init__(release, seed, timings)
        scale = (
            time_scale
            if time_scale is not None
            else float(os.environ.get(self.time_scale_variable, self.default_time_scale))
        )
        if not 0 < scale <= 1:
            raise EnvironmentBroken(f"time scale must be in (0, 1], got {scale}")
        self.scale = scale
        self.real_timings = self.timings.scaled(scale)
        self.ledger = LatencyLedger(scale, self.timings.iteration_ms)
        self.heartbeat_file_bytes = heartbeat_file_bytes
        self.record_heartbeats = record_heartbeats
        self.rng = random.Random(seed)
        self.base_ns = time.monotonic_ns()
        sweep_stale_runs(prefix=self.run_dir_prefix)
        base = Path(workdir) if workdir is not None else _base_dir()
        self.run_dir = Path(tempfile.mkdtemp(prefix=f"{self.run_dir_prefix}{os.getpid()}-", dir=base))
        self.run_id = re.sub(r"[^a-z0-9]", "0", self.run_dir.name.rsplit("-", 1)[-1].lower())[:6]
        self.network: PoolNetwork | None = None
        self.network_note = self._make_network()
        self.capabilities = frozenset(
            {"destructive", "faults", "host-commands", "manager"}
            | ({"partition"} if self.network is not None else set())
        )
        self.hosts: dict[str, LocalHost] = {}
        self.spec: PoolSpec | None = None
        self.setup: PoolHostSetup | None = None
        self.volume_dir: Path | None = None
        self.store: SharedStore | None = None
        self._timeline: list[TimelineEvent] = []
        self._instants: list[float] = []  # each event's pool time to the microsecond, to order the timeline
        self._request_ids = 0
        self._closed = False
        self._heartbeat: tuple[str, int] | None = None
        self._last_fault_ms = 0  # (file relative to the volume, slot offset)
        atexit.register(self.close)

    def _make_network(self) -> str:
        """Set self.network (None where partitions cannot be made) and say what carries the pool."""
        reason = namespace_support()
        if reason is not None:
            return f"loopback addresses; partitions unavailable: {reason}"
        sweep_stale()
        self.network = NamespaceNetwork(self.run_id)
        return "network namespaces with veth pairs on a bridge"

    # ============================================================================= clock
    def now_ms(self) -> int:
        return int(self._instant())

    def _instant(self) -> float:
        """The pool's clock, not rounded to the millisecond."""
        return (time.monotonic_ns() - self.base_ns) / 1e6 / self.scale

    def _pool_ms(self, monotonic_s: float) -> int:
        """A time.monotonic() instant on the pool's clock."""
        return int((monotonic_s * 1e9 - self.base_ns) / 1e6 / self.scale)

    def _real_s(self, pool_ms: float) -> float:
        return pool_ms * self.scale / 1000

    def latency(self) -> LatencyLedger:
        return self.ledger

    def advance(self, ms: int) -> None:
        deadline = time.monotonic() + self._real_s(max(0, ms))
        while True:
            self._pump()
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, self.poll_s))

    # ============================================================================= build
    def build_pool(self, spec: PoolSpec) -> OpResult:
        problem = build_problem(self.spec, spec)
        if problem is not None:
            return problem
        self.spec = spec
        self.setup = PoolHostSetup(
            self.release,
            spec,
            self.now_ms,
            make_host=self._make_host,
            make_tree=self._make_tree,
            heartbeat_formatter=self._format_heartbeat_file,
        )
        for node, server in enumerate(spec.servers):
            self._add_host(server, node)
        if spec.clustered:
            result = self.setup.configure_cluster(self.run)
            if not result.ok:
                return result
        root = self.setup.pool.root_volume.tree
        assert isinstance(root, DirectoryTree)
        self.volume_dir = root.root
        self.store = SharedStore(self.volume_dir, HEARTBEAT_FILE_NAME, 0)
        self.store.store_pooldb(
            initial_pooldb(spec, {h.name: h.node for h in self.hosts.values()}, self.release)
        )
        if not spec.clustered:
            return (
                self.enable_pool_ha()
                if spec.ha_enabled
                else OpResult(
                    True, f"unclustered pool {spec.name} of {len(spec.servers)} servers (no cluster: no HA)"
                )
            )
        for host in self.hosts.values():
            self._boot(host)
        self._await_processes(list(self.hosts.values()))
        formed = self.wait_until(self._pool_formed, self._formation_timeout_ms())
        if not formed:
            return OpResult(False, "the cluster did not form: " + self._formation_problem())
        if spec.ha_enabled:
            return self.enable_pool_ha()
        return OpResult(True, f"pool {spec.name} of {len(spec.servers)} servers formed")

    def _formation_timeout_ms(self) -> int:
        """How long (pool time) the servers may take to see each other once their agents run: the
        documented iterations, plus real time per server, since many agents starting at once on a
        small machine take seconds of CPU before their first heartbeats (17 servers, two pools at
        once and a busy core: ~4 s to start and ~10 s to form)."""
        per_server_ms = self.formation_real_s * 1000 / self.scale
        return 30 * self.timings.iteration_ms + 10_000 + int(len(self.hosts) * per_server_ms)

    def _await_processes(self, hosts: list[LocalHost]) -> None:
        """Wait (real time, bounded) until every started server process answers its control socket.

        Starting Python processes costs real time that the time scale does not
        shrink (more so on a busy machine), so the pool's own timeouts start
        counting once the servers are running, as they would on real hardware."""
        deadline = time.monotonic() + STARTUP_TIMEOUT_S * max(1, len(hosts))
        for host in hosts:
            while host.process is not None and self._status(host) is None:
                if time.monotonic() > deadline:
                    raise EnvironmentBroken(f"{host.name}: the server process did not start in time")
                self._pump()
                time.sleep(POLL_S)

    def _make_host(self, info: ServerInfo) -> PoolHostFS:
        root = self.run_dir / "servers" / _safe(info.name) / "root"
        root.mkdir(parents=True, exist_ok=True)
        return DirectoryHostFS(root)

    def _make_tree(self, source: str) -> Tree:
        path = self.run_dir / "storage" / _safe(source.replace(":/", "-").replace("/", "-"))
        path.mkdir(parents=True, exist_ok=True)
        return DirectoryTree(path)

    def _format_heartbeat_file(self, fs: HostFS, path: str) -> None:
        """ovs-makerepo's heartbeat file, made by Debian's mkfs.ocfs2 with Oracle's parameters."""
        real = fs.real_path(path) if isinstance(fs, DirectoryHostFS) else None
        if real is None:
            raise EnvironmentBroken(f"{path}: not on a real directory, cannot run mkfs.ocfs2 on it")
        format_heartbeat_file(real, self.heartbeat_file_bytes)

    def _add_host(self, server: ServerSpec, node: int) -> LocalHost:
        assert self.setup is not None
        fs = self.setup.install(server, node)
        assert isinstance(fs, DirectoryHostFS)
        info = server_info(server, node)
        host = LocalHost(server, node, fs, fs.root.parent, self._address(info, node))
        self.hosts[server.name] = host
        if self.network is not None:
            self.network.add_server(server.name, host.ip)
        return host

    def _address(self, info: ServerInfo, node: int) -> str:
        if self.network is not None:
            return info.ip  # the cluster.conf address, inside the server's own namespace
        # no namespaces: a loopback address per server, unique per driver process and pool
        return f"127.{20 + os.getpid() % 200}.{int(self.run_id, 36) % 250 + 1}.{node + 1}"

    def _pool_formed(self, state: PoolState) -> bool:
        if state.master is None:
            return False
        db = self._db()
        if db is None:
            return False
        expected = {h.name for h in self.hosts.values() if h.has_agent}
        active = {r.name for r in db.servers.values() if r.state == "active"}
        # a server answers the master's announcement before it has joined the cluster domain; its
        # join then asks the master for its configuration, which must land before the pool counts
        # as formed (a busy machine makes that late: a scenario's edit would be copied over)
        master = self.hosts[state.master]
        unconfigured = [
            h.name
            for h in self.hosts.values()
            if h.has_agent
            and h.agent_daemon
            and h is not master
            and not h.configured(master, state.time_ms, 3 * self.timings.iteration_ms)
        ]
        # formed when every server sees every other: in real time the last one to start sees
        # the others an iteration or two after the master has seen it
        return (
            expected <= active
            and not unconfigured
            and all(expected <= set(state.servers[s].live_view) for s in expected)
        )

    def _formation_problem(self) -> str:
        missing = [h.name for h in self.hosts.values() if not h.has_agent]
        if missing:
            return f"the agent is not running on {', '.join(missing)} (services or heartbeat region missing)"
        if _master_of({name: self._status(h) for name, h in self.hosts.items()}) is None:
            return "no server pool master was elected"
        outside = [h.name for h in self.hosts.values() if h.joined_at is None]
        if outside:
            return f"{', '.join(outside)} did not join the cluster domain"
        return "the servers do not all see each other, or the master has not accepted them all"

    def add_server(self, spec: ServerSpec) -> OpResult:
        if self.spec is None or self.setup is None:
            return OpResult(False, "build the pool first")
        if spec.name in self.hosts:
            return OpResult(False, f"{spec.name} is already in the pool")
        node = max(h.node for h in self.hosts.values()) + 1
        host = self._add_host(spec, node)
        result = self._manager(rq.AddServer(spec.name, node, spec.memory_mb, spec.vcpus, spec.roles))
        if not result.ok:
            self._remove_host(host)
            return result
        joined = self.setup.join_server(spec.name, self.run)
        if not joined.ok:
            return joined
        for other in self.hosts.values():
            if other.executing and other is not host:
                self._control(other, ctl.PeerAdded(node, spec.name, (host.ip, O2NET_PORT)))
        self._boot(host)
        self._await_processes([host])
        ok = self.wait_until(
            lambda s: (
                self._is_active(spec.name)
                and all(spec.name in st.live_view for st in s.servers.values() if st.state == "running")
            ),
            30 * self.timings.iteration_ms,
        )
        return OpResult(ok, f"{spec.name} {'joined' if ok else 'did not join'} the pool")

    def _remove_host(self, host: LocalHost) -> None:
        del self.hosts[host.name]
        if self.network is not None:
            self.network.remove_server(host.name)

    def _is_active(self, server: str) -> bool:
        db = self._db()
        return bool(db and server in db.servers and db.servers[server].state == "active")

    def _db(self) -> PoolDB | None:
        if self.store is None:
            return None
        try:
            return self.store.load_pooldb()
        except OSError:
            return None

    # ============================================================================= Manager
    def _incarnation(self, server: str) -> int:
        self._pump()  # an exited server process is reaped first
        return super()._incarnation(server)

    def _master_host(self, started_only: bool = False) -> LocalHost | None:
        """The server whose agent is master. `started_only`: ask only agents that have recorded their
        start (one still starting cannot be master yet, and waiting for it costs real time)."""
        if started_only:
            self._pump()
        master = _master_of(
            {
                name: self._status(h)
                for name, h in self.hosts.items()
                if h.agent_started or not started_only
            }
        )
        return self.hosts[master] if master is not None else None

    def _manager(self, op: rq.ManagerOp) -> OpResult:
        """Oracle VM Manager talks to the server pool master's agent."""
        self._pump()
        host = self._master_host()
        if host is None:
            return OpResult(False, "no server pool master is reachable: the pool cannot be managed")
        self._request_ids += 1
        answer = self._rpc(host, {"op": "manager", "id": self._request_ids, "request": op})
        if answer is None:
            return OpResult(False, "the server pool master did not answer")
        return OpResult(bool(answer.get("ok")), str(answer.get("message", answer.get("error", ""))))

    # ============================================================================= host level
    def _running_agent(self, server: str) -> bool:
        return self._host(server).executing

    def _local_shutdown(self, server: str, restart: bool) -> None:
        self._rpc(self._host(server), {"op": "local_shutdown", "restart": restart})

    def run(self, server: str, argv: Sequence[str]) -> CommandResult:
        host = self._host(server)
        assert self.setup is not None
        if host.power.state not in ("running", "hung"):
            raise EnvironmentLimitation(f"{server} is {host.state}: cannot run {' '.join(argv)}")
        result = self.setup.run_tool(host, list(argv))
        self._mark("command", server, detail=f"{' '.join(argv)} -> rc {result.rc}")
        self._reconcile_services(host)
        if self.store is not None:
            # what the command triggers (an agent's Hello, the master's propagation) needs real time
            self.advance(COMMAND_MS + int(COMMAND_SETTLE_S * 1000 / self.scale))
        return result

    def read_file(self, server: str, path: str) -> str | None:
        self._pump()  # propagations the agents asked for so far land first
        data = self._host(server).fs.read_bytes(path)
        # the heartbeat file is binary: its bytes are shown, not refused
        return None if data is None else data.decode("utf-8", errors="replace")

    def write_file(self, server: str, path: str, text: str) -> None:
        self._pump()  # what the agents asked for before this edit (a propagation) lands before it
        self._host(server).fs.write_text(path, text)

    def _reconcile_services(self, host: LocalHost) -> None:
        """The cluster stack runs while o2cb has a heartbeat region; the agent daemon while ovs-agent runs."""
        assert self.setup is not None
        if not host.up or self.spec is None or self.store is None:
            return
        heartbeat = self.setup.heartbeat_active(host)
        daemon = self.setup.agent_service_running(host)
        if not host.has_agent:
            host.agent_daemon = daemon
            if heartbeat:
                self._start_agent(host)
            return
        if not heartbeat:
            self._control(host, ctl.ClusterServicesStopped())
            self._reap(host, wait=True)
            return
        if daemon != host.agent_daemon:
            self._control(host, ctl.AgentDaemon(daemon))
        host.agent_daemon = daemon

    # ============================================================================= faults
    def inject(self, fault: FaultKind, servers: Sequence[str]) -> int:
        """As the port says; the instant returned is the earliest the fault can have taken effect, and
        how long after it the harness still could not tell is measured (the ledger's `fault`)."""
        for s in servers:
            self._host(s)
        self._pump()
        at = self._inject(fault, servers)
        after = self.now_ms()
        latest = min((self._fault_seen_by(self._host(s), at, after) for s in servers), default=after)
        self.ledger.note("fault", at, max(0, latest - at) * self.scale, ",".join(servers))
        return at

    def _fault_seen_by(self, host: LocalHost, at: int, after: int) -> int:
        """The latest instant the fault can have taken effect on the server: when the call returned."""
        return after

    def _inject(self, fault: FaultKind, servers: Sequence[str]) -> int:
        injected = InjectedFault(fault, tuple(servers))
        if fault == "partition":
            if self.network is None:
                raise EnvironmentLimitation(
                    f"network partition needs network namespaces: {self.network_note}"
                )
            called = self.now_ms()
            self.ledger.exclude(None, ("message",), called)  # what crosses the cut arrives after the heal
            self.network.partition(servers)
            began = self.network.cut_began
            # the partition counts from its first cut: the preparations before it (new bridges, asking
            # Docker which servers run) cut nothing, and would only widen the fault's uncertainty
            at = called if began is None else max(called, self._pool_ms(began))
            cut = f"network partition: {', '.join(servers)} cut off from the rest"
            self._mark("fault", None, detail=cut, at=at, fault=injected)
            for s in servers:
                self._mark("fault", s, detail="partition", at=at, fault=injected)
            return at
        if fault not in ("crash", "master", "hang", "storage"):
            raise ValueError(f"unknown fault {fault!r}")
        at = self.now_ms()
        for s in servers:
            host = self._host(s)
            if fault in ("crash", "master"):
                self._power_off(host, "crash", "crashed", fault=injected)
            elif fault == "hang":
                self._freeze(host, injected)
            else:
                self._break_storage(host)
                self._mark("fault", s, detail=fault, fault=injected)
            at = max(at, self.now_ms() if fault == "storage" else self._last_fault_ms)
        return at

    def recover(self, server: str) -> None:
        host = self._host(server)
        self._pump()
        self._mark("recover", server)
        link = host.dir / STORAGE_LINK
        if link.is_symlink() and os.readlink(link) == _LOST:
            self._link_storage(host)
            if host.power.state in AWAITING_STORAGE:
                self._boot(host)
        if host.power.state == "hung":
            host.power.fire("thaw")
            self._signal(host, signal.SIGCONT)
            self.ledger.include(host.name, self.now_ms())
        elif host.power.state == "crashed":
            self._boot(host)

    def heal_network(self) -> None:
        if self.network is not None:
            self.network.heal()
            self.ledger.include(None, self.now_ms())
        self._mark("recover", None, detail="network healed")

    def crash_guest(self, guest: str) -> None:
        self._pump()
        for host in self.hosts.values():
            status = self._status(host) if host.executing else None
            if status is None:
                continue
            phase_pid = status["guests"].get(guest)
            if phase_pid is not None and phase_pid[0] == "running":
                crash = InjectedFault("guest_crash", (guest,))
                self._mark("fault", host.name, guest, "guest crash", fault=crash)
                self._kill_guest_process(host, int(phase_pid[1]))
                return
        raise EnvironmentLimitation(f"guest {guest} is not running anywhere")

    def _break_storage(self, host: LocalHost) -> None:
        link = host.dir / STORAGE_LINK
        tmp = host.dir / f".{STORAGE_LINK}.tmp"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(_LOST)
        tmp.replace(link)

    def _link_storage(self, host: LocalHost) -> None:
        assert self.volume_dir is not None
        link = host.dir / STORAGE_LINK
        tmp = host.dir / f".{STORAGE_LINK}.tmp"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(self._storage_target(host))
        tmp.replace(link)

    def _storage_target(self, host: LocalHost) -> str:
        """Where the server's storage path leads: the cluster root as the server process sees it."""
        assert self.volume_dir is not None
        return str(self.volume_dir)

    def _storage_lost(self, host: LocalHost) -> bool:
        link = host.dir / STORAGE_LINK
        return link.is_symlink() and os.readlink(link) == _LOST

    def _took_effect(self, host: LocalHost, before: int) -> int:
        """When a fault issued at `before` took effect on the server: a signal, at once."""
        return self.now_ms()

    def _cut_power(self, host: LocalHost) -> None:
        """The server loses power: SIGKILL its process group (the agent and every guest)."""
        if host.process is not None:
            host.killed_by_us = True
            self._signal(host, signal.SIGKILL)

    def _freeze(self, host: LocalHost, fault: InjectedFault) -> None:
        """SIGSTOP the server's process group; the fault and the frozen guests are marked at that instant."""
        before = self.now_ms()
        if host.power.allows("freeze"):  # a server that is off does not hang
            host.power.fire("freeze")
            self._signal(host, signal.SIGSTOP)
        at = self._last_fault_ms = self._took_effect(host, before)
        self.ledger.exclude(host.name, LAG, at)
        self._mark("fault", host.name, detail=fault.kind, at=at, fault=fault)
        self._read_events(host)
        for guest in sorted(host.running):
            self._mark("guest_stop", host.name, guest, "frozen with its hung server", at=at)

    def _power_off(
        self, host: LocalHost, event: PowerEvent, why: str, fault: InjectedFault | None = None
    ) -> None:
        """Pull the plug and mark what died, at that instant."""
        host.power.fire(event)  # an illegal one raises before anything is done
        before = self.now_ms()
        self._cut_power(host)
        at = self._last_fault_ms = self._took_effect(host, before)
        if fault is not None:
            self._mark("fault", host.name, detail=fault.kind, at=at, fault=fault)
        if host.process is not None:
            self._reap(host, wait=True)
        for guest in sorted(host.running):
            self._mark("guest_stop", host.name, guest, why, at=at)
        host.running.clear()
        host.status = None
        host.incarnation += 1

    def _signal(self, host: LocalHost, sig: signal.Signals) -> None:
        """Signal the server's whole process group: the agent and every guest it runs."""
        if host.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(host.process.pid, sig)

    # ============================================================================= processes
    def _boot(self, host: LocalHost) -> None:
        """Power on: services start in the documented order, then the agent joins the cluster."""
        assert self.setup is not None
        if self._storage_lost(host):
            host.power.fire("cluster_root_missing")
            self._mark("reboot", host.name, detail="cannot mount the cluster root: waits for storage")
            return
        rejoin = host.power.state in OFF
        host.power.fire("boot")
        host.incarnation += 1
        self.setup.boot_services(host)
        if rejoin:
            self._mark("rejoin", host.name)
        host.agent_daemon = self.setup.agent_service_running(host)
        if self.setup.heartbeat_active(host):
            self._start_agent(host)

    def _heartbeat_location(self) -> tuple[str, int]:
        """The heartbeat file the agents write into, relative to the cluster root, and slot 0's offset.

        On NFS it is ovs-makerepo's `.server_pool_hb`. An OCFS2 cluster root is a
        block device whose heartbeat system file the kernel writes; here the
        device is a directory, so its heartbeat area is a real OCFS2 volume file
        beside it (`../<volume>.o2hb`), reached through the same storage path."""
        if self._heartbeat is None:
            assert self.volume_dir is not None and self.setup is not None
            if self.setup.pool.root_volume.nfs:
                relative = HEARTBEAT_FILE_NAME
            else:
                relative = f"../{self.volume_dir.name}.o2hb"
                device = self.volume_dir / relative
                if not device.exists():
                    format_heartbeat_file(device, self.heartbeat_file_bytes)
            path = self.volume_dir / relative
            if not path.exists():
                raise EnvironmentBroken(
                    f"{path}: the heartbeat file is missing (ovs-makerepo did not create it)"
                )
            self._heartbeat = (relative, heartbeat_region_offset(path))
        return self._heartbeat

    def _start_agent(self, host: LocalHost) -> None:
        if host.process is not None:  # booted again while its agent ran: the old incarnation is gone
            host.killed_by_us = True
            self._signal(host, signal.SIGKILL)
            self._reap(host, wait=True)
        self._agent_config(host).write(host.dir)
        self._link_storage(host) if not self._storage_lost(host) else None
        (host.dir / CONTROL_NAME).unlink(missing_ok=True)
        host.agent_started = False
        host.joined_at = host.configured_at = host.master_at = None
        host.process = self._launch(host)
        host.status = None
        host.killed_by_us = False
        host.running.clear()

    def _agent_config(self, host: LocalHost) -> ServerConfig:
        """What the server process boots with: its node, peers, timings and heartbeat location."""
        master = master_to_expect(
            self._db(),
            {h.name: h.node for h in self.hosts.values()},
            {h.name: h.spec for h in self.hosts.values()},
            self._master_host(started_only=self.agents_start_together) is not None,
        )
        names = {h.node: h.name for h in self.hosts.values() if h.power.state != "deleted"}
        peers = {
            h.node: (h.ip, O2NET_PORT)
            for h in self.hosts.values()
            if h.power.state != "deleted" and h is not host
        }
        hb_file, hb_offset = self._heartbeat_location()
        return ServerConfig(
            name=host.name,
            node=host.node,
            node_names=names,
            release=self.release,
            timings=self.real_timings,
            generation=self.rng.getrandbits(63) | 1,
            master_node=master,
            listen=(host.ip, O2NET_PORT),
            peers=peers,
            heartbeat_file=hb_file,
            heartbeat_offset=hb_offset,
            base_ns=self.base_ns,
            migration_ms=max(1, int(MIGRATION_MS * self.scale)),
            record_heartbeats=self.record_heartbeats,
            agent_daemon=host.agent_daemon,
        )

    def _agent_program(self) -> Path | None:
        """The test-only agent script OVM_TEST_AGENT_WRAPPER names, if any (None: serverd itself).

        The project's tests run ovmref with a deliberate timing defect this way (tests/defects/):
        such a script patches ovmref and then runs serverd, so the drivers carry no patching code.
        Every agent it starts is marked on the timeline, so no report passes it off as ovmref."""
        named = os.environ.get(AGENT_WRAPPER_VARIABLE)
        if not named:
            return None
        path = Path(named).resolve()
        if not path.is_file():
            raise EnvironmentBroken(f"{AGENT_WRAPPER_VARIABLE}={named}: no such file")
        return path

    def _launch(self, host: LocalHost) -> ServerProc:
        """Start `serverd` on the server's directory, in the server's network namespace."""
        program = self._agent_program()
        entry = ["-m", "environments.local.serverd"] if program is None else [str(program)]
        if program is not None:
            self._mark("agent_wrapper", host.name, detail=f"agent run by {program.name}, not serverd")
        argv = [sys.executable, *entry, str(host.dir)]
        if isinstance(self.network, NamespaceNetwork):
            argv = [*self.network.exec_prefix(host.name), *argv]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_PACKAGE_ROOT), env.get("PYTHONPATH")]))
        log = open(host.dir / "serverd.log", "ab")  # noqa: SIM115 - handed to the child
        try:
            return subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=env,
                start_new_session=True,
                close_fds=True,
            )
        finally:
            log.close()

    def _reap(self, host: LocalHost, wait: bool = False) -> int | None:
        """Collect an exited server process and act on its exit status like its power controller."""
        proc = host.process
        if proc is None:
            return None
        if wait:
            try:
                proc.wait(timeout=RPC_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._signal(host, signal.SIGKILL)
                proc.wait(timeout=RPC_TIMEOUT_S)
        rc = proc.poll()
        if rc is None:
            return None
        self._read_events(host)
        host.process = None
        host.status = None
        if host.killed_by_us:
            return rc
        self._signal_orphans(host, proc.pid)
        if rc == EXIT_LEFT:
            host.incarnation += 1
            host.running.clear()
        elif rc == EXIT_FENCED:
            self._went_down(host, "fence")
            host.reboot_at_ms = self.now_ms() + self.timings.reboot_ms
            self._rebooting(host)
        elif rc in (EXIT_HALTED, EXIT_REBOOT):
            db = self._db()
            deleted = bool(db and host.name in db.servers and db.servers[host.name].state == "deleted")
            restart = rc == EXIT_REBOOT and not deleted
            self._went_down(host, "delete" if deleted else "restart" if restart else "halt")
            if restart:
                self._mark("reboot", host.name)
                host.reboot_at_ms = self.now_ms() + self.timings.reboot_ms
                self._rebooting(host)
        else:
            tail = self._server_log_tail(host)
            self._went_down(host, "crash")
            self._mark("error", host.name, detail=f"server process exited with status {rc}")
            raise EnvironmentBroken(
                f"{host.name}: the server process died unexpectedly (status {rc}):\n{tail}"
            )
        return rc

    def _rebooting(self, host: LocalHost) -> None:
        """The server went down and boots again after the reboot delay (the supervisor boots it)."""

    def _went_down(self, host: LocalHost, event: PowerEvent) -> None:
        host.power.fire(event)
        host.incarnation += 1
        host.running.clear()

    def _signal_orphans(self, host: LocalHost, pgid: int) -> None:
        """Guests left in a dead server's process group die with it (a powered-off server runs nothing)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)

    def _server_log_tail(self, host: LocalHost) -> str:
        """The end of what the server process printed, for an unexpected exit's error."""
        try:
            return (host.dir / "serverd.log").read_text(errors="replace")[-2000:]
        except OSError as exc:
            return f"(no server log: {exc.strerror})"

    def _kill_guest_process(self, host: LocalHost, pid: int) -> None:
        """The guest's domain dies: SIGKILL its process on the server."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)

    def _pump(self) -> None:
        """The supervisor: reap exited servers, power on those whose reboot is due, carry out propagation."""
        if self._closed:
            return
        now = self.now_ms()
        for host in list(self.hosts.values()):
            if host.process is not None and host.process.poll() is not None:
                self._reap(host)
            if host.power.state in REBOOTING and now >= host.reboot_at_ms:
                self._boot(host)
            self._read_events(host)

    def _read_events(self, host: LocalHost) -> None:
        path = host.dir / EVENTS_NAME
        try:
            with open(path, "rb") as fh:
                fh.seek(host.events_read)
                data = fh.read()
        except FileNotFoundError:
            return
        end = data.rfind(b"\n") + 1
        if end == 0:
            return
        host.events_read += end
        for raw in data[:end].splitlines():
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            self._event(host, line)

    def _event(self, host: LocalHost, line: dict[str, Any]) -> None:
        kind, guest = str(line["kind"]), line.get("guest")
        instant = float(line["t"]) / self.scale
        at = int(instant)
        server = line.get("server") or host.name
        if kind == "latency":  # what the server process measured: to the ledger, not the timeline
            self.ledger.note(str(line["source"]), at, float(line["ms"]), server, guest)
            return
        if kind == "propagate_request":
            self._propagate(host, int(line["node"]), at)
            return
        if kind == "agent_start":
            host.agent_started = True
        elif kind == "joined":
            host.joined_at = at
        elif kind == "master" and line.get("server") in (None, host.name):
            host.master_at = at
        if kind == "guest_running" and guest:
            host.running[guest] = int(line.get("pid", 0))
        elif kind == "guest_stop" and guest:
            host.running.pop(guest, None)
        detail = str(line.get("detail", ""))
        if kind in EVENT_KINDS:
            self._add(TimelineEvent(at, event_kind(kind), server, guest, detail), instant)
        else:  # a server process that speaks another vocabulary: shown, not dropped
            self._add(TimelineEvent(at, "error", server, guest, f"unknown event {kind!r}: {detail}"), instant)

    def _propagate(self, source: LocalHost, node: int, at: int) -> None:
        assert self.setup is not None
        target = next((h for h in self.hosts.values() if h.node == node), None)
        if target is None or not target.up:
            return
        if self.network is not None and not self.network.reachable(source.name, target.name):
            return
        self.setup.propagate(source.name, target.name)
        target.configured_at = at
        self._add(
            TimelineEvent(
                at, "propagate", source.name, None, f"cluster.conf and repositories to {target.name}"
            )
        )

    # ============================================================================= control
    def _control(self, host: LocalHost, event: ctl.ControlEvent) -> None:
        """Deliver one of ovmref.control's events to the server's agent, as the simulator does."""
        self._rpc(host, {"op": "control", "event": event})

    def _rpc(self, host: LocalHost, request: dict[str, Any], timeout_s: float = RPC_TIMEOUT_S) -> Any:
        """One request on the server's control socket; None when it cannot be reached in time."""
        if host.process is None or host.power.state == "hung":
            return None
        started = time.monotonic()
        try:
            return self._rpc_once(host, request, started + timeout_s)
        finally:
            self.ledger.note("rpc", self.now_ms(), (time.monotonic() - started) * 1000, host.name)

    def _rpc_once(self, host: LocalHost, request: dict[str, Any], deadline: float) -> Any:
        while True:
            try:
                sock = self._control_socket(host, max(0.05, deadline - time.monotonic()))
                try:
                    sock.sendall(wire.encode(request))
                    reply = b""
                    while not reply.endswith(b"\n"):
                        chunk = sock.recv(65536)
                        if not chunk:
                            break
                        reply += chunk
                finally:
                    sock.close()
                return wire.decode(reply) if reply else None
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() >= deadline or host.process is None or host.process.poll() is not None:
                    return None
                time.sleep(0.005)  # the process is still starting: its socket is not up yet
            except (TimeoutError, OSError) as exc:
                if isinstance(exc, OSError) and exc.errno not in (
                    None,
                    errno.ETIMEDOUT,
                    errno.EPIPE,
                    errno.ECONNRESET,
                ):
                    raise
                return None

    def _control_socket(self, host: LocalHost, timeout_s: float) -> ControlSocket:
        """A connection to the server's control socket; FileNotFoundError or ConnectionRefusedError
        while the process is still starting."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout_s)
            sock.connect(str(host.dir / CONTROL_NAME))
        except BaseException:
            sock.close()
            raise
        return sock

    def _status(self, host: LocalHost) -> dict[str, Any] | None:
        if not host.executing:
            return None
        status = self._rpc(host, {"op": "status"}, timeout_s=2.0)
        if isinstance(status, dict) and "error" not in status:
            host.status = status
            return status
        return None

    def _host(self, server: str) -> LocalHost:
        try:
            return self.hosts[server]
        except KeyError:
            raise EnvironmentLimitation(
                f"no server named {server!r} in the pool (servers: {', '.join(self.hosts)})"
            ) from None

    # ============================================================================= observation
    def _mark(
        self,
        kind: EventKind,
        server: str | None,
        guest: str | None = None,
        detail: str = "",
        at: int | None = None,
        fault: InjectedFault | None = None,
    ) -> None:
        instant = self._instant() if at is None else float(at)
        self._add(TimelineEvent(int(instant), kind, server, guest, detail, fault), instant)

    def _add(self, event: TimelineEvent, instant: float | None = None) -> None:
        self._timeline.append(event)
        self._instants.append(float(event.t_ms) if instant is None else instant)

    def timeline(self) -> list[TimelineEvent]:
        """In time order to the microsecond (the servers' own stamps), so a heartbeat write and a
        peer's read within the same pool millisecond keep the order they happened in."""
        self._pump()
        order = sorted(range(len(self._timeline)), key=lambda i: (self._instants[i], i))
        return [self._timeline[i] for i in order]

    def observe(self) -> PoolState:
        self._pump()
        statuses = {name: self._status(h) for name, h in self.hosts.items()}
        master = _master_of(statuses)
        where = {
            guest: (name, phase)
            for name, status in statuses.items()
            for guest, (phase, _pid) in (status or {}).get("guests", {}).items()
        }
        views = [
            ServerView(h.spec, h.node, h.state, tuple(st["live"]) if (st := statuses[h.name]) else ())
            for h in self.hosts.values()
        ]
        return pool_state(self.now_ms(), self.release, self._db(), views, master, where)

    # ============================================================================= cleanup
    def close(self) -> None:
        """Kill every server and guest, delete the namespaces and the run directory. Idempotent."""
        if self._closed:
            return
        self._closed = True
        for host in self.hosts.values():
            if host.process is not None:
                self._signal(host, signal.SIGCONT)
                self._signal(host, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    host.process.wait(timeout=RPC_TIMEOUT_S)
                host.process = None
        if self.network is not None:
            self.network.close()
        shutil.rmtree(self.run_dir, ignore_errors=True)
        atexit.unregister(self.close)


def sweep_stale_runs(base: Path | None = None, prefix: str = RUN_DIR_PREFIX) -> list[Path]:
    """Remove run directories left by driver processes that no longer exist (a killed test run)."""
    removed = []
    for path in (base or _base_dir()).glob(f"{prefix}*-*"):
        pid_text = path.name[len(prefix) :].split("-", 1)[0]
        if not pid_text.isdigit() or pid_alive(int(pid_text)):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _master_of(statuses: dict[str, dict[str, Any] | None]) -> str | None:
    """The server whose agent holds the master role and answers (its daemon runs, it is not going down)."""
    return next(
        (
            name
            for name, st in statuses.items()
            if st is not None and st["master"] and st["daemon"] and not st["exiting"]
        ),
        None,
    )
