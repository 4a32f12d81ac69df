"""HA readiness over SSH on lookalike pools: `validate --readiness` reads the guests each server's
`xm` lists (the image's lookalike xm, images/ovm-server/xm, answers from its state file), their 3.x
vm.cfg on the repository, and the inventory's `ha:` section; then judges the readiness rules and
writes the N+1 table. A healthy pool with room passes and places every HA guest; a pool one server
short names exactly the guests that would be powered off, on the right server; a guest with HA on in
a pool with HA off fails exactly that rule; hostile guest names stay names."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from environments.docker.lookalike_guests import give_guests, take_guests_away
from tests.docker.test_validator import _inventory, healthy_pool  # noqa: F401  (the pool fixture)

HOSTILE = "app'; touch /root/PWNED #"
GUESTS = {  # server -> (xm name, MB)
    "vmserver1": [("0004fb00000600000000000000000001", 1024), ("0004fb00000600000000000000000002", 1024)],
    "vmserver2": [("0004fb00000600000000000000000003", 1024)],
    "vmserver3": [(HOSTILE, 512)],
}


@pytest.fixture
def guests_given(healthy_pool: tuple[Any, Any]) -> Iterator[Any]:  # noqa: F811
    pool, _ = healthy_pool
    try:
        yield pool
    finally:
        take_guests_away(pool)


def _ha_section(pool_ha: bool, guests: Sequence[str], ha: bool | None) -> list[str]:
    lines = ["ha:", f"  pool: {str(pool_ha).lower()}", *(["  guests:"] if guests else [])]
    flag = "" if ha is None else f"ha: {str(ha).lower()}, "
    lines += [f"    {json.dumps(name)}: {{{flag}preferred: []}}" for name in guests]
    return lines


def _validate(pool: Any, tmp_path: Path, ha_lines: list[str]) -> tuple[int, dict[str, Any]]:
    from conformance.cli import main

    inventory = _inventory(pool, tmp_path)
    inventory.write_text(inventory.read_text() + "\n".join(ha_lines) + "\n")
    code = main(
        [
            "validate",
            "--inventory",
            str(inventory),
            "--report-dir",
            str(tmp_path / "r"),
            "--run-id",
            "v",
            "--force",
        ]
    )
    return code, json.loads((tmp_path / "r" / "v" / "conformance.json").read_text())


def _statuses(report: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {
        (r["id"], s["nodeid"].rsplit("::", 1)[1]): s["status"]
        for r in report["rules"]
        for s in r["scenarios"]
        if r["id"].startswith("READY-")
    }


def _names() -> list[str]:
    return [n for domains in GUESTS.values() for n, _ in domains]


@pytest.mark.parametrize("healthy_pool", ["3.x", "2.2"], indirect=True)
def test_a_healthy_pool_with_room_passes_and_places_every_ha_guest(guests_given: Any, tmp_path: Path) -> None:
    pool = guests_given
    give_guests(pool, GUESTS, ha=True, total_mb=4096)
    # 3.x: HA from the guests' vm.cfg (the hostile name has none: the inventory's); 2.x: the inventory's
    plain = [n for n in _names() if n != HOSTILE]
    lines = _ha_section(True, plain, None if pool.release.value == "3.x" else True)
    lines.append(f"    {json.dumps(HOSTILE)}: {{ha: true, preferred: []}}")
    code, report = _validate(pool, tmp_path, lines)
    statuses = _statuses(report)
    assert code == 0, {k: v for k, v in statuses.items() if v != "passed"}
    assert set(statuses.values()) == {"passed"} and len({r for r, _ in statuses}) == 5
    table = report["readiness"]["n_plus_one"]
    placed = {o["guest"]: o for s in table for o in s["if_failed"]}
    assert set(placed) == set(_names()) and {o["action"] for o in placed.values()} == {"restarted"}
    sources = {g["name"]: g["ha_source"] for g in report["readiness"]["guests"]}
    if pool.release.value == "3.x":
        assert sources["0004fb00000600000000000000000001"].endswith(
            "/VirtualMachines/0004fb00000600000000000000000001/vm.cfg"
        )
        assert sources[HOSTILE] == "inventory"
    assert pool.exec("vmserver3", ["test", "-e", "/root/PWNED"]).rc == 1


@pytest.mark.parametrize("healthy_pool", ["3.x"], indirect=True)
def test_a_pool_one_server_short_names_the_guests_powered_off_on_the_right_server(
    guests_given: Any, tmp_path: Path
) -> None:
    pool = guests_given
    guests = {
        "vmserver1": [("0004fb00000600000000000000000001", 3072), ("0004fb00000600000000000000000002", 512)],
        "vmserver2": [("0004fb00000600000000000000000003", 1536)],
        "vmserver3": [("0004fb00000600000000000000000004", 2048)],
    }
    # 3584 MB each for guests; free: 0, 2048, 1536: if vmserver1 fails, ...01 (3072, first by name)
    # fits nowhere, ...02 takes vmserver2 (the most free); vmserver2's and vmserver3's guests fit
    give_guests(pool, guests, ha=True, total_mb=4096)
    code, report = _validate(
        pool, tmp_path, _ha_section(True, [n for d in guests.values() for n, _ in d], None)
    )
    failed = {k for k, v in _statuses(report).items() if v == "failed"}
    assert failed == {("READY-FAILOVER-CAPACITY", "vmserver1"), ("READY-PLANNED-CAPACITY", "vmserver1")}
    assert code == 1
    ovs1 = next(s for s in report["readiness"]["n_plus_one"] if s["server"] == "vmserver1")
    assert [(o["guest"], o["action"], o["target"]) for o in ovs1["if_failed"]] == [
        ("0004fb00000600000000000000000001", "powered_off", None),
        ("0004fb00000600000000000000000002", "restarted", "vmserver2"),
    ]


@pytest.mark.parametrize("healthy_pool", ["3.x"], indirect=True)
def test_a_guest_with_ha_on_in_a_pool_with_ha_off_fails_exactly_that_rule(
    guests_given: Any, tmp_path: Path
) -> None:
    pool = guests_given
    give_guests(pool, GUESTS, ha=True, total_mb=4096)
    code, report = _validate(pool, tmp_path, _ha_section(False, _names(), True))
    failed = {k for k, v in _statuses(report).items() if v == "failed"}
    assert failed == {("READY-GUEST-HA-POOL-OFF", "pool")}
    assert code == 1


@pytest.mark.parametrize("healthy_pool", ["3.x"], indirect=True)
def test_simulate_plays_faults_on_the_read_out_pool_and_changes_nothing(
    guests_given: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from conformance.cli import main

    pool = guests_given
    guests = {
        "vmserver1": [("0004fb00000600000000000000000001", 1024)],
        "vmserver2": [("0004fb00000600000000000000000002", 1024)],
        "vmserver3": [],
    }
    give_guests(pool, guests, ha=True, total_mb=2560)  # free: 1024, 1024, 2048
    inventory = _inventory(pool, tmp_path)
    inventory.write_text(inventory.read_text() + "\n".join(_ha_section(True, [], None)) + "\n")
    before = {s: pool.exec(s, ["cat", "/etc/xen-lookalike/domains.json"]).stdout for s in pool.servers}
    code = main(["simulate", "--inventory", str(inventory), "crash:vmserver1", "crash:vmserver3"])
    out = capsys.readouterr().out
    assert code == 0, out
    # vmserver1's guest restarts on vmserver3 (the most free), then vmserver3 crashes too: it goes to
    # vmserver2 (1024 MB free there)
    assert "after crash of vmserver1" in out and "after crash of vmserver3" in out
    lines = [line for line in out.splitlines() if line.startswith("'0004fb00000600000000000000000001'")]
    assert lines and lines[0].split()[1:] == ["vmserver1", "vmserver2"], out
    assert {
        s: pool.exec(s, ["cat", "/etc/xen-lookalike/domains.json"]).stdout for s in pool.servers
    } == before
