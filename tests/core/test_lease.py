"""The lease table: a guest's lease changes holder only by compare-and-set against a judged-dead holder."""

from ovmref.lease import ANY_GENERATION, LeaseTable


def test_free_lease_is_granted_and_token_grows_on_each_new_holder() -> None:
    t = LeaseTable()
    first = t.acquire("guest:vm1", 0, 11)
    assert first.granted and first.holder == (0, 11) and first.token == 1
    again = t.acquire("guest:vm1", 0, 11)
    assert again.granted and again.token == 1, "re-acquiring your own lease keeps the token"
    taken = t.acquire("guest:vm1", 1, 22, expect=(0, ANY_GENERATION))
    assert taken.granted and taken.holder == (1, 22) and taken.token == 2


def test_lease_held_by_someone_else_is_refused_without_matching_expectation() -> None:
    t = LeaseTable()
    t.acquire("guest:vm1", 0, 11)
    refused = t.acquire("guest:vm1", 1, 22)
    assert not refused.granted and refused.holder == (0, 11)
    wrong = t.acquire("guest:vm1", 1, 22, expect=(2, ANY_GENERATION))
    assert not wrong.granted
    stale_gen = t.acquire("guest:vm1", 1, 22, expect=(0, 99))
    assert not stale_gen.granted


def test_only_the_first_of_racing_takeovers_wins() -> None:
    t = LeaseTable()
    t.acquire("master", 0, 5)
    results = [t.acquire("master", n, 100 + n, expect=(0, ANY_GENERATION)) for n in (1, 2, 3)]
    assert [r.granted for r in results] == [True, False, False]
    assert t.holder("master") == (1, 101)


def test_release_by_non_holder_is_ignored() -> None:
    t = LeaseTable()
    t.acquire("guest:vm1", 0, 11)
    assert not t.release("guest:vm1", 0, 12)
    assert t.holder("guest:vm1") == (0, 11)
    assert t.release("guest:vm1", 0, 11)
    assert t.holder("guest:vm1") is None
    assert t.held_by(0) == []


def test_a_lease_is_taken_from_any_of_several_incarnations_judged_dead() -> None:
    t = LeaseTable()
    t.acquire("guest:vm1", 2, 33)  # the restart's target took it, then died
    dead = frozenset({(1, 22), (2, 33)})  # the old server, and the target: either may hold it
    taken = t.acquire("guest:vm1", 3, 44, expect=dead)
    assert taken.granted and taken.holder == (3, 44) and taken.token == 2


def test_a_set_of_dead_incarnations_never_matches_a_later_boot_of_the_same_server() -> None:
    t = LeaseTable()
    t.acquire("guest:vm1", 2, 34)  # server 2 rebooted (generation 34) and took the lease again
    refused = t.acquire("guest:vm1", 3, 44, expect=frozenset({(1, 22), (2, 33)}))
    assert not refused.granted and refused.holder == (2, 34)
    assert not t.acquire("guest:vm1", 3, 44, expect=frozenset()).granted
