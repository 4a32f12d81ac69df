"""The Oracle VM Server service order and its state, as RHEL keeps it.

White paper, Special Considerations: "The sequence of the services should be
strictly followed": start o2cb, ocfs2, ovsrepositories, ovs-agent; stop in
reverse. A service runs iff /var/lock/subsys/<name> exists (RHEL init
scripts' convention), so the state lives in the host FS and survives the
tools that change it.
"""

from __future__ import annotations

from ovmref.hostfs import HostFS
from ovmref.release import Release

SERVICE_ORDER: tuple[str, ...] = ("o2cb", "ocfs2", "ovsrepositories", "ovs-agent")
LOCK_DIR = "/var/lock/subsys"

# The services HA needs running, per release, and where each list comes from:
# 2.1: the white paper's start order (o2cb, ocfs2, ovsrepositories, ovs-agent).
# 2.2: the same, but whether 2.2 still has an ovsrepositories init script is not shown by any stored
#      material (the 2010 sos plugin for 2.2 never asks it): it is checked only where it exists.
# 3.x: o2cb (ocfs2-tools o2cb.init.sh; an OVM 3 exam's health check asks `service o2cb status`) and
#      ovs-agent (OVM 3 Concepts 2.2.3: the agent starts and stops virtual machines as Oracle VM
#      Manager requires); no `ovsrepositories` appears in any 3.x material.
HA_SERVICES: dict[Release, tuple[str, ...]] = {
    Release.R2_1: SERVICE_ORDER,
    Release.R2_2: SERVICE_ORDER,
    Release.R3: ("o2cb", "ovs-agent"),
}
OPTIONAL_SERVICES: dict[Release, frozenset[str]] = {
    Release.R2_1: frozenset(),
    Release.R2_2: frozenset({"ovsrepositories"}),
    Release.R3: frozenset(),
}


class UnknownServiceError(ValueError):
    """A service outside the HA stack (`service foo start`: foo: unrecognized service)."""


class ServiceOrderError(RuntimeError):
    """A start or stop out of the documented order; the state is left unchanged."""


def lock_file(name: str) -> str:
    return f"{LOCK_DIR}/{name}"


class ServiceTable:
    """Start/stop with the documented order enforced; state persisted as lock files."""

    def __init__(self, fs: HostFS) -> None:
        self.fs = fs

    @staticmethod
    def _index(name: str) -> int:
        try:
            return SERVICE_ORDER.index(name)
        except ValueError:
            raise UnknownServiceError(f"{name}: unrecognized service") from None

    def is_running(self, name: str) -> bool:
        self._index(name)
        return self.fs.exists(lock_file(name))

    def running(self) -> list[str]:
        return [s for s in SERVICE_ORDER if self.fs.exists(lock_file(s))]

    def check_start(self, name: str) -> None:
        """Raise ServiceOrderError naming the nearest predecessor that is not running."""
        i = self._index(name)
        for before in reversed(SERVICE_ORDER[:i]):
            if not self.is_running(before):
                raise ServiceOrderError(
                    f"cannot start {name}: {before} is not running (start order: {', '.join(SERVICE_ORDER)})"
                )

    def check_stop(self, name: str) -> None:
        """Raise ServiceOrderError naming the nearest successor that is still running."""
        i = self._index(name)
        for after in SERVICE_ORDER[i + 1 :]:
            if self.is_running(after):
                raise ServiceOrderError(
                    f"cannot stop {name}: {after} is still running "
                    f"(stop order: {', '.join(reversed(SERVICE_ORDER))})"
                )

    def start(self, name: str) -> bool:
        """Mark `name` running; False when it already was."""
        if self.is_running(name):
            return False
        self.check_start(name)
        self.fs.write_text(lock_file(name), "")
        return True

    def stop(self, name: str) -> bool:
        """Mark `name` stopped; False when it already was."""
        if not self.is_running(name):
            return False
        self.check_stop(name)
        self.fs.remove(lock_file(name))
        return True
