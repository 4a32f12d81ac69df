"""Host names and name resolution: /etc/hosts, /etc/resolv.conf, /etc/nsswitch.conf.

The white paper's install rules: an FQDN for every server, the real host name
never on 127.0.0.1, and one name service (DNS or /etc/hosts) for the whole
pool. `ovs-cluster-configure` resolves pool members through these files, so a
host name on the loopback line ends up as 127.0.0.1 in cluster.conf.
DNS cannot be queried sans-IO: callers pass the site's DNS zone (name -> IP).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from ovmref.errors import ConfigSyntaxError, Problems, problem
from ovmref.host.sysconfig import NETWORK_SYSCONFIG, parse_network_hostname
from ovmref.hostfs import HostFS

HOSTS = "/etc/hosts"
RESOLV_CONF = "/etc/resolv.conf"
NSSWITCH_CONF = "/etc/nsswitch.conf"
NameService = Literal["files", "dns"]

_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def is_valid_hostname(name: str) -> bool:
    return 0 < len(name) <= 253 and all(_LABEL.fullmatch(label) for label in name.rstrip(".").split("."))


def is_fqdn(name: str) -> bool:
    """A fully qualified name: valid labels, at least one dot, and not the localhost placeholder."""
    return (
        is_valid_hostname(name)
        and "." in name.rstrip(".")
        and name.split(".")[0] != "localhost"
        and not name.endswith(".localdomain")
    )


def is_loopback(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


# ---- /etc/hosts ------------------------------------------------------------------------
@dataclass(frozen=True)
class HostsEntry:
    ip: str
    names: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class HostsFile:
    entries: tuple[HostsEntry, ...] = ()

    def lookup(self, name: str) -> HostsEntry | None:
        """The first line naming `name`, as glibc's files backend answers."""
        wanted = name.lower()
        return next((e for e in self.entries if wanted in (n.lower() for n in e.names)), None)

    def names_on(self, ip: str) -> tuple[str, ...]:
        return tuple(n for e in self.entries if e.ip == ip for n in e.names)


def parse_hosts(text: str, path: str = HOSTS, problems: Problems = None) -> HostsFile:
    """`address name...` lines; with `problems`, a line glibc's files backend would skip is skipped."""
    entries: list[HostsEntry] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        ip, *names = line.split()
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            problem(problems, ConfigSyntaxError(path, lineno, f"{ip!r} is not an IP address"))
            continue
        if not names:
            problem(problems, ConfigSyntaxError(path, lineno, f"address {ip} has no host name"))
            continue
        bad = [n for n in names if not is_valid_hostname(n)]
        if bad:
            problem(problems, ConfigSyntaxError(path, lineno, f"{bad[0]!r} is not a valid host name"))
        entries.append(HostsEntry(ip=ip, names=tuple(names), line=lineno))
    return HostsFile(tuple(entries))


def render_hosts(entries: Sequence[tuple[str, Sequence[str]]]) -> str:
    return "".join(f"{ip}\t{' '.join(names)}\n" for ip, names in entries)


# ---- /etc/resolv.conf ------------------------------------------------------------------
@dataclass(frozen=True)
class ResolvConf:
    nameservers: tuple[str, ...] = ()
    search: tuple[str, ...] = ()
    domain: str | None = None

    @property
    def suffixes(self) -> tuple[str, ...]:
        """Domains tried for a short name: `search` wins over `domain` (resolv.conf(5))."""
        return self.search or ((self.domain,) if self.domain else ())


def parse_resolv_conf(text: str, path: str = RESOLV_CONF, problems: Problems = None) -> ResolvConf:
    """nameserver/search/domain; other keywords (options, sortlist) are ignored as glibc does, and
    with `problems` so is a line glibc cannot use."""
    servers: list[str] = []
    search: tuple[str, ...] = ()
    domain: str | None = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        words = re.split(r"[#;]", raw, maxsplit=1)[0].split()
        if not words:
            continue
        key, args = words[0], words[1:]
        if key == "nameserver":
            if len(args) != 1:
                problem(problems, ConfigSyntaxError(path, lineno, "nameserver takes exactly one address"))
                continue
            try:
                ipaddress.ip_address(args[0])
            except ValueError:
                problem(
                    problems, ConfigSyntaxError(path, lineno, f"nameserver {args[0]!r} is not an IP address")
                )
                continue
            servers.append(args[0])
        elif key in ("search", "domain"):
            if not args:
                problem(problems, ConfigSyntaxError(path, lineno, f"{key} needs a domain name"))
                continue
            bad = [a for a in args if not is_valid_hostname(a)]
            if bad:
                problem(problems, ConfigSyntaxError(path, lineno, f"{bad[0]!r} is not a domain name"))
                args = [a for a in args if a not in bad]
                if not args:
                    continue
            if key == "search":
                search = tuple(args)
            else:
                domain = args[0]
    return ResolvConf(nameservers=tuple(servers), search=search, domain=domain)


# ---- /etc/nsswitch.conf ----------------------------------------------------------------
@dataclass(frozen=True)
class NsSwitch:
    databases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def hosts(self) -> tuple[str, ...]:
        """Sources for host names; glibc's default without a `hosts:` line is dns, files."""
        return self.databases.get("hosts", ("dns", "files"))


def parse_nsswitch(text: str, path: str = NSSWITCH_CONF, problems: Problems = None) -> NsSwitch:
    databases: dict[str, tuple[str, ...]] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        db, sep, rest = line.partition(":")
        if not sep or not re.fullmatch(r"\w+", db.strip()):
            problem(problems, ConfigSyntaxError(path, lineno, f"expected 'database: sources', got {line!r}"))
            continue
        sources = tuple(w for w in re.sub(r"\[[^\]]*\]", " ", rest).split())
        if not sources:
            problem(problems, ConfigSyntaxError(path, lineno, f"database {db.strip()!r} lists no source"))
            continue
        databases[db.strip()] = sources
    return NsSwitch(databases)


# ---- resolution ------------------------------------------------------------------------
@dataclass(frozen=True)
class Resolution:
    """How a server resolved a name: the address, the service that answered and its canonical name."""

    ip: str
    service: NameService
    canonical: str


@dataclass(frozen=True)
class NameConfig:
    """A server's name-service files, parsed."""

    hostname: str | None
    hosts: HostsFile
    resolv: ResolvConf
    nsswitch: NsSwitch

    def resolve(self, name: str, dns_zone: Mapping[str, str] | None) -> Resolution | None:
        """Resolve as glibc would: nsswitch order; DNS only with a nameserver and a known zone."""
        for source in self.nsswitch.hosts:
            if source == "files" and (entry := self.hosts.lookup(name)):
                return Resolution(entry.ip, "files", entry.names[0])
            if source == "dns" and self.resolv.nameservers and dns_zone is not None:
                zone = {k.lower().rstrip("."): v for k, v in dns_zone.items()}
                candidates = [name] if "." in name else [f"{name}.{s}" for s in self.resolv.suffixes] + [name]
                for candidate in candidates:
                    if (ip := zone.get(candidate.lower().rstrip("."))) is not None:
                        return Resolution(ip, "dns", candidate)
        return None

    def uses_dns(self) -> bool:
        return "dns" in self.nsswitch.hosts and bool(self.resolv.nameservers)


def read_name_config(fs: HostFS, problems: Problems = None) -> NameConfig:
    """The server's name files as glibc reads them: a missing file counts as empty, a line glibc
    skips is skipped (and recorded in `problems` when given)."""
    skipped: list[ConfigSyntaxError] = []
    network = fs.read_text(NETWORK_SYSCONFIG)
    config = NameConfig(
        hostname=parse_network_hostname(network, problems=skipped) if network is not None else None,
        hosts=parse_hosts(fs.read_text(HOSTS) or "", problems=skipped),
        resolv=parse_resolv_conf(fs.read_text(RESOLV_CONF) or "", problems=skipped),
        nsswitch=parse_nsswitch(fs.read_text(NSSWITCH_CONF) or "", problems=skipped),
    )
    if problems is not None:
        problems.extend(skipped)
    return config


def loopback_names(hosts: HostsFile, *names: str) -> list[str]:
    """Which of `names` /etc/hosts maps to a loopback address (the white paper forbids it)."""
    wanted = {n.lower() for n in names if n}
    return [n for e in hosts.entries if is_loopback(e.ip) for n in e.names if n.lower() in wanted]


def pool_name_service(
    config: NameConfig, own_names: tuple[str, ...], peers: list[str], dns_zone: Mapping[str, str] | None
) -> tuple[set[NameService], list[str]]:
    """The services that answer for the pool's names on this server, and the names it cannot resolve.

    The server's own name is always in /etc/hosts after a standard install,
    so peers decide which service the server uses; a one-server pool is
    judged by its own name.
    """
    names = peers or list(own_names[:1])
    services: set[NameService] = set()
    unresolved: list[str] = []
    for name in names:
        answer = config.resolve(name, dns_zone)
        if answer is None:
            unresolved.append(name)
        else:
            services.add(answer.service)
    return services, unresolved
