"""`sim`: a deterministic, seeded discrete-event simulation of a server pool.

Runs the very same ovmref agents in-process against virtual time: each
agent's effects are carried out on simulated shared storage, a simulated
network with partitions and in-memory server filesystems; their results come
back as events at the right virtual instants. A 60 s heartbeat threshold
costs milliseconds, and the same seed gives the same run, event for event.
"""

from __future__ import annotations

import copy
import os
import random
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from environments.agentpool import ServerView, build_problem, initial_pooldb, master_to_expect, pool_state
from environments.base import EnvironmentLimitation
from environments.hostsetup import PoolHostSetup
from environments.managed import ManagedPoolDriver
from environments.model import (
    CommandResult,
    EventKind,
    FaultKind,
    InjectedFault,
    OpResult,
    PoolSpec,
    PoolState,
    ServerSpec,
    TimelineEvent,
)
from environments.sim.host import SimHost
from environments.sim.network import SimNetwork
from environments.sim.scheduler import Scheduler
from environments.sim.storage import SimSharedStorage
from ovmref import control as ctl
from ovmref import effects as fx
from ovmref import events as ev
from ovmref.agent import Agent
from ovmref.failover import requests as rq
from ovmref.heartbeat.network import Keepalive
from ovmref.release import Release
from ovmref.states.power import AWAITING_STORAGE, OFF, PowerEvent
from ovmref.timing import O2CBTimings

IO_MS = 1  # latency of a storage operation
CONFIGURED_POOLS = 64  # pools whose configured files are kept for the next build of the same pool
MIGRATION_MS = 200  # a live-migrated guest resumes on the target after this long
COMMAND_MS = 100  # virtual time a host command takes


def _no_clock() -> int:
    return 0


#: (release, spec) -> the host setup just after the documented configuration, and the timeline it
#: made (all at 0 ms: no pool database yet, so commands take no time). Building a pool runs ~50
#: Oracle VM commands on in-memory files; a campaign builds the same few pools thousands of times.
#: The cache assumes ovmref does not change within a process: code that patches ovmref (mutants,
#: defects) calls forget_configured_pools() around its patch, and OVM_SIM_REUSE_POOLS=0 turns the
#: cache off for a whole process (mutmut forks its mutants from a process that built pools clean).
_CONFIGURED: dict[tuple[Release, PoolSpec], tuple[PoolHostSetup, list[TimelineEvent]]] = {}
REUSE_VARIABLE = "OVM_SIM_REUSE_POOLS"


def forget_configured_pools() -> None:
    """Drop every remembered configured pool: the next build of each runs its commands again."""
    _CONFIGURED.clear()


def _reuse_configured() -> bool:
    return os.environ.get(REUSE_VARIABLE, "1") != "0"


def _remember_configured(
    key: tuple[Release, PoolSpec], setup: PoolHostSetup, marks: list[TimelineEvent]
) -> None:
    if not _reuse_configured():
        return
    if len(_CONFIGURED) >= CONFIGURED_POOLS:
        _CONFIGURED.pop(next(iter(_CONFIGURED)))
    clock, setup.now_ms = setup.now_ms, _no_clock  # the copy must not keep this driver alive
    try:
        _CONFIGURED[key] = copy.deepcopy((setup, list(marks)))
    finally:
        setup.now_ms = clock


class SimDriver(ManagedPoolDriver):
    name = "sim"
    capabilities = frozenset({"destructive", "faults", "host-commands", "manager"})

    def __init__(
        self,
        release: Release,
        seed: int,
        timings: O2CBTimings | None = None,
        record_heartbeats: bool = True,
        **_options: Any,
    ) -> None:
        super().__init__(release, seed, timings)
        self.rng = random.Random(seed)
        self.clock = Scheduler()
        self.net = SimNetwork()
        self.storage = SimSharedStorage()
        self.hosts: dict[str, SimHost] = {}
        self._by_node: dict[int, SimHost] = {}
        self.spec: PoolSpec | None = None
        self.setup: PoolHostSetup | None = None
        self.record_heartbeats = record_heartbeats
        self._timeline: list[TimelineEvent] = []
        self._replies: dict[int, tuple[bool, str]] = {}
        self._request_ids = 0

    # =============================================================================== build
    def build_pool(self, spec: PoolSpec) -> OpResult:
        problem = build_problem(self.spec, spec)
        if problem is not None:
            return problem
        self.spec = spec
        configured = _CONFIGURED.get((self.release, spec)) if spec.clustered and _reuse_configured() else None
        if configured is not None:
            # the same pool was configured before: the same files, the same commands on the timeline
            self.setup, marks = copy.deepcopy(configured)
            self._timeline.extend(marks)
        else:
            self.setup = PoolHostSetup(self.release, spec, _no_clock)
        self.setup.now_ms = lambda: self.clock.now_ms
        for node, server in enumerate(spec.servers):
            self.hosts[server.name] = SimHost(server, node, self.setup.install(server, node))
        if spec.clustered and configured is None:
            result = self.setup.configure_cluster(self.run)
            if not result.ok:
                return result
            _remember_configured((self.release, spec), self.setup, self._timeline)
        self.storage.store_pooldb(initial_pooldb(spec, self._nodes(), self.release))
        if not spec.clustered:
            # an unclustered pool has servers but no cluster, so no agent joins and no HA is possible
            return (
                self.enable_pool_ha()
                if spec.ha_enabled
                else OpResult(
                    True, f"unclustered pool {spec.name} of {len(spec.servers)} servers (no cluster: no HA)"
                )
            )
        for host in self.hosts.values():
            self._boot(host)
        formed = self.wait_until(self._pool_formed, 30 * self.timings.iteration_ms + 10_000)
        if not formed:
            return OpResult(False, "the cluster did not form: " + self._formation_problem())
        if spec.ha_enabled:
            return self.enable_pool_ha()
        return OpResult(True, f"pool {spec.name} of {len(spec.servers)} servers formed")

    def _pool_formed(self, state: PoolState) -> bool:
        if state.master is None:
            return False
        db = self.storage.peek_pooldb()
        if db is None:
            return False
        expected = {h.name for h in self.hosts.values() if h.agent is not None}
        active = {r.name for r in db.servers.values() if r.state == "active"}
        master = self.hosts[state.master].agent
        live = set(master.live_servers()) if master else set()
        return expected <= active and expected <= live

    def _formation_problem(self) -> str:
        missing = [h.name for h in self.hosts.values() if h.agent is None]
        if missing:
            return f"the agent is not running on {', '.join(missing)} (services or heartbeat region missing)"
        return "no server pool master was elected"

    def add_server(self, spec: ServerSpec) -> OpResult:
        if self.spec is None or self.setup is None:
            return OpResult(False, "build the pool first")
        if spec.name in self.hosts:
            return OpResult(False, f"{spec.name} is already in the pool")
        node = max(h.node for h in self.hosts.values()) + 1
        host = SimHost(spec, node, self.setup.install(spec, node))
        self.hosts[spec.name] = host
        result = self._manager(rq.AddServer(spec.name, node, spec.memory_mb, spec.vcpus, spec.roles))
        if not result.ok:
            del self.hosts[spec.name]
            self._by_node = {}
            return result
        joined = self.setup.join_server(spec.name, self.run)
        if not joined.ok:
            return joined
        for other in self.hosts.values():
            if other.agent is not None and other is not host:
                added = ctl.PeerAdded(node, spec.name)
                self._execute(other, other.agent.control(self.clock.now_ms, added))
        self._boot(host)
        ok = self.wait_until(
            lambda s: s.servers.get(spec.name) is not None and self._is_active(spec.name),
            30 * self.timings.iteration_ms,
        )
        return OpResult(ok, f"{spec.name} {'joined' if ok else 'did not join'} the pool")

    def _is_active(self, server: str) -> bool:
        db = self.storage.peek_pooldb()
        return bool(db and server in db.servers and db.servers[server].state == "active")

    def _nodes(self) -> dict[str, int]:
        return {h.name: h.node for h in self.hosts.values()}

    def _master_host(self) -> SimHost | None:
        for host in self.hosts.values():
            if host.agent is not None and host.agent.is_master and host.answers_rpc:
                return host
        return None

    def request_from_manager(self, manager: str, op: rq.ManagerOp) -> OpResult:
        return self._manager(op, manager)

    def _manager(self, op: rq.ManagerOp, manager: str | None = None) -> OpResult:
        """Oracle VM Manager talks to the server pool master's agent (`manager`: another one)."""
        host = self._master_host()
        if host is None or host.agent is None:
            return OpResult(False, "no server pool master is reachable: the pool cannot be managed")
        self._request_ids += 1
        rid = self._request_ids
        self._deliver_now(host, ev.ManagerRequest(rid, op, manager))
        ok, message = self._replies.pop(rid, (False, "the server pool master did not answer"))
        return OpResult(ok, message)

    # ===================================================================== host-level operations
    def _running_agent(self, server: str) -> bool:
        host = self._host(server)
        return host.executing and host.agent is not None

    def _local_shutdown(self, server: str, restart: bool) -> None:
        self._deliver_now(self._host(server), ev.LocalShutdown(restart))

    def run(self, server: str, argv: Sequence[str]) -> CommandResult:
        host = self._host(server)
        assert self.setup is not None
        if host.power.state not in ("running", "hung"):
            raise EnvironmentLimitation(f"{server} is {host.state}: cannot run {' '.join(argv)}")
        result = self.setup.run_tool(host, list(argv))
        self._mark("command", server, detail=f"{' '.join(argv)} -> rc {result.rc}")
        self._reconcile_services(host)
        if self.storage.peek_pooldb() is not None:
            self.advance(COMMAND_MS)  # a command takes a moment; what it triggers on the network settles
        return result

    def read_file(self, server: str, path: str) -> str | None:
        return self._host(server).fs.read_text(path)

    def write_file(self, server: str, path: str, text: str) -> None:
        self._host(server).fs.write_text(path, text)

    def _reconcile_services(self, host: SimHost) -> None:
        """The cluster stack runs while o2cb has a heartbeat region; the agent daemon while ovs-agent runs."""
        assert self.setup is not None
        if not host.up or self.spec is None:
            return
        if self.storage.peek_pooldb() is None:
            return  # the pool is still being configured; agents start at the end of build_pool
        heartbeat = self.setup.heartbeat_active(host)
        daemon = self.setup.agent_service_running(host)
        if host.agent is None:
            host.agent_daemon = daemon
            if heartbeat:
                self._start_agent(host)
            return
        if not heartbeat:
            self._mark("leave", host.name, detail="cluster services stopped: the server leaves the cluster")
            agent = host.agent
            self._execute(host, agent.control(self.clock.now_ms, ctl.ClusterServicesStopped()))
            host.agent = None
            host.timers.clear()
            host.incarnation += 1
            return
        if daemon != host.agent_daemon:
            host.agent_daemon = daemon
            self._execute(host, host.agent.control(self.clock.now_ms, ctl.AgentDaemon(daemon)))

    # ================================================================================= faults
    def inject(self, fault: FaultKind, servers: Sequence[str]) -> int:
        for s in servers:
            self._host(s)
        injected = InjectedFault(fault, tuple(servers))
        if fault == "partition":
            self.net.partition(servers, self.hosts)
            cut = f"network partition: {', '.join(servers)} cut off from the rest"
            self._mark("fault", None, detail=cut, fault=injected)
            for s in servers:
                self._mark("fault", s, detail="partition", fault=injected)
            return self.clock.now_ms
        for s in servers:
            host = self._host(s)
            self._mark("fault", s, detail=fault, fault=injected)
            if fault in ("crash", "master"):
                self._power_off(host, "crash", "crashed")
            elif fault == "hang":
                self._freeze(host)
            elif fault == "storage":
                self.storage.lost.add(s)
            else:
                raise ValueError(f"unknown fault {fault!r}")
        return self.clock.now_ms

    def recover(self, server: str) -> None:
        host = self._host(server)
        self._mark("recover", server)
        if host.name in self.storage.lost:
            self.storage.lost.discard(host.name)
            if host.power.state in AWAITING_STORAGE:
                self._boot(host)
        if host.power.state == "hung":
            self._thaw(host)
        elif host.power.state == "crashed":
            self._boot(host)

    def second_pool_on_the_storage(self, servers: int) -> int:
        """The other pool's servers write their own blocks (their own generations) into slots
        0..servers-1 of the cluster root's region every heartbeat iteration, half an iteration
        after this one began, as o2hb would on a second cluster sharing the device."""
        from ovmref.heartbeat.block import HeartbeatBlock, encode_block

        started = self.clock.now_ms
        self._mark(
            "fault",
            None,
            detail=f"a second server pool of {servers} servers on the same storage",
            fault=InjectedFault("second_pool"),
        )
        sequence = [0]

        def beat() -> None:
            sequence[0] += 1
            for node in range(servers):
                seq = started // 1000 + sequence[0]
                block = HeartbeatBlock(seq, node, 0x5EC0_0000 + node, self.timings.dead_ms)
                self.storage.write_slot(node, encode_block(block))
            self.clock.after(self.timings.iteration_ms, beat)

        self.clock.after(self.timings.iteration_ms // 2, beat)
        return started

    def heal_network(self) -> None:
        self.net.heal()
        self._mark("recover", None, detail="network healed")

    def crash_guest(self, guest: str) -> None:
        for host in self.hosts.values():
            if host.guests.get(guest) == "running" and host.executing:
                del host.guests[guest]
                self._mark("guest_stop", host.name, guest, "guest crashed")
                self._mark("fault", host.name, guest, "guest crash", InjectedFault("guest_crash", (guest,)))
                self._deliver_later(host, IO_MS, ev.GuestExited(guest, crashed=True))
                return
        raise EnvironmentLimitation(f"guest {guest} is not running anywhere")

    def _host(self, server: str) -> SimHost:
        try:
            return self.hosts[server]
        except KeyError:
            raise EnvironmentLimitation(
                f"no server named {server!r} in the pool (servers: {', '.join(self.hosts)})"
            ) from None

    def _power_off(self, host: SimHost, event: PowerEvent, why: str) -> None:
        host.power.fire(event)
        for guest in sorted(host.guests):
            self._mark("guest_stop", host.name, guest, why)
        host.guests.clear()
        host.agent = None
        host.incarnation += 1
        host.timers.clear()
        host.deferred.clear()

    def _freeze(self, host: SimHost) -> None:
        if not host.power.allows("freeze"):
            return  # a server that is off does not hang
        host.power.fire("freeze")
        for guest in host.running_guests():
            self._mark("guest_stop", host.name, guest, "frozen with its hung server")

    def _thaw(self, host: SimHost) -> None:
        host.power.fire("thaw")
        pending, host.deferred = host.deferred, []
        self._deliver_now(host, ev.Resumed())  # an overdue self-fence fires before anything else
        if not host.executing:
            return
        for guest in host.running_guests():
            self._mark("guest_running", host.name, guest, "resumed with its server")
        for event in pending:
            self._deliver_now(host, event)

    def _boot(self, host: SimHost) -> None:
        """Power on: services start in the documented order, then the agent joins the cluster."""
        assert self.setup is not None
        if host.name in self.storage.lost:
            host.power.fire("cluster_root_missing")
            self._mark("reboot", host.name, detail="cannot mount the cluster root: waits for storage")
            return
        rejoin = host.power.state in OFF
        host.power.fire("boot")
        host.incarnation += 1
        host.timers.clear()
        self.setup.boot_services(host)
        if rejoin:
            self._mark("rejoin", host.name)
        host.agent_daemon = self.setup.agent_service_running(host)
        if self.setup.heartbeat_active(host):
            self._start_agent(host)

    def _start_agent(self, host: SimHost) -> None:
        master = master_to_expect(
            self.storage.peek_pooldb(),
            self._nodes(),
            {h.name: h.spec for h in self.hosts.values()},
            any(h.agent and h.agent.is_master for h in self.hosts.values()),
        )
        names = {h.node: h.name for h in self.hosts.values() if h.power.state != "deleted"}
        host.agent = Agent(
            name=host.name,
            node=host.node,
            node_names=names,
            release=self.release,
            timings=self.timings,
            generation=self.rng.getrandbits(63) | 1,
            master_node=master,
        )
        self._execute(host, host.agent.start(self.clock.now_ms))

    # ========================================================================== effect plumbing
    def _deliver_now(self, host: SimHost, event: ev.Event) -> None:
        if host.agent is None:
            return
        if host.power.state == "hung":
            if not isinstance(event, ev.Received | ev.ManagerRequest):
                host.deferred.append(event)
            return
        self._execute(host, host.agent.handle(self.clock.now_ms, event))

    def _deliver_later(self, host: SimHost, delay_ms: int, event: ev.Event) -> None:
        incarnation = host.incarnation

        def deliver() -> None:
            if host.incarnation == incarnation:
                self._deliver_now(host, event)

        self.clock.after(delay_ms, deliver)

    def _execute(self, host: SimHost, effects: list[fx.Effect]) -> None:
        for effect in effects:
            handler = self._handlers.get(type(effect))
            if handler is None:
                raise TypeError(f"the simulator cannot carry out {effect!r}")
            handler(self, host, effect)

    def _fx_set_timer(self, host: SimHost, e: fx.SetTimer) -> None:
        old = host.timers.pop(e.name, None)
        if old is not None:
            Scheduler.cancel(old)
        incarnation = host.incarnation

        def fire() -> None:
            if host.incarnation == incarnation and host.timers.get(e.name) is entry:
                del host.timers[e.name]
                self._deliver_now(host, ev.TimerFired(e.name))

        entry = self.clock.at(e.at_ms, fire)
        host.timers[e.name] = entry

    def _fx_cancel_timer(self, host: SimHost, e: fx.CancelTimer) -> None:
        old = host.timers.pop(e.name, None)
        if old is not None:
            Scheduler.cancel(old)

    def _fx_write_slot(self, host: SimHost, e: fx.WriteSlot) -> None:
        if host.name in self.storage.lost:
            self._deliver_later(host, IO_MS, ev.SlotWritten(False, "EIO: storage path lost"))
            return
        self.storage.write_slot(e.node, e.data)
        if self.record_heartbeats:
            self._mark("heartbeat", host.name)
        self._deliver_later(host, IO_MS, ev.SlotWritten(True))

    def _fx_read_region(self, host: SimHost, e: fx.ReadRegion) -> None:
        if host.name in self.storage.lost:
            self._deliver_later(host, IO_MS, ev.RegionReadFailed("EIO: storage path lost"))
            return
        nodes = sorted(h.node for h in self.hosts.values() if h.power.state != "deleted")
        self._deliver_later(host, IO_MS, ev.RegionRead(self.storage.read_region(nodes)))

    def _fx_send(self, host: SimHost, e: fx.Send) -> None:
        peer = self._host_of_node(e.peer)
        if peer is None or not self.net.reachable(host.name, peer.name):
            return
        if not isinstance(e.message, Keepalive) and not host.agent_daemon:
            return  # the agent daemon is stopped: only the kernel's o2net keepalives go out
        incarnation = peer.incarnation

        def arrive() -> None:
            if peer.incarnation != incarnation:
                return
            if not isinstance(e.message, Keepalive) and not peer.agent_daemon:
                return
            self._deliver_now(peer, ev.Received(host.node, e.message))

        self.clock.after(self.net.latency_ms, arrive)

    def _host_of_node(self, node: int) -> SimHost | None:
        if len(self._by_node) != len(self.hosts):  # a server was added since
            self._by_node = {h.node: h for h in self.hosts.values()}
        return self._by_node.get(node)

    def _fx_fence(self, host: SimHost, e: fx.Fence) -> None:
        self._mark("fence", host.name, detail=e.reason)
        self._power_off(host, "fence", "killed: its server fenced itself")
        self._mark("reboot", host.name, detail=f"rebooting; rejoins in {self.timings.reboot_ms // 1000} s")
        incarnation = host.incarnation

        def reboot() -> None:
            if host.incarnation == incarnation and host.power.state == "fenced":
                self._boot(host)

        self.clock.after(self.timings.reboot_ms, reboot)

    def _fx_boot_guest(self, host: SimHost, e: fx.BootGuest) -> None:
        host.guests[e.guest] = "booting"
        self._mark("guest_start", host.name, e.guest, "live migration" if e.migrated else "boot")
        incarnation = host.incarnation

        def booted() -> None:
            if host.incarnation != incarnation or host.guests.get(e.guest) != "booting":
                return
            if host.power.state == "hung":
                self.clock.after(self.timings.iteration_ms, booted)
                return
            host.guests[e.guest] = "running"
            self._mark("guest_running", host.name, e.guest)
            self._deliver_now(host, ev.GuestBooted(e.guest))

        self.clock.after(MIGRATION_MS if e.migrated else self.timings.guest_boot_ms, booted)

    def _fx_kill_guest(self, host: SimHost, e: fx.KillGuest) -> None:
        if host.guests.pop(e.guest, None) is not None:
            self._mark("guest_stop", host.name, e.guest, e.reason)

    def _fx_acquire_lease(self, host: SimHost, e: fx.AcquireLease) -> None:
        if host.name in self.storage.lost:
            result = ev.LeaseResult(e.name, False, None, 0, e.context)
        else:
            out = self.storage.leases.acquire(e.name, e.node, e.generation, e.expect)
            result = ev.LeaseResult(e.name, out.granted, out.holder, out.token, e.context)
        self._deliver_later(host, IO_MS, result)

    def _fx_release_lease(self, host: SimHost, e: fx.ReleaseLease) -> None:
        if host.name not in self.storage.lost:
            self.storage.leases.release(e.name, e.node, e.generation)

    def _fx_load_pooldb(self, host: SimHost, e: fx.LoadPoolDB) -> None:
        self._deliver_later(host, IO_MS, ev.PoolDBLoaded(self.storage.load_pooldb()))

    def _fx_store_pooldb(self, host: SimHost, e: fx.StorePoolDB) -> None:
        if host.name not in self.storage.lost:
            self.storage.store_pooldb(e.db)

    def _fx_record(self, host: SimHost, e: fx.Record) -> None:
        if e.kind == "fence":
            return  # the Fence effect itself is marked, with the same reason
        server = e.data.get("server", host.name) if e.data else host.name
        self._mark(e.kind, server, e.guest, e.detail)

    def _fx_reply(self, host: SimHost, e: fx.Reply) -> None:
        self._replies[e.request_id] = (e.ok, e.message)

    def _fx_halt(self, host: SimHost, e: fx.Halt) -> None:
        db = self.storage.peek_pooldb()
        deleted = bool(db and host.name in db.servers and db.servers[host.name].state == "deleted")
        self._mark("halt", host.name, detail=e.reason)
        self._power_off(host, "delete" if deleted else "restart" if e.restart else "halt", "server shut down")
        if e.restart and not deleted:
            self._mark("reboot", host.name)
            incarnation = host.incarnation

            def reboot() -> None:
                if host.incarnation == incarnation:
                    self._boot(host)

            self.clock.after(self.timings.reboot_ms, reboot)

    def _fx_propagate(self, host: SimHost, e: fx.Propagate) -> None:
        assert self.setup is not None
        target = self._host_of_node(e.node)
        if target is not None and target.up and \
                self.net.reachable(host.name, target.name):
            self.setup.propagate(host.name, target.name)
            self._mark("propagate", host.name, detail=f"cluster.conf and repositories to {target.name}")

    _handlers: ClassVar[dict[type, Callable[[SimDriver, SimHost, Any], None]]] = {
        fx.SetTimer: _fx_set_timer,
        fx.CancelTimer: _fx_cancel_timer,
        fx.WriteSlot: _fx_write_slot,
        fx.ReadRegion: _fx_read_region,
        fx.Send: _fx_send,
        fx.Fence: _fx_fence,
        fx.BootGuest: _fx_boot_guest,
        fx.KillGuest: _fx_kill_guest,
        fx.AcquireLease: _fx_acquire_lease,
        fx.ReleaseLease: _fx_release_lease,
        fx.LoadPoolDB: _fx_load_pooldb,
        fx.StorePoolDB: _fx_store_pooldb,
        fx.Record: _fx_record,
        fx.Reply: _fx_reply,
        fx.Halt: _fx_halt,
        fx.Propagate: _fx_propagate,
    }

    # ===================================================================== time and observation
    def now_ms(self) -> int:
        return self.clock.now_ms

    def advance(self, ms: int) -> None:
        self.clock.run_until(self.clock.now_ms + max(0, ms))

    def wait_until(self, predicate: Callable[[PoolState], bool], timeout_ms: int, step_ms: int = 250) -> bool:
        """The port's polling loop, at the very same poll instants (now + k * step_ms, and the
        deadline), but without the polls that no event of the simulation precedes: nothing changes
        between two events, so such a poll would see what the poll before it saw. The clock jumps
        to the first poll instant at or after the next scheduled event (the deadline, if none is)."""
        step = max(1, step_ms)
        deadline = self.clock.now_ms + timeout_ms
        while True:
            if predicate(self.observe()):
                return True
            now = self.clock.now_ms
            if now >= deadline:
                return False
            upcoming = self.clock.next_at_ms()
            if upcoming is None or upcoming >= deadline:
                poll = deadline
            else:
                poll = min(deadline, now + max(1, -(-(upcoming - now) // step)) * step)
            self.clock.run_until(poll)

    def _mark(
        self,
        kind: EventKind,
        server: str | None,
        guest: str | None = None,
        detail: str = "",
        fault: InjectedFault | None = None,
    ) -> None:
        self._timeline.append(TimelineEvent(self.clock.now_ms, kind, server, guest, detail, fault))

    def timeline(self) -> list[TimelineEvent]:
        return list(self._timeline)

    def observe(self) -> PoolState:
        master_host = self._master_host()
        where: dict[str, tuple[str, str]] = {}
        for host in self.hosts.values():
            if host.power.state == "hung":
                continue  # its domains are frozen, running or booting: none of them is up
            for guest, phase in host.guests.items():
                where[guest] = (host.name, phase)
        views = [
            ServerView(
                host.spec,
                host.node,
                host.state,
                tuple(host.agent.live_servers()) if host.agent and host.power.state != "hung" else (),
            )
            for host in self.hosts.values()
        ]
        return pool_state(
            self.clock.now_ms,
            self.release,
            self.storage.peek_pooldb(),
            views,
            master_host.name if master_host else None,
            where,
        )
