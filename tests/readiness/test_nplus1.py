"""The N+1 what-if on read-out pools: where each guest would go, and the Coordinator agrees."""

from __future__ import annotations

import random

import pytest

from ovmref.failover.coordinator import Coordinator
from ovmref.readiness.nplus1 import n_plus_one, pool_database
from ovmref.readiness.readout import GuestReadout, PoolReadout, ServerReadout
from ovmref.release import Release
from tests.readiness.pools import pool


def _failure(readout: PoolReadout, server: str) -> dict[str, tuple[str, str | None]]:
    return {o.guest: (o.action, o.target) for o in n_plus_one(readout).of(server).failure}


def test_every_ha_guest_is_placed_in_a_pool_with_room() -> None:
    p = pool(
        [("ovs1", 4096), ("ovs2", 4096), ("ovs3", 4096)],
        [("a", "ovs1", 1024, True), ("b", "ovs1", 2048, True), ("c", "ovs2", 1024, True)],
    )
    # a (1024) goes to the server with most free memory; ties: the lowest node (ovs2 before ovs3)
    assert _failure(p, "ovs1") == {"a": ("restarted", "ovs2"), "b": ("restarted", "ovs3")}
    assert _failure(p, "ovs2") == {"c": ("restarted", "ovs1")}
    assert _failure(p, "ovs3") == {}


def test_one_server_short_powers_off_exactly_the_guests_that_do_not_fit() -> None:
    p = pool(
        [("ovs1", 512), ("ovs2", 3072), ("ovs3", 512)],
        [
            ("a", "ovs1", 2048, True),
            ("b", "ovs1", 2048, True),
            ("c", "ovs1", 256, False),
            ("d", "ovs2", 256, True),
        ],
    )
    # a takes ovs2's 3072 MB; b (2048) then fits nowhere; c has HA off
    assert _failure(p, "ovs1") == {
        "a": ("restarted", "ovs2"),
        "b": ("powered_off", None),
        "c": ("not_restarted", None),
    }
    assert _failure(p, "ovs2") == {"d": ("restarted", "ovs1")}


def test_maintenance_and_locked_servers_are_no_targets_and_preferred_servers_narrow() -> None:
    p = pool(
        [("ovs1", 0), ("ovs2", 8192), ("ovs3", 8192), ("ovs4", 1024)],
        [("a", "ovs1", 512, True), ("b", "ovs1", 512, True)],
        maintenance=["ovs2"],
        locked=["ovs3"],
        preferred={"b": ("ovs2", "ovs3")},
    )
    assert _failure(p, "ovs1") == {"a": ("restarted", "ovs4"), "b": ("powered_off", None)}


def test_pool_ha_off_restarts_nothing_and_unknown_ha_is_unknown() -> None:
    p = pool([("ovs1", 4096), ("ovs2", 4096)], [("a", "ovs1", 512, True)], pool_ha=False)
    assert _failure(p, "ovs1") == {"a": ("not_restarted", None)}
    p = pool([("ovs1", 4096), ("ovs2", 4096)], [("a", "ovs1", 512, True)], pool_ha=None)
    assert _failure(p, "ovs1") == {"a": ("unknown", None)}


def test_planned_3x_migrates_every_guest_first_and_2x_restarts_only_ha_guests() -> None:
    servers = [("ovs1", 0), ("ovs2", 1024)]
    guests = [("a", "ovs1", 768, True), ("b", "ovs1", 512, False), ("c", "ovs1", 256, True)]
    r3 = {o.guest: (o.action, o.target) for o in n_plus_one(pool(servers, guests)).of("ovs1").planned}
    assert r3 == {"a": ("migrated", "ovs2"), "b": ("stopped", None), "c": ("migrated", "ovs2")}
    r2 = n_plus_one(pool(servers, guests, release=Release.R2_2)).of("ovs1")
    assert {o.guest: (o.action, o.target) for o in r2.planned} == {
        "a": ("restarted", "ovs2"),
        "b": ("stopped", None),
        "c": ("restarted", "ovs2"),
    }
    assert "migrating first" in n_plus_one(pool(servers, guests)).of("ovs1").planned_kind


def test_an_unreachable_server_is_no_target_and_its_guests_are_not_known() -> None:
    p = PoolReadout(
        "p",
        Release.R3,
        True,
        "inventory",
        (
            ServerReadout("ovs1", True, 0),
            ServerReadout("ovs2", False, why_unknown="refused"),
            ServerReadout("ovs3", True, 256),
        ),
        (GuestReadout("a", "ovs1", 512, 1, True, "vm.cfg", ()),),
    )
    table = n_plus_one(p)
    assert _failure(p, "ovs1") == {"a": ("powered_off", None)}
    assert not table.of("ovs2").known


@pytest.mark.parametrize("seed", range(40))
def test_the_failure_what_if_is_what_the_coordinator_decides(seed: int) -> None:
    """The same decisions as the master's own code: ovmref's Coordinator fed the server's failure."""
    rng = random.Random(seed)
    names = [f"ovs{i}" for i in range(1, rng.randint(3, 8))]
    servers = [(n, rng.choice([0, 512, 1024, 2048, 4096])) for n in names]
    guests = [
        (f"g{j:02d}", rng.choice(names), rng.choice([256, 512, 1024, 2048]), rng.random() < 0.8)
        for j in range(rng.randint(0, 25))
    ]
    preferred = {
        g[0]: tuple(rng.sample(names, rng.randint(1, len(names)))) for g in guests if rng.random() < 0.3
    }
    p = pool(
        servers,
        guests,
        preferred=preferred,
        pool_ha=rng.random() < 0.9,
        locked=names[-1:] if seed % 3 else (),
    )
    for failed in names:
        db = pool_database(p)
        for rec in db.servers.values():
            rec.state = "active"
        master = next(n for n in names if n != failed)
        coordinator = Coordinator(db, master)
        coordinator.live = set(names)
        coordinator.node_down(failed)
        decided = {
            g: ("restarted", db.guests[g].server)
            if db.guests[g].state == "starting"
            else ("powered_off", None)
            if db.guests[g].state == "powered_off"
            else ("not_restarted", None)
            for g, s, _, _ in guests
            if s == failed
        }
        assert _failure(p, failed) == decided, (seed, failed)
