"""Every host file format on good input and on broken input (error = file:line: problem)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ovmref.errors import ConfigSyntaxError
from ovmref.host.names import (
    NameConfig,
    is_fqdn,
    loopback_names,
    parse_hosts,
    parse_nsswitch,
    parse_resolv_conf,
    pool_name_service,
)
from ovmref.host.sysconfig import (
    O2CBConfig,
    parse_network_hostname,
    parse_o2cb_sysconfig,
    parse_ovs_release,
    parse_sysconfig,
    render_o2cb_sysconfig,
)
from ovmref.storage.fstab import MountEntry, parse_fstab, render_fstab
from ovmref.storage.repositories import (
    Repository,
    RepositoryList,
    parse_repositories,
    parse_repository_options,
    render_repositories,
    render_repository_options,
    uuid_for_source,
)
from ovmref.timing import O2CBTimings

U1, U2 = "0A" * 16, "0B" * 16


def test_repositories_round_trip_and_lookups() -> None:
    repos = RepositoryList(
        (Repository(U1, "example.com:/OVS", True, "cluster root"), Repository(U2, "/dev/sdc1", False, ""))
    )
    parsed = parse_repositories(render_repositories(repos))
    assert parsed == repos
    assert parsed.cluster_root == repos.repositories[0]
    assert parsed.by_source("example.com:/OVS/") == repos.repositories[0]
    assert parsed.by_uuid(U2.lower()) == repos.repositories[1]


def test_repository_uuid_is_stable_and_well_formed() -> None:
    assert uuid_for_source("example.com:/OVS") == uuid_for_source("example.com:/OVS/")
    assert uuid_for_source("a:/x") != uuid_for_source("b:/x")
    assert parse_repositories(f"{uuid_for_source('a:/x')} a:/x -\n").repositories[0].source == "a:/x"


def test_repository_options_round_trip() -> None:
    options: dict[str, tuple[str, ...]] = {U1: ("rw", "hard", "intr")}
    assert parse_repository_options(render_repository_options(options)) == options


def test_fstab_round_trip_and_ovs_lines() -> None:
    text = (
        "LABEL=/ / ext3 defaults 1 1\n# comment\n/dev/sda3 /OVS ocfs2 defaults 1 0\nnfs:/x /OVS/abc nfs rw\n"
    )
    entries = parse_fstab(text)
    assert [e.is_ovs for e in entries] == [False, True, True]
    assert entries[2] == MountEntry("nfs:/x", "/OVS/abc", "nfs", "rw", 0, 0)
    assert parse_fstab(render_fstab(entries)) == entries


BROKEN: list[tuple[Callable[[str, str], object], str, int, str]] = [
    (parse_repositories, "# c\nXYZ example.com:/OVS C\n", 2, "32 uppercase hex digits"),
    (parse_repositories, f"{U1} example.com:/OVS\n", 1, "expected '<UUID> <source>"),
    (parse_repositories, f"{U1} example.com:/OVS X\n", 1, "flag must be C"),
    (parse_repositories, f"{U1} relative C\n", 1, "neither host:/export nor a device"),
    (parse_repositories, f"{U1} a:/x C\n{U1} b:/y -\n", 2, "duplicate repository UUID"),
    (parse_repositories, f"{U1} a:/x C\n{U2} a:/x/ -\n", 2, "listed twice"),
    (parse_repositories, f"{U1} a:/x C\n{U2} b:/y C\n", 2, "second cluster root"),
    (parse_repository_options, f"{U1}\n", 1, "expected '<UUID> <option"),
    (parse_repository_options, f"{U1} rw,,hard\n", 1, "empty mount option"),
    (parse_repository_options, f"{U1} rw\n{U1} ro\n", 2, "given twice"),
    (parse_fstab, "/dev/sda1 /\n", 1, "expected 6 fields"),
    (parse_fstab, "/dev/sda1 / ext3 defaults x 0\n", 1, "freq must be a number"),
    (parse_fstab, "/dev/sda1 OVS ext3 defaults 0 0\n", 1, "not an absolute path"),
    (parse_hosts, "127.0.0.1 localhost\n300.1.1.1 a\n", 2, "not an IP address"),
    (parse_hosts, "10.0.0.1\n", 1, "has no host name"),
    (parse_hosts, "10.0.0.1 bad_name!\n", 1, "not a valid host name"),
    (parse_resolv_conf, "search example.com\nnameserver dns.example.com\n", 2, "not an IP address"),
    (parse_resolv_conf, "nameserver\n", 1, "exactly one address"),
    (parse_resolv_conf, "search\n", 1, "needs a domain name"),
    (parse_nsswitch, "passwd: files\nhosts files dns\n", 2, "expected 'database: sources'"),
    (parse_nsswitch, "hosts:\n", 1, "lists no source"),
    (parse_sysconfig, "HOSTNAME=a b\n", 1, "unquoted spaces"),
    (parse_sysconfig, "NETWORKING=yes\nexport X\n", 2, "expected KEY=value"),
    (parse_sysconfig, "X='open\n", 1, "bad quoting"),
    (parse_o2cb_sysconfig, "O2CB_ENABLED=true\nO2CB_HEARTBEAT_THRESHOLD=abc\n", 2, "must be a number"),
    (parse_o2cb_sysconfig, "O2CB_ENABLED=yes\n", 1, "true or false"),
    (parse_o2cb_sysconfig, "O2CB_HEARTBEAT_THRESHOLD=2\n", 0, "dead_threshold must be > 2"),
    (parse_ovs_release, "Oracle VM server\n", 1, "no 'release <version>'"),
]


@pytest.mark.parametrize(
    ("parse", "text", "line", "problem"), BROKEN, ids=[f"{b[0].__name__}-{b[3]}" for b in BROKEN]
)
def test_broken_files(parse: Callable[[str, str], object], text: str, line: int, problem: str) -> None:
    with pytest.raises(ConfigSyntaxError) as info:
        parse(text, "/hosts/vmserver1/etc/somefile")
    assert (info.value.line, problem in info.value.message) == (line, True), str(info.value)
    assert str(info.value) == f"/hosts/vmserver1/etc/somefile:{line}: {info.value.message}"


def test_o2cb_sysconfig_round_trip_keeps_timings() -> None:
    conf = O2CBConfig(True, "ocfs2", O2CBTimings(dead_threshold=61, idle_timeout_ms=60000))
    assert parse_o2cb_sysconfig(render_o2cb_sysconfig(conf)) == conf


def test_network_hostname_and_ovs_release() -> None:
    assert (
        parse_network_hostname('NETWORKING=yes\nHOSTNAME="vmserver1.example.com"\n')
        == "vmserver1.example.com"
    )
    assert parse_network_hostname("NETWORKING=yes\n") is None
    assert parse_ovs_release("Oracle VM server release 2.1.2\n") == "2.1.2"
    assert parse_ovs_release("Oracle VM server release 3.3.3-1085\n") == "3.3.3-1085"


def test_fqdn_rules() -> None:
    assert is_fqdn("vmserver1.example.com")
    for bad in ("vmserver1", "localhost.localdomain", "vm_server.example.com", "vmserver1.localdomain", ""):
        assert not is_fqdn(bad), bad


def test_hosts_lookup_is_first_match_and_loopback_names() -> None:
    hosts = parse_hosts(
        "127.0.0.1 localhost.localdomain localhost vmserver1.example.com vmserver1  # wrong\n"
        "192.168.100.100 vmserver1.example.com vmserver1\n"
    )
    entry = hosts.lookup("VMSERVER1.example.com")
    assert entry is not None and entry.ip == "127.0.0.1" and entry.line == 1
    assert loopback_names(hosts, "vmserver1.example.com", "vmserver1") == [
        "vmserver1.example.com",
        "vmserver1",
    ]
    assert hosts.names_on("192.168.100.100") == ("vmserver1.example.com", "vmserver1")


def _names(hosts: str, resolv: str = "", nsswitch: str = "hosts: files dns\n") -> NameConfig:
    return NameConfig(
        "vmserver1.example.com", parse_hosts(hosts), parse_resolv_conf(resolv), parse_nsswitch(nsswitch)
    )


ZONE = {"vmserver1.example.com": "192.168.100.100", "vmserver2.example.com": "192.168.100.101"}


def test_resolution_follows_nsswitch_and_needs_a_nameserver_for_dns() -> None:
    own = "192.168.100.100 vmserver1.example.com vmserver1\n"
    by_files = _names(own + "192.168.100.101 vmserver2.example.com vmserver2\n")
    answer = by_files.resolve("vmserver2", ZONE)
    assert answer is not None and (answer.ip, answer.service, answer.canonical) == (
        "192.168.100.101",
        "files",
        "vmserver2.example.com",
    )
    no_dns = _names(own, "search example.com\n")
    assert no_dns.resolve("vmserver2.example.com", ZONE) is None
    by_dns = _names(own, "search example.com\nnameserver 192.168.100.1\n")
    short = by_dns.resolve("vmserver2", ZONE)
    assert short is not None and (short.service, short.canonical) == ("dns", "vmserver2.example.com")
    dns_first = _names(own, "nameserver 192.168.100.1\n", "hosts: dns files\n")
    first = dns_first.resolve("vmserver1.example.com", ZONE)
    assert first is not None and first.service == "dns"


def test_pool_name_service_is_decided_by_the_peers() -> None:
    own = "192.168.100.100 vmserver1.example.com vmserver1\n"
    by_dns = _names(own, "nameserver 192.168.100.1\n")
    assert pool_name_service(by_dns, ("vmserver1.example.com",), ["vmserver2.example.com"], ZONE) == (
        {"dns"},
        [],
    )
    lost = _names(own)
    assert pool_name_service(lost, ("vmserver1.example.com",), ["vmserver2.example.com"], ZONE) == (
        set(),
        ["vmserver2.example.com"],
    )
