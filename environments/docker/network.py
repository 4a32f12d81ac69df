"""Partitions of a container pool's cluster network, made for real.

Servers talk o2net on a cluster network of their own; the harness reaches
them over SSH on another, so cutting the cluster network never cuts the
harness off. A side of one server is unplugged from the cluster network
(`docker network disconnect`); where both sides hold several servers, each
server drops the other side's addresses (`ip route add blackhole`, run over
SSH), so the servers of one side still talk to each other. A server that
reboots inside a partition is cut off again as it comes up.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable
from typing import Protocol

from environments.model import CommandResult

Run = Callable[[str, list[str]], CommandResult]


class Plugs(Protocol):
    """The containers' side of the cluster network, by server name."""

    def disconnect(self, server: str) -> None: ...

    def connect(self, server: str) -> None: ...

    def running(self, server: str) -> bool: ...


class ContainerNetwork:
    def __init__(self, plugs: Plugs, run: Run) -> None:
        self._plugs = plugs
        self._run = run
        self.ips: dict[str, str] = {}  # server -> cluster address
        self.side: frozenset[str] = frozenset()  # the servers cut off from the rest
        self.unplugged: set[str] = set()
        self.blackholed: dict[str, set[str]] = {}  # server -> addresses it drops

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
        if len(cut) == 1 or len(rest) == 1:
            (lonely,) = cut if len(cut) == 1 else rest
            self._plugs.disconnect(lonely)
            self.unplugged.add(lonely)
            return
        for server in self.ips:
            far = rest if server in cut else cut
            self.blackholed[server] = {self.ips[s] for s in far}
            self._apply_routes(server)

    def heal(self) -> None:
        for server in sorted(self.unplugged):
            self._plugs.connect(server)
        self.unplugged.clear()
        for server, addresses in sorted(self.blackholed.items()):
            if addresses and self._plugs.running(server):
                self._routes(server, "del", addresses)
        self.blackholed.clear()
        self.side = frozenset()

    def server_started(self, name: str) -> None:
        """A rebooted server's routes are new: a partition it was in is made again."""
        self._apply_routes(name)

    def close(self) -> None:
        self.side = frozenset()
        self.unplugged.clear()
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
