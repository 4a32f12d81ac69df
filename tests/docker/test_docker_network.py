"""Partition bookkeeping of the docker environment, without Docker: which server drops whom.

Servers are cut apart by blackhole routes on both sides; one that is down when the partition is
made gets its routes when it starts; healing removes them only where a server runs.
"""

from __future__ import annotations

from environments.docker.network import ContainerNetwork
from environments.model import CommandResult


class FakePlugs:
    def __init__(self, down: set[str]) -> None:
        self.down = down

    def running(self, server: str) -> bool:
        return server not in self.down


def _network(down: set[str] | None = None) -> tuple[ContainerNetwork, list[tuple[str, str]]]:
    sent: list[tuple[str, str]] = []

    def run(server: str, argv: list[str]) -> CommandResult:
        sent.append((server, argv[-1]))
        return CommandResult(tuple(argv), 0, "", "")

    net = ContainerNetwork(FakePlugs(down or set()), run)
    for i in range(1, 5):
        net.add_server(f"s{i}", f"10.9.0.{i}")
    return net, sent


def test_each_side_drops_the_other_sides_addresses_and_keeps_its_own() -> None:
    net, sent = _network()
    net.partition(["s3", "s4"])
    assert net.blackholed == {
        "s1": {"10.9.0.3", "10.9.0.4"},
        "s2": {"10.9.0.3", "10.9.0.4"},
        "s3": {"10.9.0.1", "10.9.0.2"},
        "s4": {"10.9.0.1", "10.9.0.2"},
    }
    assert net.reachable("s1", "s2") and net.reachable("s3", "s4")
    assert not net.reachable("s1", "s3")
    assert {server for server, _ in sent} == {"s1", "s2", "s3", "s4"}
    assert all("ip route replace blackhole" in script for _, script in sent)


def test_a_server_down_at_the_cut_is_cut_off_when_it_starts() -> None:
    net, sent = _network(down={"s2"})
    net.partition(["s2"])
    assert "s2" not in {server for server, _ in sent}
    sent.clear()
    net.server_started("s2")
    assert sent == [
        ("s2", "ip route replace blackhole 10.9.0.1/32 && ip route replace blackhole 10.9.0.3/32 "
         "&& ip route replace blackhole 10.9.0.4/32")
    ]


def test_heal_deletes_the_routes_of_running_servers_and_forgets_the_partition() -> None:
    net, sent = _network()
    net.partition(["s1"])
    sent.clear()
    net.heal()
    assert {server for server, _ in sent} == {"s1", "s2", "s3", "s4"}
    assert all("ip route del blackhole" in script for _, script in sent)
    assert not net.blackholed and net.reachable("s1", "s2")
    sent.clear()
    net.server_started("s1")
    assert sent == []


def test_a_new_partition_heals_the_old_one_first() -> None:
    net, _ = _network()
    net.partition(["s1"])
    net.partition(["s4"])
    assert net.blackholed["s1"] == {"10.9.0.4"}
    assert net.reachable("s1", "s2") and not net.reachable("s1", "s4")
