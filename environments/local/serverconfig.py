"""What a local server process needs to know at boot, written by the driver as one JSON file.

Kept apart from the process itself so the driver can write it without
importing asyncio code, and so a malformed file fails with its path named.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from ovmref.release import Release
from ovmref.timing import O2CBTimings

CONFIG_NAME = "server.json"
EVENTS_NAME = "events.jsonl"
CONTROL_NAME = "control.sock"
STORAGE_LINK = "storage"  # this server's path to the cluster root; broken to lose the storage

# exit statuses the supervisor (the driver) reads like a power controller would
EXIT_HALTED = 0  # shut down cleanly (or deleted)
EXIT_REBOOT = 10  # shut down cleanly and restarts after the reboot delay
EXIT_FENCED = 11  # fenced itself: "rebooted and rejoins the cluster"
EXIT_LEFT = 12  # the cluster services stopped; the server stays up without its agent
EXIT_CONFIG = 2  # the configuration file is unusable


class ServerConfigError(ValueError):
    pass


@dataclass(frozen=True)
class ServerConfig:
    name: str
    node: int
    node_names: dict[int, str]
    release: Release
    timings: O2CBTimings  # real milliseconds (already scaled)
    generation: int
    master_node: int | None
    listen: tuple[str, int]  # the cluster.conf address and port of this node
    peers: dict[int, tuple[str, int]] = field(default_factory=dict)
    heartbeat_file: str = ".server_pool_hb"
    heartbeat_offset: int = 0
    base_ns: int = 0  # time.monotonic_ns() at which the pool's clock reads 0
    migration_ms: int = 2  # real ms a live-migrated guest takes to resume on the target
    record_heartbeats: bool = True
    agent_daemon: bool = True
    # also answer control requests on 127.0.0.1:PORT (0: only the unix socket). A container's
    # supervisor reaches it through an SSH-forwarded channel, never from outside the server.
    control_port: int = 0

    def to_json(self) -> str:
        data = dataclasses.asdict(self)
        data["release"] = self.release.value
        data["node_names"] = {str(k): v for k, v in self.node_names.items()}
        data["peers"] = {str(k): list(v) for k, v in self.peers.items()}
        return json.dumps(data, indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, where: str = CONFIG_NAME) -> ServerConfig:
        try:
            data = json.loads(text)
            data["release"] = Release(data["release"])
            data["timings"] = O2CBTimings(**data["timings"])
            data["node_names"] = {int(k): v for k, v in data["node_names"].items()}
            data["peers"] = {int(k): (v[0], int(v[1])) for k, v in data["peers"].items()}
            data["listen"] = (data["listen"][0], int(data["listen"][1]))
            return cls(**data)
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise ServerConfigError(f"{where}: not a usable server configuration: {exc}") from exc

    def write(self, server_dir: Path) -> None:
        path = server_dir / CONFIG_NAME
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.to_json())
        tmp.replace(path)

    @classmethod
    def read(cls, server_dir: Path) -> ServerConfig:
        path = server_dir / CONFIG_NAME
        try:
            text = path.read_text()
        except OSError as exc:
            raise ServerConfigError(f"{path}: {exc.strerror}") from exc
        return cls.from_json(text, str(path))
