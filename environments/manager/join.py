"""The Manager's facts joined into a pool's SSH read-out, as `validate --readiness` and `simulate
--inventory` both use them (docs/readiness.md, "The Oracle VM Manager read-out"): the Manager over
vm.cfg over the inventory's `ha:` (environments/manager/merge.py), or one line naming the Manager
and why it said nothing, its facts then unknown. The Manager's modules (and `requests`) are only
imported when a Manager is named."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ovmref.readiness.readout import PoolReadout
from ovmref.release import Release

if TYPE_CHECKING:
    from environments.manager.facts import ManagerFacts
    from environments.ssh.inventory import ManagerEntry


def manager_facts(
    entry: ManagerEntry, release: Release, log: Callable[[str], object] = print
) -> ManagerFacts | str:
    """The Manager's facts, or one line naming the Manager and why it said nothing (logged)."""
    if release is not Release.R3:
        why = (
            f"Oracle VM Manager {entry.host}: not read (its REST API is Oracle VM 3.x's; "
            f"the pool is {release})"
        )
    elif not entry.has_credentials:
        why = (
            f"Oracle VM Manager {entry.host}: not read (the inventory gives no manager user with "
            "password_env or password_file)"
        )
    else:
        try:
            from environments.manager.facts import ManagerUnavailable, ask_manager
        except ImportError as exc:
            why = f"Oracle VM Manager {entry.host}: not read (needs {exc.name}: pip install requests)"
        else:
            where = f"{entry.host}:{entry.port}"
            log(f"  Oracle VM Manager {where}: reading servers, pools and VMs (GET only) ...")
            try:
                return ask_manager(entry)
            except ManagerUnavailable as exc:
                why = str(exc)
    log(f"manager: {why}")
    return why


def join_manager(
    readout: PoolReadout, entry: ManagerEntry | None, log: Callable[[str], object] = print
) -> PoolReadout:
    """The read-out with the Manager's facts (docs/readiness.md, "The Oracle VM Manager read-out"),
    or with one line naming the Manager and why it said nothing: its facts stay unknown."""
    if entry is None:
        return readout
    return joined(readout, manager_facts(entry, readout.release, log))


def joined(readout: PoolReadout, facts: ManagerFacts | str) -> PoolReadout:
    """The read-out joined with facts already read, or with why there are none."""
    from environments.manager.merge import manager_unavailable, with_manager

    return manager_unavailable(readout, facts) if isinstance(facts, str) else with_manager(readout, facts)
