"""What `service o2cb status` prints: the O2CB cluster's state and the heartbeat it runs.

The o2cb init script of ocfs2-tools (vendor/common/o2cb.init.sh) prints, for a cluster that is up
(Oracle Linux OCFS2 guide, "Configuring and Starting the O2CB Cluster Stack", find_string id
53831665158; an Ubuntu 14.04 how-to, id 38077375216):

    Driver for "configfs": Loaded
    ...
    Checking O2CB cluster "mycluster": Online          (older scripts: Checking O2CB cluster iscsi: Online)
      Heartbeat dead threshold: 61                      (older: Heartbeat dead threshold = 31)
      Network idle timeout: 30000
      ...
      Heartbeat mode: Global                            (global heartbeat only)
    Checking O2CB heartbeat: Active
      7DA5015346C245E6A41AA85E2E7EA3CF /dev/sdd         (global heartbeat: one line per region)

A cluster that is down says `Offline` (CloudStack's OVM 2 agent extension tests exactly that:
OvmOCFS2Module._isClusterOnline), a heartbeat that is not running `Not active`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CLUSTER = re.compile(r"Checking O2CB cluster\s+\"?(?P<name>[^\":]*)\"?\s*:\s*(?P<state>\w+)")
_HEARTBEAT = re.compile(r"Checking O2CB heartbeat\s*:\s*(?P<state>.+?)\s*$")
_MODE = re.compile(r"Heartbeat mode\s*[:=]\s*(?P<mode>\w+)", re.IGNORECASE)
_THRESHOLD = re.compile(r"Heartbeat dead threshold\s*[:=]\s*(?P<n>\d+)", re.IGNORECASE)
_REGION = re.compile(r"^\s+(?P<region>[0-9A-Fa-f]{32})(?:\s+(?P<device>\S+))?\s*$")


@dataclass(frozen=True)
class O2CBStatus:
    """The parts of the status report a validation needs; None where the output did not say."""

    cluster: str | None = None
    online: bool | None = None
    heartbeat_mode: str | None = None  # "local" or "global", lower case
    heartbeat_active: bool | None = None
    dead_threshold: int | None = None
    regions: tuple[tuple[str, str], ...] = ()  # (region UUID, device) of a global heartbeat

    def region_device(self, region: str) -> str | None:
        """The device of an active region ("" when the line names none); None if not listed."""
        return next((dev for r, dev in self.regions if r.upper() == region.upper()), None)

    @property
    def understood(self) -> bool:
        return self.online is not None or self.heartbeat_active is not None


def parse_o2cb_status(text: str) -> O2CBStatus:
    """Read what the o2cb init script printed; lines it does not know are ignored."""
    cluster = online = mode = active = threshold = None
    regions: list[tuple[str, str]] = []
    in_heartbeat = False
    for raw in text.splitlines():
        line = raw.rstrip("\r")
        if m := _CLUSTER.search(line):
            cluster, online = m.group("name").strip() or None, m.group("state").lower() == "online"
            in_heartbeat = False
        elif m := _HEARTBEAT.search(line):
            active = m.group("state").lower() == "active"
            in_heartbeat = True
        elif m := _MODE.search(line):
            mode = m.group("mode").lower()
        elif m := _THRESHOLD.search(line):
            threshold = int(m.group("n"))
        elif in_heartbeat and (m := _REGION.match(line)):
            regions.append((m.group("region").upper(), m.group("device") or ""))
        elif line.strip() and not line[:1].isspace():
            in_heartbeat = False
    return O2CBStatus(cluster, online, mode, active, threshold, tuple(regions))
