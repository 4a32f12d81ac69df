"""A new master restarts the guests of a server whose incarnation changed while there was no master.

Found by the local environment: in 3.x a fenced server reboots (60 s) before
its peers judge it dead (dead threshold 122 s); when the new master takes
over, the server is heartbeating again with a new generation and never said
Hello, so the new master waited for it forever and its HA guests stayed down.
"""

from __future__ import annotations

from ovmref import effects as fx
from ovmref.failover import messages as msg
from ovmref.failover.coordinator import Coordinator
from ovmref.failover.pooldb import GuestRecord, PoolDB, ServerRecord
from ovmref.release import Release


def _db() -> PoolDB:
    db = PoolDB("pool1", Release.R3, ha_enabled=True, master="server1")
    for node, name in enumerate(("server1", "server2", "server3")):
        db.servers[name] = ServerRecord(name, node, 16384, 8, {"vm"}, state="active", generation=100 + node)
    db.guests["vm2"] = GuestRecord("vm2", 1024, 1, ha=True, server="server2", state="running")
    return db


def _starts(effects: list[fx.Effect]) -> list[tuple[int, msg.StartGuestCmd]]:
    return [
        (e.peer, e.message)
        for e in effects
        if isinstance(e, fx.Send) and isinstance(e.message, msg.StartGuestCmd)
    ]


def test_a_server_heartbeating_with_a_new_generation_has_its_guests_restarted_from_the_old_one() -> None:
    coordinator = Coordinator(_db(), "server3")
    out = coordinator.become_master(["server2", "server3"], generations={"server2": 999})
    [(peer, start)] = _starts(out)
    assert start.guest == "vm2" and peer == 2  # restarted here, on server3
    assert start.expect == {(1, 101)}  # the lease is taken from exactly the incarnation that is gone
    assert coordinator.db.guests["vm2"].restarts == 1


def test_the_same_generation_is_waited_for() -> None:
    coordinator = Coordinator(_db(), "server3")
    out = coordinator.become_master(["server2", "server3"], generations={"server2": 101})
    assert _starts(out) == []
    assert coordinator.db.guests["vm2"].state == "running"


def test_a_new_master_sends_again_the_starts_its_predecessor_had_in_flight() -> None:
    """Found by the campaign: the master died after sending a restart; the target booted the guest,
    but the report went to the dead master and the guest then crashed, its report lost too. The new
    master's database still said "starting", so it waited for two resync periods before sending the
    start again, well past the failover bound."""
    db = _db()
    db.guests["vm3"] = GuestRecord(
        "vm3",
        1024,
        1,
        ha=True,
        server="server3",
        state="starting",
        lease_holders=frozenset({(1, 101), (2, 102)}),
    )
    coordinator = Coordinator(db, "server3")
    out = coordinator.become_master(["server2", "server3"], generations={"server2": 101, "server3": 102})
    [(peer, start)] = _starts(out)
    assert (peer, start.guest) == (2, "vm3")
    assert coordinator.db.guests["vm3"].restarts == 0, "the same start, sent again: not a new restart"
