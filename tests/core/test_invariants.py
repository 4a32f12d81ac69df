from environments.invariants import double_runs, first_time
from environments.model import InjectedFault
from environments.model import TimelineEvent as E


def test_overlap_is_found_and_handover_is_not() -> None:
    clean = [E(0, "guest_running", "s1", "vm1"), E(10, "guest_stop", "s1", "vm1"),
             E(10, "guest_running", "s2", "vm1")]
    assert double_runs(clean) == []
    bad = [E(0, "guest_running", "s1", "vm1"), E(5, "guest_running", "s2", "vm1"),
           E(9, "guest_stop", "s1", "vm1")]
    found = double_runs(bad)
    assert len(found) == 1
    a, b = found[0]
    assert {a.server, b.server} == {"s1", "s2"} and b.start_ms == 5


def test_first_time_filters() -> None:
    crash = InjectedFault("crash", ("s1",))
    tl = [E(1, "fault", "s1", fault=crash), E(4, "node_down", "s2"), E(7, "node_down", "s1")]
    assert first_time(tl, "node_down", server="s1") == 7
    assert first_time(tl, "node_down", after_ms=5) == 7
    assert first_time(tl, "fence") is None
