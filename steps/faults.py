"""Steps that make things go wrong: server crash, hang, storage loss, partition, guest crash.

Each records a Fault (kind, victims, time, pool before) for the Then steps,
which measure failover bounds from that instant.
"""

from __future__ import annotations

from collections.abc import Sequence

from pytest_bdd import parsers, when

from environments.base import PoolDriver
from environments.model import FaultKind, PoolState
from steps.records import SERVER, SERVERS, Fault, names, remember_fault, remember_recovery

_FAULTS: dict[str, FaultKind] = {
    "fails": "crash",
    "fail": "crash",
    "hangs": "hang",
    "hang": "hang",
    "loses access to the shared storage": "storage",
    "lose access to the shared storage": "storage",
}
_FAULT_RE = "|".join(sorted(_FAULTS, key=len, reverse=True))
_PLURAL_FAULTS = "lose access to the shared storage|fail|hang"


def inject(driver: PoolDriver, kind: FaultKind, servers: Sequence[str]) -> Fault:
    """The driver marks the fault with this very kind, so the report judges it as the step does."""
    before = driver.observe()
    at_ms = driver.inject(kind, list(servers))
    return Fault(kind, tuple(servers), at_ms, before)


@when(parsers.re(rf"(?:servers )?(?P<servers>{SERVERS}) (?P<fault>{_FAULT_RE})"), target_fixture="fault")
def server_fault(ovm_driver: PoolDriver, servers: str, fault: str) -> Fault:
    """Crash ("fails"), freeze ("hangs") or cut a server off its shared storage, at this instant."""
    return remember_fault(ovm_driver, inject(ovm_driver, _FAULTS[fault], names(servers)))


@when(
    parsers.re(
        rf"servers (?P<servers>{SERVERS}) (?P<fault>{_PLURAL_FAULTS}) (?P<seconds>\d+) seconds apart"
    ),
    target_fixture="fault",
)
def staggered_faults(
    ovm_driver: PoolDriver, servers: str, fault: str, seconds: str
) -> Fault:
    """The named servers fail (or hang, or lose the shared storage) one after another, in the order
    named, that many seconds apart; the failover bound runs from the last of them."""
    victims = names(servers)
    assert len(victims) >= 2, "name at least two servers to fail some seconds apart"
    first = inject(ovm_driver, _FAULTS[fault], victims[:1])
    last = first.at_ms
    for victim in victims[1:]:
        ovm_driver.advance(int(seconds) * 1000)
        last = ovm_driver.inject(_FAULTS[fault], [victim])
    return remember_fault(
        ovm_driver, Fault(first.kind, tuple(victims), first.at_ms, first.before, spread_ms=last - first.at_ms)
    )


@when(
    parsers.re(rf"(?P<server>{SERVER}) fails while guest (?P<guest>{SERVER}) is starting on it"),
    target_fixture="fault",
)
def fails_while_starting(
    ovm_driver: PoolDriver, server: str, guest: str
) -> Fault:
    """Crash the server at the moment the guest is starting there (it holds the guest's lease and
    boots it, and has not reported it running yet)."""
    timings = ovm_driver.timings

    def starting(state: PoolState) -> bool:
        g = state.guests.get(guest)
        return g is not None and g.state == "starting" and g.server == server

    patience = timings.reboot_ms + 2 * ovm_driver.failover_bound_ms("partition")
    assert ovm_driver.wait_until(starting, patience, step_ms=timings.iteration_ms // 8 or 1), (
        f"guest {guest} never started on {server}: {ovm_driver.observe().guests.get(guest)}"
    )
    return remember_fault(ovm_driver, inject(ovm_driver, "crash", [server]))


@when("the server pool master fails", target_fixture="fault")
def master_fails(ovm_driver: PoolDriver) -> Fault:
    """Crash whichever server is the Server Pool Master now (measured with the master failover bound)."""
    ovm_driver.require("master")
    master = ovm_driver.observe().master
    assert master is not None, "the pool has no server pool master to fail"
    return remember_fault(ovm_driver, inject(ovm_driver, "master", [master]))


@when(parsers.re(rf"the network partitions (?P<servers>{SERVERS}) from the rest"), target_fixture="fault")
def partition(ovm_driver: PoolDriver, servers: str) -> Fault:
    """Cut the named servers off the cluster network from all other servers (storage stays)."""
    return remember_fault(ovm_driver, inject(ovm_driver, "partition", names(servers)))


@when(parsers.re(rf"(?P<server>{SERVER}) comes back"))
def comes_back(ovm_driver: PoolDriver, server: str) -> None:
    """Undo the server's fault: power a crashed server on, resume a hung one, give storage back.
    Count steps after it wait for the pool to settle (the server reboots and rejoins first)."""
    remember_recovery(ovm_driver, ovm_driver.now_ms())
    ovm_driver.recover(server)


@when("the network is healed")
def network_healed(ovm_driver: PoolDriver) -> None:
    """Reconnect every server on the cluster network."""
    ovm_driver.heal_network()


@when(parsers.re(rf"guest (?P<guest>{SERVER}) crashes"), target_fixture="fault")
def guest_crashes(ovm_driver: PoolDriver, guest: str) -> Fault:
    """The guest's domain dies unexpectedly while its server stays up."""
    before = ovm_driver.observe()
    at_ms = ovm_driver.now_ms()
    server = before.guests[guest].server
    ovm_driver.crash_guest(guest)
    return remember_fault(ovm_driver, Fault("crash", (server,) if server else (), at_ms, before))


@when(
    parsers.re(rf"(?P<server>{SERVER}) is (?P<how>shut down|restarted) from its command line"),
    target_fixture="fault",
)
def command_line_shutdown(
    ovm_driver: PoolDriver, server: str, how: str
) -> Fault:
    """`shutdown -h now` or `reboot` typed on the server itself, not through Oracle VM Manager."""
    before = ovm_driver.observe()
    at_ms = ovm_driver.now_ms()
    result = ovm_driver.shutdown_from_command_line(server, restart=how == "restarted")
    assert result.ok, f"{server} could not be {how} from its command line: {result.message}"
    return remember_fault(ovm_driver, Fault("crash", (server,), at_ms, before))


@when(
    parsers.re(r"a second server pool of (?P<count>\d+) servers is made on the pool's shared storage"),
    target_fixture="second_pool_at",
)
def second_pool(ovm_driver: PoolDriver, count: str) -> int:
    """Another pool's servers (nodes 0..count-1, as every pool numbers them) start heartbeating on
    this pool's cluster root, as a second pool made on the same storage would (simulator only)."""
    return ovm_driver.second_pool_on_the_storage(int(count))
