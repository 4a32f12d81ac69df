"""o2net's wire for a local server: TCP to every peer on its cluster.conf address and port.

Each node listens on its own address; to send, it keeps one outgoing
connection per peer and dials again every reconnect delay while the peer is
unreachable. Messages sent while a connection is being made wait for it (a
few, briefly); when the peer cannot be reached they are dropped, as o2net's
are while it reconnects: the agent's keepalives and idle timeout decide what
a silence means, not this layer. A connection silent for the idle timeout is closed (the kernel's
o2net_idle_timer does the same), so after a partition heals nothing stale
sits in a socket buffer for long. Frames are one wire-encoded JSON line; the
first line on a connection names the sending node. Each frame carries the
sender's monotonic clock at the moment it was written (servers share the
host's clock, containers too), so the receiver learns how late it handled
the message: the wire's and its own loop's delay, which the timing checks
are granted (environments/latency.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from environments.local import wire
from ovmref.timing import O2CBTimings

MAX_FRAME = 1 << 20
MAX_WAITING = 256  # messages held for a connection being made


class _Outgoing:
    def __init__(self) -> None:
        self.writer: asyncio.StreamWriter | None = None
        self.dialing = False
        self.since = 0.0  # loop time the connection was made
        self.waiting: list[object] = []  # sent while dialing: delivered if the dial succeeds


class Transport:
    def __init__(
        self,
        node: int,
        listen: tuple[str, int],
        peers: dict[int, tuple[str, int]],
        timings: O2CBTimings,
        on_message: Callable[[int, object, float], None],
    ) -> None:
        """`on_message(peer, message, late_s)`: late_s is how long after its sender wrote it."""
        self.node = node
        self.listen = listen
        self.peers = peers
        self.timings = timings
        self.on_message = on_message
        self._out: dict[int, _Outgoing] = {}
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self._heard: dict[int, float] = {}  # loop time of the last frame from each peer

    async def start(self) -> None:
        host, port = self.listen
        self._server = await asyncio.start_server(self._accept, host, port, reuse_address=True)

    async def close(self) -> None:
        self._closed = True
        if self._server is not None:
            self._server.close()
        for out in self._out.values():
            if out.writer is not None:
                out.writer.close()
        for task in list(self._tasks):
            task.cancel()

    def add_peer(self, node: int, address: tuple[str, int]) -> None:
        self.peers[node] = address

    # ---- sending ----------------------------------------------------------------------
    def send(self, peer: int, message: object) -> None:
        if peer not in self.peers or self._closed:
            return
        out = self._out.setdefault(peer, _Outgoing())
        if out.writer is not None and self._silent(peer, out):
            out.writer.close()  # o2net's idle timeout closes the whole link, our half included
        if out.writer is None or out.writer.is_closing():
            out.writer = None
            if not out.dialing:
                out.dialing = True
                out.waiting.clear()  # what waited for an earlier, failed dial is lost
                self._spawn(self._dial(peer, out))
            if len(out.waiting) < MAX_WAITING:
                out.waiting.append(message)
            return
        out.writer.write(self._frame(message))

    @staticmethod
    def _frame(message: object) -> bytes:
        """The message and the instant it leaves (what waited for a connection counts from then)."""
        return wire.encode({"sent": asyncio.get_running_loop().time(), "m": message})

    def _silent(self, peer: int, out: _Outgoing) -> bool:
        """Nothing heard from the peer for the idle timeout on a link at least that old."""
        now = asyncio.get_running_loop().time()
        idle_s = self.timings.idle_timeout_ms / 1000
        return now - out.since > idle_s and now - self._heard.get(peer, out.since) > idle_s

    async def _dial(self, peer: int, out: _Outgoing) -> None:
        host, port = self.peers[peer]
        timeout = max(self.timings.reconnect_delay_ms, self.timings.keepalive_delay_ms) / 1000
        try:
            _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        except (OSError, TimeoutError):
            out.waiting.clear()  # the peer cannot be reached: lost, as over a cut network
            await asyncio.sleep(self.timings.reconnect_delay_ms / 1000)
            out.dialing = False
            return
        writer.write(wire.encode({"node": self.node}))
        for message in out.waiting:
            writer.write(self._frame(message))
        out.waiting.clear()
        out.writer = writer
        out.since = asyncio.get_running_loop().time()
        out.dialing = False

    # ---- receiving --------------------------------------------------------------------
    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        idle_s = self.timings.idle_timeout_ms / 1000
        try:
            hello = wire.decode(await asyncio.wait_for(reader.readline(), idle_s))
            if not isinstance(hello, dict) or not isinstance(hello.get("node"), int):
                return
            peer = int(hello["node"])
            while not self._closed:
                line = await asyncio.wait_for(reader.readline(), idle_s)
                if not line:
                    return
                if len(line) > MAX_FRAME:
                    return
                now = self._heard[peer] = asyncio.get_running_loop().time()
                frame = wire.decode(line)
                sent = frame.get("sent") if isinstance(frame, dict) else None
                if not isinstance(frame, dict) or not isinstance(sent, float) or "m" not in frame:
                    return  # not one of our frames: drop the link
                self.on_message(peer, frame["m"], max(0.0, now - sent))
        except (TimeoutError, ConnectionError, wire.WireError, asyncio.IncompleteReadError, ValueError):
            return  # idle (the peer is silent past the idle timeout), reset, or garbage: drop the link
        finally:
            writer.close()

    def _spawn(self, coro: object) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
