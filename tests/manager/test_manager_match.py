"""A guest `xm list` shows is matched to the Manager's Vm by the Vm's id (its domain name on 3.x),
never by the Vm's name; a guest no Vm has as its id, and a Vm the Manager places on a server whose
`xm list` does not show it, are each reported, naming the guest and the server."""

from __future__ import annotations

from dataclasses import replace

from environments.manager.facts import parse_facts
from environments.manager.merge import with_manager
from tests.manager.lookalike import pool, server, vm, vm_id
from tests.readiness.pools import pool as readout_pool

SERVERS = [("vmserver1", 4096), ("vmserver2", 4096), ("vmserver3", 4096)]
KNOWN, NAMED_ONLY, ELSEWHERE, NOT_RUNNING = (vm_id(n) for n in ("known", "named", "elsewhere", "absent"))


def _facts() -> object:
    servers = ["vmserver1", "vmserver2", "vmserver3"]
    vms = [
        vm("web", "vmserver1", True, vm_id_value=KNOWN),
        # the Manager's Vm *named* like the domain vmserver2 runs, but with another id
        vm(NAMED_ONLY, "vmserver2", True, vm_id_value=vm_id("another")),
        vm("ghost", "vmserver1", True, vm_id_value=NOT_RUNNING),  # xm list on vmserver1 lacks it
        vm("far", "vmserver3", True, vm_id_value=ELSEWHERE),  # vmserver3's xm list was not read
        vm("stopped", None, True),  # runs nowhere: nothing to see
    ]
    return parse_facts("m", [server(s) for s in servers], [pool("p", True, "vmserver1", servers)], vms)


def test_guests_are_matched_by_vm_id_and_every_mismatch_is_reported() -> None:
    base = readout_pool(
        SERVERS, [(KNOWN, "vmserver1", 512, False), (NAMED_ONLY, "vmserver2", 512, False)], manager=""
    )
    unread = replace(base.servers[2], why_unknown="no `xm list` answer")
    readout = with_manager(replace(base, servers=(*base.servers[:2], unread)), _facts())  # type: ignore[arg-type]
    guests = {g.name: g for g in readout.guests}
    assert (guests[KNOWN].ha, guests[KNOWN].ha_source) == (True, "Oracle VM Manager m: Vm.highAvailability")
    assert (guests[NAMED_ONLY].ha, guests[NAMED_ONLY].ha_source) == (False, "vm.cfg")  # not the Vm's
    said = [n for n in readout.notes if NAMED_ONLY in n or "ghost" in n or "far" in n or "stopped" in n]
    assert said == [
        f"guest {NAMED_ONLY!r} runs on vmserver2 (xm list), but Oracle VM Manager m lists no Vm with that"
        f" id; its Vm named {NAMED_ONLY!r} has id {vm_id('another')!r} (matched by id, not name: its facts"
        " are not used): its Manager facts are unknown",
        # the Vm named like vmserver2's domain is itself not shown there under its id
        f"Oracle VM Manager m says Vm {NAMED_ONLY!r} (id {vm_id('another')!r}) runs on vmserver2, but"
        " `xm list` on vmserver2 does not show it",
        f"Oracle VM Manager m says Vm 'ghost' (id {NOT_RUNNING!r}) runs on vmserver1, but `xm list` on"
        " vmserver1 does not show it",
    ]


def test_a_pool_whose_guests_all_match_has_no_mismatch_note() -> None:
    readout = with_manager(
        readout_pool(SERVERS, [(KNOWN, "vmserver1", 512, True)], manager=""),
        parse_facts(  # type: ignore[arg-type]
            "m",
            [server("vmserver1")],
            [pool("p", True, "vmserver1", ["vmserver1"])],
            [vm("web", "vmserver1", True, vm_id_value=KNOWN)],
        ),
    )
    assert not [n for n in readout.notes if "xm list" in n]
