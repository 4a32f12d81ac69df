"""run_tool: run an Oracle VM Server command line against a host FS.

argv[0] may be a full path (/usr/lib/ovs/ovs-makerepo) or a basename.
Refusals become a non-zero exit status with the reason on stderr, as the
real tools print them; a write through a read-only host is not a refusal
and propagates as ReadOnlyError.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Sequence

from ovmref.cluster.services import ServiceOrderError, UnknownServiceError
from ovmref.errors import ConfigSyntaxError
from ovmref.hostfs import HostFS
from ovmref.tools.cluster_check import cluster_check
from ovmref.tools.cluster_configure import cluster_configure
from ovmref.tools.context import ToolContext, ToolError, ToolResult
from ovmref.tools.dd import dd
from ovmref.tools.debugfs import debugfs_ocfs2
from ovmref.tools.hbctl import hb_ctl
from ovmref.tools.makerepo import makerepo
from ovmref.tools.mkfs import mkfs_ocfs2
from ovmref.tools.service import service
from ovmref.tools.shell import cat, hostname, mount_list, readlink, umount

Tool = Callable[[HostFS, list[str], ToolContext], ToolResult]

TOOLS: dict[str, Tool] = {
    "ovs-makerepo": makerepo,
    "ovs-cluster-configure": cluster_configure,
    "ovs-cluster-check": cluster_check,
    "service": service,
    "ocfs2_hb_ctl": hb_ctl,
    "mkfs.ocfs2": mkfs_ocfs2,
    "debugfs.ocfs2": debugfs_ocfs2,
    "dd": dd,
    "umount": umount,
    "mount": mount_list,
    "cat": cat,
    "hostname": hostname,
    "readlink": readlink,
}


def run_tool(fs: HostFS, argv: Sequence[str], ctx: ToolContext) -> ToolResult:
    if not argv:
        return ToolResult(2, "", "empty command line\n")
    name = posixpath.basename(argv[0])
    tool = TOOLS.get(name)
    if tool is None:
        return ToolResult(127, "", f"{argv[0]}: command not found\n")
    try:
        return tool(fs, list(argv[1:]), ctx)
    except ToolError as exc:
        return ToolResult(exc.rc, "", f"{name}: {exc}\n")
    except (ConfigSyntaxError, ServiceOrderError, UnknownServiceError) as exc:
        return ToolResult(1, "", f"{name}: {exc}\n")
