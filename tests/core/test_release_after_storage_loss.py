"""A guest lease released while its server had lost the storage is written again once it is back.

Found by the pool property machine (tests/core/test_sim_properties.py) on a 2.1 pool of four
servers on NFS: vm6 crashed on server4 while server4 had lost its storage, so the release of its
lease never reached the storage. server4 stayed up and kept the lease, every restart of vm6 on
another server failed with "lease held by server4", and the HA guest stayed powered off for good,
although every server had room for it. The machine's steps are replayed here as it printed them.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.campaign.schedule import GuestPlan, Schedule
from ovmref.release import Release
from tests.core.test_sim_properties import SimPoolUnderFaults


def _vm6_pool() -> Schedule:
    first = GuestPlan(name="vm1", memory_mb=1024, ha=True, preferred=("server1",), server=None)
    rest = [
        GuestPlan(f"vm{i}", memory_mb=1024, ha=True, preferred=(), server="server4" if i == 6 else "server1")
        for i in range(2, 8)
    ]
    return Schedule(
        release=Release.R2_1,
        servers=4,
        memory_mb=8192,
        guests=(first, *rest),
        events=(),
        storage="NFS",
        pool_ha=True,
        origin="",
    )


# run as a one-example property test: the machine's rules call hypothesis's assume()
@settings(max_examples=1, database=None)
@given(st.none())
def test_a_guest_crashed_during_a_storage_loss_is_restarted_once_the_storage_is_back(_: None) -> None:
    state = SimPoolUnderFaults()
    state.build(pool=_vm6_pool(), seed=345)
    steps = [
        lambda: state.servers_fail(kind="storage", picks=[0, 1]),
        lambda: state.servers_fail(kind="storage", picks=[3, 0]),
        state.master_fails,
        state.network_heals,
        lambda: state.a_guest_crashes(pick=5),
        state.master_fails,
        lambda: state.time_passes(which=1),
        state.network_heals,
        lambda: state.a_server_comes_back(pick=2),
    ]
    state.safe()
    for step in steps:
        step()
        state.safe()
    state.teardown()  # the final checks: every HA guest runs, or no server has room for it
