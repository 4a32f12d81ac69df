"""Faults played on a read-out pool: each one with the N+1 engine's decisions on the pool the last
one left; `simulate --inventory` refuses what it cannot play, in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.cli import main
from ovmref.readiness.faults import FaultError, parse_fault, play_faults, render_played
from tests.readiness.pools import pool


def test_a_second_failure_is_played_on_the_pool_the_first_left() -> None:
    p = pool(
        [("ovs1", 0), ("ovs2", 2048), ("ovs3", 1024)],
        [("a", "ovs1", 1024, True), ("b", "ovs1", 1024, True), ("c", "ovs2", 512, False)],
    )
    after, played = play_faults(p, [parse_fault("crash:ovs1"), parse_fault("hang:ovs2")])
    first = {o.guest: (o.action, o.target) for o in played[0].outcomes}
    assert first == {"a": ("restarted", "ovs2"), "b": ("restarted", "ovs2")}  # ovs2: 2048 -> 1024 -> 0
    second = {o.guest: (o.action, o.target) for o in played[1].outcomes}
    # ovs2 now runs a, b (restarted there) and c; ovs3 has 1024 MB: a fits, b does not, c has HA off
    assert second == {"a": ("restarted", "ovs3"), "b": ("powered_off", None), "c": ("not_restarted", None)}
    assert {g.name: g.server for g in after.guests} == {"a": "ovs3"}
    text = "\n".join(render_played(p, after, played))
    assert "'b'" in text and "POWERED OFF" in text and "nothing was done to the real pool" in text


@pytest.mark.parametrize(
    ("faults", "message"),
    [(["crash:ovs9"], "no server named 'ovs9'"), (["crash:ovs1", "crash:ovs1"], "already out of the pool")],
)
def test_faults_that_cannot_be_played_say_why(faults: list[str], message: str) -> None:
    p = pool([("ovs1", 0), ("ovs2", 0)], [])
    with pytest.raises(FaultError, match=message):
        play_faults(p, [parse_fault(f) for f in faults])
    with pytest.raises(FaultError, match="KIND:SERVER"):
        parse_fault("explode:ovs1")


def test_simulate_inventory_usage_errors_are_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "known_hosts").write_text("")
    inventory = tmp_path / "pool.yaml"
    inventory.write_text(
        "pool: p\nstorage: nfs\ncluster_root: nfs.example.com:/OVS\nssh: {known_hosts: known_hosts}\n"
        "servers:\n  - {name: ovs1, host: 192.0.2.11}\n"
    )
    assert main(["simulate", "--inventory", str(inventory)]) == 2
    assert "at least one fault" in capsys.readouterr().err
    assert main(["simulate", "--inventory", str(inventory), "melt:ovs1"]) == 2
    assert "KIND:SERVER" in capsys.readouterr().err
    definition = Path(__file__).resolve().parents[2] / "examples" / "pool.yaml"
    assert main(["simulate", "--inventory", str(definition), "crash:server1"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "pool definition" in err
    assert main(["simulate"]) == 2
