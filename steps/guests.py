"""Steps about guests (virtual machines): creating, starting, placing, editing and migrating them.

"running on server2" places a guest with the Auto policy, then live-migrates
it to server2 if the Manager chose another server; its preferred-server list
stays empty, so a later restart is free to use any available server.

Defaults: a guest has 1024 MB of memory unless "of N MB" says otherwise.
"""

from __future__ import annotations

from pytest_bdd import given, parsers, when

from environments.base import PoolDriver
from environments.model import GuestSpec
from steps.pool import manager
from steps.records import SERVER, ManagerAction, names, numbered_range

_SIZE = r"(?: of (?P<memory>\d+) MB)?"
_HA = r"with HA (?P<ha>enabled|disabled)"
DEFAULT_GUEST_MB = 1024


def settle_ms(driver: PoolDriver) -> int:
    """Long enough for a started or migrated guest to report running."""
    return driver.timings.guest_boot_ms + 5 * driver.timings.iteration_ms


def create(
    driver: PoolDriver, guest: str, memory: str | None, ha: str, preferred: tuple[str, ...] = ()
) -> None:
    __tracebackhide__ = True
    spec = GuestSpec(
        name=guest, memory_mb=int(memory or DEFAULT_GUEST_MB), ha=(ha == "enabled"), preferred=preferred
    )
    result = driver.create_guest(spec)
    assert result.ok, f"could not create guest {guest}: {result.message}"


def start(driver: PoolDriver, guest: str) -> str:
    """Start a guest and wait until it runs; returns the server it runs on."""
    __tracebackhide__ = True
    result = driver.start_guest(guest)
    assert result.ok, f"could not start guest {guest}: {result.message}"
    driver.wait_until(lambda s: s.guests[guest].state == "running", settle_ms(driver))
    state = driver.observe().guests[guest]
    assert state.state == "running" and state.server, f"guest {guest} did not start: it is {state.state}"
    return state.server


def place_on(driver: PoolDriver, guest: str, server: str) -> None:
    """Live-migrate a running guest to `server` unless it already runs there."""
    __tracebackhide__ = True
    if driver.observe().guests[guest].server == server:
        return
    result = driver.migrate_guest(guest, server)
    assert result.ok, f"could not migrate {guest} to {server}: {result.message}"
    driver.wait_until(
        lambda s: s.guests[guest].state == "running" and s.guests[guest].server == server, settle_ms(driver)
    )
    state = driver.observe().guests[guest]
    assert state.server == server and state.state == "running", (
        f"guest {guest} is {state.state} on {state.server}, not running on {server}"
    )


@given(parsers.re(rf"a guest (?P<guest>{SERVER}){_SIZE} {_HA} running on (?P<server>{SERVER})"))
def guest_running_on(ovm_driver: PoolDriver, guest: str, memory: str | None, ha: str, server: str) -> None:
    """Create a guest (Auto policy), start it and live-migrate it onto the named server."""
    create(ovm_driver, guest, memory, ha)
    start(ovm_driver, guest)
    place_on(ovm_driver, guest, server)


@given(parsers.re(rf"a guest (?P<guest>{SERVER}){_SIZE} {_HA}(?: that prefers (?P<preferred>.+?))?"))
def guest_created(
    ovm_driver: PoolDriver, guest: str, memory: str | None, ha: str, preferred: str | None
) -> None:
    """Create a guest without starting it: Auto policy, or Manual with the preferred servers named."""
    create(ovm_driver, guest, memory, ha, tuple(names(preferred)) if preferred else ())


@given(parsers.re(rf"guests (?P<first>{SERVER}) to (?P<last>{SERVER}){_SIZE} {_HA} are running"))
def guests_running(ovm_driver: PoolDriver, first: str, last: str, memory: str | None, ha: str) -> None:
    """Create and start a numbered range of guests with the Auto policy, in order."""
    for guest in numbered_range(first, last):
        create(ovm_driver, guest, memory, ha)
        start(ovm_driver, guest)


@given(parsers.re(rf"guest (?P<guest>{SERVER}) is running"))
def given_guest_started(ovm_driver: PoolDriver, guest: str) -> None:
    """Start an existing guest and wait until it runs (placed by its preferred-server policy)."""
    start(ovm_driver, guest)


@when(parsers.re(rf"guest (?P<guest>{SERVER}) is started"), target_fixture="manager_action")
def when_guest_started(ovm_driver: PoolDriver, guest: str) -> ManagerAction:
    """Start a guest from Oracle VM Manager; the server is chosen by its preferred-server policy."""
    return manager(ovm_driver, "start guest", guest, lambda: ovm_driver.start_guest(guest))


@when(parsers.re(rf"guest (?P<guest>{SERVER}) is stopped"), target_fixture="manager_action")
def when_guest_stopped(ovm_driver: PoolDriver, guest: str) -> ManagerAction:
    """Stop (power off) a guest from Oracle VM Manager."""
    return manager(ovm_driver, "stop guest", guest, lambda: ovm_driver.stop_guest(guest))


@when(
    parsers.re(rf"guest (?P<guest>{SERVER}) is migrated to (?P<server>{SERVER})"),
    target_fixture="manager_action",
)
def when_guest_migrated(ovm_driver: PoolDriver, guest: str, server: str) -> ManagerAction:
    """Live-migrate a running guest to the named server from Oracle VM Manager."""
    return manager(ovm_driver, "migrate guest", guest, lambda: ovm_driver.migrate_guest(guest, server))


@when(
    parsers.re(rf"HA is (?P<how>enabled|disabled) on guest (?P<guest>{SERVER})"),
    target_fixture="manager_action",
)
def when_guest_ha(ovm_driver: PoolDriver, guest: str, how: str) -> ManagerAction:
    """Edit a guest in Oracle VM Manager to enable or disable HA on it."""
    on = how == "enabled"
    return manager(ovm_driver, "set guest HA", guest, lambda: ovm_driver.set_guest_ha(guest, on))
