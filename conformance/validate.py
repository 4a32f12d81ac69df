"""Pre-upgrade validation: the read-only prerequisite rules, checked on a real pool.

`ovm-conformance validate --inventory pool.yaml` opens every server of the
inventory read-only (over SSH, through an allow-list of reading commands),
runs the same prerequisite checks the simulator's Manager runs when HA is
enabled (`ovmref.prereq.check_pool`), and turns each finding into a result
row of the conformance report. A server that cannot be reached, or a fact a
check cannot observe, gives `unknown` with the reason: never `passed`.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from conformance.catalog import Catalog
from conformance.readiness_table import readiness_to_dict
from conformance.report_model import ConformanceReport, RunInfo, build_report
from conformance.results import ScenarioMeta, ScenarioResult
from ovmref.cluster.o2cb_status import O2CBStatus
from ovmref.host.sysconfig import NETWORK_SYSCONFIG, OVS_RELEASE, parse_network_hostname, parse_ovs_release
from ovmref.hostfs import HostFS
from ovmref.prereq import Finding, PoolFacts, PoolMemberFacts, ServiceState, check_pool, rules_for
from ovmref.readiness.findings import readiness_findings
from ovmref.readiness.nplus1 import NPlusOne, n_plus_one
from ovmref.readiness.readout import PoolReadout
from ovmref.release import Release, UnknownReleaseError
from ovmref.storage.fstab import PROC_MOUNTS, read_mount_table
from ovmref.storage.layout import is_repository_location

# what a pre-upgrade validation cannot see without the inventory's help is named, not assumed
NODE_SLOTS_RULE = "PRE-NODE-SLOTS"
MULTI_SERVER_RULE = "PRE-MULTI-SERVER"


class ValidationError(Exception):
    """The validation cannot start (no server reachable, no release known): says why."""


@dataclass(frozen=True)
class Member:
    """One server as the inventory names it: how to reach it and who it says it is."""

    name: str
    fqdn: str | None = None
    ip: str | None = None
    host: str = ""


@dataclass(frozen=True)
class PoolDescription:
    """What the validation needs to know that the servers cannot tell it."""

    name: str
    cluster_root: str
    storage: str
    members: tuple[Member, ...]
    release: Release | None = None
    node_slots: int | None = None
    dns_zone: Mapping[str, str] | None = None


@dataclass
class Validation:
    release: Release
    findings: list[Finding]
    unreachable: dict[str, str] = field(default_factory=dict)  # server -> why
    notes: list[str] = field(default_factory=list)
    readout: PoolReadout | None = None  # the guests' read-out, when readiness was checked
    table: NPlusOne | None = None  # its N+1 what-if


OpenHost = Callable[[str], HostFS]  # server name -> its read-only files (raises OSError if unreachable)
# server name -> its init scripts' answers (`service NAME status`), None where it cannot be asked
AskServices = Callable[[str], Mapping[str, ServiceState] | None]
# server name -> the guests its hypervisor runs (`xm list`), None where it cannot be asked
ListGuests = Callable[[str], list[str] | None]
# server name -> what `service o2cb status` reports, None where it cannot be asked
AskO2CB = Callable[[str], O2CBStatus | None]
# (release, unreachable servers -> why) -> the pool's guests and memory, for the readiness rules
ReadOut = Callable[[Release, Mapping[str, str]], PoolReadout]


def validate_pool(
    pool: PoolDescription,
    open_host: OpenHost,
    services: AskServices | None = None,
    guests: ListGuests | None = None,
    o2cb: AskO2CB | None = None,
    read_out: ReadOut | None = None,
) -> Validation:
    hosts: dict[str, HostFS] = {}
    unreachable: dict[str, str] = {}
    for member in pool.members:
        try:
            hosts[member.name] = open_host(member.name)
        except OSError as exc:
            unreachable[member.name] = str(exc) or type(exc).__name__
    if not hosts:
        raise ValidationError(
            "no server could be reached: "
            + "; ".join(f"{server}: {why}" for server, why in unreachable.items())
        )
    notes: list[str] = []
    release = pool.release or _release_of(hosts, notes)
    facts = PoolFacts(
        cluster_root=pool.cluster_root,
        storage_kind=pool.storage,
        members=[
            _member_facts(m, hosts.get(m.name), notes, services if m.name in hosts else None, o2cb)
            for m in pool.members
        ],
        dns_zone=pool.dns_zone if pool.dns_zone is not None else _site_dns(pool.members, notes),
        node_slots=pool.node_slots or 0,
    )
    for name, fs in hosts.items():
        notes.append(_storage_note(name, fs, release))
    if guests is not None:
        for name in hosts:
            running = guests(name)
            notes.append(
                f"{name}: guests running (xm list): {', '.join(running) or 'none'}"
                if running is not None
                else f"{name}: its running guests cannot be listed (no `xm list`)"
            )
    findings = [f for f in check_pool(hosts, release, facts) if f.rule != MULTI_SERVER_RULE]
    if pool.node_slots is None:
        findings = [_slots_unknown(f) if f.rule == NODE_SLOTS_RULE else f for f in findings]
    if MULTI_SERVER_RULE in rules_for(release, pool.storage):  # counted on the inventory, reachable or not
        count = len(pool.members)
        ok = count > 1
        findings.append(
            Finding(
                MULTI_SERVER_RULE,
                None,
                "passed" if ok else "failed",
                f"{count} server(s) in the pool" + ("" if ok else ": HA needs more than one"),
            )
        )
    for server, why in unreachable.items():
        findings.extend(
            Finding(rule, server, "unknown", f"{server} is unreachable: {why}")
            for rule in rules_for(release, pool.storage)
            if rule != MULTI_SERVER_RULE
        )
    readout = table = None
    if read_out is not None:
        readout = read_out(release, unreachable)
        table = n_plus_one(readout)
        notes.extend(readout.notes)
        findings.extend(readiness_findings(readout, table))
    return Validation(release, findings, unreachable, notes, readout, table)


def _slots_unknown(finding: Finding) -> Finding:
    return Finding(
        finding.rule,
        finding.server,
        "unknown",
        "the cluster root's node slots are not known: give node_slots in the inventory "
        "(mkfs.ocfs2 -N; `debugfs.ocfs2 -R stats` shows 'Max Node Slots')",
    )


def _release_of(hosts: Mapping[str, HostFS], notes: list[str]) -> Release:
    """The pool's release family, as most servers' /etc/ovs-release say (PRE-RELEASE-MIN checks each)."""
    seen: dict[Release, int] = {}
    for server, fs in hosts.items():
        try:
            text = fs.read_text(OVS_RELEASE)
            if text is None:
                continue
            release = Release.parse(parse_ovs_release(text))
        except (OSError, ValueError, UnknownReleaseError) as exc:
            notes.append(f"{server}: cannot tell its release from {OVS_RELEASE}: {exc}")
            continue
        seen[release] = seen.get(release, 0) + 1
    if not seen:
        raise ValidationError(f"no server's {OVS_RELEASE} names a release: give release in the inventory")
    release = max(seen, key=lambda r: (seen[r], r.value))
    if len(seen) > 1:
        names = ", ".join(r.value for r in seen)
        notes.append(f"servers run different releases ({names}); checked as {release}")
    return release


def _storage_note(name: str, fs: HostFS, release: Release) -> str:
    """The storage the server has mounted where the release keeps the pool's (what an upgrade
    touches); the agent's own database is not read (a BerkeleyDB hash of pickled values)."""
    try:
        text = fs.read_text(PROC_MOUNTS)
    except OSError as exc:
        return f"{name}: its mount table cannot be read: {exc}"
    mounts = [m for m in read_mount_table(text or "") if is_repository_location(release, m.mountpoint)]
    listed = ", ".join(f"{m.source} on {m.mountpoint}" for m in mounts) or "none"
    return f"{name}: storage mounted where Oracle VM {release} keeps it: {listed}"


def _member_facts(
    member: Member,
    fs: HostFS | None,
    notes: list[str],
    services: AskServices | None = None,
    o2cb: AskO2CB | None = None,
) -> PoolMemberFacts:
    fqdn = member.fqdn
    if fqdn is None and fs is not None:
        try:
            text = fs.read_text(NETWORK_SYSCONFIG)
            fqdn = parse_network_hostname(text, problems=[]) if text else None
        except OSError:
            fqdn = None
    ip = member.ip
    if ip is None:
        ip = member.host if _is_ip(member.host) else None
    if fqdn is None or ip is None:
        missing = "FQDN" if fqdn is None else "address"
        notes.append(f"{member.name}: {missing} not known; give it in the inventory")
    said = services(member.name) if services is not None else None
    if services is not None and said is None:
        notes.append(
            f"{member.name}: its init scripts cannot tell the HA services' state (no Oracle VM Agent "
            "init script answers): judged by /var/lock/subsys"
        )
    cluster = o2cb(member.name) if o2cb is not None and said is not None else None
    return PoolMemberFacts(member.name, fqdn or member.name, ip or "", said, cluster)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _site_dns(members: tuple[Member, ...], notes: list[str]) -> dict[str, str] | None:
    """The site DNS as the machine running the validation sees it, for every member's FQDN.

    None (the name checks of DNS-resolving servers then say "unknown") when
    any name does not resolve here: a partial zone would make servers look wrong."""
    zone: dict[str, str] = {}
    for m in members:
        if m.fqdn is None:
            return None
        try:
            infos = socket.getaddrinfo(m.fqdn, None, socket.AF_INET)
        except OSError:
            notes.append(f"the site DNS was not consulted: {m.fqdn} does not resolve from here")
            return None
        zone[m.fqdn] = str(infos[0][4][0])
    return zone


# ---- the report --------------------------------------------------------------------------
def validation_report(
    validation: Validation,
    catalog: Catalog,
    *,
    run_id: str,
    environment: str,
    started: str,
    duration_s: float,
    replay: str,
    target: str = "",
) -> ConformanceReport:
    """The findings as a conformance report: one result per rule and server, the prerequisite rules only."""
    checked = {f.rule for f in validation.findings}
    rules = catalog.restricted_to(checked)
    results = [
        ScenarioResult(
            meta=ScenarioMeta(
                nodeid=f"validate::{f.rule}::{f.server or 'pool'}",
                name=f"{f.rule} on {f.server or 'the pool'}",
                feature="validate",
                rules=(f.rule,),
                release=validation.release.value,
                environment=environment,
                seed=0,
                replay=replay,
            ),
            status=f.status,
            duration_s=0.0,
            message="" if f.status == "passed" else f.message,
            timeline=({"t_ms": 0, "kind": "finding", "server": f.server, "detail": f.message},),
        )
        for f in validation.findings
    ]
    run = RunInfo(run_id, environment, (validation.release,), 0, started, duration_s, target)
    report = build_report(rules, results, run)
    if validation.readout is not None and validation.table is not None:
        report = replace(report, readiness=readiness_to_dict(validation.readout, validation.table))
    return report
