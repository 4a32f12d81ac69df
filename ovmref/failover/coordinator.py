"""The server pool master's HA logic: restart, power-off queue, planned shutdown, migration.

Runs inside the agent that holds the master role. It reacts to membership
changes from the master's own heartbeat view, to agents' reports and to
Manager requests, and answers with effects: commands to agents (Send),
persistence of the pool database, Manager replies and timeline records.
Restarts are issued only after the disk heartbeat declared a server dead.
Each guest record keeps the incarnations that hold or may hold its lease
(the server it ran on, and every server a start was sent to since), and a
restart may take the lease over only from those of them judged dead: so a
guest whose restart was in flight to a server that died too is re-planned
and starts, whichever of the two took its lease, and a guest can never be
started while a live incarnation holds it. Servers that die at one instant
are handled as one set: none of them is chosen as a target for another's
guests.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping

from ovmref import effects as fx
from ovmref.failover import messages as msg
from ovmref.failover import requests as rq
from ovmref.failover.placement import choose_server
from ovmref.failover.pooldb import GuestRecord, PoolDB, ServerRecord
from ovmref.lease import Incarnation
from ovmref.release import Release
from ovmref.states.guest import move

_ACTIVE_GUEST = ("running", "starting", "migrating")


class Coordinator:
    """HA decisions of the server pool master over its pool database."""

    def __init__(self, db: PoolDB, me: str, reachable: Callable[[], Collection[str]] | None = None) -> None:
        self.db = db
        self.me = me
        self.live: set[str] = set()
        # the servers this master can send commands to now (its o2net connections); None: all
        self._reachable = reachable
        self._out: list[fx.Effect] = []
        self._dirty = False
        self._start_age: dict[str, int] = {}  # resync periods a guest has been starting

    # ---- entry points (each returns the effects to carry out) ---------------------------
    def become_master(
        self,
        live: Iterable[str],
        *,
        view_settled: bool = True,
        generations: Mapping[str, int] | None = None,
    ) -> list[fx.Effect]:
        """Take the role and announce it.

        Servers missing from the heartbeat view count as failed only once the
        view is settled: this server has read the region for longer than the
        dead threshold, so an absent server's slot has been still that long
        (the same judgement o2hb makes). A master that has just booted must
        wait for that (`judge_absent` later), or it would restart guests that
        are running on servers it simply has not seen yet.

        `generations`: the heartbeat generation each live server writes now. One
        that differs from the incarnation that last reported to a master means
        that incarnation is gone (it fenced and rebooted while no master was
        there to see it go), so its guests are restarted, not waited for.
        """
        self.live = set(live) | {self.me}
        self.db.master = self.me
        for rec in self.db.servers.values():
            rec.roles.discard("master")
        self.db.servers[self.me].roles.add("master")
        self._record("master", f"{self.me} is the server pool master")
        for rec in self._members():
            if rec.name != self.me:
                self._send(rec.name, msg.MasterAnnounce(self.db.servers[self.me].node))
        self.db.servers[self.me].state = "active"
        inherited = {g.name: g.server for g in self.db.guests.values() if g.state == "starting"}
        if view_settled:
            self._fail_absent()
        self._fail_replaced(generations or {})
        self._resend_inherited_starts(inherited)
        self._retry_powered_off()
        self._dirty = True
        return self._flush()

    def judge_absent(self, live: Iterable[str]) -> list[fx.Effect]:
        """The heartbeat view has settled: servers still absent from it have failed."""
        self.live = set(live) | {self.me}
        self._fail_absent()
        self._retry_powered_off()
        return self._flush()

    def _fail_absent(self) -> None:
        absent = [r for r in self._members() if r.name not in self.live and r.state in ("active", "draining")]
        self._servers_failed(absent)

    def _fail_replaced(self, generations: Mapping[str, int]) -> None:
        replaced = []
        for rec in self._members():
            now = generations.get(rec.name, 0)
            if rec.name == self.me or not now or not rec.generation or now == rec.generation:
                continue
            if rec.state in ("active", "draining"):
                replaced.append(rec)
        self._servers_failed(replaced)

    def node_up(self, server: str) -> list[fx.Effect]:
        self.live.add(server)
        rec = self.db.servers.get(server)
        if rec is not None and rec.state not in ("deleted",):
            self._send(server, msg.MasterAnnounce(self.db.servers[self.me].node))
        return self._flush()

    def nodes_down(self, servers: Iterable[str]) -> list[fx.Effect]:
        """Servers the heartbeat declared dead at one instant: all leave the live set before any
        of their guests is placed, so none of them becomes the target of another's guests."""
        names = list(servers)
        self.live.difference_update(names)
        self._servers_failed([self.db.servers[n] for n in names if n in self.db.servers])
        self._retry_powered_off()  # a dead holder may have been all that kept a waiting guest off
        return self._flush()

    def node_down(self, server: str) -> list[fx.Effect]:
        return self.nodes_down([server])

    def resync(self) -> list[fx.Effect]:
        """Periodic: every server that heartbeats is asked what it runs (its Hello), so the pool
        database catches up with reports lost on the way (a guest that crashed during a short
        partition, a server that never said Hello), and waiting guests get another chance."""
        me = self.db.servers[self.me].node
        for rec in self._members():
            if rec.name in self.live and rec.state in ("joining", "down", "active") and rec.name != self.me:
                self._send(rec.name, msg.MasterAnnounce(me))
        self._resend_stale_starts()
        self._retry_powered_off()
        return self._flush()

    def _resend_stale_starts(self) -> None:
        """A start command lost on the way (a partition, a master change) is sent again;
        agents treat a repeated command as the same one."""
        starting = {g.name for g in self.db.guests.values() if g.state == "starting"}
        for name in list(self._start_age):
            if name not in starting:
                del self._start_age[name]
        for name in sorted(starting):
            age = self._start_age.get(name, 0) + 1
            self._start_age[name] = age
            g = self.db.guests[name]
            if age >= 2 and g.server is not None and g.server in self.live:
                self._send(g.server, msg.StartGuestCmd(g.name, g.memory_mb, g.vcpus, self._takeover(g)))

    def _resend_inherited_starts(self, inherited: Mapping[str, str | None]) -> None:
        """Starts the previous master had in flight may have died with it, and so may the reports of
        how they went: each one still pending on a live server is sent again at once (the agent
        answers a start it already carried out with its guest's state)."""
        for name, server in sorted(inherited.items()):
            g = self.db.guests[name]
            if g.state == "starting" and g.server == server and server is not None and server in self.live:
                self._send(server, msg.StartGuestCmd(g.name, g.memory_mb, g.vcpus, self._takeover(g)))

    def on_message(self, message: object) -> list[fx.Effect]:
        handler = {
            msg.Hello: self._on_hello,
            msg.GuestRunning: self._on_running,
            msg.GuestStopped: self._on_stopped,
            msg.GuestCrashed: self._on_crashed,
            msg.StartFailed: self._on_start_failed,
            msg.Leaving: self._on_leaving,
        }.get(type(message))
        if handler is not None:
            handler(message)  # type: ignore[operator]
        return self._flush()

    def on_request(self, request_id: int, op: rq.ManagerOp) -> list[fx.Effect]:
        ok, text = self._request(op)
        self._out.append(fx.Reply(request_id, ok, text))
        if ok:
            self._dirty = True
        return self._flush()

    # ---- availability -------------------------------------------------------------------
    def available(self, *, incoming: bool = True) -> list[str]:
        """Servers a guest may be started on or moved to now."""
        out = []
        reachable = set(self._reachable()) | {self.me} if self._reachable is not None else None
        for rec in self.db.servers.values():
            if rec.state != "active" or rec.name not in self.live or rec.maintenance:
                continue
            if reachable is not None and rec.name not in reachable:
                continue  # heartbeating, but cut off from this master: a command would be lost
            if incoming and rec.inbound_lock:
                continue  # 3.x: "HA cannot be used to create or migrate new virtual machines on that server"
            out.append(rec.name)
        return out

    def _place(self, guest: GuestRecord, exclude: str | None = None) -> str | None:
        free = self._free_memory()
        avail = [s for s in self.available() if s != exclude]
        return choose_server(guest, self.db.servers, avail, free)

    def _free_memory(self) -> dict[str, int]:
        used = self.db.used_memory()
        return {n: r.memory_mb - used.get(n, 0) for n, r in self.db.servers.items()}

    # ---- failures -----------------------------------------------------------------------
    def _servers_failed(self, recs: Iterable[ServerRecord]) -> None:
        """Mark every failed server down first, then handle the guests each of them leaves behind."""
        stranded = [rec for rec in recs if self._mark_failed(rec)]
        for rec in stranded:
            self._stranded_guests(rec)

    def _mark_failed(self, rec: ServerRecord) -> bool:
        """Record the failure; whether guests may still be assigned to the server."""
        if rec.state in ("deleted", "shutdown", "down"):
            # a server that was shut down cleanly: its guests were handled while draining
            return rec.state != "down" and not rec.drain_delete
        rec.state = "down"
        self._dirty = True
        self._record("node_down", f"master {self.me} saw {rec.name} dead", server=rec.name)
        return True

    def _stranded_guests(self, rec: ServerRecord) -> None:
        for g in self.db.guests_on(rec.name):
            if g.state not in _ACTIVE_GUEST:
                continue
            # the incarnation it was assigned to is a possible holder, whatever the record lacks
            g.lease_holders |= {(rec.node, rec.generation)}
            if self.db.ha_protected(g):
                self._restart(g)
            else:
                self._set_stopped(g, f"{rec.name} failed; HA not enabled on both pool and guest")

    # ---- leases -------------------------------------------------------------------------
    def _gone(self, incarnation: Incarnation) -> bool:
        """The incarnation can run nothing any more: its server was judged dead (or halted) since,
        or a later boot of it reported in."""
        node, generation = incarnation
        rec = self.db.server_by_node(node)
        if rec is None:
            return True
        return generation != rec.generation or rec.state in ("down", "shutdown", "deleted")

    def _takeover(self, g: GuestRecord) -> frozenset[Incarnation]:
        """The incarnations the guest's lease may be taken from: those that may hold it and are gone."""
        return frozenset(h for h in g.lease_holders if self._gone(h))

    @staticmethod
    def _holds(g: GuestRecord, rec: ServerRecord) -> None:
        """The server reported the guest running: its incarnation holds the lease, and no other."""
        g.lease_holders = frozenset({(rec.node, rec.generation)})

    # ---- restarts -----------------------------------------------------------------------
    def _restart(self, g: GuestRecord) -> None:
        """Restart an HA guest elsewhere, or power it off until a server is available."""
        old = g.server
        g.server = None
        target = self._place(g, exclude=old)
        self._dirty = True
        if target is None:
            move(g, "power_off")
            self._record(
                "guest_powered_off",
                "no preferred or available server with enough resources: powered off until one is",
                guest=g.name,
            )
            return
        g.restarts += 1
        move(g, "restart")
        self._start_on(g, target)
        self._record(
            "restart", f"restarting {g.name} on {target} (was on {old})", guest=g.name, server=target
        )

    def _start_on(self, g: GuestRecord, target: str) -> None:
        """Send the start (the caller moved the record to starting); the target may take the lease
        from here on, so it joins the possible holders."""
        rec = self.db.servers[target]
        g.lease_holders = g.lease_holders | {(rec.node, rec.generation)}
        g.server = target
        self._send(target, msg.StartGuestCmd(g.name, g.memory_mb, g.vcpus, self._takeover(g)))

    def _retry_powered_off(self) -> None:
        """ "Restarted when a server becomes available": retry every waiting HA guest in name order."""
        for g in sorted(self.db.guests.values(), key=lambda x: x.name):
            if g.state != "powered_off":
                continue
            if not self.db.ha_protected(g):
                continue
            target = self._place(g)
            if target is not None:
                g.restarts += 1
                move(g, "start")
                self._start_on(g, target)
                self._record(
                    "restart",
                    f"{g.name} restarted on {target} now that a server is available",
                    guest=g.name,
                    server=target,
                )
                self._dirty = True

    def _set_stopped(self, g: GuestRecord, why: str) -> None:
        g.server = None
        move(g, "stop")
        g.restart_elsewhere = False
        self._dirty = True
        self._record("guest_not_restarted", why, guest=g.name)

    # ---- agent reports ------------------------------------------------------------------
    def _on_hello(self, m: msg.Hello) -> None:
        rec = self.db.server_by_node(m.node)
        if rec is None or rec.state == "deleted":
            return
        rec.generation = m.generation  # an earlier incarnation, if any, is gone from here on
        if m.started and rec.name != self.me:
            self._out.append(fx.Propagate(rec.node))
        if rec.state in ("joining", "down", "shutdown", "active"):
            if rec.state == "shutdown" and not rec.drain_restart:
                return
            rec.state = "active"
            rec.drain_restart = False
        reported = set(m.guests)
        for name in sorted(reported):
            g = self.db.guests.get(name)
            if g is not None:
                self._holds(g, rec)
                if g.server != rec.name or g.state != "running":
                    g.server = rec.name
                    move(g, "report_running")
        for g in self.db.guests_on(rec.name):
            if g.state == "running" and g.name not in reported:
                # the server came back without it (rebooted): it is not running anywhere
                if self.db.ha_protected(g):
                    self._restart(g)
                else:
                    self._set_stopped(g, f"{rec.name} no longer runs it")
        self._dirty = True
        self._retry_powered_off()

    def _on_running(self, m: msg.GuestRunning) -> None:
        g = self.db.guests.get(m.guest)
        rec = self.db.server_by_node(m.node)
        if g is None or rec is None:
            return
        source = g.server if g.state == "migrating" else None
        g.server = rec.name
        move(g, "report_running")
        self._holds(g, rec)
        self._dirty = True
        if source is not None and source != rec.name:
            self._check_drained(self.db.servers[source])

    def _on_stopped(self, m: msg.GuestStopped) -> None:
        g = self.db.guests.get(m.guest)
        rec = self.db.server_by_node(m.node)
        if g is None or rec is None or g.server != rec.name:
            return
        # the agent released the lease; its incarnation stays a possible holder in case that write
        # did not reach the storage (it is only ever taken over once that incarnation is gone)
        if g.restart_elsewhere and self.db.ha_protected(g):
            g.restart_elsewhere = False
            self._restart(g)
        else:
            g.server, g.restart_elsewhere = None, False
            move(g, "stop")
            self._dirty = True
        self._check_drained(rec)
        self._retry_powered_off()

    def _on_crashed(self, m: msg.GuestCrashed) -> None:
        g = self.db.guests.get(m.guest)
        rec = self.db.server_by_node(m.node)
        if g is None or rec is None or g.server != rec.name:
            return
        if self.db.ha_protected(g):
            g.server = None
            # the white paper: "Auto-restart unexpectedly failed individual VMs on other servers";
            # its own server, still up, only when no other server has room for it
            target = self._place(g, exclude=rec.name) or self._place(g)
            if target is None:
                move(g, "power_off")
                self._record("guest_powered_off", "no server available", guest=g.name)
            else:
                g.restarts += 1
                move(g, "restart")
                self._start_on(g, target)
                self._record(
                    "restart",
                    f"{g.name} crashed on {rec.name}; restarting on {target}",
                    guest=g.name,
                    server=target,
                )
        else:
            self._set_stopped(g, "guest crashed; HA not enabled on both pool and guest")
        self._dirty = True
        self._retry_powered_off()

    def _on_start_failed(self, m: msg.StartFailed) -> None:
        g = self.db.guests.get(m.guest)
        rec = self.db.server_by_node(m.node)
        if g is None or rec is None or g.server != rec.name or g.state not in ("starting", "migrating"):
            return
        self._record("start_failed", f"{g.name} could not start on {rec.name}: {m.reason}", guest=g.name)
        starting = g.state == "starting"
        waits = self.db.ha_protected(g)  # an HA guest waits, powered off, for a server that can start it
        g.server = None
        move(g, "power_off" if waits else "stop")
        self._dirty = True
        if starting:
            g.lease_holders -= {(rec.node, rec.generation)}  # it answered without taking the lease
        # the lease names its holder: one that is gone but was not known to hold it (the database
        # was persisted before that start) may be taken over at once
        learned = m.holder is not None and m.holder not in g.lease_holders and self._gone(m.holder)
        if learned and m.holder is not None:
            g.lease_holders |= {m.holder}
            if waits:
                self._retry_powered_off()
        self._check_drained(rec)

    def _on_leaving(self, m: msg.Leaving) -> None:
        rec = self.db.server_by_node(m.node)
        if rec is None or rec.state in ("down", "shutdown", "deleted"):
            return
        self._record(
            "leaving",
            f"{rec.name} shut down from its command line; agent restarts its guests",
            server=rec.name,
        )
        self._drain(rec, migrate=False, restart=m.restart, delete=False)

    # ---- planned operations -------------------------------------------------------------
    def _drain(
        self, rec: ServerRecord, *, migrate: bool, restart: bool, delete: bool, halt: bool = True
    ) -> None:
        if halt:
            rec.state = "draining"
            rec.drain_restart, rec.drain_delete = restart, delete
        for g in self.db.guests_on(rec.name):
            if g.state not in ("running", "starting"):
                continue
            target = self._place(g, exclude=rec.name) if migrate else None
            if target is not None:
                move(g, "migrate")
                self._send(
                    rec.name, msg.MigrateGuestCmd(g.name, self.db.servers[target].node, g.memory_mb, g.vcpus)
                )
                self._record(
                    "migrate",
                    f"migrating {g.name} from {rec.name} to {target}",
                    guest=g.name,
                    server=rec.name,
                )
            else:
                g.restart_elsewhere = self.db.ha_protected(g)
                self._send(rec.name, msg.StopGuestCmd(g.name, f"{rec.name} is shutting down"))
        self._dirty = True
        if halt:
            self._check_drained(rec)

    def _check_drained(self, rec: ServerRecord) -> None:
        if rec.state != "draining":
            return
        if any(g.state in _ACTIVE_GUEST for g in self.db.guests_on(rec.name)):
            return
        restart, delete = rec.drain_restart, rec.drain_delete
        rec.state = "deleted" if delete else "shutdown"
        self._dirty = True
        self._record(
            "halt",
            f"{rec.name} {'deleted' if delete else 'restarting' if restart else 'shut down'}",
            server=rec.name,
        )
        self._send(rec.name, msg.ShutdownCmd(restart=restart and not delete))

    def _request(self, op: rq.ManagerOp) -> tuple[bool, str]:
        db = self.db
        r3 = db.release is Release.R3
        if isinstance(op, rq.SetPoolHA):
            db.ha_enabled = op.enabled
            return True, f"HA {'enabled' if op.enabled else 'disabled'} on pool {db.name}"
        if isinstance(op, rq.CreateGuest):
            if op.name in db.guests:
                return False, f"guest {op.name} already exists"
            unknown = [s for s in op.preferred if s not in db.servers]
            if unknown:
                return False, f"preferred server(s) not in the pool: {', '.join(unknown)}"
            db.guests[op.name] = GuestRecord(op.name, op.memory_mb, op.vcpus, op.ha, op.preferred)
            return True, f"guest {op.name} created"
        if isinstance(op, rq.AddServer):
            if op.name in db.servers and db.servers[op.name].state != "deleted":
                return False, f"server {op.name} already in the pool"
            db.servers[op.name] = ServerRecord(op.name, op.node, op.memory_mb, op.vcpus, set(op.roles))
            return True, f"server {op.name} added"
        guest_ops = (rq.SetGuestHA, rq.StartGuest, rq.StopGuest, rq.MigrateGuest)
        if isinstance(op, guest_ops):
            g = db.guests.get(op.guest)
            if g is None:
                return False, f"no guest named {op.guest}"
            return self._guest_request(op, g, r3)
        server_ops = (rq.ShutdownServer, rq.SetMaintenance, rq.SetInboundLock)
        if isinstance(op, server_ops):
            rec = db.servers.get(op.server)
            if rec is None or rec.state == "deleted":
                return False, f"no server named {op.server} in the pool"
            return self._server_request(op, rec, r3)
        return False, f"unsupported operation {type(op).__name__}"

    def _guest_request(self, op: object, g: GuestRecord, r3: bool) -> tuple[bool, str]:
        if isinstance(op, rq.SetGuestHA):
            g.ha = op.enabled
            return True, f"HA {'enabled' if op.enabled else 'disabled'} on {g.name}"
        if isinstance(op, rq.StartGuest):
            if g.state in _ACTIVE_GUEST:
                return False, f"{g.name} is already {g.state}"
            target = self._place(g)
            if target is None:
                return (
                    False,
                    f"no {'preferred ' if g.preferred else ''}server available with {g.memory_mb} MB free",
                )
            move(g, "start")
            self._start_on(g, target)
            return True, f"starting {g.name} on {target}"
        if isinstance(op, rq.StopGuest):
            if g.state == "powered_off":
                move(g, "stop")
                return True, f"{g.name} will not be restarted"
            if g.state not in ("running", "starting") or g.server is None:
                return False, f"{g.name} is not running"
            g.restart_elsewhere = False
            self._send(g.server, msg.StopGuestCmd(g.name, "stopped from Oracle VM Manager"))
            return True, f"stopping {g.name}"
        assert isinstance(op, rq.MigrateGuest)
        dest = self.db.servers.get(op.target)
        if g.state != "running" or g.server is None:
            return False, f"{g.name} is not running"
        if dest is None or dest.state != "active" or dest.name not in self.live:
            return False, f"{op.target} is not an available server"
        if dest.name == g.server:
            return False, f"{g.name} already runs on {op.target}"
        if r3 and dest.inbound_lock:
            return False, f"{op.target} has the inbound migration lock set: no new virtual machines"
        if dest.maintenance:
            return False, f"{op.target} is in maintenance mode"
        if self._free_memory()[dest.name] < g.memory_mb:
            return False, f"{op.target} lacks {g.memory_mb} MB of free memory"
        move(g, "migrate")
        self._send(g.server, msg.MigrateGuestCmd(g.name, dest.node, g.memory_mb, g.vcpus))
        self._record(
            "migrate", f"migrating {g.name} from {g.server} to {dest.name}", guest=g.name, server=g.server
        )
        return True, f"migrating {g.name} to {op.target}"

    def _server_request(self, op: object, rec: ServerRecord, r3: bool) -> tuple[bool, str]:
        if isinstance(op, rq.ShutdownServer):
            if rec.state in ("down", "shutdown", "draining"):
                return False, f"{rec.name} is {rec.state}"
            ha_running = [
                g.name
                for g in self.db.guests_on(rec.name)
                if g.state in _ACTIVE_GUEST and self.db.ha_protected(g)
            ]
            if r3 and not op.migrate and ha_running:
                return False, (
                    "you must first migrate the running HA-enabled virtual machines "
                    f"({', '.join(ha_running)}) to another Oracle VM Server"
                )
            if rec.name == self.me:
                return False, "hand the server pool master role to another server first"
            self._drain(rec, migrate=op.migrate, restart=op.restart, delete=op.delete)
            verb = "deleting" if op.delete else "restarting" if op.restart else "shutting down"
            return True, f"{verb} {rec.name}"
        if isinstance(op, rq.SetMaintenance):
            if not r3:
                return False, "maintenance mode is an Oracle VM 3 feature"
            rec.maintenance = op.on
            if op.on:
                self._drain(rec, migrate=True, restart=False, delete=False, halt=False)
            else:
                self._retry_powered_off()
            return True, f"{rec.name} maintenance mode {'on' if op.on else 'off'}"
        assert isinstance(op, rq.SetInboundLock)
        if not r3:
            return False, "the inbound migration lock is an Oracle VM 3 feature"
        rec.inbound_lock = op.locked
        if not op.locked:
            self._retry_powered_off()
        return True, f"inbound migration lock {'set' if op.locked else 'cleared'} on {rec.name}"

    # ---- plumbing -----------------------------------------------------------------------
    def _members(self) -> list[ServerRecord]:
        return sorted((r for r in self.db.servers.values() if r.state != "deleted"), key=lambda r: r.node)

    def _send(self, server: str, message: object) -> None:
        self._out.append(fx.Send(self.db.servers[server].node, message))

    def _record(
        self, kind: fx.RecordKind, detail: str, *, guest: str | None = None, server: str | None = None
    ) -> None:
        data = {"server": server} if server else {}
        self._out.append(fx.Record(kind, detail, guest=guest, data=data))

    def _flush(self) -> list[fx.Effect]:
        if self._dirty:
            self._out.append(fx.StorePoolDB(self.db))
            self._dirty = False
        out, self._out = self._out, []
        return out
