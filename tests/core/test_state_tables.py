"""The transition tables of ovmref/states/: exactly the legal moves written out here, and every
other event in every state raises and leaves the state as it was."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ovmref.failover.pooldb import GuestRecord
from ovmref.states.guest import GUEST_STATES, move
from ovmref.states.markdown import markdown
from ovmref.states.power import OFF, POWER_STATES, SHOWN_AS, server_power
from ovmref.states.table import IllegalTransition, StateMachine, Transition, TransitionTable

_OFF_OR_UP = ("running", "hung", "crashed", "fenced", "fenced_awaiting_storage", "shutdown", "restarting",
              "restart_awaiting_storage")

# the specification, written independently of the table: (from, event) -> to
POWER_MOVES = {
    ("running", "boot"): "running",
    ("crashed", "boot"): "running",
    ("fenced", "boot"): "running",
    ("restarting", "boot"): "running",
    ("fenced_awaiting_storage", "boot"): "running",
    ("restart_awaiting_storage", "boot"): "running",
    ("fenced", "cluster_root_missing"): "fenced_awaiting_storage",
    ("restarting", "cluster_root_missing"): "restart_awaiting_storage",
    ("running", "freeze"): "hung",
    ("hung", "thaw"): "running",
    **{(s, "crash"): "crashed" for s in _OFF_OR_UP},
    ("running", "fence"): "fenced",
    ("running", "halt"): "shutdown",
    ("running", "restart"): "restarting",
    ("running", "delete"): "deleted",
    ("hung", "fence"): "fenced",
    ("hung", "halt"): "shutdown",
    ("hung", "restart"): "restarting",
    ("hung", "delete"): "deleted",
}

_ACTIVE = ("starting", "migrating", "running")
GUEST_MOVES = {
    ("stopped", "start"): "starting",
    ("powered_off", "start"): "starting",
    **{(s, "restart"): "starting" for s in _ACTIVE},
    **{(s, "power_off"): "powered_off" for s in _ACTIVE},
    **{(s, "stop"): "stopped" for s in _ACTIVE},
    ("powered_off", "stop"): "stopped",
    ("running", "migrate"): "migrating",
    ("starting", "migrate"): "migrating",
    **{(s, "report_running"): "running" for s in ("stopped", "powered_off", *_ACTIVE)},
}

TABLES = [(POWER_STATES, POWER_MOVES), (GUEST_STATES, GUEST_MOVES)]


@pytest.mark.parametrize(("table", "moves"), TABLES, ids=["power", "guest"])
def test_the_table_holds_exactly_the_specified_moves(table: TransitionTable[str, str], moves: dict) -> None:
    assert {(t.source, t.event): t.target for t in table.transitions} == moves
    assert all(t.why.strip() for t in table.transitions), "every transition says why it exists"


@pytest.mark.parametrize(("table", "moves"), TABLES, ids=["power", "guest"])
def test_every_legal_move_leads_where_the_table_says(table: TransitionTable[str, str], moves: dict) -> None:
    for (source, event), target in moves.items():
        machine = StateMachine(table, source)
        assert machine.allows(event)
        assert machine.fire(event) == target == machine.state


@pytest.mark.parametrize(("table", "moves"), TABLES, ids=["power", "guest"])
def test_every_other_event_raises_and_leaves_the_state(table: TransitionTable[str, str], moves: dict) -> None:
    illegal = [(s, e) for s in table.states for e in table.events if (s, e) not in moves]
    assert illegal, "some event is illegal somewhere"
    for source, event in illegal:
        machine = StateMachine(table, source)
        assert not machine.allows(event)
        with pytest.raises(IllegalTransition) as raised:
            machine.fire(event)
        assert machine.state == source
        assert (raised.value.state, raised.value.event) == (source, event)
        assert f"{event!r} cannot happen in state {source!r}" in str(raised.value)


def test_a_deleted_server_can_do_nothing_and_the_message_says_so() -> None:
    machine = StateMachine(POWER_STATES, "deleted")
    with pytest.raises(IllegalTransition, match=r"server power: 'boot' cannot happen in state 'deleted' "
                       r"\(allowed there: nothing\)"):
        machine.fire("boot")


def test_an_illegal_move_of_a_guest_record_leaves_the_record() -> None:
    guest = GuestRecord("vm1", 1024, 1, ha=True)
    with pytest.raises(IllegalTransition, match="allowed there: start, stop, report_running"):
        move(GuestRecord("vm0", 1024, 1, ha=True, state="powered_off"), "migrate")
    with pytest.raises(IllegalTransition):
        move(guest, "migrate")
    assert guest.state == "stopped"
    move(guest, "start")
    assert guest.state == "starting"


def test_a_table_refuses_two_targets_for_one_event_and_undeclared_names() -> None:
    states, events = {"a": "", "b": ""}, {"go": ""}
    with pytest.raises(ValueError, match="declared twice"):
        TransitionTable("t", states, events, [Transition("a", "go", "a", ""), Transition("a", "go", "b", "")])
    with pytest.raises(ValueError, match="undeclared"):
        TransitionTable("t", states, events, [Transition("a", "jump", "b", "x")])


def test_the_manager_names_every_power_state_and_a_rejoin_comes_from_off() -> None:
    assert set(SHOWN_AS) == set(POWER_STATES.states)
    assert server_power().state == "running"
    booted_from_off = {s for s in POWER_STATES.states if POWER_STATES.allows(s, "boot") and s != "running"}
    assert booted_from_off == OFF - {"shutdown"}, "a shut-down server stays off"


def _reachable(table: TransitionTable[str, str], start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        state = todo.pop()
        for event in table.events:
            if table.allows(state, event) and (nxt := table.next_state(state, event)) not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_every_state_is_reachable_from_the_first() -> None:
    assert _reachable(POWER_STATES, "running") == set(POWER_STATES.states)
    assert _reachable(GUEST_STATES, "stopped") == set(GUEST_STATES.states)


@given(st.lists(st.sampled_from(sorted(POWER_STATES.events)), max_size=40))
def test_any_sequence_of_power_events_moves_by_the_table_or_changes_nothing(events: list[str]) -> None:
    machine = server_power()
    for event in events:
        before = machine.state
        try:
            machine.fire(event)  # type: ignore[arg-type]
        except IllegalTransition:
            assert machine.state == before and (before, event) not in POWER_MOVES
        else:
            assert machine.state == POWER_MOVES[(before, event)]
        assert machine.state == "deleted" or machine.allows("crash"), "only a deleted server cannot fail"


@given(st.lists(st.sampled_from(sorted(GUEST_STATES.events)), max_size=40))
def test_any_sequence_of_guest_events_moves_by_the_table_or_changes_nothing(events: list[str]) -> None:
    guest = GuestRecord("vm1", 1024, 1, ha=True)
    for event in events:
        before = guest.state
        try:
            move(guest, event)  # type: ignore[arg-type]
        except IllegalTransition:
            assert guest.state == before and (before, event) not in GUEST_MOVES
        else:
            assert guest.state == GUEST_MOVES[(before, event)]


def test_the_drawing_has_a_row_per_state_and_every_transition() -> None:
    text = markdown(POWER_STATES, SHOWN_AS)
    grid = text.split("| from \\ event |")[1].split("\n\n")[0]
    rows = [line.split(" | ")[0] for line in grid.splitlines()[2:]]
    assert rows == [f"| `{s}`" for s in POWER_STATES.states]
    assert "| `fenced_awaiting_storage` | fenced, and its boot" in text
    assert "| `restart_awaiting_storage` |" in text and "| shutdown |" in text
    for t in POWER_STATES.transitions:
        assert t.why in text
