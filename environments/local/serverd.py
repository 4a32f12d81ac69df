"""One Oracle VM Server of a local pool: the ovmref agent as a real process, in real time.

`python -m environments.local.serverd SERVER_DIR` runs the very same sans-IO
Agent the simulator runs, but its effects are carried out for real: timers on
the asyncio clock, heartbeat slots written into the OCFS2 heartbeat file on
the shared cluster root, leases under an fcntl lock there, o2net keepalives
and agent messages over TCP on the node's cluster.conf address, guests as
child processes in this server's process group (a crash kills them with it),
and a fence that kills every guest and exits so the supervisor reboots us.

The driver talks to the process over a unix socket (`control.sock`; in a
container also on a loopback TCP port, which it reaches through SSH) and
reads what happened from `events.jsonl`, one JSON object per line, written as
it happens so a SIGKILL loses nothing that was done. Each line is stamped to the
microsecond, and the process also reports the latency it suffered (`latency`
lines: how late its timers fired, how much longer a guest boot took than
configured), which the driver grants to the timing checks (environments/latency.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, TextIO

from environments.local import wire
from environments.local.guestproc import GuestProcess, die_with_parent
from environments.local.lateness import LatenessMeter
from environments.local.serverconfig import (
    CONTROL_NAME,
    EVENTS_NAME,
    EXIT_CONFIG,
    EXIT_FENCED,
    EXIT_HALTED,
    EXIT_LEFT,
    EXIT_REBOOT,
    STORAGE_LINK,
    ServerConfig,
    ServerConfigError,
)
from environments.local.sharedstore import SharedStore
from environments.local.transport import Transport
from ovmref import control as ctl
from ovmref import effects as fx
from ovmref import events as ev
from ovmref.agent import Agent
from ovmref.heartbeat.network import Keepalive

CONTROL_REPLY_TIMEOUT_S = 10.0
# A real server's o2hb heartbeat is a kernel thread, which ordinary processes do not hold up; here it
# is this process, on a machine it may share with CPU-bound work. Niceness -10 lets it wake up ahead
# of that work (CFS weighs it about ten times a default process); what latency remains is measured
# and granted. Without the privilege to raise it (not root), the process keeps the default.
AGENT_NICENESS = -10


class Guest:
    """A guest domain on this server: a child process, booting until the boot delay passed."""

    def __init__(self, name: str, process: GuestProcess, ordered_s: float) -> None:
        self.name = name
        self.process = process
        self.phase = "booting"
        self.killed = False
        self.ordered_s = ordered_s  # loop time the boot was ordered: its real duration is measured


class ServerProcess:
    def __init__(self, server_dir: Path, config: ServerConfig) -> None:
        self.dir = server_dir
        self.cfg = config
        self.loop = asyncio.get_running_loop()
        self.agent = Agent(
            name=config.name,
            node=config.node,
            node_names=config.node_names,
            release=config.release,
            timings=config.timings,
            generation=config.generation,
            master_node=config.master_node,
        )
        self.store = SharedStore(server_dir / STORAGE_LINK, config.heartbeat_file, config.heartbeat_offset)
        self.daemon = config.agent_daemon
        self.guests: dict[str, Guest] = {}
        self.timers: dict[str, asyncio.TimerHandle] = {}
        self.replies: dict[int, asyncio.Future[tuple[bool, str]]] = {}
        self.exit: asyncio.Future[int] = self.loop.create_future()
        self.events: TextIO = open(server_dir / EVENTS_NAME, "a", buffering=1)  # noqa: SIM115 - lives as long as we do
        # how late timers fire and messages are handled, reported once per heartbeat iteration
        period_s = config.timings.iteration_ms / 1000
        self.lateness = {source: LatenessMeter(period_s) for source in ("timer", "message")}
        self.transport = Transport(
            config.node, config.listen, dict(config.peers), config.timings, self._received
        )

    # ------------------------------------------------------------------------------ clock
    def now_ms(self) -> int:
        """Milliseconds on the pool's clock (shared by every process through CLOCK_MONOTONIC)."""
        return (time.monotonic_ns() - self.cfg.base_ns) // 1_000_000

    def stamp(self) -> float:
        """The pool's clock to the microsecond, for events.jsonl: at scale 0.03 one real millisecond
        is 33 ms of pool time, too coarse to order a heartbeat write against a peer's read."""
        return round((time.monotonic_ns() - self.cfg.base_ns) / 1e6, 3)

    def _loop_time(self, at_ms: int) -> float:
        return (self.cfg.base_ns + at_ms * 1_000_000) / 1e9

    # ------------------------------------------------------------------------------ life
    async def run(self) -> int:
        control = await asyncio.start_unix_server(self._control, path=str(self.dir / CONTROL_NAME))
        loopback = (
            await asyncio.start_server(self._control, "127.0.0.1", self.cfg.control_port)
            if self.cfg.control_port
            else None
        )
        await self.transport.start()
        self.loop.add_signal_handler(signal.SIGCONT, self._resumed)
        self.loop.add_signal_handler(signal.SIGTERM, lambda: self._finish(EXIT_HALTED))
        self.record("agent_start", detail=f"generation {self.cfg.generation}")
        self.execute(self.agent.start(self.now_ms()))
        code = await self.exit
        control.close()
        if loopback is not None:
            loopback.close()
        await self.transport.close()
        return code

    def _finish(self, code: int) -> None:
        for handle in self.timers.values():
            handle.cancel()
        self.timers.clear()
        if not self.exit.done():
            self.exit.set_result(code)

    def _resumed(self) -> None:
        """SIGCONT after a hang: an overdue self-fence fires before anything else happens."""
        self.deliver(ev.Resumed())
        if not self.exit.done():
            for guest in self.guests.values():
                if guest.phase == "running":
                    self.record("guest_running", guest.name, "resumed with its server")

    def record(
        self,
        kind: str,
        guest: str | None = None,
        detail: str = "",
        server: str | None = None,
        at: float | None = None,
        **data: Any,
    ) -> None:
        """One line of events.jsonl, written at once (a SIGKILL loses nothing already done).
        `at`: the instant it happened when that was before now (a heartbeat write's issue)."""
        line = {
            "t": self.stamp() if at is None else at,
            "kind": kind,
            "server": server or self.cfg.name,
            "guest": guest,
        }
        line.update(detail=detail, **data)
        self.events.write(json.dumps(line) + "\n")

    def _report_lateness(self, source: str, late_s: float) -> None:
        worst = self.lateness[source].note(late_s, self.loop.time())
        if worst is not None:
            self.record("latency", source=source, ms=round(worst * 1000, 3))

    # ------------------------------------------------------------------------------ events in
    def deliver(self, event: ev.Event) -> None:
        if self.exit.done():
            return
        self.execute(self.agent.handle(self.now_ms(), event))

    def deliver_soon(self, event: ev.Event) -> None:
        """An I/O completion: delivered from the loop, never re-entrantly from inside an effect."""
        self.loop.call_soon(self.deliver, event)

    def _received(self, peer: int, message: object, late_s: float) -> None:
        self._report_lateness("message", late_s)
        if not isinstance(message, Keepalive) and not self.daemon:
            return  # the agent daemon is stopped: only the kernel's o2net keepalives get through
        self.deliver(ev.Received(peer, message))

    # ------------------------------------------------------------------------------ effects out
    def execute(self, effects: list[fx.Effect]) -> None:
        for effect in effects:
            if self.exit.done():
                return
            self._handlers[type(effect)](self, effect)

    def _set_timer(self, e: fx.SetTimer) -> None:
        old = self.timers.pop(e.name, None)
        if old is not None:
            old.cancel()

        def fire() -> None:
            if self.timers.get(e.name) is handle:
                del self.timers[e.name]
                self._report_lateness("timer", self.loop.time() - handle.when())
                self.deliver(ev.TimerFired(e.name))

        handle = self.loop.call_at(self._loop_time(e.at_ms), fire)
        self.timers[e.name] = handle

    def _cancel_timer(self, e: fx.CancelTimer) -> None:
        old = self.timers.pop(e.name, None)
        if old is not None:
            old.cancel()

    def _write_slot(self, e: fx.WriteSlot) -> None:
        issued = self.stamp()  # a peer's read may see the block from now on, not only from its record
        try:
            self.store.write_slot(e.node, e.data)
        except OSError as exc:
            self.deliver_soon(ev.SlotWritten(False, f"{exc.strerror or exc}: {exc.filename or ''}"))
            return
        if self.cfg.record_heartbeats:
            self.record("heartbeat", at=issued)
        self.deliver_soon(ev.SlotWritten(True))

    def _read_region(self, e: fx.ReadRegion) -> None:
        try:
            slots = self.store.read_region(sorted(self.agent.node_names))
        except OSError as exc:
            self.deliver_soon(ev.RegionReadFailed(f"{exc.strerror or exc}: {exc.filename or ''}"))
            return
        self.deliver_soon(ev.RegionRead(slots))

    def _send(self, e: fx.Send) -> None:
        if not isinstance(e.message, Keepalive) and not self.daemon:
            return
        self.transport.send(e.peer, e.message)

    def _fence(self, e: fx.Fence) -> None:
        self.record("fence", detail=e.reason)
        self._kill_all_guests("killed: its server fenced itself")
        self.record("reboot", detail="rebooting")
        self._finish(EXIT_FENCED)

    def _kill_all_guests(self, why: str) -> None:
        for name in sorted(self.guests):
            self._kill(name, why)

    def _kill(self, name: str, why: str) -> None:
        guest = self.guests.pop(name, None)
        if guest is None:
            return
        guest.killed = True
        with contextlib.suppress(ProcessLookupError):
            guest.process.kill()
        self.record("guest_stop", name, why, pid=guest.process.pid)

    def _boot_guest(self, e: fx.BootGuest) -> None:
        self.loop.create_task(self._run_guest(e, self.loop.time()))

    async def _run_guest(self, e: fx.BootGuest, ordered_s: float) -> None:
        old = self.guests.pop(e.guest, None)
        if old is not None:  # a restart on the same server replaces the old domain
            old.killed = True
            with contextlib.suppress(ProcessLookupError):
                old.process.kill()
        proc = GuestProcess.start(self.loop)
        if self.exit.done():
            proc.kill()
            return
        guest = Guest(e.guest, proc, ordered_s)
        self.guests[e.guest] = guest
        self.record("guest_start", e.guest, "live migration" if e.migrated else "boot", pid=proc.pid)
        delay = self.cfg.migration_ms if e.migrated else self.cfg.timings.guest_boot_ms
        self.loop.call_later(delay / 1000, self._booted, guest, delay / 1000)
        self.loop.create_task(self._watch(guest))

    def _booted(self, guest: Guest, delay_s: float) -> None:
        if self.guests.get(guest.name) is not guest or guest.process.returncode is not None:
            return
        guest.phase = "running"
        self.record("guest_running", guest.name, pid=guest.process.pid)
        # the boot's real duration beyond the configured one: starting the guest's process and the
        # boot timer's own lateness, which the failover checks are granted
        extra_s = max(0.0, self.loop.time() - guest.ordered_s - delay_s)
        self.record("latency", guest.name, source="boot", ms=round(extra_s * 1000, 3))
        self.deliver(ev.GuestBooted(guest.name))

    async def _watch(self, guest: Guest) -> None:
        """A guest process that dies by itself crashed: the agent restarts it (HA) or reports it."""
        await guest.process.wait()
        if guest.killed or self.guests.get(guest.name) is not guest:
            return
        del self.guests[guest.name]
        self.record("guest_stop", guest.name, "guest crashed", pid=guest.process.pid)
        self.deliver(ev.GuestExited(guest.name, crashed=True))

    def _kill_guest(self, e: fx.KillGuest) -> None:
        self._kill(e.guest, e.reason)

    def _acquire_lease(self, e: fx.AcquireLease) -> None:
        try:
            out = self.store.acquire_lease(e.name, e.node, e.generation, e.expect)
            result = ev.LeaseResult(e.name, out.granted, out.holder, out.token, e.context)
        except OSError:
            result = ev.LeaseResult(e.name, False, None, 0, e.context)
        self.deliver_soon(result)

    def _release_lease(self, e: fx.ReleaseLease) -> None:
        with contextlib.suppress(OSError):
            self.store.release_lease(e.name, e.node, e.generation)

    def _load_pooldb(self, e: fx.LoadPoolDB) -> None:
        try:
            db = self.store.load_pooldb()
        except OSError:
            db = None
        self.deliver_soon(ev.PoolDBLoaded(db))

    def _store_pooldb(self, e: fx.StorePoolDB) -> None:
        try:
            self.store.store_pooldb(e.db)
        except OSError as exc:
            self.record("error", detail=f"cannot store the pool database: {exc}")

    def _record(self, e: fx.Record) -> None:
        if e.kind == "fence":
            return  # the Fence effect itself is recorded, with the same reason
        self.record(e.kind, e.guest, e.detail, server=e.data.get("server") if e.data else None)

    def _reply(self, e: fx.Reply) -> None:
        future = self.replies.pop(e.request_id, None)
        if future is not None and not future.done():
            future.set_result((e.ok, e.message))

    def _halt(self, e: fx.Halt) -> None:
        self.record("halt", detail=e.reason)
        self._kill_all_guests("server shut down")
        self._finish(EXIT_REBOOT if e.restart else EXIT_HALTED)

    def _propagate(self, e: fx.Propagate) -> None:
        """The master's agent copies cluster.conf and the repository list: the driver does the copy,
        since server files live in its host setup; the request is an event it acts on."""
        self.record("propagate_request", detail=str(e.node), node=e.node)

    _handlers: ClassVar[dict[type, Callable[[ServerProcess, Any], None]]] = {
        fx.SetTimer: _set_timer,
        fx.CancelTimer: _cancel_timer,
        fx.WriteSlot: _write_slot,
        fx.ReadRegion: _read_region,
        fx.Send: _send,
        fx.Fence: _fence,
        fx.BootGuest: _boot_guest,
        fx.KillGuest: _kill_guest,
        fx.AcquireLease: _acquire_lease,
        fx.ReleaseLease: _release_lease,
        fx.LoadPoolDB: _load_pooldb,
        fx.StorePoolDB: _store_pooldb,
        fx.Record: _record,
        fx.Reply: _reply,
        fx.Halt: _halt,
        fx.Propagate: _propagate,
    }

    # ------------------------------------------------------------------------------ control
    async def _control(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                try:
                    request = wire.decode(line)
                    if not isinstance(request, dict):
                        raise wire.WireError("a control request is an object")
                    answer = await self._answer(request)
                except (wire.WireError, KeyError, TypeError, ValueError) as exc:
                    answer = {"error": f"bad control request: {exc}"}
                writer.write(wire.encode(answer))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _answer(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request["op"]
        if op == "status":
            return self.status()
        if self.exit.done():
            return {"error": f"{self.cfg.name} is going down"}
        if op == "manager":
            rid = int(request["id"])
            future: asyncio.Future[tuple[bool, str]] = self.loop.create_future()
            self.replies[rid] = future
            self.deliver(ev.ManagerRequest(rid, request["request"]))
            try:
                ok, message = await asyncio.wait_for(future, CONTROL_REPLY_TIMEOUT_S)
            except TimeoutError:
                self.replies.pop(rid, None)
                return {"ok": False, "message": "the server pool master did not answer"}
            return {"ok": ok, "message": message}
        if op == "local_shutdown":
            self.deliver(ev.LocalShutdown(bool(request["restart"])))
            return {"ok": True}
        if op == "control":
            self._operator_event(request["event"])
            return {"ok": True}
        raise ValueError(f"unknown operation {op!r}")

    def _operator_event(self, event: object) -> None:
        """One of ovmref.control's events: the agent takes it as the simulator's does, and this
        process does its own part (the leaving server exits, a new peer gets a connection)."""
        if isinstance(event, ctl.ClusterServicesStopped):
            self.record("leave", detail="cluster services stopped: the server leaves the cluster")
            self.execute(self.agent.control(self.now_ms(), event))
            self._kill_all_guests("cluster services stopped")
            self.loop.call_soon(self._finish, EXIT_LEFT)
        elif isinstance(event, ctl.AgentDaemon):
            was, self.daemon = self.daemon, event.running
            if event.running != was:
                self.execute(self.agent.control(self.now_ms(), event))
        elif isinstance(event, ctl.PeerAdded) and event.address is not None:
            self.execute(self.agent.control(self.now_ms(), event))
            self.transport.add_peer(event.node, event.address)
        else:
            raise ValueError(f"not a control event: {event!r}")

    def status(self) -> dict[str, Any]:
        return {
            "name": self.cfg.name,
            "pid": os.getpid(),
            "generation": self.cfg.generation,
            "master": self.agent.is_master,
            "live": self.agent.live_servers(),
            "daemon": self.daemon,
            "exiting": self.exit.done(),
            "guests": {g.name: [g.phase, g.process.pid] for g in self.guests.values()},
        }


def run_ahead_of_other_work() -> None:
    """Raise this process's priority to AGENT_NICENESS where allowed (its guests inherit it: idle)."""
    with contextlib.suppress(PermissionError, OSError):
        os.setpriority(os.PRIO_PROCESS, 0, AGENT_NICENESS)


async def _main(server_dir: Path) -> int:
    die_with_parent()
    run_ahead_of_other_work()
    try:
        config = ServerConfig.read(server_dir)
    except ServerConfigError as exc:
        print(f"serverd: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    server = ServerProcess(server_dir, config)
    return await server.run()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m environments.local.serverd SERVER_DIR", file=sys.stderr)
        return EXIT_CONFIG
    return asyncio.run(_main(Path(args[0])))


if __name__ == "__main__":
    sys.exit(main())
