"""Pool inventory files: which real servers make the pool and how to reach them over SSH.

Checked in full before anything connects, so a typo never becomes a
half-validated pool. Every problem names the file and line. Host keys are
checked strictly against the `known_hosts` file the inventory names (never
added automatically), and passwords are refused: an inventory is a file
people share, so it holds key *paths*, never secrets.

    pool: pool1
    release: "2.2"                  # optional: else read from each server's /etc/ovs-release
    storage: nfs                    # nfs | ocfs2-iscsi | ocfs2-san
    cluster_root: nfs.example.com:/OVS
    node_slots: 16                  # optional
    ssh:                            # defaults for every server
      user: root
      key_file: ~/.ssh/id_ed25519
      known_hosts: ~/.ssh/known_hosts
      port: 22
      connect_timeout_s: 10
      command_timeout_s: 30
    servers:
      - {name: ovs1, host: 192.0.2.11, fqdn: ovs1.example.com, ip: 192.0.2.11}
      - {name: ovs2, host: ovs2.example.com, user: admin, port: 2222}
    manager:                        # optional: Oracle VM Manager 3.x, read GET-only (docs/readiness.md)
      host: ovm-manager.example.com
      port: 7002                    # default 7002 (the Manager's HTTPS port)
      user: admin
      password_env: OVM_MANAGER_PASSWORD   # or password_file: ~/.ovm-manager-password
      ca_file: manager-ca.pem       # optional: the CA that signed the Manager's certificate
    dns:                            # optional: what the site DNS answers (FQDN: IPv4), for the
      ovs1.example.com: 192.0.2.11  #   name-resolution checks of servers that resolve by DNS
    ha:                             # optional: what Oracle VM Manager shows and the servers cannot
      pool: true                    #   tell (docs/readiness.md): the pool's HA setting,
      maintenance: [ovs3]           #   3.x servers in maintenance mode, with the inbound migration
      inbound_lock: []              #   lock set, and guests' HA flags and preferred servers
      guests:                       #   (keyed by their `xm list` name; [] is Auto)
        vm1: {ha: true, preferred: [ovs1, ovs2]}

Relative key and known_hosts paths are taken from the inventory's own directory.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from environments.yamlreader import YamlReader
from ovmref.errors import LocatedError
from ovmref.host.names import is_fqdn, is_valid_hostname
from ovmref.release import Release, UnknownReleaseError

__all__ = [
    "GuestHa",
    "HaFacts",
    "Inventory",
    "InventoryError",
    "ManagerEntry",
    "ServerEntry",
    "WrongPoolError",
    "allows_destructive",
    "load_inventory",
    "parse_inventory",
]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,62}$")
_POOL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_USER = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,31}$")
_SSH = {"user", "key_file", "known_hosts", "port", "connect_timeout_s", "command_timeout_s"}
_TOP = {"pool", "release", "storage", "cluster_root", "node_slots", "ssh", "servers", "manager", "dns", "ha"}
_HA = {"pool", "maintenance", "inbound_lock", "guests"}
_HA_GUEST = {"ha", "preferred"}
_SERVER = {"name", "host", "fqdn", "ip"} | _SSH
_MANAGER = {"host", "port", "user", "password_env", "password_file", "ca_file"}
_MANAGER_SECRETS = {"password_env", "password_file"}  # where the password is, never the password
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
MANAGER_PORT = 7002
_STORAGE = ("nfs", "ocfs2-iscsi", "ocfs2-san")
_SECRET_KEY = re.compile(r"pass(word|wd|phrase)", re.IGNORECASE)
_NO_PASSWORDS = "put the key in an ssh-agent or key_file; passwords are not stored in inventories"
_DEFAULTS: dict[str, Any] = {"user": "root", "port": 22, "connect_timeout_s": 10.0, "command_timeout_s": 30.0}


class InventoryError(LocatedError):
    """An inventory that is wrong at a line: `path:line: problem`."""


@dataclass(frozen=True)
class ServerEntry:
    """One server and how to reach it. key_file None: the ssh-agent's keys only."""

    name: str
    host: str
    port: int
    user: str
    key_file: str | None
    known_hosts: str
    fqdn: str | None
    ip: str | None
    connect_timeout_s: float
    command_timeout_s: float

    @property
    def address(self) -> str:
        """user@host:port, for messages."""
        return f"{self.user}@{self.host}:{self.port}"


@dataclass(frozen=True)
class GuestHa:
    """A guest's HA facts as the inventory states them (None: not stated)."""

    ha: bool | None
    preferred: tuple[str, ...] | None


@dataclass(frozen=True)
class HaFacts:
    pool: bool | None
    maintenance: tuple[str, ...]
    inbound_lock: tuple[str, ...]
    guests: dict[str, GuestHa]


@dataclass(frozen=True)
class ManagerEntry:
    """Oracle VM Manager 3.x and where its password is (an environment variable or a file: only
    the name or the path is kept, the password is read when the Manager is asked)."""

    host: str
    port: int = MANAGER_PORT
    user: str | None = None
    password_env: str | None = None
    password_file: str | None = None
    ca_file: str | None = None

    @property
    def has_credentials(self) -> bool:
        return self.user is not None and (self.password_env or self.password_file) is not None


@dataclass(frozen=True)
class Inventory:
    pool: str
    release: Release | None
    storage: str
    cluster_root: str
    node_slots: int | None
    servers: tuple[ServerEntry, ...]
    manager_host: str | None
    dns_zone: dict[str, str] | None = None  # the site DNS's answers, when the inventory gives them
    ha: HaFacts | None = None  # what the Manager shows that the servers cannot tell
    manager: ManagerEntry | None = None  # how to read the Manager (manager_host is its host)

    def server(self, name: str) -> ServerEntry:
        for s in self.servers:
            if s.name == name:
                return s
        raise KeyError(f"no server {name!r} in the inventory of pool {self.pool}")


class _Reader(YamlReader):
    """An inventory's nodes, each keeping its line; a password key is refused wherever it stands."""

    error = InventoryError

    def __init__(self, path: str) -> None:
        super().__init__(path)
        base = Path(path).parent if not path.startswith("<") else Path.cwd()
        self.base = base

    def key(self, node: yaml.Node, what: str) -> str:
        key = str(node.value)
        if what == "manager" and key in _MANAGER_SECRETS:
            return key
        if what == "manager" and _SECRET_KEY.search(key):
            raise self.fail(
                node,
                f"{key!r} in manager: name an environment variable (password_env) or a file "
                "(password_file) that holds it; passwords are not stored in inventories",
            )
        if _SECRET_KEY.search(key):
            raise self.fail(node, f"{key!r} in {what}: {_NO_PASSWORDS}")
        return key

    def text(self, node: yaml.Node, what: str) -> str:
        value = self.scalar(node)
        if not isinstance(value, str | int | float) or isinstance(value, bool) or str(value) == "":
            raise self.fail(node, f"{what} must be a non-empty text, got {value!r}")
        return str(value)

    def integer(self, node: yaml.Node, what: str, low: int, high: int) -> int:
        value = self.scalar(node)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise self.fail(node, f"{what} must be a whole number from {low} to {high}, got {value!r}")
        return value

    def seconds(self, node: yaml.Node, what: str) -> float:
        value = self.scalar(node)
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value <= 3600:
            raise self.fail(node, f"{what} must be seconds, above 0 and at most 3600, got {value!r}")
        return float(value)

    def host(self, node: yaml.Node, what: str) -> str:
        value = self.text(node, what)
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            pass
        if not is_valid_hostname(value.rstrip(".")):
            raise self.fail(node, f"{what} {value!r} is neither an IP address nor a valid host name")
        return value

    def file(self, node: yaml.Node, what: str) -> str:
        """A local file that must exist; only its path is kept (never its contents)."""
        raw = self.text(node, what)
        path = Path(os.path.expanduser(raw))
        if not path.is_absolute():
            path = self.base / path
        if not path.exists():
            raise self.fail(node, f"{what} {str(path)!r} does not exist")
        if not path.is_file():
            raise self.fail(node, f"{what} {str(path)!r} is not a file")
        return str(path)


class WrongPoolError(ValueError):
    """--allow-destructive names another pool than the inventory's: nothing may start."""


def allows_destructive(inventory: Inventory, named: str | None, path: object) -> bool:
    """Whether destructive scenarios may run: only when the flag names this very pool (a name
    typed for another pool is an error, never a silent read-only run or a run on the wrong pool)."""
    if named is None:
        return False
    if named != inventory.pool:
        raise WrongPoolError(
            f"--ovm-allow-destructive names pool {named!r}, but {path} describes pool "
            f"{inventory.pool!r}: name the pool you mean to change"
        )
    return True


def load_inventory(path: str | Path) -> Inventory:
    return parse_inventory(_Reader(str(path)).read(), str(path))


def parse_inventory(text: str, path: str = "<inventory>") -> Inventory:
    r = _Reader(path)
    root = r.compose(text)
    top = r.mapping(root, _TOP, "the inventory")
    for key, why in (
        ("pool", "the pool's name"),
        ("storage", f"one of {', '.join(_STORAGE)}"),
        ("cluster_root", "'host:/path' for NFS, a device for OCFS2"),
        ("servers", "a pool needs at least one server"),
    ):
        if key not in top:
            raise r.fail(root, f"missing {key!r} ({why})")
    pool = r.text(top["pool"], "pool")
    if not _POOL.match(pool):
        raise r.fail(top["pool"], f"pool name {pool!r} must be letters, digits, '.', '_' or '-'")
    release: Release | None = None
    if "release" in top:
        try:
            release = Release.parse(r.text(top["release"], "release"))
        except UnknownReleaseError as exc:
            raise r.fail(top["release"], str(exc)) from None
    storage = r.text(top["storage"], "storage")
    if storage not in _STORAGE:
        raise r.fail(top["storage"], f"storage must be one of {', '.join(_STORAGE)}, got {storage!r}")
    cluster_root = r.text(top["cluster_root"], "cluster_root")
    if (":/" in cluster_root) != (storage == "nfs"):
        raise r.fail(top["cluster_root"], f"cluster root {cluster_root!r} does not suit {storage} storage")
    slots = r.integer(top["node_slots"], "node_slots", 1, 255) if "node_slots" in top else None
    defaults = _ssh_settings(r, r.mapping(top["ssh"], _SSH, "ssh") if "ssh" in top else {})
    servers = _servers(r, top["servers"], defaults)
    if slots is not None and len(servers) > slots:
        raise r.fail(
            top["servers"],
            f"{len(servers)} servers but the cluster root has {slots} node slots (mkfs.ocfs2 -N)",
        )
    manager = _manager(r, top["manager"]) if "manager" in top else None
    zone = _dns_zone(r, top["dns"]) if "dns" in top else None
    ha = _ha_facts(r, top["ha"], {s.name for s in servers}) if "ha" in top else None
    return Inventory(
        pool,
        release,
        storage,
        cluster_root,
        slots,
        tuple(servers),
        manager.host if manager is not None else None,
        zone,
        ha,
        manager,
    )


def _manager(r: _Reader, node: yaml.Node) -> ManagerEntry:
    m = r.mapping(node, _MANAGER, "manager")
    if "host" not in m:
        raise r.fail(node, "manager needs a host")
    host = r.host(m["host"], "manager host")
    port = r.integer(m["port"], "manager port", 1, 65535) if "port" in m else MANAGER_PORT
    user = r.text(m["user"], "manager user") if "user" in m else None
    env = r.text(m["password_env"], "manager password_env") if "password_env" in m else None
    if env is not None and not _ENV_NAME.match(env):
        raise r.fail(
            m["password_env"],
            "manager password_env must name an environment variable (letters, digits, '_'), not hold "
            "the password: passwords are not stored in inventories",
        )
    pw_file = r.file(m["password_file"], "manager password_file") if "password_file" in m else None
    if env is not None and pw_file is not None:
        raise r.fail(m["password_file"], "give the manager's password_env or its password_file, not both")
    if user is None and (env or pw_file):
        raise r.fail(node, "the manager's password_env / password_file needs a user")
    if user is not None and not (env or pw_file):
        raise r.fail(
            node, "manager user needs password_env (an environment variable) or password_file (a file)"
        )
    ca_file = r.file(m["ca_file"], "manager ca_file") if "ca_file" in m else None
    return ManagerEntry(host, port, user, env, pw_file, ca_file)


def _flag(r: _Reader, node: yaml.Node, what: str) -> bool:
    value = r.scalar(node)
    if not isinstance(value, bool):
        raise r.fail(node, f"{what} must be true or false, got {value!r}")
    return value


def _server_list(r: _Reader, node: yaml.Node, what: str, known: set[str]) -> tuple[str, ...]:
    if not isinstance(node, yaml.SequenceNode):
        raise r.fail(node, f"{what} must be a list of server names")
    names = []
    for item in node.value:
        name = r.text(item, what)
        if name not in known:
            raise r.fail(item, f"{what}: {name!r} is not a server of this inventory")
        names.append(name)
    return tuple(names)


def _ha_facts(r: _Reader, node: yaml.Node, known: set[str]) -> HaFacts:
    m = r.mapping(node, _HA, "ha")
    pool = _flag(r, m["pool"], "ha.pool") if "pool" in m else None
    maintenance = _server_list(r, m["maintenance"], "ha.maintenance", known) if "maintenance" in m else ()
    locked = _server_list(r, m["inbound_lock"], "ha.inbound_lock", known) if "inbound_lock" in m else ()
    guests: dict[str, GuestHa] = {}
    if "guests" in m:
        node_g = m["guests"]
        if not isinstance(node_g, yaml.MappingNode):
            raise r.fail(
                node_g, "ha.guests must map each guest's `xm list` name to {ha: ..., preferred: [...]}"
            )
        for key_node, value in node_g.value:
            name = r.text(key_node, "a guest's name")
            if name in guests:
                raise r.fail(key_node, f"guest {name!r} is given twice in ha.guests")
            g = r.mapping(value, _HA_GUEST, f"ha.guests.{name}")
            guests[name] = GuestHa(
                _flag(r, g["ha"], f"ha.guests.{name}.ha") if "ha" in g else None,
                _server_list(r, g["preferred"], f"ha.guests.{name}.preferred", known)
                if "preferred" in g
                else None,
            )
    return HaFacts(pool, maintenance, locked, guests)


def _dns_zone(r: _Reader, node: yaml.Node) -> dict[str, str]:
    if not isinstance(node, yaml.MappingNode):
        raise r.fail(node, "dns must map each FQDN to its IPv4 address")
    zone: dict[str, str] = {}
    for key, value in node.value:
        name, address = r.text(key, "dns name"), r.text(value, "dns address")
        if not is_fqdn(name):
            raise r.fail(key, f"dns name {name!r} is not a fully qualified domain name")
        try:
            ipaddress.IPv4Address(address)
        except ValueError:
            raise r.fail(value, f"dns address {address!r} for {name} is not an IPv4 address") from None
        zone[name] = address
    return zone


def _ssh_settings(r: _Reader, m: dict[str, yaml.Node]) -> dict[str, tuple[Any, yaml.Node]]:
    """Settings from one `ssh` block or server entry, each with the node it came from."""
    out: dict[str, tuple[Any, yaml.Node]] = {}
    if "user" in m:
        user = r.text(m["user"], "user")
        if not _USER.match(user):
            raise r.fail(m["user"], f"user {user!r} is not a valid user name")
        out["user"] = (user, m["user"])
    if "port" in m:
        out["port"] = (r.integer(m["port"], "port", 1, 65535), m["port"])
    for key in ("connect_timeout_s", "command_timeout_s"):
        if key in m:
            out[key] = (r.seconds(m[key], key), m[key])
    if "key_file" in m:
        key_file = r.file(m["key_file"], "key_file")
        if key_file.endswith(".pub"):
            raise r.fail(m["key_file"], f"key_file {key_file!r} is a public key: name the private key")
        out["key_file"] = (key_file, m["key_file"])
    if "known_hosts" in m:
        out["known_hosts"] = (r.file(m["known_hosts"], "known_hosts"), m["known_hosts"])
    return out


def _servers(r: _Reader, node: yaml.Node, defaults: dict[str, tuple[Any, yaml.Node]]) -> list[ServerEntry]:
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        raise r.fail(node, "'servers' must be a non-empty list")
    servers: list[ServerEntry] = []
    for item in node.value:
        m = r.mapping(item, _SERVER, "a server")
        if "name" not in m:
            raise r.fail(item, "a server needs a name")
        name = r.text(m["name"], "server name")
        if not _NAME.match(name):
            raise r.fail(m["name"], f"server name {name!r} is not a valid short host name")
        if any(s.name == name for s in servers):
            raise r.fail(m["name"], f"server {name!r} is listed twice")
        if "host" not in m:
            raise r.fail(item, f"server {name!r} needs a host (address or name to connect to)")
        host = r.host(m["host"], "host")
        fqdn = r.text(m["fqdn"], "fqdn") if "fqdn" in m else None
        if fqdn is not None and not is_fqdn(fqdn):
            raise r.fail(m["fqdn"], f"fqdn {fqdn!r} is not a fully qualified domain name")
        ip = None
        if "ip" in m:
            try:
                ip = str(ipaddress.ip_address(r.text(m["ip"], "ip")))
            except ValueError:
                raise r.fail(m["ip"], f"ip {r.scalar(m['ip'])!r} is not an IP address") from None
        settings = {k: v for k, (v, _) in {**defaults, **_ssh_settings(r, m)}.items()}
        if "known_hosts" not in settings:
            raise r.fail(
                item,
                f"server {name!r} has no known_hosts file: set ssh.known_hosts "
                "(host keys are checked strictly and never added automatically)",
            )
        values = {**_DEFAULTS, **settings}
        entry = ServerEntry(
            name=name,
            host=host,
            port=values["port"],
            user=values["user"],
            key_file=values.get("key_file"),
            known_hosts=values["known_hosts"],
            fqdn=fqdn,
            ip=ip,
            connect_timeout_s=float(values["connect_timeout_s"]),
            command_timeout_s=float(values["command_timeout_s"]),
        )
        twin = next((s for s in servers if (s.host, s.port) == (entry.host, entry.port)), None)
        if twin is not None:
            raise r.fail(m["host"], f"server {name!r} has the same host and port as {twin.name!r}")
        servers.append(entry)
    return servers
