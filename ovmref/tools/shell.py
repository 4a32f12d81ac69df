"""The plain commands the documents type on a server: umount, mount, cat, hostname."""

from __future__ import annotations

from ovmref.host.names import read_name_config
from ovmref.hostfs import HostFS
from ovmref.storage.fstab import PROC_MOUNTS
from ovmref.storage.mounts import MountError, mount_at, unmount
from ovmref.tools.context import ToolContext, ToolError, ToolResult


def umount(fs: HostFS, args: list[str], ctx: ToolContext) -> ToolResult:
    """`umount /OVS` (white paper: unmount the local /OVS before configuring HA)."""
    if len(args) != 1:
        raise ToolError("usage: umount <mount point>", rc=2)
    target = args[0].rstrip("/") or "/"
    link = fs.readlink(target)
    if mount_at(fs, target) is None and link is not None:
        target = link  # the kernel unmounts what a symlink points to
    try:
        unmount(fs, target)
    except MountError as exc:
        raise ToolError(str(exc)) from None
    return ToolResult(0)


def mount_list(fs: HostFS, args: list[str], ctx: ToolContext) -> ToolResult:
    """`mount` without arguments: the mount table (mounting is done by the Oracle VM tools)."""
    if args:
        raise ToolError(
            "only `mount` without arguments is supported: mount with ovs-makerepo or the services", rc=2
        )
    return ToolResult(0, fs.read_text(PROC_MOUNTS) or "")


def cat(fs: HostFS, args: list[str], ctx: ToolContext) -> ToolResult:
    if not args:
        raise ToolError("usage: cat <file>...", rc=2)
    out: list[str] = []
    err: list[str] = []
    for path in args:
        if fs.is_dir(path):
            err.append(f"cat: {path}: Is a directory\n")
            continue
        text = fs.read_text(path)
        if text is None:
            err.append(f"cat: {path}: No such file or directory\n")
        else:
            out.append(text)
    return ToolResult(1 if err else 0, "".join(out), "".join(err))


def hostname(fs: HostFS, args: list[str], ctx: ToolContext) -> ToolResult:
    """`hostname` prints HOSTNAME (set at boot); `-f` resolves it as `hostname -f` does; `-s` is short."""
    names = read_name_config(fs)
    name = names.hostname or ctx.fqdn
    if not args:
        return ToolResult(0, f"{name}\n")
    if args == ["-s"]:
        return ToolResult(0, f"{name.split('.')[0]}\n")
    if args == ["-f"]:
        answer = names.resolve(name, ctx.dns_zone)
        if answer is None:
            raise ToolError("hostname: Unknown host")
        return ToolResult(0, f"{answer.canonical}\n")
    raise ToolError("usage: hostname [-f|-s]", rc=2)


def readlink(fs: HostFS, args: list[str], ctx: ToolContext) -> ToolResult:
    """readlink PATH: the target of a symbolic link (rc 1 and nothing printed when it is not one)."""
    if len(args) != 1:
        raise ToolError("usage: readlink PATH", rc=2)
    target = fs.readlink(args[0])
    return ToolResult(0, f"{target}\n") if target is not None else ToolResult(1)
