"""The Oracle VM Agent of one server, sans-IO: cluster stack + guests + (maybe) the master role.

One step function: `handle(now_ms, event) -> effects`. It composes the O2CB
stack (ovmref.cluster.node.ClusterNode: disk and network heartbeat, quorum,
self-fencing), the guests this server runs (each under a lease on shared
storage), and, on the server that holds the master lease, the pool master's
HA coordinator. Every driver (simulator, processes, containers) runs this
same code; only the clock and the I/O differ.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Literal

from ovmref import control as ctl
from ovmref import effects as fx
from ovmref import events as ev
from ovmref.cluster.node import ClusterNode, NodeOutput
from ovmref.failover import messages as msg
from ovmref.failover import requests as rq
from ovmref.failover.coordinator import Coordinator
from ovmref.failover.pooldb import PoolDB
from ovmref.heartbeat.membership import NodeDown, NodeUp
from ovmref.heartbeat.network import Keepalive
from ovmref.lease import ANY_GENERATION, Expect
from ovmref.release import Release
from ovmref.timing import LIVE_THRESHOLD, O2CBTimings

MASTER_LEASE = "master"
SYNC_ITERATIONS = 5  # how often the master re-announces itself to servers that never said Hello
GuestPhase = Literal["booting", "running"]
_COORDINATOR_MESSAGES = (
    msg.Hello,
    msg.GuestRunning,
    msg.GuestStopped,
    msg.GuestCrashed,
    msg.StartFailed,
    msg.Leaving,
)


def guest_lease(guest: str) -> str:
    return f"guest:{guest}"


def _needs_the_domain(request: fx.AcquireLease) -> bool:
    """A request that may take a lock (free, or from dead holders), not one that checks a held one."""
    return not request.context.startswith(("master:verify", "renew:"))


class Agent:
    """ovs-agent on one Oracle VM Server."""

    def __init__(
        self,
        *,
        name: str,
        node: int,
        node_names: Mapping[int, str],
        release: Release,
        timings: O2CBTimings,
        generation: int,
        master_node: int | None,
    ) -> None:
        if generation == 0:
            raise ValueError("generation 0 means 'left the cluster'; use a random non-zero value")
        self.name = name
        self.node = node
        self.node_names = dict(node_names)
        self.release = release
        self.timings = timings
        self.generation = generation
        self.master_node = master_node
        self.cluster = ClusterNode(node, [n for n in node_names if n != node], timings, generation)
        self.guests: dict[str, GuestPhase] = {}
        self.coordinator: Coordinator | None = None
        self.fenced = False
        self.halted = False
        self._leaving = False
        self._pending: dict[str, tuple[int, int]] = {}  # guest -> (memory, vcpus) awaiting a lease
        # guest leases released since the last heartbeat write that succeeded, and whether a write
        # has failed since: a release written while the storage was lost never reached it
        self._unconfirmed_releases: set[str] = set()
        self._storage_suspect = False
        self._started_ms = 0
        self.joined = False  # joined the cluster's lock domain: may take the master role and run guests
        self._peer_gen: dict[int, int] = {}  # generation of each peer's incarnation while it was live
        self._waiting_locks: list[fx.AcquireLease] = []  # lock requests the lock domain cannot master yet
        self._in_domain: dict[int, int] = {}  # peer -> the generation in which it was connected here

    # ---- observation ---------------------------------------------------------------------
    @property
    def is_master(self) -> bool:
        return self.coordinator is not None

    @property
    def db(self) -> PoolDB | None:
        return self.coordinator.db if self.coordinator else None

    def live_servers(self) -> list[str]:
        return [self.node_names[n] for n in sorted(self.cluster.live_nodes) if n in self.node_names]

    # ---- entry points --------------------------------------------------------------------
    def start(self, now_ms: int) -> list[fx.Effect]:
        """The agent (and the o2cb heartbeat under it) starts on a booted server."""
        self._started_ms = now_ms
        return self._run(self._cluster(self.cluster.start(now_ms), now_ms), now_ms)

    def handle(self, now_ms: int, event: ev.Event) -> list[fx.Effect]:
        if self.fenced or self.halted:
            return []
        out = self._handle(now_ms, event)
        if not self.joined and not self.fenced and not self.halted and self._domain_ready(now_ms):
            out += self._join()
        return self._run(out, now_ms)

    def _domain_ready(self, now: int) -> bool:
        """Joined the cluster's lock domain: own heartbeat seen, every live peer seen long enough to
        be live, and a network connection to each of them (a node that reboots into a partition
        sees its peers on disk but cannot reach them, so it cannot mount or run anything)."""
        if now - self._started_ms < (LIVE_THRESHOLD + 1) * self.timings.iteration_ms:
            return False
        live = self.cluster.live_nodes
        return self.node in live and (live - {self.node}) <= self.cluster.connected

    def _join(self) -> list[fx.Effect]:
        self.joined = True
        out: list[fx.Effect] = [fx.Record("joined", f"{self.name} joined the cluster domain")]
        if self.master_node == self.node:
            # the lease may still name this server's previous incarnation (it rebooted): take it back
            out.append(fx.AcquireLease(MASTER_LEASE, self.node, self.generation, (self.node, ANY_GENERATION),
                                       "master:initial"))
        elif self.master_node is not None:
            out.append(fx.Send(self.master_node, self._hello(started=True)))
        return out

    def control(self, now_ms: int, event: ctl.ControlEvent) -> list[fx.Effect]:
        """What the pool's operator did to this server outside the cluster protocol (ovmref.control)."""
        if isinstance(event, ctl.PeerAdded):
            self._add_peer(event.node, event.name)
            return []
        if isinstance(event, ctl.ClusterServicesStopped):
            return self._leave_cluster(now_ms)
        return self._daemon_started(now_ms) if event.running else []

    def _add_peer(self, node: int, name: str) -> None:
        """A server added to the pool: cluster.conf gained a node (propagated by the master)."""
        self.node_names[node] = name
        self.cluster.add_peer(node)

    def _leave_cluster(self, now_ms: int) -> list[fx.Effect]:
        """The cluster services were stopped under the agent (o2cb/ocfs2 stop, ocfs2_hb_ctl -K):
        the guests lose their storage, the node leaves the cluster cleanly; the server stays up."""
        out: list[fx.Effect] = []
        for guest in sorted(self.guests):
            out += [fx.KillGuest(guest, "cluster storage went away"),
                    self._release_guest_lease(guest)]
        self.guests.clear()
        if self.coordinator is not None:
            out.append(fx.ReleaseLease(MASTER_LEASE, self.node, self.generation))
            self.coordinator = None
        out += list(self.cluster.stop(now_ms).effects)
        self.halted = True
        return out

    def _daemon_started(self, now_ms: int) -> list[fx.Effect]:
        """`service ovs-agent start` after a stop: tell the master what runs here."""
        if self.fenced or self.halted or not self.joined:
            return []
        return self._run(self._to_master(self._hello(started=True)), now_ms)

    # ---- dispatch ------------------------------------------------------------------------
    def _handle(self, now: int, event: ev.Event) -> list[fx.Effect]:
        if isinstance(event, ev.TimerFired):
            if event.name.startswith("o2cb."):
                return self._cluster(self.cluster.handle(now, event), now)
            if event.name == "agent.settled":
                return self.coordinator.judge_absent(self.live_servers()) if self.coordinator else []
            if event.name == "agent.sync":
                if self.coordinator is None:
                    return []
                verify = fx.AcquireLease(MASTER_LEASE, self.node, self.generation, None, "master:verify")
                return [self._sync_timer(now), verify, *self.coordinator.resync()]
            if event.name == "agent.leave-timeout" and self._leaving:
                return self._halt(now, restart=self._leave_restart, reason="command-line shutdown")
            return []
        if isinstance(event, ev.SlotWritten):
            return self._confirm_releases(event) + self._cluster(self.cluster.handle(now, event), now)
        if isinstance(event, ev.RegionRead | ev.RegionReadFailed):
            return self._cluster(self.cluster.handle(now, event), now)
        if isinstance(event, ev.Received):
            if isinstance(event.message, Keepalive):
                return self._cluster(self.cluster.handle(now, event), now)
            return self._on_message(now, event.peer, event.message)
        if isinstance(event, ev.LeaseResult):
            return self._on_lease(now, event)
        if isinstance(event, ev.PoolDBLoaded):
            return self._become_master(now, event.db)
        if isinstance(event, ev.GuestBooted):
            if event.guest not in self.guests:
                return []
            self.guests[event.guest] = "running"
            return self._to_master(msg.GuestRunning(event.guest, self.node))
        if isinstance(event, ev.GuestExited):
            if self.guests.pop(event.guest, None) is None:
                return []
            out: list[fx.Effect] = [self._release_guest_lease(event.guest)]
            report = (
                msg.GuestCrashed(event.guest, self.node)
                if event.crashed
                else msg.GuestStopped(event.guest, self.node, "shut down by its operating system")
            )
            return out + self._to_master(report)
        if isinstance(event, ev.Resumed):
            return self._on_resumed(now)
        if isinstance(event, ev.ManagerRequest):
            return self._on_request(event)
        if isinstance(event, ev.LocalShutdown):
            return self._on_local_shutdown(now, event.restart)
        raise TypeError(f"unexpected event {event!r}")

    def _run(self, effects: list[fx.Effect], now: int) -> list[fx.Effect]:
        """Deliver messages addressed to this very server at once; hand the rest to the driver."""
        out: list[fx.Effect] = []
        queue = deque(effects)
        while queue:
            e = queue.popleft()
            if isinstance(e, fx.Send) and e.peer == self.node:
                if self.fenced or self.halted:
                    continue
                queue.extend(self._on_message(now, self.node, e.message))
            else:
                out.append(e)
        return self._through_lock_domain(out)

    # ---- the lock domain -----------------------------------------------------------------
    def unreachable_peers(self) -> frozenset[int]:
        """Members of the lock domain that still heartbeat but have no o2net connection to this server.

        A member is a peer in the incarnation this server was connected to: a peer that fenced and
        rebooted heartbeats again under a new generation, but it has not joined the domain (it
        cannot, while it cannot connect), so it keeps nobody waiting."""
        live = self.cluster.live_nodes - {self.node}
        return frozenset(
            n for n in live - self.cluster.connected
            if self._in_domain.get(n) == self.cluster.peer_generation(n)
        )

    def _note_domain_members(self) -> None:
        """Remember the incarnation of each live peer this server is connected to."""
        for n in (self.cluster.live_nodes & self.cluster.connected) - {self.node}:
            self._in_domain[n] = self.cluster.peer_generation(n)

    def _through_lock_domain(self, effects: list[fx.Effect]) -> list[fx.Effect]:
        """Hold back lock requests while a live peer is unreachable; let them go once none is.

        Taking a lock that is free or that a dead node held needs every node of the
        domain: o2dlm asks each one, and a node it cannot reach but that still
        heartbeats makes it wait for that node's death (dlm_wait_for_node_death),
        that is, until the node fences or the link comes back. So on a split
        neither side takes a lock before the minority is gone, and a server cut off
        from the quorum never takes over the master role just before it fences.
        Checking a lock this server already holds (verify, renew) needs nobody.
        """
        if self.fenced or self.halted:
            self._waiting_locks.clear()
            return effects
        out: list[fx.Effect] = []
        self._note_domain_members()
        unreachable = self.unreachable_peers()
        for e in effects:
            if not (isinstance(e, fx.AcquireLease) and unreachable and _needs_the_domain(e)):
                out.append(e)
            elif e not in self._waiting_locks:  # a start the master sent again waits once
                self._waiting_locks.append(e)
                names = ", ".join(self.node_names.get(n, f"node{n}") for n in sorted(unreachable))
                out.append(fx.Record("lock_wait", f"{self.name} waits for {names} (heartbeating, not "
                                                  f"reachable) before taking the {e.name} lock"))
        if not unreachable and self._waiting_locks:
            out.extend(self._waiting_locks)
            self._waiting_locks.clear()
        return out

    def _cluster(self, output: NodeOutput, now: int) -> list[fx.Effect]:
        out = list(output.effects)
        if any(isinstance(e, fx.Fence) for e in out):
            self._fenced()
            return out
        peers = [c for c in output.membership if c.node != self.node]  # the quorum counts itself
        for change in peers:
            if isinstance(change, NodeUp):
                out += self._node_up(change)
        down = [c for c in peers if isinstance(c, NodeDown)]
        if down:
            out += self._nodes_down(down)
        return out

    # ---- membership ----------------------------------------------------------------------
    def _nodes_down(self, changes: list[NodeDown]) -> list[fx.Effect]:
        """Peers the heartbeat declared dead in one read of the region: one set for the master."""
        if self.coordinator is not None:
            names = [self.node_names.get(c.node, f"node{c.node}") for c in changes]
            return self.coordinator.nodes_down(names)
        out: list[fx.Effect] = []
        for change in changes:
            out += self._peer_down(change)
        return out

    def _peer_down(self, change: NodeDown) -> list[fx.Effect]:
        name = self.node_names.get(change.node, f"node{change.node}")
        out: list[fx.Effect] = []
        if change.node == self.master_node:
            if self.release is Release.R2_1:
                out.append(
                    fx.Record(
                        "ha_failed",
                        f"server pool master {name} failed: HA fails for the pool (Oracle VM 2.1)",
                    )
                )
            else:
                out.append(
                    fx.AcquireLease(
                        MASTER_LEASE,
                        self.node,
                        self.generation,
                        # exactly the incarnation judged dead: a master that rebooted meanwhile keeps it
                        (change.node, self._peer_gen.get(change.node, ANY_GENERATION)),
                        "master:takeover",
                    )
                )
        return out

    def _node_up(self, change: NodeUp) -> list[fx.Effect]:
        self._peer_gen[change.node] = self.cluster.peer_generation(change.node)
        if self.coordinator is None:
            return []
        name = self.node_names.get(change.node)
        return self.coordinator.node_up(name) if name else []

    def _fenced(self) -> None:
        self.fenced = True
        self.coordinator = None
        self.guests.clear()
        self._pending.clear()
        self._waiting_locks.clear()
        self._unconfirmed_releases.clear()

    # ---- master role ---------------------------------------------------------------------
    def _become_master(self, now: int, db: PoolDB) -> list[fx.Effect]:
        if self.coordinator is not None:
            return []
        self.master_node = self.node
        self.coordinator = Coordinator(db, self.name, self._reachable)
        settled_at = self._started_ms + (self.timings.dead_threshold + 1) * self.timings.iteration_ms
        settled = now >= settled_at
        generations = {
            self.node_names[n]: self.cluster.peer_generation(n)
            for n in self.cluster.live_nodes
            if n != self.node and n in self.node_names
        }
        out = self.coordinator.become_master(
            self.live_servers(), view_settled=settled, generations=generations
        )
        out += self.coordinator.on_message(self._hello())
        if not settled:
            out.append(fx.SetTimer("agent.settled", settled_at))
        return [*out, self._sync_timer(now)]

    def _reachable(self) -> list[str]:
        """Peers this server has an o2net connection to: the ones a command can reach now."""
        return [self.node_names[n] for n in self.cluster.connected if n in self.node_names]

    def _sync_timer(self, now: int) -> fx.SetTimer:
        return fx.SetTimer("agent.sync", now + SYNC_ITERATIONS * self.timings.iteration_ms)

    def _on_request(self, event: ev.ManagerRequest) -> list[fx.Effect]:
        if self.coordinator is None:
            return [fx.Reply(event.request_id, False, f"{self.name} is not the server pool master")]
        op = event.request
        owner = self.coordinator.db.manager
        if event.manager is not None and event.manager != owner:
            # white paper, Requirements for HA: "the server pool and associated Oracle VM servers can
            # only be managed by one Oracle VM Manager or one Oracle Enterprise Manager Grid Control
            # exclusively"
            return [fx.Reply(
                event.request_id, False,
                f"{event.manager} cannot manage pool {self.coordinator.db.name}: it is managed by "
                f"{owner} exclusively",
            )]
        if isinstance(op, rq.SetMaster):
            return self._hand_over(event.request_id, op.server)
        return self.coordinator.on_request(event.request_id, op)

    def _hand_over(self, request_id: int, server: str) -> list[fx.Effect]:
        """Change the master without stopping operations: persist, release the lock, pass it on."""
        assert self.coordinator is not None
        db = self.coordinator.db
        rec = db.servers.get(server)
        if rec is None or rec.state != "active" or server not in self.coordinator.live:
            return [fx.Reply(request_id, False, f"{server} is not an available server of the pool")]
        if server == self.name:
            return [fx.Reply(request_id, True, f"{server} already is the server pool master")]
        db.servers[self.name].roles.discard("master")
        db.master = None
        self.coordinator = None
        self.master_node = rec.node
        return [
            fx.StorePoolDB(db),
            fx.ReleaseLease(MASTER_LEASE, self.node, self.generation),
            fx.Send(rec.node, msg.BecomeMaster(self.node)),
            fx.Record("master", f"{self.name} hands the master role to {server}"),
            fx.Reply(request_id, True, f"master role handed to {server}"),
        ]

    def _verified(self, r: ev.LeaseResult) -> list[fx.Effect]:
        """Still holding the master lease: carry on (a rival's own periodic check makes it step
        down); lost it: step down and follow the holder. A check that could not read the lease (the
        storage failed) proves nothing: the lease is still this server's, nobody else can take it
        while this server heartbeats, and if the storage stays lost the heartbeat fences it. Stepping
        down then would leave the pool without a master for good."""
        if r.granted:
            return []
        if r.holder is None:
            return [fx.Record("master_lease_unreadable", f"{self.name} could not check the master lease: "
                              "keeps the master role")]
        self.coordinator = None
        self.master_node = r.holder[0]
        why = f"{self.name} steps down: the master lease is held by node {r.holder[0]}"
        return [fx.Record("master", why), *self._to_master(self._hello())]

    def _release_guest_lease(self, guest: str) -> fx.ReleaseLease:
        self._unconfirmed_releases.add(guest)
        return fx.ReleaseLease(guest_lease(guest), self.node, self.generation)

    def _confirm_releases(self, written: ev.SlotWritten) -> list[fx.Effect]:
        """Write again the guest-lease releases that a loss of the storage may have swallowed.

        A release is written once and answers nothing. Written while the server had lost its
        storage (its heartbeat write failed since the last one that succeeded), it never reached
        the lease, and the guest's lease stays held by this live server: every restart of that
        guest elsewhere then fails on it, and an HA guest stays powered off for good. Once a
        heartbeat write succeeds again, those releases are written again (a release frees a lease
        only if this incarnation still holds it, so writing one twice is harmless).
        """
        if not written.ok:
            self._storage_suspect = True
            return []
        again = [] if not self._storage_suspect else [
            fx.ReleaseLease(guest_lease(g), self.node, self.generation)
            for g in sorted(self._unconfirmed_releases)
            if g not in self.guests and g not in self._pending
        ]
        self._unconfirmed_releases.clear()
        self._storage_suspect = False
        return list(again)

    def _to_master(self, message: object) -> list[fx.Effect]:
        if self.master_node is None:
            return [fx.Record("lost_report", f"no server pool master to tell: {message!r}")]
        return [fx.Send(self.master_node, message)]

    def _hello(self, started: bool = False) -> msg.Hello:
        running = tuple(sorted(g for g, p in self.guests.items() if p == "running"))
        return msg.Hello(self.node, self.generation, running, started)

    # ---- messages ------------------------------------------------------------------------
    def _on_message(self, now: int, peer: int, m: object) -> list[fx.Effect]:
        if isinstance(m, _COORDINATOR_MESSAGES):
            return self.coordinator.on_message(m) if self.coordinator else []
        if isinstance(m, msg.StartGuestCmd):
            return self._start_guest(m.guest, m.memory_mb, m.vcpus, m.expect, "start")
        if isinstance(m, msg.MigrateIn):
            return self._start_guest(m.guest, m.memory_mb, m.vcpus, m.source, "migrate")
        if isinstance(m, msg.StopGuestCmd):
            if self.guests.pop(m.guest, None) is None:
                return self._to_master(msg.GuestStopped(m.guest, self.node, "was not running"))
            return [
                fx.KillGuest(m.guest, m.reason),
                self._release_guest_lease(m.guest),
                *self._to_master(msg.GuestStopped(m.guest, self.node, m.reason)),
            ]
        if isinstance(m, msg.MigrateGuestCmd):
            if self.guests.get(m.guest) != "running":
                return self._to_master(msg.StartFailed(m.guest, self.node, "not running here"))
            del self.guests[m.guest]
            target = self.node_names.get(m.target, str(m.target))
            return [
                fx.KillGuest(m.guest, f"live-migrated to {target}"),
                fx.Send(m.target, msg.MigrateIn(m.guest, m.memory_mb, m.vcpus, (self.node, self.generation))),
            ]
        if isinstance(m, msg.ShutdownCmd):
            return self._halt(now, m.restart, "shut down by the server pool master")
        if isinstance(m, msg.MasterAnnounce):
            if self.coordinator is not None and m.master != self.node:
                # another server claims the role: the master lease decides who keeps it
                return [fx.AcquireLease(MASTER_LEASE, self.node, self.generation, None, "master:verify")]
            self.master_node = m.master
            return self._to_master(self._hello())
        if isinstance(m, msg.BecomeMaster):
            return [
                fx.AcquireLease(
                    MASTER_LEASE, self.node, self.generation, (m.from_node, ANY_GENERATION), "master:handover"
                )
            ]
        return [fx.Record("unknown_message", f"from node {peer}: {m!r}")]

    def _start_guest(self, guest: str, memory: int, vcpus: int, expect: Expect, how: str) -> list[fx.Effect]:
        if guest in self.guests:
            return (
                self._to_master(msg.GuestRunning(guest, self.node)) if self.guests[guest] == "running" else []
            )
        if self._leaving:
            return self._to_master(msg.StartFailed(guest, self.node, "server is shutting down"))
        if not self.joined:
            return self._to_master(msg.StartFailed(guest, self.node, "not yet joined to the cluster domain"))
        self._pending[guest] = (memory, vcpus)
        return [fx.AcquireLease(guest_lease(guest), self.node, self.generation, expect, f"{how}:{guest}")]

    def _on_lease(self, now: int, r: ev.LeaseResult) -> list[fx.Effect]:
        kind, _, guest = r.context.partition(":")
        if kind == "master":
            if r.context == "master:verify":
                return self._verified(r)
            if r.granted:
                # who got the lock first is who the pool's next master must be: recorded for the checks
                return [fx.Record("master_lock", f"{self.name} acquired the master lock ({r.context})"),
                        fx.LoadPoolDB()]
            if r.holder is not None:
                self.master_node = r.holder[0]
            return []
        if kind == "renew":
            if r.granted or guest not in self.guests:
                return []
            del self.guests[guest]
            return [fx.KillGuest(guest, f"lease lost to node {r.holder[0] if r.holder else '?'}")]
        size = self._pending.pop(guest, None)
        if size is None:
            return []
        if not r.granted:
            holder = self.node_names.get(r.holder[0], "?") if r.holder else "?"
            return self._to_master(msg.StartFailed(guest, self.node, f"lease held by {holder}", r.holder))
        self.guests[guest] = "booting"
        return [fx.BootGuest(guest, size[0], size[1], migrated=(kind == "migrate"))]

    # ---- hang, shutdown ------------------------------------------------------------------
    def _on_resumed(self, now: int) -> list[fx.Effect]:
        """Back from a hang: the cluster stack fences first if its write deadline passed."""
        out = self._cluster(self.cluster.resumed(now), now)
        if self.fenced:
            return out
        for guest in sorted(self.guests):
            out.append(
                fx.AcquireLease(guest_lease(guest), self.node, self.generation, None, f"renew:{guest}")
            )
        return out

    _leave_restart = False

    def _on_local_shutdown(self, now: int, restart: bool) -> list[fx.Effect]:
        """`shutdown`/`reboot` on the command line: the agent has its guests restarted elsewhere."""
        self._leaving, self._leave_restart = True, restart
        grace = now + 10 * self.timings.iteration_ms + self.timings.guest_boot_ms
        out: list[fx.Effect] = [fx.SetTimer("agent.leave-timeout", grace)]
        if self.coordinator is not None and len(self.coordinator.available()) <= 1:
            return out + self._halt(now, restart, "command-line shutdown of the last server")
        if self.coordinator is not None:
            # the master itself is leaving: its guests first, then the role goes by lock
            return out + self.coordinator.on_message(msg.Leaving(self.node, restart))
        return out + self._to_master(msg.Leaving(self.node, restart))

    def _halt(self, now: int, restart: bool, reason: str) -> list[fx.Effect]:
        out: list[fx.Effect] = []
        for guest in sorted(self.guests):
            out += [
                fx.KillGuest(guest, reason),
                self._release_guest_lease(guest),
            ]
        self.guests.clear()
        if self.coordinator is not None:
            out.append(fx.ReleaseLease(MASTER_LEASE, self.node, self.generation))
            self.coordinator = None
        out += list(self.cluster.stop(now).effects)
        out.append(fx.CancelTimer("agent.leave-timeout"))
        out.append(fx.Halt(restart, reason))
        self.halted = True
        return out
