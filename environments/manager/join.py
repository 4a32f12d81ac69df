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
    from environments.ssh.inventory import ManagerEntry


def join_manager(
    readout: PoolReadout, entry: ManagerEntry | None, log: Callable[[str], object] = print
) -> PoolReadout:
    """The read-out with the Manager's facts (docs/readiness.md, "The Oracle VM Manager read-out"),
    or with one line naming the Manager and why it said nothing: its facts stay unknown."""
    if entry is None:
        return readout
    from environments.manager.merge import manager_unavailable, with_manager

    if readout.release is not Release.R3:
        why = (
            f"Oracle VM Manager {entry.host}: not read (its REST API is Oracle VM 3.x's; "
            f"the pool is {readout.release})"
        )
        log(f"manager: {why}")
        return manager_unavailable(readout, why)
    if not entry.has_credentials:
        why = (
            f"Oracle VM Manager {entry.host}: not read (the inventory gives no manager user with "
            "password_env or password_file)"
        )
        log(f"manager: {why}")
        return manager_unavailable(readout, why)
    try:
        from environments.manager.facts import ManagerUnavailable, ask_manager
    except ImportError as exc:
        why = f"Oracle VM Manager {entry.host}: not read (needs {exc.name}: pip install requests)"
        log(f"manager: {why}")
        return manager_unavailable(readout, why)
    log(f"  Oracle VM Manager {entry.host}:{entry.port}: reading servers, pools and VMs (GET only) ...")
    try:
        facts = ask_manager(entry)
    except ManagerUnavailable as exc:
        log(f"manager: {exc}")
        return manager_unavailable(readout, str(exc))
    return with_manager(readout, facts)
