"""HA prerequisites of a server pool, checked from the servers' files only.

Each rule of the documents (User's Guide 2.1 ch. 9, 2.2 JP guide, white
paper, OVM 3.0 Concepts 6.10, and for 3.x the O2CB stack's own documents)
is one small function over the pool's host filesystems, so the same checks
run on the simulator and, read-only, on a real pool before an upgrade. A
check that cannot read its input says "unknown" with the reason; it never
passes by default.

What a real server holds decides what is read (docs/real-servers.md has the sources): storage is
what the mount table shows where the release mounts it (2.1 /OVS, 2.2 /var/ovs/mount/<UUID> with
/OVS linked to the cluster root, 3.x /OVS/Repositories/<uuid> and the pool file system share under
/nfsmnt), anchored on the pool's cluster root as the inventory names it; /etc/ovs/repositories is
read only for the rule about that very file (its line format is not in any stored material, so
a repository counts as listed when a line names its UUID or its source). A 3.x pool is clustered
when cluster.conf puts the server in a global-heartbeat cluster whose regions (the pool file
system's UUID) heartbeat on it: `service o2cb status` says so, or the mount table shows the
pool file system mounted.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal, TypeVar

from ovmref.cluster.clusterconf import CLUSTER_CONF, ClusterConf, loopback_nodes, parse_cluster_conf
from ovmref.cluster.o2cb_status import O2CBStatus
from ovmref.cluster.services import HA_SERVICES, OPTIONAL_SERVICES, lock_file
from ovmref.errors import ConfigSyntaxError
from ovmref.host.names import (
    HOSTS,
    NameConfig,
    is_fqdn,
    loopback_names,
    pool_name_service,
    read_name_config,
)
from ovmref.host.sysconfig import (
    NETWORK_SYSCONFIG,
    O2CB_SYSCONFIG,
    OVS_RELEASE,
    parse_network_hostname,
    parse_ovs_release,
    parse_sysconfig,
)
from ovmref.hostfs import HostFS
from ovmref.release import Release, UnknownReleaseError, version_tuple
from ovmref.storage.fstab import FSTAB, PROC_MOUNTS, MountEntry, mount_on, read_mount_table, root_device
from ovmref.storage.layout import (
    HEARTBEAT_FILE_NAME,
    OVS,
    VAR_OVS_MOUNT,
    is_nfs_kind,
    is_repository_location,
    names_uuid,
    repository_uuid,
)
from ovmref.storage.repositories import REPOSITORIES, normalize_source, repository_mentions
from ovmref.storage.shared import ORACLE_NODE_SLOTS

Status = Literal["passed", "failed", "unknown"]
T = TypeVar("T", bound=Hashable)


@dataclass(frozen=True)
class Finding:
    """One rule's verdict for one server (server=None: for the pool as a whole)."""

    rule: str
    server: str | None
    status: Status
    message: str


ServiceState = Literal["running", "stopped", "dead", "absent", "unknown"]  # absent: no such init script


@dataclass(frozen=True)
class PoolMemberFacts:
    """A member as the pool knows it. `services`: what the server's own init scripts answered
    (`service NAME status`), when a driver could ask them; None: judged by /var/lock/subsys.
    `o2cb`: what `service o2cb status` printed, parsed, where it could be asked."""

    name: str
    fqdn: str
    ip: str
    services: Mapping[str, ServiceState] | None = None
    o2cb: O2CBStatus | None = None


@dataclass(frozen=True)
class PoolFacts:
    """What the pool is meant to be: its cluster root, storage kind and members.

    dns_zone: the site's DNS answers (FQDN -> IP), or None when unknown, in
    which case servers that resolve by DNS get "unknown" for name checks.
    """

    cluster_root: str
    storage_kind: str
    members: Sequence[PoolMemberFacts | tuple[str, str, str]]
    dns_zone: Mapping[str, str] | None = None
    node_slots: int = ORACLE_NODE_SLOTS

    @property
    def member_facts(self) -> list[PoolMemberFacts]:
        return [m if isinstance(m, PoolMemberFacts) else PoolMemberFacts(*m) for m in self.members]

    def member(self, server: str) -> PoolMemberFacts | None:
        return next((m for m in self.member_facts if server in (m.name, m.fqdn)), None)


class Unreadable(Exception):
    """An input file cannot be read: the check's verdict is "unknown", with this reason."""


# ---- reading inputs --------------------------------------------------------------------
def _read(fs: HostFS, path: str) -> str | None:
    try:
        return fs.read_text(path)
    except PermissionError as exc:
        raise Unreadable(f"cannot read {path}: {exc.strerror or exc}") from None
    except OSError as exc:
        raise Unreadable(f"cannot read {path}: {exc}") from None
    except UnicodeDecodeError as exc:
        raise Unreadable(f"cannot read {path}: not UTF-8 text (byte {exc.start})") from None


def _require(fs: HostFS, path: str) -> str:
    text = _read(fs, path)
    if text is None:
        raise Unreadable(f"{path} does not exist")
    return text


def _mounts(fs: HostFS) -> list[MountEntry]:
    return read_mount_table(_require(fs, PROC_MOUNTS), PROC_MOUNTS)


#: the cluster.conf texts already parsed by the check_pool call under way: a pool's servers carry
#: the same file and a dozen checks read it, so each text is parsed once per call (never across
#: calls: a reader changed between two calls, as a mutant is, must be seen).
_PARSED: ContextVar[dict[str, ClusterConf] | None] = ContextVar("_PARSED", default=None)


def _cluster_conf(fs: HostFS) -> ClusterConf | None:
    text = _read(fs, CLUSTER_CONF)
    if text is None:
        return None
    parsed = _PARSED.get()
    if parsed is None:
        return parse_cluster_conf(text)
    conf = parsed.get(text)
    if conf is None:  # a text that does not parse raises each time, as it did the first time
        conf = parsed[text] = parse_cluster_conf(text)
    return conf


def _names(fs: HostFS) -> NameConfig:
    for path in (HOSTS, NETWORK_SYSCONFIG):
        _read(fs, path)  # permission problems become "unknown" before parsing
    try:
        return read_name_config(fs, problems=[])
    except OSError as exc:
        raise Unreadable(f"cannot read the name service files: {exc}") from None


class _Verdict(Exception):
    def __init__(self, status: Status, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _fail(message: str) -> _Verdict:
    return _Verdict("failed", message)


@contextmanager
def _judging(rule: str, server: str | None, out: list[Finding]) -> Iterator[None]:
    """Turn the outcome of a check body into one Finding: passed unless it raises."""
    try:
        yield
    except _Verdict as v:
        out.append(Finding(rule, server, v.status, v.message))
    except Unreadable as exc:
        out.append(Finding(rule, server, "unknown", str(exc)))
    except ConfigSyntaxError as exc:
        out.append(Finding(rule, server, "failed", f"unparsable: {exc}"))
    except OSError as exc:  # a read that failed below the readers (a session lost mid-check)
        out.append(Finding(rule, server, "unknown", f"cannot read the server's files: {exc}"))


PerServer = Callable[[str, HostFS, Release, PoolFacts], str]


def _per_server(
    rule: str, body: PerServer
) -> Callable[[Mapping[str, HostFS], Release, PoolFacts], list[Finding]]:
    """A check judged on each server alone; `body` returns the pass message or raises."""

    def check(hosts: Mapping[str, HostFS], release: Release, pool: PoolFacts) -> list[Finding]:
        findings: list[Finding] = []
        for server, fs in hosts.items():
            with _judging(rule, server, findings):
                findings.append(Finding(rule, server, "passed", body(server, fs, release, pool)))
        return findings

    check.__name__ = body.__name__
    check.__doc__ = body.__doc__
    return check


def _same_everywhere(
    rule: str, hosts: Mapping[str, HostFS], read: Callable[[HostFS], T], describe: Callable[[T], str]
) -> list[Finding]:
    """Compare one value across servers; servers differing from the majority fail."""
    findings: list[Finding] = []
    values: dict[str, T] = {}
    for server, fs in hosts.items():
        with _judging(rule, server, findings):
            values[server] = read(fs)
    if not values:
        return findings
    reference, _ = Counter(values.values()).most_common(1)[0]
    for server, value in values.items():
        if value == reference:
            findings.append(Finding(rule, server, "passed", f"same as the pool: {describe(value)}"))
        else:
            findings.append(
                Finding(rule, server, "failed", f"{describe(value)}, but the pool has {describe(reference)}")
            )
    return findings


# ---- the checks --------------------------------------------------------------------------
def release_min(server: str, fs: HostFS, release: Release, pool: PoolFacts) -> str:
    """2.x: every server runs Oracle VM Server 2.1.2 or later; 3.x: 3.0 or later."""
    version = parse_ovs_release(_require(fs, OVS_RELEASE))
    minimum = (3, 0) if release is Release.R3 else (2, 1, 2)
    try:
        if version_tuple(version) < minimum:
            raise _fail(f"Oracle VM Server {version} is older than {'.'.join(map(str, minimum))}")
    except UnknownReleaseError as exc:
        raise _fail(str(exc)) from None
    return f"Oracle VM Server {version}"


# ---- 2.x storage, from the mount table ------------------------------------------------------
def _disk_of(device: str) -> str:
    return device.rstrip("0123456789") if device.startswith("/dev/sd") else device


def _is_shared(entry: MountEntry, mounts: list[MountEntry]) -> bool:
    """NFS, or OCFS2 mounted with a cluster heartbeat (a local OCFS2 volume says heartbeat=none);
    whether such a volume sits on the system disk is PRE-NO-LOCAL-OCFS2-ROOT's question."""
    return entry.is_nfs or (entry.fstype == "ocfs2" and "heartbeat=none" not in entry.option_list)


def _repository_mounts(release: Release, mounts: list[MountEntry]) -> list[MountEntry]:
    """The pool's storage as this server has it mounted: shared mounts where the release mounts
    repositories (an NFS backup share elsewhere, or the nfsd pseudo file system, is not)."""
    return [m for m in mounts if is_repository_location(release, m.mountpoint) and _is_shared(m, mounts)]


def _link_target(fs: HostFS, path: str) -> str | None:
    """Where the symlink points, as an absolute path without a trailing slash; None if not a link."""
    target = _readlink(fs, path)
    if target is None:
        return None
    if not target.startswith("/"):
        target = posixpath.join(posixpath.dirname(path), target)
    return posixpath.normpath(target)


def _cluster_root_here(fs: HostFS, release: Release, pool: PoolFacts) -> MountEntry | None:
    """The mount this server uses as its cluster root: 2.1 what is mounted on /OVS, 2.2 the mount
    /OVS links to; failing that, where the pool's cluster root is mounted among its repositories."""
    mounts = _mounts(fs)
    if release is Release.R2_1:
        at = mount_on(mounts, OVS)
        if at is not None and _is_shared(at, mounts):
            return at
    else:
        target = _link_target(fs, OVS)
        at = mount_on(mounts, target) if target is not None else None
        if at is not None and target is not None and target.startswith(VAR_OVS_MOUNT + "/"):
            return at
    root = normalize_source(pool.cluster_root)
    return next((m for m in _repository_mounts(release, mounts) if normalize_source(m.source) == root), None)


def same_shared_storage(hosts: Mapping[str, HostFS], release: Release, pool: PoolFacts) -> list[Finding]:
    """All servers use the same shared storage: the same sources mounted where the release
    mounts repositories."""

    def read(fs: HostFS) -> frozenset[str]:
        return frozenset(normalize_source(m.source) for m in _repository_mounts(release, _mounts(fs)))

    def describe(view: frozenset[str]) -> str:
        return "repositories " + (", ".join(sorted(view)) or "none")

    return _same_everywhere("PRE-SAME-SHARED-STORAGE", hosts, read, describe)


def same_cluster_root(server: str, fs: HostFS, release: Release, pool: PoolFacts) -> str:
    """Every server has the pool's cluster root (e.g. example.com:/OVS or /dev/sdd6)."""
    root = _cluster_root_here(fs, release, pool)
    if root is None:
        raise Unreadable(
            f"no cluster root is mounted here, so which one this server has cannot be told "
            f"(PRE-CLUSTER-ROOT-MOUNT says where it belongs); the pool's is {pool.cluster_root}"
        )
    if normalize_source(root.source) != normalize_source(pool.cluster_root):
        raise _fail(
            f"cluster root is {root.source} (on {root.mountpoint}), the pool's is {pool.cluster_root}"
        )
    return f"cluster root {root.source}"


def cluster_root_mount(server: str, fs: HostFS, release: Release, pool: PoolFacts) -> str:
    """The cluster root is mounted where the release mounts it (2.1 /OVS, 2.2 /var/ovs/mount/<UUID>
    with /OVS a symlink to it)."""
    root = normalize_source(pool.cluster_root)
    mounts = _mounts(fs)
    mounted = [m for m in mounts if normalize_source(m.source) == root]
    if release is Release.R2_1:
        if any(m.mountpoint.rstrip("/") == OVS for m in mounted):
            return f"{pool.cluster_root} mounted on {OVS}"
        elsewhere = f" (mounted on {mounted[0].mountpoint})" if mounted else ""
        raise _fail(f"cluster root {pool.cluster_root} is not mounted on {OVS}{elsewhere}")
    home = next((m for m in mounted if repository_uuid(release, m.mountpoint) is not None), None)
    if home is None:
        elsewhere = f" (mounted on {mounted[0].mountpoint})" if mounted else ""
        raise _fail(f"cluster root {pool.cluster_root} is not mounted on {VAR_OVS_MOUNT}/<UUID>{elsewhere}")
    where = home.mountpoint.rstrip("/")
    target = _link_target(fs, OVS)
    if target != where:
        if target is not None:
            raise _fail(f"{OVS} links to {target}, not to the cluster root on {where}")
        local = mount_on(mounts, OVS)
        shown = f"a mount of {local.source}" if local is not None else "not a symlink"
        raise _fail(f"{OVS} is {shown}: it must be a symlink to the cluster root on {where}")
    return f"{pool.cluster_root} mounted on {where}, {OVS} -> {where}"


def _readlink(fs: HostFS, path: str) -> str | None:
    try:
        return fs.readlink(path)
    except OSError as exc:
        raise Unreadable(f"cannot read the link {path}: {exc}") from None


def repositories_file(server: str, fs: HostFS, release: Release, pool: PoolFacts) -> str:
    """All storage, even /OVS, is listed in /etc/ovs/repositories; no /OVS line is left in /etc/fstab."""
    fstab = _read(fs, FSTAB)
    left = [e for e in read_mount_table(fstab, FSTAB) if e.is_ovs] if fstab is not None else []
    if left:
        raise _fail(f"{FSTAB} still mounts {left[0].mountpoint}: run ovs-cluster-check --alter-fstab")
    text = _read(fs, REPOSITORIES)
    if text is None:
        if release is Release.R2_2:
            raise Unreadable(
                f"{REPOSITORIES} does not exist: whether Oracle VM 2.2 keeps one is not known (the 2.2 "
                "agent lists repositories from its own database: sos ovs plugin, repos.py -l)"
            )
        raise _fail(f"{REPOSITORIES} does not exist")
    named = repository_mentions(text)
    mounts = _repository_mounts(release, _mounts(fs))
    for m in mounts:
        uuid = repository_uuid(release, m.mountpoint)
        if normalize_source(m.source) not in named and (uuid is None or uuid not in named):
            raise _fail(f"{m.source} is mounted on {m.mountpoint} but not listed in {REPOSITORIES}")
    return f"{len(mounts)} mounted repositories listed, none left in {FSTAB}"


def no_local_ovs(server: str, fs: HostFS, release: Release, pool: PoolFacts) -> str:
    """No local /OVS is mounted (white paper: `umount /OVS` before configuring HA): nothing on /OVS
    but shared storage (NFS, or OCFS2 with a cluster heartbeat off the system disk)."""
    mounts = _mounts(fs)
    at = mount_on(mounts, OVS)
    if at is not None and not _is_shared(at, mounts):
        raise _fail(f"local {OVS} ({at.source}) is still mounted: umount {OVS}")
    return f"no local {OVS} mounted"


def no_local_ocfs2_root(server: str, fs: HostFS, release: Release, pool: PoolFacts) -> str:
    """2.2: the default local OCFS2 partition cannot be the cluster root.

    Seen from files: the cluster root /OVS links to is mounted without cluster heartbeat
    (heartbeat=none, a local OCFS2 volume) or lives on the disk holding / (the real root device,
    not the `rootfs` line the kernel lists first)."""
    root = _cluster_root_here(fs, release, pool)
    if root is None:
        raise Unreadable("no cluster root is mounted here, so where it lives cannot be told")
    if root.is_nfs:
        return f"cluster root {root.source} is NFS"
    if "heartbeat=none" in root.option_list:
        raise _fail(f"cluster root {root.source} is a local OCFS2 volume (mounted heartbeat=none)")
    system = root_device(_mounts(fs))
    if system is None or system == "/dev/root":  # the kernel's alias: RHEL 5 shows / this way
        raise Unreadable(
            f"the mount table names the root device {system or 'nowhere'}, so whether the cluster root "
            f"{root.source} is on the system disk cannot be told"
        )
    if _disk_of(system) == _disk_of(root.source):
        raise _fail(f"cluster root {root.source} is on the system disk {_disk_of(system)}")
    return f"cluster root {root.source} is shared"


def _hostname(fs: HostFS) -> str:
    name = parse_network_hostname(_require(fs, NETWORK_SYSCONFIG))
    if name is None:
        raise _fail(f"no HOSTNAME in {NETWORK_SYSCONFIG}")
    return name


def fqdn(server: str, fs: HostFS, release: Release, pool: PoolFacts) -> str:
    """The server is installed with a fully qualified domain name (e.g. vmserver1.example.com)."""
    name = _hostname(fs)
    if not is_fqdn(name):
        raise _fail(f"host name {name!r} is not fully qualified")
    return f"host name {name}"


def hostname_not_loopback(server: str, fs: HostFS, release: Release, pool: PoolFacts) -> str:
    """The real host name is not on the loopback line of /etc/hosts."""
    name = _hostname(fs)
    names = _names(fs)
    bad = loopback_names(names.hosts, name, name.split(".")[0])
    if bad:
        entry = names.hosts.lookup(bad[0])
        line = f" ({HOSTS}:{entry.line})" if entry else ""
        raise _fail(f"{bad[0]} is mapped to a loopback address{line}")
    return f"{name} is not on a loopback address"


def name_resolution_consistent(
    hosts: Mapping[str, HostFS], release: Release, pool: PoolFacts
) -> list[Finding]:
    """All servers resolve the pool's names with one service (DNS or /etc/hosts) and resolve every member."""
    rule = "PRE-NAME-RESOLUTION-CONSISTENT"
    findings: list[Finding] = []
    services: dict[str, str] = {}
    for server, fs in hosts.items():
        with _judging(rule, server, findings):
            services[server] = _name_service(server, fs, pool)
    if not services:
        return findings
    reference, _ = Counter(services.values()).most_common(1)[0]
    for server, service in services.items():
        if service == reference:
            findings.append(Finding(rule, server, "passed", f"resolves the pool's names by {service}"))
        else:
            findings.append(
                Finding(rule, server, "failed", f"resolves by {service}, the pool by {reference}")
            )
    return findings


def _name_service(server: str, fs: HostFS, pool: PoolFacts) -> str:
    names = _names(fs)
    me = pool.member(server)
    own = (me.fqdn, me.name) if me else (server,)
    peers = [m.fqdn for m in pool.member_facts if m is not me]
    if pool.dns_zone is None and names.uses_dns() and any(names.hosts.lookup(p) is None for p in peers):
        raise Unreadable("resolves by DNS, but the site's DNS answers were not given to the check")
    used, unresolved = pool_name_service(names, own, peers, pool.dns_zone)
    if unresolved:
        raise _fail(f"cannot resolve {', '.join(unresolved)}")
    for peer in pool.member_facts:
        if peer is me:
            continue
        answer = names.resolve(peer.fqdn, pool.dns_zone)
        if answer is not None and answer.ip != peer.ip:
            raise _fail(f"resolves {peer.fqdn} to {answer.ip}, not {peer.ip}")
    if len(used) > 1:
        raise _fail("mixes DNS and /etc/hosts for the pool's names")
    return next(iter(used))


def clusterconf_identical(hosts: Mapping[str, HostFS], release: Release, pool: PoolFacts) -> list[Finding]:
    """/etc/ocfs2/cluster.conf is the same on every server (o2cb requires it)."""

    def read(fs: HostFS) -> tuple[frozenset[object], ...]:
        conf = _cluster_conf(fs)
        if conf is None:
            raise _fail(f"{CLUSTER_CONF} does not exist")
        return (frozenset(conf.clusters), frozenset(conf.nodes), frozenset(conf.heartbeats))

    def describe(value: tuple[frozenset[object], ...]) -> str:
        return f"{len(value[1])} node(s), {len(value[2])} region(s)"

    findings = _same_everywhere("PRE-CLUSTERCONF-IDENTICAL", hosts, read, describe)
    agreeing = next((f.server for f in findings if f.status == "passed" and f.server), None)
    reference = _cluster_conf(hosts[agreeing]) if agreeing else None
    return [_detail_difference(f, hosts, reference) for f in findings]


def _detail_difference(
    finding: Finding, hosts: Mapping[str, HostFS], reference: ClusterConf | None
) -> Finding:
    """Name the first node that differs from the pool's version, so the report says what to fix."""
    if finding.status != "failed" or finding.server is None or reference is None:
        return finding
    try:
        mine = _cluster_conf(hosts[finding.server])
    except (ConfigSyntaxError, Unreadable):
        return finding  # the finding already says why the file could not be compared
    if mine is None:
        return finding
    extra = sorted(set(mine.nodes) - set(reference.nodes), key=lambda n: n.number)
    if extra:
        n = extra[0]
        message = f"node {n.number} is {n.name} at {n.ip_address} here, unlike the rest of the pool"
        return Finding(finding.rule, finding.server, "failed", message)
    return finding


def clusterconf_no_loopback(server: str, fs: HostFS, release: Release, pool: PoolFacts) -> str:
    """No node of cluster.conf has a loopback address (white paper, Special Considerations)."""
    conf = _cluster_conf(fs)
    if conf is None:
        raise _fail(f"{CLUSTER_CONF} does not exist")
    bad = loopback_nodes(conf)
    if bad:
        raise _fail(f"node {bad[0].name} has the loopback address {bad[0].ip_address} in {CLUSTER_CONF}")
    return "every node has a routable address"


def node_slots(server: str, fs: HostFS, release: Release, pool: PoolFacts) -> str:
    """The cluster has no more nodes than the heartbeat device has node slots (mkfs.ocfs2 -N 16)."""
    conf = _cluster_conf(fs)
    if conf is None:
        raise _fail(f"{CLUSTER_CONF} does not exist")
    for cluster in conf.clusters:
        count = len(conf.nodes_of(cluster.name))
        if count > pool.node_slots:
            raise _fail(
                f"cluster {cluster.name} has {count} nodes but the device has {pool.node_slots} slots"
            )
    return f"within {pool.node_slots} node slots"


def nfs_heartbeat_file(server: str, fs: HostFS, release: Release, pool: PoolFacts) -> str:
    """An NFS cluster root holds the heartbeat file .server_pool_hb."""
    root = _cluster_root_here(fs, release, pool)
    if root is None or normalize_source(root.source) != normalize_source(pool.cluster_root):
        raise Unreadable(
            f"the pool's cluster root {pool.cluster_root} is not mounted here, so its heartbeat file "
            "cannot be looked at (PRE-CLUSTER-ROOT-MOUNT)"
        )
    path = f"{root.mountpoint.rstrip('/')}/{HEARTBEAT_FILE_NAME}"
    try:
        present = fs.exists(path)
    except OSError as exc:
        raise Unreadable(f"cannot look at {path}: {exc}") from None
    if not present:
        raise _fail(f"heartbeat file {path} does not exist")
    return f"heartbeat file {path}"


def _services_running(server: str, fs: HostFS, release: Release, pool: PoolFacts) -> str:
    """The release's HA services run (cluster.services.HA_SERVICES says which, and from where).

    The init scripts' own answer wins over lock files where it is known: a server that crashed
    keeps /var/lock/subsys/<service>, which `status` reports as dead ("subsys locked"). A service
    the release may lack (2.2's ovsrepositories) counts only where its init script exists."""
    wanted = HA_SERVICES[release]
    optional = OPTIONAL_SERVICES[release]
    me = pool.member(server)
    if me is not None and me.services is not None:
        said = {s: me.services.get(s, "unknown") for s in wanted}
        missing = [s for s, state in said.items() if state == "absent" and s not in optional]
        if missing:
            raise _fail(
                f"no init script for {', '.join(missing)} (`service NAME status`: unrecognized service)"
            )
        unsure = [s for s, state in said.items() if state == "unknown"]
        if unsure:
            raise Unreadable(f"`service NAME status` gave no answer for {', '.join(unsure)}")
        down = [f"{s} ({state})" for s, state in said.items() if state not in ("running", "absent")]
        if down:
            raise _fail(f"not running: {', '.join(down)}")
        running = [s for s, state in said.items() if state == "running"]
        absent = [s for s, state in said.items() if state == "absent"]
        note = f"; no {', '.join(absent)} init script on this release" if absent else ""
        return f"running (service status): {', '.join(running)}{note}"
    try:
        stopped = [s for s in wanted if not fs.exists(lock_file(s))]
    except OSError as exc:
        raise Unreadable(f"cannot read /var/lock/subsys: {exc}") from None
    if stopped:
        raise _fail(f"not running: {', '.join(stopped)}")
    return f"running: {', '.join(wanted)}"


def services_up(server: str, fs: HostFS, release: Release, pool: PoolFacts) -> str:
    """2.x: o2cb, ocfs2, ovsrepositories and ovs-agent are running (2.2: ovsrepositories where
    its init script exists)."""
    return _services_running(server, fs, release, pool)


def services_up_3x(server: str, fs: HostFS, release: Release, pool: PoolFacts) -> str:
    """3.x: o2cb and ovs-agent are running."""
    return _services_running(server, fs, release, pool)


def multi_server(hosts: Mapping[str, HostFS], release: Release, pool: PoolFacts) -> list[Finding]:
    """ "The server pool must contain multiple Oracle VM Servers" (3.x), "a cluster of Virtual Machine
    Servers" (2.x): a stand-alone server cannot be HA enabled."""
    count = len(pool.member_facts)
    if count > 1:
        return [Finding("PRE-MULTI-SERVER", None, "passed", f"{count} servers in the pool")]
    return [Finding("PRE-MULTI-SERVER", None, "failed", f"{count} server(s): HA needs more than one")]


def _boot_cluster(fs: HostFS) -> str | None:
    """O2CB_BOOTCLUSTER of /etc/sysconfig/o2cb: the one cluster the o2cb init script starts."""
    text = _read(fs, O2CB_SYSCONFIG)
    if text is None:
        return None
    return parse_sysconfig(text, O2CB_SYSCONFIG, problems=[]).get("O2CB_BOOTCLUSTER") or None


def _pool_fs_heartbeat(fs: HostFS, regions: tuple[str, ...], o2cb: O2CBStatus | None) -> str:
    """Where each region (the pool file system) heartbeats on this server, or why it does not.

    `service o2cb status` is the O2CB stack's own answer about the heartbeat, and names each
    region's device; the mount table says whether the pool file system is mounted: on that
    device, or on a mount point named by its UUID. Where 3.x mounts the pool file system is not in
    the stored material, so an OCFS2 mount that neither names nor shows the region leaves it
    unknown; no OCFS2 mount at all means it is not mounted."""
    said = ""
    devices: dict[str, str] = {}
    if o2cb is not None and o2cb.understood:
        if o2cb.online is False:
            raise _fail(f"the O2CB cluster {o2cb.cluster or ''} is offline (service o2cb status)")
        if o2cb.heartbeat_active is False:
            raise _fail("the O2CB heartbeat is not active (service o2cb status)")
        if o2cb.heartbeat_mode not in (None, "global"):
            raise _fail(f"o2cb runs {o2cb.heartbeat_mode} heartbeat, not global (service o2cb status)")
        idle = [r for r in regions if o2cb.region_device(r) is None]
        if idle:
            raise _fail(
                f"heartbeat region {idle[0]} (the pool file system) is not active (service o2cb status)"
            )
        devices = {r: o2cb.region_device(r) or "" for r in regions}
        said = "heartbeat active (service o2cb status), "
    mounts = _mounts(fs)
    missing = [r for r in regions if not _is_mounted(r, devices.get(r, ""), mounts)]
    if not missing:
        return said + "pool file system " + ", ".join(regions) + " mounted"
    if any(m.fstype == "ocfs2" for m in mounts):
        raise Unreadable(
            f"an OCFS2 file system is mounted, but neither its mount point nor its device shows region "
            f"{missing[0]}: whether the pool file system is mounted cannot be told"
        )
    raise _fail(f"the pool file system {missing[0]} is not mounted: no OCFS2 file system is")


def _is_mounted(region: str, device: str, mounts: list[MountEntry]) -> bool:
    return any(names_uuid(m.mountpoint, region) or (device and m.source == device) for m in mounts)


def clustered_pool(server: str, fs: HostFS, release: Release, pool: PoolFacts) -> str:
    """3.x: "The server pool must be clustered": cluster.conf puts this server in a cluster in
    global heartbeat mode (the one /etc/sysconfig/o2cb starts) whose heartbeat regions (the pool
    file system's UUID) heartbeat here."""
    conf = _cluster_conf(fs)
    if conf is None:
        raise _fail(f"{CLUSTER_CONF} does not exist: the pool is not clustered")
    me = pool.member(server)
    own = (me.name, me.fqdn) if me else (server,)
    node = conf.node_named(*{v for name in own for v in (name, name.split(".")[0])})
    if node is None:
        raise _fail(f"{CLUSTER_CONF} does not list {server} as a node")
    cluster = conf.cluster(node.cluster)
    assert cluster is not None  # a node o2cb loads belongs to a cluster it loads
    if cluster.heartbeat_mode != "global":
        raise _fail(f"cluster {cluster.name} is in {cluster.heartbeat_mode} heartbeat mode, not global")
    regions = conf.regions_of(cluster.name)
    if not regions:
        raise _fail(f"cluster {cluster.name} has no heartbeat region (the pool file system)")
    boot = _boot_cluster(fs)
    if boot is not None and boot != cluster.name:
        raise _fail(f"{O2CB_SYSCONFIG} starts cluster {boot}, not {cluster.name}")
    beat = _pool_fs_heartbeat(fs, regions, me.o2cb if me is not None else None)
    return f"node {node.number} of cluster {cluster.name}; {beat}"


Check = Callable[[Mapping[str, HostFS], Release, PoolFacts], list[Finding]]

CHECKS: dict[str, Check] = {
    "PRE-RELEASE-MIN": _per_server("PRE-RELEASE-MIN", release_min),
    "PRE-MULTI-SERVER": multi_server,
    "PRE-CLUSTERED-POOL": _per_server("PRE-CLUSTERED-POOL", clustered_pool),
    "PRE-SAME-SHARED-STORAGE": same_shared_storage,
    "PRE-SAME-CLUSTER-ROOT": _per_server("PRE-SAME-CLUSTER-ROOT", same_cluster_root),
    "PRE-CLUSTER-ROOT-MOUNT": _per_server("PRE-CLUSTER-ROOT-MOUNT", cluster_root_mount),
    "PRE-REPOSITORIES-FILE": _per_server("PRE-REPOSITORIES-FILE", repositories_file),
    "PRE-NO-LOCAL-OVS": _per_server("PRE-NO-LOCAL-OVS", no_local_ovs),
    "PRE-NO-LOCAL-OCFS2-ROOT": _per_server("PRE-NO-LOCAL-OCFS2-ROOT", no_local_ocfs2_root),
    "PRE-FQDN": _per_server("PRE-FQDN", fqdn),
    "PRE-HOSTNAME-NOT-LOOPBACK": _per_server("PRE-HOSTNAME-NOT-LOOPBACK", hostname_not_loopback),
    "PRE-NAME-RESOLUTION-CONSISTENT": name_resolution_consistent,
    "PRE-CLUSTERCONF-IDENTICAL": clusterconf_identical,
    "PRE-CLUSTERCONF-NO-LOOPBACK": _per_server("PRE-CLUSTERCONF-NO-LOOPBACK", clusterconf_no_loopback),
    "PRE-NODE-SLOTS": _per_server("PRE-NODE-SLOTS", node_slots),
    "PRE-NFS-HEARTBEAT-FILE": _per_server("PRE-NFS-HEARTBEAT-FILE", nfs_heartbeat_file),
    "PRE-SERVICES-UP": _per_server("PRE-SERVICES-UP", services_up),
    "PRE-SERVICES-UP-3X": _per_server("PRE-SERVICES-UP-3X", services_up_3x),
}

# One rule list per release, as features/rules.yaml states each rule's releases (a test checks
# that they agree): the white paper's and the 2.x guides' rules for 2.1 and 2.2, the 3.0 Concepts
# guide's for 3.x plus the O2CB stack's own rules that hold for every o2cb cluster (cluster.conf
# the same on every node: ocfs2.cluster.conf(5); node addresses the nodes talk on: Oracle Linux's
# OCFS2 guide), each entry of the catalog naming that source.
_2X_RULES = (
    "PRE-RELEASE-MIN",
    "PRE-MULTI-SERVER",
    "PRE-SAME-SHARED-STORAGE",
    "PRE-SAME-CLUSTER-ROOT",
    "PRE-CLUSTER-ROOT-MOUNT",
    "PRE-REPOSITORIES-FILE",
    "PRE-NO-LOCAL-OVS",
    "PRE-FQDN",
    "PRE-HOSTNAME-NOT-LOOPBACK",
    "PRE-NAME-RESOLUTION-CONSISTENT",
    "PRE-CLUSTERCONF-IDENTICAL",
    "PRE-CLUSTERCONF-NO-LOOPBACK",
    "PRE-NODE-SLOTS",
    "PRE-NFS-HEARTBEAT-FILE",
    "PRE-SERVICES-UP",
)

RULES_BY_RELEASE: dict[Release, tuple[str, ...]] = {
    Release.R2_1: _2X_RULES,
    Release.R2_2: (*_2X_RULES[:7], "PRE-NO-LOCAL-OCFS2-ROOT", *_2X_RULES[7:]),
    Release.R3: (
        "PRE-RELEASE-MIN",
        "PRE-MULTI-SERVER",
        "PRE-CLUSTERED-POOL",
        "PRE-CLUSTERCONF-IDENTICAL",
        "PRE-CLUSTERCONF-NO-LOOPBACK",
        "PRE-SERVICES-UP-3X",
    ),
}


def rules_for(release: Release, storage_kind: str) -> tuple[str, ...]:
    """The rules that apply: the release's list, without the NFS heartbeat file on OCFS2 storage."""
    rules = RULES_BY_RELEASE[release]
    return rules if is_nfs_kind(storage_kind) else tuple(r for r in rules if r != "PRE-NFS-HEARTBEAT-FILE")


def check_pool(hosts: Mapping[str, HostFS], release: Release, pool: PoolFacts) -> list[Finding]:
    """Every applicable prerequisite, for every server; ordered by rule, then server."""
    return check_rules(hosts, release, pool, rules_for(release, pool.storage_kind))


def check_rules(
    hosts: Mapping[str, HostFS], release: Release, pool: PoolFacts, rules: Sequence[str]
) -> list[Finding]:
    """These prerequisites, in this order, for every server."""
    findings: list[Finding] = []
    token = _PARSED.set({})
    try:
        for rule in rules:
            findings += CHECKS[rule](hosts, release, pool)
    finally:
        _PARSED.reset(token)
    return findings


def failed_rules(findings: Sequence[Finding]) -> set[str]:
    return {f.rule for f in findings if f.status == "failed"}
