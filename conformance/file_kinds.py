"""Which of the project's two YAML formats a file is, so a command handed the other one says so.

`simulate` reads a pool *definition* (servers with memory and roles, guests with
preferred servers); `validate` and `--env ssh` read the *inventory* of a real
pool (servers with SSH hosts, the ssh settings, the cluster root). Both are
YAML with a `servers:` list, and users mix them up.
"""

from __future__ import annotations

from pathlib import Path

import yaml

INVENTORY_HINT = "this looks like an inventory for `validate` (ovm-conformance validate --inventory FILE)"
DEFINITION_HINT = (
    "this looks like a pool definition for `simulate` (ovm-conformance simulate FILE crash:server2); "
    "validate needs an inventory: see docs/validation.md"
)


def _top(path: Path) -> dict[str, object]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def looks_like_inventory(path: Path) -> bool:
    top = _top(path)
    servers = top.get("servers")
    hosts = isinstance(servers, list) and any(isinstance(s, dict) and "host" in s for s in servers)
    return "ssh" in top or "cluster_root" in top or hosts


def looks_like_pool_definition(path: Path) -> bool:
    top = _top(path)
    return "guests" in top and "cluster_root" not in top and "ssh" not in top
