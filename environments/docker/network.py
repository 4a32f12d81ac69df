"""Partitions of a container pool's cluster network, made for real.

Servers talk o2net on a cluster network of their own; the harness reaches
them over SSH on another, so cutting the cluster network never cuts the
harness off. Each server drops the other side's addresses (`ip route add
blackhole`, run over SSH on every server at once), so the servers of one
side still talk to each other and every server keeps its own address, as a
real server does while its cable is out. (Unplugging a container from the
network, `docker network disconnect`, takes its address away: a server that
fenced and rebooted inside the partition could not even start o2net.) A
server that is down when the partition is made, or reboots inside it, is cut
off as it comes up.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from environments.model import CommandResult

Run = Callable[[str, list[str]], CommandResult]


class Plugs(Protocol):
    """The pool's containers, by server name."""

    def running(self, server: str) -> bool: ...


class ContainerNetwork:
    def __init__(self, plugs: Plugs, run: Run) -> None:
        self._plugs = plugs
        self._run = run
        self.ips: dict[str, str] = {}  # server -> cluster address
        self.side: frozenset[str] = frozenset()  # the servers cut off from the rest
        self.blackholed: dict[str, set[str]] = {}  # server -> addresses it drops
        self.cut_began: float | None = None  # monotonic instant the last partition's routes went out

    def add_server(self, name: str, ip: str) -> object:
        self.ips[name] = ip
        return ip

    def remove_server(self, name: str) -> None:
        self.ips.pop(name, None)

    def reachable(self, a: str, b: str) -> bool:
        return (a in self.side) == (b in self.side)

    def partition(self, side: Iterable[str]) -> None:
        if self.side:
            self.heal()
        cut = frozenset(side)
        rest = frozenset(self.ips) - cut
        self.side = cut
        for server in self.ips:
            far = rest if server in cut else cut
            self.blackholed[server] = {self.ips[s] for s in far}
        up = [s for s in self.ips if self._plugs.running(s)]
        self.cut_began = time.monotonic()  # asking Docker which servers run cut nothing yet
        with ThreadPoolExecutor(max_workers=max(1, len(up))) as workers:
            for done in [workers.submit(self._apply_routes, s) for s in up]:
                done.result()

    def heal(self) -> None:
        up = [(s, a) for s, a in sorted(self.blackholed.items()) if a and self._plugs.running(s)]
        with ThreadPoolExecutor(max_workers=max(1, len(up))) as workers:
            for done in [workers.submit(self._routes, s, "del", a) for s, a in up]:
                done.result()
        self.blackholed.clear()
        self.side = frozenset()

    def server_started(self, name: str) -> None:
        """A rebooted server's routes are new: a partition it was in is made again."""
        self._apply_routes(name)

    def close(self) -> None:
        self.side = frozenset()
        self.blackholed.clear()

    def _apply_routes(self, server: str) -> None:
        addresses = self.blackholed.get(server)
        if addresses:
            self._routes(server, "replace", addresses)

    def _routes(self, server: str, verb: str, addresses: set[str]) -> None:
        script = " && ".join(
            shlex.join(["ip", "route", verb, "blackhole", f"{ip}/32"]) for ip in sorted(addresses)
        )
        result = self._run(server, ["sh", "-c", script])
        if result.rc != 0 and verb != "del":
            raise RuntimeError(f"{server}: cutting the cluster network failed: {result.stderr.strip()}")
