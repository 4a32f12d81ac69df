"""The real network of a local pool: one Linux network namespace per server, joined by bridges.

Each server runs in its own namespace with one veth `eth0` carrying its cluster.conf address. The
other end of every veth is a port in a per-pool "switch" namespace. A partition moves ports onto
different bridges, so packets between the sides are dropped and TCP connections go silent, just as
with a cut cable; heal puts every port back on `br0`. Only `ip` (iproute2) is used, and nothing but
the namespaces themselves is created in the root namespace.

Namespace names are `ovmt-<owner pid>-<run_id>_<suffix>` so that `sweep_stale` can recognise the
leftovers of a killed run (its owner pid is dead) and delete them.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterable, Sequence

from environments.errors import EnvironmentBroken

PREFIX = "ovmt-"
SWITCH_SUFFIX = "sw"
IP_TIMEOUT_S = 10.0

_RUN_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
# ovmt-<pid>-<run_id>_<suffix>: run_id has no '_', so a pool's prefix never matches another pool.
_OUR_NAME = re.compile(r"ovmt-(?P<pid>[0-9]+)-(?P<run>[a-z0-9][a-z0-9-]*)_(?P<suffix>[a-z0-9-]+)")

Signature = tuple[bool, ...]


class NetworkUnavailable(EnvironmentBroken):
    """Network namespaces cannot be used here; the message says why."""


def _run_ip(args: Sequence[str], *, unavailable: bool = False) -> str:
    """Run `ip <args>` (no shell, with a timeout); return stdout or raise naming the command and stderr.

    `unavailable` selects NetworkUnavailable (the host cannot do it) over RuntimeError (a bug or a
    broken pool).
    """
    argv = ["ip", *args]
    error = NetworkUnavailable if unavailable else RuntimeError
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=IP_TIMEOUT_S, check=False)
    except FileNotFoundError as exc:
        raise NetworkUnavailable(f"'ip' from iproute2 is not installed ({exc})") from exc
    except subprocess.TimeoutExpired as exc:
        raise error(f"{' '.join(argv)}: no answer after {IP_TIMEOUT_S:g} s") from exc
    if done.returncode != 0:
        raise error(f"{' '.join(argv)} failed (exit {done.returncode}): {done.stderr.strip()}")
    return done.stdout


def _list_namespaces() -> list[str]:
    """Every named namespace on the host (`ip netns list` prints `name` or `name (id: N)`)."""
    return [line.split()[0] for line in _run_ip(["netns", "list"]).splitlines() if line.strip()]


def _delete_namespace(ns: str) -> None:
    """Delete a named namespace; a namespace that is already gone is not an error."""
    try:
        _run_ip(["netns", "del", ns])
    except RuntimeError:
        if ns in _list_namespaces():
            raise


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (someone else's counts as alive)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_support_lock = threading.Lock()
_support_cache: list[str | None] = []


def _probe_support() -> str | None:
    if os.geteuid() != 0:
        return f"network namespaces need root (running as uid {os.geteuid()})"
    if shutil.which("ip") is None:
        return "'ip' from iproute2 is not installed"
    # Prove it for real: a namespace holding a bridge and a veth pair, named like ours so that a
    # probe interrupted by a kill is swept like any other leftover.
    probe = f"{PREFIX}{os.getpid()}-probe_probe"  # no pool's switch or server is ever named *_probe
    if probe in _list_namespaces():
        _delete_namespace(probe)
    try:
        _run_ip(["netns", "add", probe], unavailable=True)
    except NetworkUnavailable as exc:
        return f"cannot create a network namespace: {exc}"
    try:
        _run_ip(["-n", probe, "link", "add", "br0", "type", "bridge", "stp_state", "0"], unavailable=True)
        _run_ip(["-n", probe, "link", "add", "p0", "type", "veth", "peer", "name", "eth0"], unavailable=True)
    except NetworkUnavailable as exc:
        return f"cannot create bridges or veth pairs in a namespace: {exc}"
    finally:
        _delete_namespace(probe)
    return None


def namespace_support() -> str | None:
    """None when namespaces can be used here; else the reason.

    Checked once per process by actually creating (and deleting) a namespace with a bridge and a
    veth pair, since being root is not enough inside an unprivileged container.
    """
    with _support_lock:
        if not _support_cache:
            _support_cache.append(_probe_support())
        return _support_cache[0]


def our_namespaces() -> list[str]:
    """Every namespace name this module would create (any owner), for leak checks in tests."""
    return [ns for ns in _list_namespaces() if _OUR_NAME.fullmatch(ns)]


def sweep_stale() -> list[str]:
    """Delete namespaces left by pools whose owner process is dead (a killed run); return their names.

    A live owner's namespaces are left alone, so concurrent runs (pytest-xdist workers) are safe.
    A dead owner whose pid was since reused by another process is missed until that process ends.
    """
    swept: list[str] = []
    for ns in our_namespaces():
        match = _OUR_NAME.fullmatch(ns)
        if match is None or pid_alive(int(match["pid"])):
            continue
        _delete_namespace(ns)
        swept.append(ns)
    return swept


def _slug(name: str) -> str:
    """A server name reduced to [a-z0-9-], so `ip netns list` stays readable."""
    return re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")[:16] or "x"


class NamespaceNetwork:
    """The namespaces, veths and bridges of one pool, and the partition model they realise.

    Partitions are cumulative like SimNetwork's: each call since the last heal adds one bit to every
    server's signature (in `side` or not), and each distinct signature has its own bridge, so two
    servers stay connected only if no call separated them. A server first added after a partition
    gets all-False bits (it joins the rest, not the sides); a removed server keeps its signature
    until heal, so restarting it inside a partition puts it back on its side.
    """

    def __init__(self, run_id: str, *, owner_pid: int | None = None) -> None:
        """Create the switch namespace with `br0`; `owner_pid` lets tests fake a dead owner."""
        if not _RUN_ID.fullmatch(run_id):
            raise ValueError(f"run_id {run_id!r} must match [a-z0-9][a-z0-9-]{{0,31}}")
        reason = namespace_support()
        if reason is not None:
            raise NetworkUnavailable(reason)
        self.run_id = run_id
        self.owner_pid = os.getpid() if owner_pid is None else owner_pid
        self._pool = f"{PREFIX}{self.owner_pid}-{run_id}_"
        self._switch = self._pool + SWITCH_SUFFIX
        self._servers: dict[str, _Server] = {}
        self._signature: dict[str, Signature] = {}  # present and removed-since-heal servers
        self._calls = 0  # partition calls since the last heal
        self.cut_began: float | None = None  # monotonic instant the last partition's first port moved
        self._bridges: dict[Signature, str] = {}  # in use by present servers, plus br0 always
        self._next_index = 0
        self._closed = False
        if self._switch in _list_namespaces():
            raise ValueError(f"namespace {self._switch} already exists: run_id {run_id} is taken")
        try:
            _run_ip(["netns", "add", self._switch], unavailable=True)
        except NetworkUnavailable as exc:
            raise NetworkUnavailable(f"cannot create the switch namespace of pool {run_id}: {exc}") from exc
        try:
            self._sw(["link", "set", "lo", "up"])
            self._add_bridge("br0")
        except BaseException as exc:
            try:
                _delete_namespace(self._switch)
            except Exception as cleanup:
                exc.add_note(f"deleting {self._switch} failed too: {cleanup}")
            raise
        self._bridges[()] = "br0"

    def __enter__(self) -> NamespaceNetwork:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- servers ---------------------------------------------------------------------------------

    def add_server(self, name: str, ip: str, prefix: int = 24) -> str:
        """Give `name` its own namespace with `eth0` = ip/prefix (and `lo` up); return the namespace."""
        self._check_open()
        if name in self._servers:
            raise ValueError(f"server {name} is already on the network of pool {self.run_id}")
        address = ipaddress.IPv4Address(ip)
        if not 0 <= prefix <= 32:
            raise ValueError(f"server {name}: prefix /{prefix} is not a valid IPv4 prefix length")
        for other in self._servers.values():
            if other.ip == address:
                raise ValueError(f"server {name}: address {ip} is already used by server {other.name}")
        index = self._next_index
        self._next_index += 1
        server = _Server(name, address, f"{self._pool}{index}-{_slug(name)}", f"p{index}")
        signature = self._signature.get(name, (False,) * self._calls)
        try:
            _run_ip(["netns", "add", server.ns], unavailable=True)
            self._sw(["link", "add", server.port, "type", "veth", "peer", "name", "eth0", "netns", server.ns])
            bridge = self._bridge_for(signature, avoid=set())
            self._sw(["link", "set", server.port, "master", bridge, "up"])
            _run_ip(["-n", server.ns, "addr", "add", f"{address}/{prefix}", "dev", "eth0"])
            _run_ip(["-n", server.ns, "link", "set", "eth0", "up"])
            _run_ip(["-n", server.ns, "link", "set", "lo", "up"])
        except BaseException as exc:
            try:
                self._discard(server)
                self._drop_unused_bridges()
            except Exception as cleanup:
                exc.add_note(f"cleaning up server {name} failed too: {cleanup}")
            raise
        self._servers[name] = server
        self._signature[name] = signature
        return server.ns

    def remove_server(self, name: str) -> None:
        """Delete the namespace and switch port of `name`; unknown or already removed is fine.

        The port goes first: a process still running inside the namespace keeps the namespace
        alive, but it is cut off at once.
        """
        server = self._servers.pop(name, None)
        if server is None or self._closed:
            return
        self._discard(server)
        self._drop_unused_bridges()

    def exec_prefix(self, name: str) -> list[str]:
        """The argv prefix that runs a command inside the namespace of `name`."""
        return ["ip", "netns", "exec", self._server(name).ns]

    @property
    def namespaces(self) -> list[str]:
        """The switch namespace and those of the present servers (empty once closed)."""
        if self._closed:
            return []
        return [self._switch, *(s.ns for s in self._servers.values())]

    # ---- partitions ------------------------------------------------------------------------------

    def partition(self, side: Iterable[str]) -> None:
        """Cut `side` off from every other server, on top of earlier partitions since the last heal."""
        self._check_open()
        inside = set(side)
        unknown = sorted(inside - self._signature.keys())
        if unknown:
            raise ValueError(f"partition of pool {self.run_id}: unknown servers {', '.join(unknown)}")
        self._calls += 1
        for name, signature in self._signature.items():
            self._signature[name] = (*signature, name in inside)
        # Each new signature splits its parent's group: the first half (the outside one, if not
        # empty) keeps the parent's bridge and the other half moves to a fresh, empty one, so no
        # packet ever passes between groups that must be apart, not even while ports are moving.
        old = self._bridges
        self._bridges = {}
        claimed: set[str] = set()
        for signature in sorted({self._signature[n] for n in self._servers}):
            parent_bridge = old.get(signature[:-1])
            if parent_bridge is not None and parent_bridge not in claimed:
                self._bridges[signature] = parent_bridge
                claimed.add(parent_bridge)
            else:
                claimed.add(self._bridge_for(signature, avoid=set(old.values()) | claimed))
        self.cut_began = time.monotonic()
        self._place_ports()
        self._drop_unused_bridges()

    def heal(self) -> None:
        """Every port back on br0; the partition history is forgotten.

        Each server's ARP cache is flushed too: an address first asked for during the partition
        sits unresolved until the next ARP retry (up to 1 s later), whereas after a flush the next
        packet asks at once. Established TCP connections resume on their own retransmit timers.
        """
        self._check_open()
        self._calls = 0
        self._signature = {name: () for name in self._servers}
        self._bridges = {(): "br0"}
        self._place_ports()
        self._drop_unused_bridges()
        for server in self._servers.values():
            _run_ip(["-n", server.ns, "neigh", "flush", "dev", "eth0"])

    def reachable(self, a: str, b: str) -> bool:
        """The model: a and b are connected when no partition since the last heal separated them."""
        for name in (a, b):
            if name not in self._signature:
                raise KeyError(f"server {name} is not on the network of pool {self.run_id}")
        return a == b or self._signature[a] == self._signature[b]

    def bridge_of(self, name: str) -> str:
        """The bridge the port of `name` is on right now, read from the kernel (for observation)."""
        port = self._server(name).port
        links = self._links()
        if port not in links:
            raise RuntimeError(f"switch namespace {self._switch}: port {port} of server {name} is missing")
        return links[port] or ""

    # ---- teardown --------------------------------------------------------------------------------

    def close(self) -> None:
        """Delete every namespace of this pool; safe to call twice and after partial failures."""
        if self._closed:
            return
        self._closed = True
        self._servers.clear()
        failures: list[str] = []
        # Whatever the kernel holds under this pool's prefix, bookkeeping or not; servers first.
        ours = [ns for ns in _list_namespaces() if ns.startswith(self._pool)]
        for ns in sorted(ours, key=lambda n: n == self._switch):
            try:
                _delete_namespace(ns)
            except RuntimeError as exc:
                failures.append(str(exc))
        if failures:
            raise RuntimeError(f"closing the network of pool {self.run_id}: " + "; ".join(failures))

    # ---- helpers ---------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"the network of pool {self.run_id} is closed")

    def _server(self, name: str) -> _Server:
        try:
            return self._servers[name]
        except KeyError:
            raise KeyError(f"server {name} is not on the network of pool {self.run_id}") from None

    def _sw(self, args: Sequence[str]) -> str:
        return _run_ip(["-n", self._switch, *args])

    def _links(self) -> dict[str, str | None]:
        """Interface name -> its bridge (None when not enslaved) in the switch namespace."""
        try:
            links = json.loads(self._sw(["-j", "link", "show"]) or "[]")
        except json.JSONDecodeError as exc:
            raise RuntimeError(f"switch namespace {self._switch}: unreadable `ip -j link`: {exc}") from exc
        return {link["ifname"]: link.get("master") for link in links}

    def _add_bridge(self, bridge: str) -> None:
        # No STP and no forward delay: a port forwards the moment it joins.
        self._sw(["link", "add", bridge, "type", "bridge", "stp_state", "0", "forward_delay", "0"])
        self._sw(["link", "set", bridge, "up"])

    def _bridge_for(self, signature: Signature, avoid: set[str]) -> str:
        """The bridge of `signature`; when it has none yet, a new, empty `br<k>` (never one in `avoid`)."""
        bridge = self._bridges.get(signature)
        if bridge is not None:
            return bridge
        taken = set(self._bridges.values()) | avoid | self._existing_bridges()
        k = 0
        while f"br{k}" in taken:
            k += 1
        bridge = f"br{k}"
        self._add_bridge(bridge)
        self._bridges[signature] = bridge
        return bridge

    def _existing_bridges(self) -> set[str]:
        return {name for name in self._links() if re.fullmatch(r"br[0-9]+", name)}

    def _place_ports(self) -> None:
        """Move every port whose bridge differs from its signature's."""
        current = self._links()
        for name, server in self._servers.items():
            bridge = self._bridges[self._signature[name]]
            if current.get(server.port) != bridge:
                self._sw(["link", "set", server.port, "master", bridge])

    def _drop_unused_bridges(self) -> None:
        used = {self._bridges[self._signature[n]] for n in self._servers} | {"br0"}
        self._bridges = {sig: br for sig, br in self._bridges.items() if br in used}
        for bridge in sorted(self._existing_bridges() - used):
            self._sw(["link", "del", bridge])

    def _discard(self, server: _Server) -> None:
        """Delete the port then the namespace of `server`; parts that do not exist are skipped."""
        if server.port in self._links():
            self._sw(["link", "del", server.port])
        if server.ns in _list_namespaces():
            _delete_namespace(server.ns)


class _Server:
    """Where one server sits on the network."""

    def __init__(self, name: str, ip: ipaddress.IPv4Address, ns: str, port: str) -> None:
        self.name = name
        self.ip = ip
        self.ns = ns
        self.port = port
