"""Steps on a server's files and commands: Oracle VM tools at Oracle's paths, services, /etc files.

Misconfigurations a prerequisite must catch are made here, through the
driver's write_file/run, exactly as an administrator would make them.
"""

from __future__ import annotations

import re
import shlex

from pytest_bdd import given, parsers, then, when

from environments.base import EnvironmentLimitation, PoolDriver
from environments.model import PoolSpec, ServerSpec
from ovmref.cluster.clusterconf import parse_cluster_conf
from ovmref.cluster.services import OPTIONAL_SERVICES
from ovmref.release import Release
from ovmref.storage.fstab import read_mount_table
from ovmref.storage.layout import names_uuid
from steps.records import SERVER, CommandRun, ManagerAction, required_action

SERVICES_IN_ORDER = ("o2cb", "ocfs2", "ovsrepositories", "ovs-agent")
REPOSITORIES = "/etc/ovs/repositories"
CLUSTER_CONF = "/etc/ocfs2/cluster.conf"
HOSTS = "/etc/hosts"
PROC_MOUNTS = "/proc/mounts"
NETWORK = "/etc/sysconfig/network"
_PATH = r"(?P<path>/[\w./-]*)"
_QUOTED = r"[\"'](?P<command>.+)[\"']"  # "cmd" or 'cmd "with" quotes'


def servers_of(driver: PoolDriver) -> list[str]:
    """Servers of the pool that are up (commands and files can only be reached on those)."""
    return [s.name for s in driver.observe().servers.values() if s.state in ("running", "maintenance")]


def read(driver: PoolDriver, server: str, path: str) -> str:
    __tracebackhide__ = True
    text = driver.read_file(server, path)
    assert text is not None, f"{path} does not exist on {server}"
    return text


def run_ok(driver: PoolDriver, server: str, command: str) -> None:
    __tracebackhide__ = True
    result = driver.run(server, shlex.split(command))
    assert result.succeeded, (
        f"`{command}` on {server} failed (rc {result.rc}): {result.stderr or result.stdout}"
    )


def fqdn(driver: PoolDriver, pool_spec: PoolSpec, server: str) -> str:
    """The server's fully qualified name: as the pool was built with it (server1 ->
    server1.example.com), or the real server's that it stands for on an adopted pool."""
    spec = next((s for s in pool_spec.servers if s.name == server), None)
    return driver.known_as(server) or (spec or ServerSpec(name=server)).fqdn


def short_name(driver: PoolDriver, server: str) -> str:
    """The host name without its domain (server1, or the adopted real server's)."""
    return (driver.known_as(server) or server).split(".")[0]


# ---------------------------------------------------------------------------- commands
@when(parsers.re(rf"I run {_QUOTED} on (?P<server>{SERVER})"), target_fixture="command_run")
def run_command(ovm_driver: PoolDriver, command: str, server: str) -> CommandRun:
    """Run a shell command line (split like a shell would) on the server."""
    return CommandRun(server, ovm_driver.run(server, shlex.split(command)))


@given(parsers.re(rf"I have run {_QUOTED} on (?P<server>{SERVER})"))
def have_run(ovm_driver: PoolDriver, command: str, server: str) -> None:
    """Run a command on the server as a precondition; it must succeed."""
    run_ok(ovm_driver, server, command)


@given(parsers.re(rf"the cluster services are stopped on (?P<server>{SERVER})"))
def services_stopped(ovm_driver: PoolDriver, server: str) -> None:
    """Stop ovs-agent, ovsrepositories, ocfs2 and o2cb on the server, in that documented order."""
    for service in reversed(SERVICES_IN_ORDER):
        run_ok(ovm_driver, server, f"service {service} stop")


@given(
    parsers.re(rf"the cluster services running on (?P<server>{SERVER}) are (?P<services>no service|[\w, -]+)")
)
def services_left_running(ovm_driver: PoolDriver, server: str, services: str) -> None:
    """Bring the server to exactly these services running (the first ones of the documented order):
    stop the others in the documented stop order, start the missing ones in the start order."""
    wanted = [] if services == "no service" else [s for s in re.split(r"\s*,\s*|\s+and\s+", services) if s]
    if tuple(wanted) != SERVICES_IN_ORDER[: len(wanted)]:
        raise ValueError(
            f"{services!r}: services run as a prefix of the order {', '.join(SERVICES_IN_ORDER)}"
        )
    for service in reversed(SERVICES_IN_ORDER[len(wanted) :]):
        run_ok(ovm_driver, server, f"service {service} stop")
    for service in wanted:
        run_ok(ovm_driver, server, f"service {service} start")


@when(parsers.re(rf"the cluster services are started on (?P<server>{SERVER}) in order"))
def services_started(ovm_driver: PoolDriver, server: str) -> None:
    """Start o2cb, ocfs2, ovsrepositories and ovs-agent on the server, in that documented order."""
    for service in SERVICES_IN_ORDER:
        run_ok(ovm_driver, server, f"service {service} start")


@then("the command succeeds")
def command_succeeds(command_run: CommandRun) -> None:
    """The last command exited with status 0."""
    r = command_run.result
    assert r.succeeded, (
        f"`{' '.join(r.argv)}` on {command_run.server} failed (rc {r.rc}): {r.stderr or r.stdout}"
    )


@then("the command fails")
def command_fails(command_run: CommandRun) -> None:
    """The last command exited with a non-zero status."""
    r = command_run.result
    assert not r.succeeded, f"`{' '.join(r.argv)}` on {command_run.server} succeeded: {r.stdout}"


@then(
    parsers.re(
        r"the services? (?P<services>[\w, -]+?) (?:is|are) (?P<negation>not )?running on "
        rf"(?P<where>every server|{SERVER})"
    )
)
def services_running(ovm_driver: PoolDriver, services: str, where: str, negation: str | None = None) -> None:
    """`service <name> status` succeeds (fails, when "not running") for each named service on the
    server(s)."""
    wanted = [s for s in re.split(r"\s*,\s*|\s+and\s+", services) if s]
    targets = servers_of(ovm_driver) if where == "every server" else [where]
    optional = OPTIONAL_SERVICES[ovm_driver.release]
    for server in targets:
        for service in wanted:
            result = ovm_driver.run(server, ["service", service, "status"])
            if service in optional and "unrecognized service" in result.stdout + result.stderr:
                continue  # 2.2 may have no ovsrepositories init script at all (cluster.services)
            if negation:
                assert not result.succeeded, f"{service} is running on {server}: {result.stdout}"
                continue
            assert result.succeeded, f"{service} is not running on {server}: {result.stdout or result.stderr}"


@then(parsers.re(r"the command output names a backup of /etc/fstab in /tmp holding the original"))
def fstab_backup(ovm_driver: PoolDriver, command_run: CommandRun, original_fstab: str) -> None:
    """The command reported a /tmp copy of /etc/fstab, and that copy holds the text before the change."""
    output = command_run.result.stdout + command_run.result.stderr
    found = re.findall(r"/tmp/[\w.-]+", output)
    assert found, f"the command did not name a backup in /tmp: {output!r}"
    backup = ovm_driver.read_file(command_run.server, found[0])
    assert backup == original_fstab, (
        f"{found[0]} on {command_run.server} does not hold the original /etc/fstab"
    )


# ---------------------------------------------------------------------------- misconfigurations
@given(parsers.re(rf"(?P<server>{SERVER}) reports Oracle VM Server release (?P<version>[\d.]+)"))
def server_release(ovm_driver: PoolDriver, server: str, version: str) -> None:
    """Make /etc/ovs-release on the server name this release (an older or newer install)."""
    ovm_driver.write_file(server, "/etc/ovs-release", f"Oracle VM server release {version}\n")


@given(parsers.re(rf"{_PATH} on (?P<server>{SERVER}) is empty"))
def file_emptied(ovm_driver: PoolDriver, path: str, server: str) -> None:
    """Replace the file's content on the server by nothing."""
    ovm_driver.write_file(server, path, "")


@given(
    parsers.re(rf"/etc/fstab on (?P<server>{SERVER}) mounts the cluster root at /OVS"),
    target_fixture="original_fstab",
)
def fstab_mounts_ovs(ovm_driver: PoolDriver, pool_spec: PoolSpec, server: str) -> str:
    """Add the 2.1/2.1.1-style /OVS line for the cluster root to /etc/fstab; hands on the new text."""
    fstype = "nfs" if pool_spec.storage == "nfs" else "ocfs2"
    text = (ovm_driver.read_file(server, "/etc/fstab") or "").rstrip("\n")
    text = f"{text}\n{pool_spec.cluster_root}\t/OVS\t{fstype}\tdefaults\t0 0\n".lstrip("\n")
    ovm_driver.write_file(server, "/etc/fstab", text)
    return text


@given(
    parsers.re(
        rf"(?P<server>{SERVER}) has a local /OVS repository mounted from (?P<device>/dev/\w+) "
        r"\((?P<fstype>\w+)\)"
    )
)
def local_ovs(ovm_driver: PoolDriver, server: str, device: str, fstype: str) -> None:
    """Make /proc/mounts on the server show a local disk mounted at /OVS instead of shared storage."""
    lines = [
        ln
        for ln in read(ovm_driver, server, PROC_MOUNTS).splitlines()
        if len(ln.split()) < 2 or ln.split()[1] != "/OVS"
    ]
    lines.append(f"{device} /OVS {fstype} rw 0 0")
    ovm_driver.write_file(server, PROC_MOUNTS, "\n".join(lines) + "\n")


@given(parsers.re(rf"(?P<server>{SERVER}) uses (?P<source>\S+) as its shared storage instead"))
def other_storage(ovm_driver: PoolDriver, pool_spec: PoolSpec, server: str, source: str) -> None:
    """Point the server's mounts and repositories at another source than the pool's cluster root."""
    for path in (PROC_MOUNTS, "/etc/ovs/repositories"):
        text = read(ovm_driver, server, path)
        assert pool_spec.cluster_root in text, f"{path} on {server} does not mention {pool_spec.cluster_root}"
        ovm_driver.write_file(server, path, text.replace(pool_spec.cluster_root, source))


@given(parsers.re(rf"the hostname of (?P<server>{SERVER}) is set to (?P<name>\S+)"))
def set_hostname(ovm_driver: PoolDriver, server: str, name: str) -> None:
    """Set HOSTNAME= in /etc/sysconfig/network, the host name the server boots with."""
    text = read(ovm_driver, server, NETWORK)
    changed, count = re.subn(r"(?m)^HOSTNAME=.*$", f"HOSTNAME={name}", text)
    assert count == 1, f"{NETWORK} on {server} has {count} HOSTNAME= lines"
    ovm_driver.write_file(server, NETWORK, changed)


@given(
    parsers.re(
        rf"(?P<server>{SERVER}) uses its local OCFS2 partition (?P<device>/dev/\w+) as the cluster root"
    )
)
def local_ocfs2_root(ovm_driver: PoolDriver, pool_spec: PoolSpec, server: str, device: str) -> None:
    """Make the default local OCFS2 partition (mounted heartbeat=none) the server's cluster root."""
    repos = read(ovm_driver, server, "/etc/ovs/repositories")
    assert pool_spec.cluster_root in repos, (
        f"/etc/ovs/repositories on {server} lacks {pool_spec.cluster_root}"
    )
    ovm_driver.write_file(server, "/etc/ovs/repositories", repos.replace(pool_spec.cluster_root, device))
    mounts = []
    for line in read(ovm_driver, server, PROC_MOUNTS).splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[0] == pool_spec.cluster_root:
            fields[0], fields[2], fields[3] = device, "ocfs2", "rw,heartbeat=none"
            line = " ".join(fields)
        mounts.append(line)
    ovm_driver.write_file(server, PROC_MOUNTS, "\n".join(mounts) + "\n")


@given(parsers.re(rf"/etc/hosts on (?P<server>{SERVER}) maps its host name to the loopback address"))
def hostname_on_loopback(ovm_driver: PoolDriver, pool_spec: PoolSpec, server: str) -> None:
    """Rewrite /etc/hosts so the server's own names sit on 127.0.0.1, as a careless install leaves them."""
    full = fqdn(ovm_driver, pool_spec, server)
    kept = [
        ln
        for ln in read(ovm_driver, server, HOSTS).splitlines()
        if full not in ln.split() and server not in ln.split()[1:]
    ]
    kept.insert(0, f"127.0.0.1\t{full} {server} localhost.localdomain localhost")
    ovm_driver.write_file(server, HOSTS, "\n".join(kept) + "\n")


@given(parsers.re(rf"(?P<server>{SERVER}) resolves (?P<other>{SERVER}) to (?P<ip>[\d.]+)"))
def resolves_elsewhere(ovm_driver: PoolDriver, pool_spec: PoolSpec, server: str, other: str, ip: str) -> None:
    """Give the server its own, different /etc/hosts entry for another server of the pool."""
    full = fqdn(ovm_driver, pool_spec, other)
    kept = [ln for ln in read(ovm_driver, server, HOSTS).splitlines() if full not in ln.split()]
    kept.append(f"{ip}\t{full} {other}")
    ovm_driver.write_file(server, HOSTS, "\n".join(kept) + "\n")


@given(parsers.re(rf"(?P<who>every server|{SERVER}) resolves? the pool's names by DNS"))
def resolves_by_dns(ovm_driver: PoolDriver, pool_spec: PoolSpec, who: str) -> None:
    """Point the server(s) at the site's DNS server (/etc/resolv.conf) and keep in /etc/hosts only
    localhost and the server's own name, as an install that was given a name server leaves it."""
    for server in servers_of(ovm_driver) if who == "every server" else [who]:
        own = {fqdn(ovm_driver, pool_spec, server), short_name(ovm_driver, server)}
        kept = [
            ln for ln in read(ovm_driver, server, HOSTS).splitlines()
            if not ln.split("#", 1)[0].split() or ln.split()[0].startswith("127.")
            or own & set(ln.split()[1:])
        ]
        ovm_driver.write_file(server, HOSTS, "\n".join(kept) + "\n")
        ovm_driver.write_file(server, "/etc/resolv.conf", "search example.com\nnameserver 192.168.100.1\n")


@given(
    parsers.re(
        rf"/etc/ocfs2/cluster.conf on (?P<server>{SERVER}) differs from the one on "
        rf"(?P<reference>{SERVER})"
    )
)
def clusterconf_differs(ovm_driver: PoolDriver, server: str, reference: str) -> None:
    """Give the server a cluster.conf whose first node listens on port 7778 instead of 7777."""
    text = read(ovm_driver, reference, CLUSTER_CONF)
    changed = re.sub(r"ip_port\s*=\s*7777", "ip_port = 7778", text, count=1)
    assert changed != text, f"{CLUSTER_CONF} on {reference} has no ip_port = 7777 to change"
    ovm_driver.write_file(server, CLUSTER_CONF, changed)


@given(parsers.re(rf"/etc/ocfs2/cluster.conf on every server gives (?P<node>{SERVER}) the loopback address"))
def clusterconf_loopback(ovm_driver: PoolDriver, node: str) -> None:
    """Rewrite the node stanza of that server, on every server, with ip_address = 127.0.0.1."""
    for server in servers_of(ovm_driver):
        stanzas = read(ovm_driver, server, CLUSTER_CONF).split("\n\n")
        pattern = rf"\n\s*name\s*=\s*{re.escape(node)}(?:\.\S+)?\s*(?:\n|$)"
        hits = [i for i, st in enumerate(stanzas) if re.search(pattern, "\n" + st)]
        assert len(hits) == 1, f"{CLUSTER_CONF} on {server} has {len(hits)} node stanzas for {node}"
        stanzas[hits[0]] = re.sub(r"ip_address\s*=\s*\S+", "ip_address = 127.0.0.1", stanzas[hits[0]])
        ovm_driver.write_file(server, CLUSTER_CONF, "\n\n".join(stanzas))


@given(parsers.re(rf"(?:the file )?{_PATH} does not exist on (?P<server>{SERVER})"))
def file_removed(ovm_driver: PoolDriver, path: str, server: str) -> None:
    """Remove the file from the server, as an administrator would."""
    ovm_driver.remove_file(server, path)
    assert not ovm_driver.file_exists(server, path), f"{path} is still on {server}"


@given(
    parsers.re(rf"the administrator has written /etc/ocfs2/cluster.conf on (?P<server>{SERVER}) by hand"),
    target_fixture="handwritten_cluster_conf",
)
def clusterconf_by_hand(ovm_driver: PoolDriver, server: str) -> str:
    """Keep the server's cluster.conf but make it the administrator's own (a comment line at the
    top, which o2cb ignores): a tool that regenerates the file instead of keeping it shows."""
    text = "# written by the administrator of this pool\n" + read(ovm_driver, server, CLUSTER_CONF)
    ovm_driver.write_file(server, CLUSTER_CONF, text)
    return text


# ---------------------------------------------------------------------------- file checks
@then("/etc/ocfs2/cluster.conf on every server is the one the administrator wrote")
def clusterconf_kept(ovm_driver: PoolDriver, handwritten_cluster_conf: str) -> None:
    """Every server holds exactly the administrator's cluster.conf: kept, and propagated as it is."""
    for server in servers_of(ovm_driver):
        text = read(ovm_driver, server, CLUSTER_CONF)
        assert text == handwritten_cluster_conf, (
            f"{CLUSTER_CONF} on {server} is not the one the administrator wrote:\n{text}"
        )


@then(
    parsers.re(
        rf"(?P<server>{SERVER}) ran (?P<quote>[\"'])(?P<command>.+)(?P=quote) when HA was enabled on the pool"
    )
)
def ran_when_enabling(
    ovm_driver: PoolDriver, manager_action: ManagerAction | None, server: str, command: str, quote: str
) -> None:
    """The server's command log (the timeline) shows the command, successful, since HA was enabled."""
    manager_action = required_action(manager_action)
    assert manager_action.operation == "enable HA", f"the last operation was {manager_action.operation!r}"
    runs = [
        e for e in ovm_driver.timeline()
        if e.kind == "command" and e.server == server and e.t_ms >= manager_action.at_ms
        and e.detail.split(" -> ")[0] == command
    ]
    assert runs, f"{server} did not run `{command}` when HA was enabled"
    ok = any(e.detail.endswith("-> rc 0") for e in runs)
    assert ok, f"`{command}` failed on {server}: {runs[-1].detail}"


# where each release mounts a repository that is not the cluster root, written here from the
# documents themselves (2.1: the white paper's /OVS/uuid; 2.2: the 2.2 guide's
# /var/ovs/mount/other_sr_uuid; 3.x: /OVS/Repositories/<uuid> as real 3.x servers show)
REPOSITORY_MOUNT = {
    Release.R2_1: re.compile(r"/OVS/[0-9A-Fa-f]{32}"),
    Release.R2_2: re.compile(r"/var/ovs/mount/[0-9A-Fa-f]{32}"),
    Release.R3: re.compile(r"/OVS/Repositories/[0-9A-Fa-f]{32}"),
}


@then(
    parsers.re(
        r"the repository (?P<source>\S+) is mounted at its repository mount point on "
        rf"(?P<where>every server|{SERVER})"
    )
)
def repository_mounted(ovm_driver: PoolDriver, source: str, where: str) -> None:
    """/proc/mounts shows the repository where the release mounts repositories: /OVS/<UUID> (2.1),
    /var/ovs/mount/<UUID> (2.2), /OVS/Repositories/<UUID> (3.x)."""
    pattern = REPOSITORY_MOUNT[ovm_driver.release]
    for server in servers_of(ovm_driver) if where == "every server" else [where]:
        mounts = [ln.split() for ln in read(ovm_driver, server, PROC_MOUNTS).splitlines() if ln.strip()]
        points = [m[1] for m in mounts if len(m) > 1 and m[0] == source]
        assert any(pattern.fullmatch(p) for p in points), (
            f"{source} is mounted at {points or 'nowhere'} on {server}, not at {pattern.pattern}"
        )


@then("/OVS on every server is a link to the cluster root mounted under /var/ovs/mount")
def ovs_is_link(ovm_driver: PoolDriver, pool_spec: PoolSpec) -> None:
    """2.2: /OVS itself is a symbolic link to /var/ovs/mount/<UUID>, where /proc/mounts shows the
    pool's cluster root."""
    for server in servers_of(ovm_driver):
        result = ovm_driver.run(server, ["readlink", "/OVS"])
        assert result.succeeded and result.stdout.strip(), f"/OVS on {server} is not a link: {result.stderr}"
        target = result.stdout.strip()
        assert target.startswith("/var/ovs/mount/"), f"/OVS on {server} links to {target}"
        mounts = [ln.split() for ln in read(ovm_driver, server, PROC_MOUNTS).splitlines() if ln.strip()]
        assert [pool_spec.cluster_root, target] in [m[:2] for m in mounts], (
            f"/OVS on {server} links to {target}, where {pool_spec.cluster_root} is not mounted"
        )
@then(
    parsers.re(
        rf"{_PATH} on (?P<where>every server|{SERVER}) (?P<verb>lists|does not list) "
        r"(?P<text>the pool's cluster root|\S+)"
    )
)
def file_lists(
    ovm_driver: PoolDriver, pool_spec: PoolSpec, path: str, where: str, verb: str, text: str
) -> None:
    """The file exists and some line of it contains (or no line contains) the text; "the pool's
    cluster root" is its shared source (example.com:/OVS as the suite builds it, a real pool's own)."""
    if text == "the pool's cluster root":
        text = pool_spec.cluster_root
    for server in servers_of(ovm_driver) if where == "every server" else [where]:
        if (
            path == REPOSITORIES
            and ovm_driver.release is Release.R2_2
            and not ovm_driver.file_exists(server, path)
        ):
            raise EnvironmentLimitation(
                f"{path} does not exist on {server}: whether Oracle VM 2.2 keeps this file is not known (its "
                "agent lists repositories from its own database), so what it lists cannot be observed"
            )
        content = read(ovm_driver, server, path)
        present = any(text in line for line in content.splitlines())
        if verb == "lists":
            assert present, f"{path} on {server} does not list {text}:\n{content}"
        else:
            assert not present, f"{path} on {server} still lists {text}:\n{content}"


@then(parsers.re(rf"{_PATH} is the same on every server"))
def same_everywhere(ovm_driver: PoolDriver, path: str) -> None:
    """The file exists on every running server with identical content."""
    texts = {server: read(ovm_driver, server, path) for server in servers_of(ovm_driver)}
    distinct = set(texts.values())
    assert len(distinct) == 1, f"{path} differs between servers: " + ", ".join(
        f"{s} has {len(t)} chars" for s, t in texts.items()
    )


@then(parsers.re(rf"the file {_PATH} (?P<verb>exists on every server|exists on no server)"))
def file_exists(ovm_driver: PoolDriver, path: str, verb: str) -> None:
    """The file is present on every running server (or on none of them)."""
    for server in servers_of(ovm_driver):
        present = ovm_driver.file_exists(server, path)
        assert present is (verb == "exists on every server"), (
            f"{path} {'is missing' if not present else 'exists'} on {server}"
        )


@then(parsers.re(r"the cluster root is mounted (?P<how>at|under) (?P<where>/[\w/]+) on every server"))
def cluster_root_mounted(ovm_driver: PoolDriver, pool_spec: PoolSpec, how: str, where: str) -> None:
    """/proc/mounts on every server shows the pool's cluster root at (or under) that directory."""
    for server in servers_of(ovm_driver):
        mounts = [ln.split() for ln in read(ovm_driver, server, PROC_MOUNTS).splitlines() if ln.strip()]
        points = [m[1] for m in mounts if len(m) > 1 and m[0] == pool_spec.cluster_root]
        below = [p for p in points if p.startswith(where.rstrip("/") + "/")]
        ok = where in points if how == "at" else bool(below)
        assert ok, (
            f"{pool_spec.cluster_root} is mounted at {points or 'nowhere'} on {server}, not {how} {where}"
        )


@then("the hostname of every server is its fully qualified domain name")
def hostnames_fqdn(ovm_driver: PoolDriver, pool_spec: PoolSpec) -> None:
    """`hostname` on each server prints its name with the domain (server1.example.com)."""
    for server in servers_of(ovm_driver):
        result = ovm_driver.run(server, ["hostname"])
        assert result.succeeded, f"`hostname` failed on {server}: {result.stderr}"
        assert result.stdout.strip() == fqdn(ovm_driver, pool_spec, server), (
            f"{server} calls itself {result.stdout.strip()!r}, not {fqdn(ovm_driver, pool_spec, server)!r}"
        )


@then("no server has its host name on the loopback address")
def no_loopback_hostnames(ovm_driver: PoolDriver, pool_spec: PoolSpec) -> None:
    """/etc/hosts of each server maps neither its short name nor its FQDN to a 127.x address."""
    for server in servers_of(ovm_driver):
        for line in read(ovm_driver, server, HOSTS).splitlines():
            fields = line.split("#", 1)[0].split()
            if fields and fields[0].startswith("127."):
                names = (short_name(ovm_driver, server), fqdn(ovm_driver, pool_spec, server))
                assert not set(names) & set(fields[1:]), (
                    f"/etc/hosts on {server} maps its host name to {fields[0]}: {line!r}"
                )


@then("every server heartbeats on the server pool file system of its cluster")
def heartbeats_on_pool_fs(ovm_driver: PoolDriver, pool_spec: PoolSpec) -> None:
    """3.x: each server's cluster.conf puts it in a cluster in global heartbeat mode, and every
    heartbeat region of that cluster (the server pool file system's UUID) is mounted on it."""
    for server in servers_of(ovm_driver):
        conf = parse_cluster_conf(read(ovm_driver, server, CLUSTER_CONF))
        node = conf.node_named(short_name(ovm_driver, server), fqdn(ovm_driver, pool_spec, server))
        assert node is not None, f"{CLUSTER_CONF} on {server} does not list {server}"
        cluster = conf.cluster(node.cluster)
        assert cluster is not None and cluster.heartbeat_mode == "global", (
            f"{server} is in cluster {node.cluster}, not in global heartbeat mode"
        )
        regions = conf.regions_of(cluster.name)
        assert regions, f"cluster {cluster.name} on {server} has no heartbeat region"
        mounts = read_mount_table(read(ovm_driver, server, PROC_MOUNTS))
        for region in regions:
            assert any(names_uuid(m.mountpoint, region) for m in mounts), (
                f"the server pool file system {region} is not mounted on {server}"
            )


@then("/etc/ocfs2/cluster.conf on every server lists exactly the servers of the pool")
def clusterconf_lists_pool(ovm_driver: PoolDriver) -> None:
    """Every cluster.conf parses, and has one node per pool server (port 7777, unique numbers, no loopback)
    and a cluster stanza whose node_count is the number of nodes."""
    pool = [s for s, st in ovm_driver.observe().servers.items() if st.state != "deleted"]
    for server in servers_of(ovm_driver):
        conf = parse_cluster_conf(read(ovm_driver, server, CLUSTER_CONF))
        assert len(conf.clusters) == 1, f"{CLUSTER_CONF} on {server} has {len(conf.clusters)} cluster stanzas"
        cluster = conf.clusters[0]
        nodes = conf.nodes_of(cluster.name)
        listed = sorted(n.name.split(".")[0] for n in nodes)
        expected = sorted(short_name(ovm_driver, s) for s in pool)
        assert listed == expected, f"{CLUSTER_CONF} on {server} lists {listed}, the pool is {expected}"
        assert cluster.node_count == len(nodes), (
            f"{CLUSTER_CONF} on {server}: node_count = {cluster.node_count} for {len(nodes)} nodes"
        )
        assert len({n.number for n in nodes}) == len(nodes), (
            f"{CLUSTER_CONF} on {server} repeats a node number"
        )
        for n in nodes:
            assert n.ip_port == 7777, f"{CLUSTER_CONF} on {server}: {n.name} uses port {n.ip_port}, not 7777"
            assert not n.ip_address.startswith("127."), f"{CLUSTER_CONF} on {server}: {n.name} is on loopback"


_SIZE_SUFFIXES = {"": 1, "k": 1024, "K": 1024, "m": 1024 * 1024, "M": 1024 * 1024}


def ocfs2_size(text: str) -> int:
    """A size as mkfs.ocfs2 takes it (2k, 4K, 1M, 4096), in bytes."""
    m = re.fullmatch(r"(\d+)([kKmM]?)", text)
    if m is None:
        raise ValueError(f"{text!r} is not a size mkfs.ocfs2 takes (2k, 4K, 1M, 4096)")
    return int(m.group(1)) * _SIZE_SUFFIXES[m.group(2)]


_STATS = {
    "label": re.compile(r"^\s*Label:[ \t]*(\S*)", re.M),
    "node slots": re.compile(r"^\s*Max Node Slots:\s*(\d+)", re.M),
    "block size": re.compile(r"Block Size Bits:\s*(\d+)"),
    "cluster size": re.compile(r"Cluster Size Bits:\s*(\d+)"),
}
_CLUSTERS = re.compile(r"\bClusters:\s*(\d+)")  # the superblock inode's: the volume's size in clusters


@then(
    parsers.re(
        rf"the OCFS2 file system in {_PATH} on (?P<server>{SERVER}) has (?:size (?P<size>\w+), )?"
        r"label (?P<label>\S+), "
        r"(?P<slots>\d+) node slots, block size (?P<block>\w+) and cluster size (?P<cluster>\w+)"
    )
)
def ocfs2_reads_back(
    ovm_driver: PoolDriver,
    path: str,
    server: str,
    size: str | None,
    label: str,
    slots: str,
    block: str,
    cluster: str,
) -> None:
    """Read the superblock back with `debugfs.ocfs2 -R stats` on the server (size: its clusters times
    the cluster size; label, node slots, block and cluster size) and compare it with what was asked
    for (sizes as mkfs.ocfs2 and dd take them: 2k, 4K, 300M, 4096)."""
    result = ovm_driver.run(server, ["debugfs.ocfs2", "-R", "stats", path])
    assert result.succeeded and not result.stderr.strip(), (
        f"debugfs.ocfs2 -R stats cannot read {path} on {server} (rc {result.rc}): {result.stderr}"
    )
    found: dict[str, str] = {}
    for name, pattern in _STATS.items():
        m = pattern.search(result.stdout)
        assert m is not None, f"debugfs.ocfs2 -R stats {path} on {server} shows no {name}:\n{result.stdout}"
        found[name] = m.group(1)
    read_back: dict[str, str | int] = {
        "label": found["label"],
        "node slots": int(found["node slots"]),
        "block size": 1 << int(found["block size"]),
        "cluster size": 1 << int(found["cluster size"]),
    }
    wanted: dict[str, str | int] = {
        "label": label,
        "node slots": int(slots),
        "block size": ocfs2_size(block),
        "cluster size": ocfs2_size(cluster),
    }
    if size is not None:
        clusters = _CLUSTERS.search(result.stdout)
        assert clusters is not None, (
            f"debugfs.ocfs2 -R stats {path} on {server} shows no size:\n{result.stdout}"
        )
        read_back["size"] = int(clusters.group(1)) * (1 << int(found["cluster size"]))
        wanted["size"] = ocfs2_size(size)
    assert read_back == wanted, f"{path} on {server} reads back as " + ", ".join(
        f"{n} {v}" for n, v in read_back.items()
    ) + ", not " + ", ".join(f"{n} {v}" for n, v in wanted.items())
