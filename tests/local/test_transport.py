"""o2net's wire between two local servers: a message arrives with how late it was handled."""

from __future__ import annotations

import asyncio
import socket

from environments.local.transport import Transport
from ovmref.timing import O2CBTimings

TIMINGS = O2CBTimings().scaled(0.01)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_message_arrives_with_the_time_since_it_was_written() -> None:
    async def exchange() -> list[tuple[int, object, float]]:
        got: list[tuple[int, object, float]] = []
        arrived = asyncio.Event()

        def received(peer: int, message: object, late_s: float) -> None:
            got.append((peer, message, late_s))
            arrived.set()

        a_port, b_port = free_port(), free_port()
        a = Transport(0, ("127.0.0.1", a_port), {1: ("127.0.0.1", b_port)}, TIMINGS, lambda *_: None)
        b = Transport(1, ("127.0.0.1", b_port), {0: ("127.0.0.1", a_port)}, TIMINGS, received)
        await a.start()
        await b.start()
        try:
            a.send(1, {"hello": [1, 2]})  # waits for the connection being made, then goes
            await asyncio.wait_for(arrived.wait(), 5)
            arrived.clear()
            loop = asyncio.get_running_loop()
            loop.call_soon(lambda: a.send(1, {"n": 2}))
            await asyncio.sleep(0)
            blocked_until = loop.time() + 0.05
            while loop.time() < blocked_until:  # the receiver's loop is busy: the message waits
                pass
            await asyncio.wait_for(arrived.wait(), 5)
        finally:
            await a.close()
            await b.close()
        return got

    got = asyncio.run(exchange())
    assert [(peer, message) for peer, message, _ in got] == [(0, {"hello": [1, 2]}), (0, {"n": 2})]
    assert 0 <= got[0][2] < 1.0
    assert got[1][2] >= 0.04  # the 50 ms the loop was blocked for
