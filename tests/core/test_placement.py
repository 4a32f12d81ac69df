"""Preferred Server policy: Auto picks the most free resources, Manual only among preferred servers."""

from ovmref.failover.placement import choose_server
from ovmref.failover.pooldb import GuestRecord, ServerRecord

SERVERS = {n: ServerRecord(n, i, 8192, 4) for i, n in enumerate(["server1", "server2", "server3"])}


def guest(mem: int = 1024, preferred: tuple[str, ...] = ()) -> GuestRecord:
    return GuestRecord("vm1", mem, 1, True, preferred)


def test_auto_picks_maximum_free_memory() -> None:
    free = {"server1": 1000, "server2": 6000, "server3": 3000}
    assert choose_server(guest(), SERVERS, list(SERVERS), free) == "server2"


def test_auto_ties_go_to_lowest_node_number() -> None:
    free = {"server1": 4000, "server2": 4000, "server3": 4000}
    assert choose_server(guest(), SERVERS, ["server3", "server2"], free) == "server2"


def test_manual_only_among_preferred_even_if_others_have_more() -> None:
    free = {"server1": 2000, "server2": 7000, "server3": 3000}
    assert choose_server(guest(preferred=("server1", "server3")), SERVERS, list(SERVERS), free) == "server3"


def test_none_when_nothing_fits_or_no_preferred_server_available() -> None:
    free = {"server1": 500, "server2": 500, "server3": 8000}
    assert choose_server(guest(mem=1024), SERVERS, ["server1", "server2"], free) is None
    assert choose_server(guest(preferred=("server3",)), SERVERS, ["server1", "server2"], free) is None
