"""The master's HA logic when several servers are lost within one dead threshold.

Found by trying scenarios of docs/steps.md as a new user would: two servers
lost together, a second one lost 10 s after the first, a Manual guest's two
preferred servers lost together, an even 6-server split whose fencing side
holds three servers. The master handled the dead servers one at a time, so a
guest could be "restarted" onto a server already dead; when that death was
handled, the restart took the lease over from the target alone, while the
first server's dead incarnation still held it, and the guest stayed powered
off forever ("lease held by server2" every 10 s).
"""

from __future__ import annotations

from ovmref import effects as fx
from ovmref.failover import messages as msg
from ovmref.failover.coordinator import Coordinator
from ovmref.failover.pooldb import GuestRecord, PoolDB, ServerRecord
from ovmref.release import Release

GEN = {"server1": 100, "server2": 200, "server3": 300, "server4": 400}
NODE = {"server1": 0, "server2": 1, "server3": 2, "server4": 3}


def _master() -> Coordinator:
    """server1 masters four servers; vm1 runs on server2; server3 is empty, so it is the Auto target."""
    db = PoolDB("pool1", Release.R2_2, ha_enabled=True, master="server1")
    for name, node in NODE.items():
        db.servers[name] = ServerRecord(name, node, 16384, 8, {"vm"}, state="active", generation=GEN[name])
    db.guests["vm1"] = GuestRecord("vm1", 1024, 1, ha=True, server="server2", state="running",
                                   lease_holders=frozenset({(1, 200)}))
    db.guests["vm2"] = GuestRecord("vm2", 4096, 1, ha=True, server="server1", state="running",
                                   lease_holders=frozenset({(0, 100)}))
    db.guests["vm3"] = GuestRecord("vm3", 2048, 1, ha=True, server="server4", state="running",
                                   lease_holders=frozenset({(3, 400)}))
    c = Coordinator(db, "server1")
    c.live = set(NODE)
    return c


def _starts(effects: list[fx.Effect]) -> list[tuple[int, msg.StartGuestCmd]]:
    return [(e.peer, e.message) for e in effects
            if isinstance(e, fx.Send) and isinstance(e.message, msg.StartGuestCmd)]


def test_servers_dead_at_one_instant_are_never_targets_of_each_others_guests() -> None:
    c = _master()
    [(peer, start)] = _starts(c.nodes_down(["server2", "server3"]))
    assert peer == NODE["server4"], "server3 died with server2: it cannot take vm1"
    assert start.expect == {(1, 200)}
    assert c.db.guests["vm1"].restarts == 1


def test_a_restart_in_flight_to_a_server_that_dies_is_replanned_taking_the_lease_from_either() -> None:
    c = _master()
    [(peer, _)] = _starts(c.node_down("server2"))
    assert peer == NODE["server3"]  # the master cannot know yet that server3 is dead too
    [(peer, start)] = _starts(c.node_down("server3"))
    assert peer == NODE["server4"]
    # the lease is held by server2's dead incarnation, or by server3's if it took it just before dying
    assert start.expect == {(1, 200), (2, 300)}


def test_a_target_that_reports_the_guest_running_becomes_its_only_holder() -> None:
    c = _master()
    c.node_down("server2")
    c.on_message(msg.GuestRunning("vm1", NODE["server3"]))
    assert c.db.guests["vm1"].lease_holders == {(2, 300)}
    [(_, start)] = _starts(c.node_down("server3"))
    assert start.expect == {(2, 300)}, "server2's incarnation no longer holds anything"


def test_a_live_possible_holder_is_never_taken_from() -> None:
    c = _master()
    c.node_down("server2")  # restart sent to server3, which lives
    out = c.on_message(msg.StartFailed("vm1", NODE["server3"], "lease held by server2", (1, 200)))
    assert c.db.guests["vm1"].lease_holders == {(1, 200)}, "server3 answered without taking the lease"
    assert _starts(out) == []  # nothing new was learned: it waits, powered off, for the next retry
    assert c.db.guests["vm1"].state == "powered_off"


def test_a_dead_holder_named_by_the_lease_is_taken_from_at_once() -> None:
    """A database persisted before a start does not know that target may hold the lease: the
    lease itself names its holder, and a holder that is gone is taken over without waiting."""
    c = _master()
    c.db.servers["server3"].state = "down"  # server3 died after taking vm1's lease
    c.db.guests["vm1"].server, c.db.guests["vm1"].state = "server4", "starting"
    c.db.guests["vm1"].lease_holders = frozenset({(1, 200), (3, 400)})
    c.db.servers["server2"].state = "down"
    [(peer, start)] = _starts(c.on_message(msg.StartFailed("vm1", NODE["server4"], "lease held by server3",
                                                           (2, 300))))
    assert peer == NODE["server4"] and (2, 300) in start.expect


def test_a_server_the_master_cannot_reach_is_no_target() -> None:
    """Found by the campaign: a new master on one side of a split restarted a guest on a server of the
    other side (still heartbeating on disk, about to fence); the command was lost and the guest waited
    a dead threshold more. A server without an o2net connection to the master is not available."""
    c = _master()
    c._reachable = lambda: ["server1", "server2", "server4"]  # server3 is cut off from the master
    [(peer, _)] = _starts(c.node_down("server2"))
    assert peer == NODE["server4"]
    assert "server3" not in c.available()
