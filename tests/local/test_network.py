"""The namespace network really connects, cuts and heals TCP, and never leaves namespaces behind."""

from __future__ import annotations

import json
import random
import subprocess
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence

import pytest

from environments.local import network
from environments.local.network import (
    NamespaceNetwork,
    NetworkUnavailable,
    namespace_support,
    our_namespaces,
    sweep_stale,
)
from environments.sim.network import SimNetwork

_UNSUPPORTED = namespace_support()
needs_netns = pytest.mark.skipif(
    _UNSUPPORTED is not None, reason=f"network namespaces cannot be used here: {_UNSUPPORTED}"
)

PORT = 7777
# Echo every connection's bytes back; say "ready" once listening so the test never races the bind.
ECHO_SERVER = """
import socket, sys, threading
srv = socket.create_server((sys.argv[1], int(sys.argv[2])))
print("ready", flush=True)
def serve(conn):
    with conn:
        while data := conn.recv(1024):
            conn.sendall(data)
while True:
    threading.Thread(target=serve, args=(srv.accept()[0],), daemon=True).start()
"""
# Try every target at once (so failing ones cost one timeout in all) and print {target: echoed?}.
CLIENT = """
import json, socket, sys, threading
timeout, port, targets, result = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3:], {}
def attempt(target):
    try:
        with socket.create_connection((target, port), timeout=timeout) as s:
            s.sendall(b"ping")
            result[target] = s.recv(4) == b"ping"
    except OSError:
        result[target] = False
threads = [threading.Thread(target=attempt, args=(t,)) for t in targets]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(result))
"""

# One connection kept open; each stdin line "send|wait <timeout>" prints "echo" or "silent".
HELD_CLIENT = """
import socket, sys
conn = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
print("connected", flush=True)
for line in sys.stdin:
    command, timeout = line.split()
    if command == "send":
        conn.sendall(b"ping")
    conn.settimeout(float(timeout))
    try:
        data = conn.recv(4)
        print("echo" if data == b"ping" else f"closed {data!r}", flush=True)
    except TimeoutError:
        print("silent", flush=True)
"""

MakeNet = Callable[..., NamespaceNetwork]
Echo = Callable[..., None]

IPS = {"a": "192.168.100.100", "b": "192.168.100.101", "c": "192.168.100.102", "d": "192.168.100.103"}


def _pool_namespaces(net: NamespaceNetwork) -> list[str]:
    prefix = f"ovmt-{net.owner_pid}-{net.run_id}_"
    return [ns for ns in our_namespaces() if ns.startswith(prefix)]


@pytest.fixture
def make_net() -> Iterator[MakeNet]:
    """Build pools that are closed (and checked gone) however the test ends."""
    nets: list[NamespaceNetwork] = []

    def make(*, owner_pid: int | None = None) -> NamespaceNetwork:
        net = NamespaceNetwork(f"t-{uuid.uuid4().hex[:8]}", owner_pid=owner_pid)
        nets.append(net)
        return net

    try:
        yield make
    finally:
        for net in nets:
            net.close()
        leftovers = [ns for net in nets for ns in _pool_namespaces(net)]
        assert not leftovers, f"namespaces left behind: {leftovers}"


@pytest.fixture
def echo() -> Iterator[Echo]:
    """Start echo servers inside servers' namespaces (in parallel); kill them all at the end."""
    procs: list[subprocess.Popen[str]] = []

    def start(net: NamespaceNetwork, *names: str) -> None:
        started = {}
        for name in names:
            argv = [*net.exec_prefix(name), "python3", "-c", ECHO_SERVER, IPS[name], str(PORT)]
            started[name] = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            procs.append(started[name])
        for name, proc in started.items():
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "ready":
                proc.kill()
                error = proc.communicate()[1]
                raise AssertionError(f"echo server in {name}'s namespace did not start: {error}")

    try:
        yield start
    finally:
        for proc in procs:
            proc.kill()
            proc.wait(timeout=5)


def _connectivity(
    net: NamespaceNetwork, pairs: Mapping[str, Sequence[str]], timeout: float = 0.5
) -> dict[tuple[str, str], bool]:
    """For each source, connect to each target from inside the source's namespace, all in parallel."""
    procs = {
        src: subprocess.Popen(
            [
                *net.exec_prefix(src),
                "python3",
                "-c",
                CLIENT,
                str(timeout),
                str(PORT),
                *(IPS[t] for t in targets),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for src, targets in pairs.items()
    }
    result: dict[tuple[str, str], bool] = {}
    for src, proc in procs.items():
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, f"client in {src}'s namespace failed: {err}"
        echoed = json.loads(out)
        for target in pairs[src]:
            result[(src, target)] = echoed[IPS[target]]
    return result


def _all_pairs(names: Sequence[str]) -> dict[str, list[str]]:
    return {a: [b for b in names if b != a] for a in names}


@needs_netns
def test_tcp_connects_is_cut_by_a_partition_and_comes_back_on_heal(make_net: MakeNet, echo: Echo) -> None:
    net = make_net()
    ns_a = net.add_server("a", IPS["a"])
    net.add_server("b", IPS["b"])
    assert net.exec_prefix("a") == ["ip", "netns", "exec", ns_a]
    echo(net, "a")

    assert _connectivity(net, {"b": ["a"]}) == {("b", "a"): True}
    net.partition(["a"])
    assert not net.reachable("a", "b")
    assert _connectivity(net, {"b": ["a"]}) == {("b", "a"): False}
    net.heal()
    assert net.reachable("a", "b")
    assert _connectivity(net, {"b": ["a"]}) == {("b", "a"): True}


@needs_netns
def test_an_open_connection_goes_silent_in_a_partition_and_survives_it(make_net: MakeNet, echo: Echo) -> None:
    net = make_net()
    net.add_server("a", IPS["a"])
    net.add_server("b", IPS["b"])
    echo(net, "a")
    client = subprocess.Popen(
        [*net.exec_prefix("b"), "python3", "-c", HELD_CLIENT, IPS["a"], str(PORT)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert client.stdin is not None and client.stdout is not None

    def ask(line: str) -> str:
        assert client.stdin is not None and client.stdout is not None
        client.stdin.write(line + "\n")
        client.stdin.flush()
        return client.stdout.readline().strip()

    try:
        assert client.stdout.readline().strip() == "connected"
        assert ask("send 1") == "echo"
        net.partition(["b"])
        assert ask("send 0.3") == "silent"  # no reset, no error: the cable is just cut
        net.heal()
        assert ask("wait 1.5") == "echo"  # TCP's retransmission gets the ping through after all
    finally:
        client.kill()
        client.wait(timeout=5)


@needs_netns
def test_cumulative_partitions_of_three_servers_in_model_and_on_the_wire(
    make_net: MakeNet, echo: Echo
) -> None:
    net = make_net()
    names = ["a", "b", "c"]
    for name in names:
        net.add_server(name, IPS[name])
    echo(net, *names)
    sim = SimNetwork()

    def check(expected_connected: set[frozenset[str]]) -> None:
        model = {(x, y): net.reachable(x, y) for x in names for y in names if x != y}
        assert model == {(x, y): frozenset((x, y)) in expected_connected for (x, y) in model}
        assert model == {(x, y): sim.reachable(x, y) for (x, y) in model}
        assert _connectivity(net, _all_pairs(names), timeout=0.2) == model

    for side, connected in [
        (["a"], {frozenset("bc")}),
        (["b", "c"], {frozenset("bc")}),  # the same cut again: nothing changes
        (["a", "b"], set()),  # a and b are on one side now, but the first cut still holds
    ]:
        net.partition(side)
        sim.partition(side, names)
        check(connected)
    net.heal()
    sim.heal()
    check({frozenset("ab"), frozenset("ac"), frozenset("bc")})
    assert {net.bridge_of(n) for n in names} == {"br0"}


@needs_netns
def test_bridges_follow_the_simulator_model_through_random_partitions(
    make_net: MakeNet, monkeypatch: pytest.MonkeyPatch
) -> None:
    net = make_net()
    names = ["a", "b", "c", "d"]
    for name in reversed(names):  # ports are moved in this order: the last group's ports go first
        net.add_server(name, IPS[name])
    real_run_ip = network._run_ip
    moves = []

    def never_joins_separated_servers(args: Sequence[str], *, unavailable: bool = False) -> str:
        """Before each port move, the ports already on the target bridge must belong with the mover."""
        if list(args[2:4]) == ["link", "set"] and "master" in args:
            port, bridge = args[4], args[args.index("master") + 1]
            mover = next(n for n, s in net._servers.items() if s.port == port)
            links = net._links()
            on_bridge = [n for n, s in net._servers.items() if links.get(s.port) == bridge]
            assert all(net.reachable(mover, n) for n in on_bridge), (mover, bridge, on_bridge)
            moves.append(port)
        return real_run_ip(args, unavailable=unavailable)

    monkeypatch.setattr(network, "_run_ip", never_joins_separated_servers)
    sim = SimNetwork()
    rng = random.Random(7)
    for _ in range(25):
        if rng.random() < 0.15:
            net.heal()
            sim.heal()
        else:
            side = [n for n in names if rng.random() < 0.5]
            net.partition(side)
            sim.partition(side, names)
        links = net._links()
        bridges = {n: links[net._servers[n].port] for n in names}
        for x in names:
            for y in names:
                assert net.reachable(x, y) == sim.reachable(x, y), (x, y)
                assert (bridges[x] == bridges[y]) == sim.reachable(x, y), (x, y, bridges)
        # One bridge per group and no empty bridge left over, except br0 which always stays.
        groups = {frozenset(y for y in names if sim.reachable(x, y)) for x in names}
        assert len(set(bridges.values())) == len(groups)
        assert net._existing_bridges() == set(bridges.values()) | {"br0"}
    assert len(moves) > 20


@needs_netns
def test_a_removed_server_keeps_its_side_when_it_comes_back(make_net: MakeNet) -> None:
    net = make_net()
    ns_a = net.add_server("a", IPS["a"])
    net.add_server("b", IPS["b"])
    net.partition(["a"])
    net.remove_server("a")
    net.remove_server("a")
    net.remove_server("never-added")
    assert ns_a not in our_namespaces()
    assert "p0" not in net._links()
    net.add_server("a", IPS["a"])
    assert not net.reachable("a", "b")
    assert net.bridge_of("a") != net.bridge_of("b")
    net.add_server("c", IPS["c"])  # new since the partition: joins the rest, not the side
    assert net.reachable("b", "c") and not net.reachable("a", "c")
    assert net.bridge_of("c") == net.bridge_of("b")


@needs_netns
def test_nothing_but_namespaces_appears_in_the_root_namespace(make_net: MakeNet) -> None:
    def root_links() -> set[str]:
        """Root-namespace links that ours could be: Docker's own (br-*, veth*, docker*), which
        container tests running at the same time create, are not ours and are left out."""
        out = subprocess.run(["ip", "-j", "link", "show"], capture_output=True, text=True, check=True).stdout
        names = {link["ifname"] for link in json.loads(out)}
        return {n for n in names if not n.startswith(("br-", "veth", "docker"))}

    before = root_links()
    net = make_net()
    net.add_server("a", IPS["a"])
    net.add_server("b", IPS["b"])
    net.partition(["a"])
    assert root_links() == before
    assert set(net.namespaces) == set(_pool_namespaces(net))
    assert len(net.namespaces) == 3


@needs_netns
def test_close_deletes_every_namespace_and_can_be_repeated(make_net: MakeNet) -> None:
    net = make_net()
    net.add_server("a", IPS["a"])
    net.add_server("b", IPS["b"])
    assert len(_pool_namespaces(net)) == 3
    net.close()
    assert _pool_namespaces(net) == []
    assert net.namespaces == []
    net.close()
    net.remove_server("a")
    with pytest.raises(RuntimeError, match="closed"):
        net.add_server("c", IPS["c"])


@needs_netns
def test_a_server_that_fails_halfway_leaves_nothing(
    make_net: MakeNet, monkeypatch: pytest.MonkeyPatch
) -> None:
    net = make_net()
    net.add_server("a", IPS["a"])
    net.partition(["a"])  # b would get a bridge of its own, which must go too
    before_ns, before_links = set(_pool_namespaces(net)), set(net._links())
    real_run_ip = network._run_ip

    def failing(args: Sequence[str], *, unavailable: bool = False) -> str:
        if "addr" in args:
            raise RuntimeError(f"ip {' '.join(args)} failed: injected")
        return real_run_ip(args, unavailable=unavailable)

    monkeypatch.setattr(network, "_run_ip", failing)
    with pytest.raises(RuntimeError, match="injected"):
        net.add_server("b", IPS["b"])
    monkeypatch.setattr(network, "_run_ip", real_run_ip)
    assert set(_pool_namespaces(net)) == before_ns
    assert set(net._links()) == before_links
    with pytest.raises(KeyError, match="b"):
        net.exec_prefix("b")
    net.add_server("b", IPS["b"])
    assert not net.reachable("a", "b")


@needs_netns
def test_sweep_stale_deletes_only_pools_of_dead_owners(make_net: MakeNet) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    orphan = make_net(owner_pid=dead.pid)
    orphan.add_server("a", IPS["a"])
    live = make_net()
    live.add_server("a", IPS["a"])
    orphan_ns, live_ns = set(_pool_namespaces(orphan)), set(_pool_namespaces(live))
    assert len(orphan_ns) == 2 and len(live_ns) == 2

    swept = set(sweep_stale())
    assert orphan_ns <= swept
    assert not live_ns & swept
    assert _pool_namespaces(orphan) == []
    assert set(_pool_namespaces(live)) == live_ns
    orphan.close()  # everything is already gone: still no error


@needs_netns
def test_bad_requests_are_refused_with_names(make_net: MakeNet) -> None:
    net = make_net()
    net.add_server("a", IPS["a"])
    with pytest.raises(ValueError, match="already"):
        net.add_server("a", IPS["b"])
    with pytest.raises(ValueError, match=r"192\.168\.100\.100 is already used by server a"):
        net.add_server("b", IPS["a"])
    with pytest.raises(ValueError, match="unknown servers zz"):
        net.partition(["a", "zz"])
    with pytest.raises(KeyError, match="zz"):
        net.reachable("a", "zz")
    with pytest.raises(ValueError, match="run_id"):
        NamespaceNetwork("Bad_Id")
    with pytest.raises(ValueError, match=f"run_id {net.run_id} is taken"):
        NamespaceNetwork(net.run_id)
    with pytest.raises(RuntimeError, match=r"ip link show dev ovmt-nope failed .*ovmt-nope"):
        network._run_ip(["link", "show", "dev", "ovmt-nope"])


def test_an_unusable_host_raises_network_unavailable_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    reason = "network namespaces need root (running as uid 1000)"
    monkeypatch.setattr(network, "namespace_support", lambda: reason)
    with pytest.raises(NetworkUnavailable, match=r"need root \(running as uid 1000\)"):
        NamespaceNetwork("t-unusable")


def test_the_support_probe_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    assert network._probe_support() == "network namespaces need root (running as uid 1000)"
    monkeypatch.setattr("os.geteuid", lambda: 0)
    monkeypatch.setattr("shutil.which", lambda _: None)
    assert network._probe_support() == "'ip' from iproute2 is not installed"
