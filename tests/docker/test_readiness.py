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


# ---- the lookalike Oracle VM Manager beside a container pool --------------------------------------
# the Manager knows the first two servers' guests (HA on) and a guest that xm lists nowhere; xm on
# vmserver3 lists a guest the Manager does not know: both mismatches are reported, neither dropped
BESIDE = {  # server -> (xm name, MB, HA as the Manager says)
    "vmserver1": [("0004fb00000600000000000000000001", 1024, True)],
    "vmserver2": [("0004fb00000600000000000000000002", 1024, True)],
}
UNKNOWN_TO_MANAGER = "0004fb00000600000000000000000003"  # xm on vmserver3 lists it
NOT_RUNNING = "0004fb000006000000000000000000ff"  # the Manager places it on vmserver3


@pytest.mark.parametrize("healthy_pool", ["3.x"], indirect=True)
def test_the_lookalike_manager_beside_a_container_pool_gives_master_ha_and_mismatches(
    guests_given: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """validate --readiness and the ssh environment's observe() read the same pool: the Manager's
    master and HA flags, matched to `xm list` by Vm id; the two mismatches named in the report."""
    pytest.importorskip("werkzeug", reason="the lookalike Manager needs Werkzeug (the dev extra)")
    from environments.model import PoolSpec, ServerSpec
    from environments.ssh.driver import SSHDriver
    from ovmref.release import Release
    from tests.manager.lookalike import PASSWORD, PASSWORD_ENV, describe_pool, serving, vm

    pool = guests_given
    xm = {s: [(n, mb) for n, mb, _ in g] for s, g in BESIDE.items()}
    give_guests(pool, {**xm, "vmserver3": [(UNKNOWN_TO_MANAGER, 512)]}, ha=False, total_mb=4096)
    objects = describe_pool("lookalike", list(pool.servers), "vmserver2", BESIDE)
    objects["Vm"].append(vm("ghost", "vmserver3", True, vm_id_value=NOT_RUNNING))
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    with serving(tmp_path, objects) as look:
        code, report = _validate(pool, tmp_path, [*_ha_section(True, [], None), *look.inventory_lines()])
        inventory = tmp_path / "pool.yaml"  # the one _validate wrote
        driver = SSHDriver(Release.R3, seed=1, inventory=inventory)
        try:
            spec = PoolSpec(
                storage="nfs", servers=tuple(ServerSpec(f"server{n}") for n in (1, 2, 3)), ha_enabled=True
            )
            assert driver.build_pool(spec).ok
            state = driver.observe()
            scenario = {driver.known_as(n): n for n in state.servers}  # fqdn -> the scenario's name
        finally:
            driver.close()
        assert {m for m, _, _ in look.seen} == {"GET"}
    readiness = report["readiness"]
    assert (readiness["master"], readiness["pool_ha"]) == ("vmserver2", True)
    ha = {g["name"]: (g["ha"], g["ha_source"]) for g in readiness["guests"]}
    by_manager = "Oracle VM Manager 127.0.0.1: Vm.highAvailability"
    assert ha["0004fb00000600000000000000000001"] == (True, by_manager)  # over vm.cfg's False
    assert ha[UNKNOWN_TO_MANAGER][1].endswith(f"/VirtualMachines/{UNKNOWN_TO_MANAGER}/vm.cfg")
    notes = readiness["notes"]
    assert any(f"guest {UNKNOWN_TO_MANAGER!r} runs on vmserver3 (xm list)" in n for n in notes), notes
    assert any(f"Vm 'ghost' (id {NOT_RUNNING!r}) runs on vmserver3" in n for n in notes), notes
    # vmserver3's guest, unknown to the Manager, has HA off by its vm.cfg in an HA pool
    assert {k for k, v in _statuses(report).items() if v == "failed"} == {("READY-POOL-HA-GUEST-OFF", "pool")}
    assert code == 1
    # the ssh environment, under the scenario's names (the inventory's order)
    named = {s: scenario[pool.server(s).fqdn] for s in pool.servers}
    assert (state.master, state.ha_enabled) == (named["vmserver2"], True)
    assert {n: st.roles for n, st in state.servers.items()} == {
        n: ("master",) if n == named["vmserver2"] else () for n in state.servers
    }
    assert {g.name: (g.server, g.ha) for g in state.guests.values()} == {
        "0004fb00000600000000000000000001": (named["vmserver1"], True),
        "0004fb00000600000000000000000002": (named["vmserver2"], True),
        UNKNOWN_TO_MANAGER: (named["vmserver3"], False),
    }
    log = (tmp_path / "r" / "v").rglob("*")
    assert not any(PASSWORD.encode() in p.read_bytes() for p in log if p.is_file())
