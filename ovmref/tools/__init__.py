"""The Oracle VM Server command-line tools, as functions over a host FS (see dispatch.run_tool)."""

from ovmref.tools.context import PoolMember, SharedStorage, SharedVolume, StorageMap, ToolContext, ToolResult
from ovmref.tools.dispatch import TOOLS, run_tool

__all__ = [
    "TOOLS",
    "PoolMember",
    "SharedStorage",
    "SharedVolume",
    "StorageMap",
    "ToolContext",
    "ToolResult",
    "run_tool",
]
