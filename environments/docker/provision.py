"""Make lookalike containers hold what a healthy Oracle VM pool's servers hold.

The files come from ovmref's InstalledPool: each server installed and the
HA procedure run the documented way (the same code the simulator uses), then
copied into its container. Mounts are made for real inside the container:
this kernel has no NFS client, so a shared mount is a tmpfs mounted under
the NFS source's name (`mount -t tmpfs example.com:/OVS /var/ovs/mount/<uuid>`),
which is what /proc/mounts then shows; the heartbeat file in it is made by
the container's own mkfs.ocfs2 with Oracle's parameters.
"""

from __future__ import annotations

import io
import shlex
import tarfile
import time
from collections.abc import Iterator

import docker

from environments.docker.pool import ContainerPool, PoolError
from ovmref.host.installed_pool import InstalledPool, ServerInfo
from ovmref.host.ovm3_profile import POOLFS_IMAGE, Ovm3Pool, pool_of, server_files
from ovmref.host.trees import Tree
from ovmref.hostfs import MemoryHostFS
from ovmref.storage.fstab import PROC_MOUNTS, parse_fstab
from ovmref.storage.layout import HEARTBEAT_FILE_NAME

# files Docker bind-mounts into every container: written in place, never replaced
DOCKER_MANAGED = ("/etc/hosts", "/etc/resolv.conf", "/etc/hostname")
SKIPPED = ("/proc",)
HEARTBEAT_FILE_BYTES = 72 * 1024 * 1024
STAGING = "/var/tmp/ovm-provision"


def install_pool(
    pool: ContainerPool, *, storage: str = "nfs", cluster_root: str = "example.com:/OVS"
) -> InstalledPool:
    """Install and cluster every container of `pool` the documented way; return the installed model."""
    infos = [ServerInfo(s.name, s.fqdn, s.ip, node) for node, s in enumerate(pool.servers.values())]
    installed = InstalledPool(pool.release, infos, storage_kind=storage, cluster_root=cluster_root)
    installed.setup_ha()
    for name, fs in installed.hosts.items():
        assert isinstance(fs, MemoryHostFS)
        push_files(pool, name, fs)
        mount_shared(pool, name, fs)
    return installed


def install_pool_3x(
    pool: ContainerPool,
    *,
    name: str = "lookalike",
    pool_fs_target: str = "nfs.example.com:/poolfs",
    repository_source: str = "nfs.example.com:/repository",
) -> Ovm3Pool:
    """Give every container what a server of a clustered Oracle VM 3.x pool on NFS holds
    (ovmref.host.ovm3_profile): its files, the pool file system share on /nfsmnt/<uuid> with the
    OCFS2 image made by the container's own mkfs.ocfs2 (the pool file system's UUID, global
    heartbeat), the repository on /OVS/Repositories/<uuid>. Mounts are tmpfs under the sources'
    names, the loop-mounted pool file system a tmpfs named /dev/loop0 (no OCFS2 in this kernel)."""
    profile = pool_of(
        name,
        pool_fs_target,
        repository_source,
        [(s.name, s.fqdn, s.ip) for s in pool.servers.values()],
    )
    for member in profile.members:
        fs = MemoryHostFS()
        server_files(fs, profile, member)
        push_files(pool, member.name, fs)
        for entry in profile.mounts():
            _exec(pool, member.name, ["mkdir", "-p", entry.mountpoint])
            _exec(
                pool, member.name, ["mount", "-t", "tmpfs", "-o", "size=100m", entry.source, entry.mountpoint]
            )
        share, repo = profile.pool_fs_share, profile.repository_mountpoint
        stamps = [
            f"{share}/.ovspoolfs",
            f"{share}/.generic_fs_stamp",
            f"{repo}/.ovsrepo",
            f"{repo}/.generic_fs_stamp",
        ]
        _exec(pool, member.name, ["touch", *stamps])
        _exec(
            pool,
            member.name,
            [
                "mkdir",
                "-p",
                *(
                    f"{repo}/{d}"
                    for d in ("Templates", "ISOs", "VirtualDisks", "VirtualMachines", "Assemblies")
                ),
            ],
        )
        _mkfs(
            pool,
            member.name,
            f"{share}/{POOLFS_IMAGE}",
            [
                "-U",
                profile.region,
                "-L",
                "ovspoolfs",
                "-N",
                "16",
                "--cluster-stack=o2cb",
                f"--cluster-name={profile.cluster}",
                "--global-heartbeat",
            ],
            expect=profile.region,
        )
    return profile


def _mkfs(pool: ContainerPool, server: str, path: str, options: list[str], expect: str) -> None:
    """mkfs.ocfs2 on a sparse file, judged by what debugfs.ocfs2 reads back: 1.8 exits 1 without
    /sbin/modprobe (and after its cluster check) having formatted the file (see ocfs2file.py)."""
    _exec(pool, server, ["truncate", "-s", str(HEARTBEAT_FILE_BYTES), path])
    argv = ["mkfs.ocfs2", "-F", "-q", "-b", "2k", "-C", "4k", "-J", "size=4M", *options, path]
    result = pool.exec(server, ["sh", "-c", 'exec "$@" </dev/null', "mkfs", *argv], timeout_s=120)
    check = pool.exec(server, ["debugfs.ocfs2", "-R", "stats", path])
    if expect not in check.stdout:
        raise PoolError(
            f"{server}: mkfs.ocfs2 {path} failed: {(result.stderr or result.stdout).strip()[-300:]}"
        )


def _walk(tree: Tree, path: str = "/") -> Iterator[tuple[str, str]]:
    """(path, kind) of every entry under `path`, parents first."""
    for name in sorted(tree.listdir(path)):
        child = f"{path.rstrip('/')}/{name}"
        if child in SKIPPED:
            continue
        kind = tree.kind(child)
        if kind is None:
            continue
        yield child, kind
        if kind == "dir":
            yield from _walk(tree, child)


def _archive(fs: MemoryHostFS) -> bytes:
    buffer = io.BytesIO()
    now = time.time()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path, kind in _walk(fs.root):
            name = path.lstrip("/")
            if path in DOCKER_MANAGED:
                name = f"{STAGING.lstrip('/')}/{path.strip('/').replace('/', '_')}"
            info = tarfile.TarInfo(name)
            info.mtime = int(now)
            if kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            elif kind == "link":
                info.type, info.linkname = tarfile.SYMTYPE, fs.root.readlink(path)
                tar.addfile(info)
            else:
                data = fs.root.read(path)
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def push_files(pool: ContainerPool, server: str, fs: MemoryHostFS) -> None:
    """Copy the server's installed files into its container (Docker's own /etc files in place)."""
    container = docker.from_env().containers.get(pool.server(server).container_id)
    _exec(pool, server, ["mkdir", "-p", STAGING])
    if not container.put_archive("/", _archive(fs)):
        raise PoolError(f"{server}: copying its files into the container failed")
    for path in DOCKER_MANAGED:
        staged = f"{STAGING}/{path.strip('/').replace('/', '_')}"
        if fs.exists(path):
            _exec(pool, server, ["sh", "-c", f"cat {shlex.quote(staged)} > {shlex.quote(path)}"])


def mount_shared(pool: ContainerPool, server: str, fs: MemoryHostFS) -> None:
    """Mount what the installed server has mounted beyond its own disks, under the same source names."""
    text = fs.read_text(PROC_MOUNTS) or ""
    for entry in parse_fstab(text, PROC_MOUNTS):
        if entry.mountpoint in ("/", "/boot"):
            continue
        _exec(pool, server, ["mkdir", "-p", entry.mountpoint])
        _exec(pool, server, ["mount", "-t", "tmpfs", "-o", "size=100m", entry.source, entry.mountpoint])
        if fs.exists(f"{entry.mountpoint}/{HEARTBEAT_FILE_NAME}"):
            hb = f"{entry.mountpoint}/{HEARTBEAT_FILE_NAME}"
            _mkfs(pool, server, hb, ["-L", "server_pool_hb", "-N", "16"], expect="server_pool_hb")


def _exec(pool: ContainerPool, server: str, argv: list[str]) -> None:
    result = pool.exec(server, argv)
    if result.rc != 0:
        raise PoolError(
            f"{server}: {shlex.join(argv)} failed (rc {result.rc}): {result.stderr.strip()[-300:]}"
        )
