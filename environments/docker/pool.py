"""A pool of Oracle VM Server lookalike containers on a private network, reachable over real SSH.

Each server is a container of the lookalike image (environments/docker/image.py) with the
server's FQDN as hostname and a fixed address on the pool's own internal bridge network, which
this host reaches directly (Linux routes the bridge; Docker Desktop's VM would not). Logins use
a key pair made for the pool; host keys are read inside each container and written to a
known_hosts file, so clients check them strictly. Nothing outlives the pool: close() (also run
at exit) removes its containers, network and files, and sweep_stale() removes what a killed
run left, found by the owner labels of environments/docker/owner.py.

Tests drive servers over SSH; `exec()` (docker exec) is for provisioning and faults only.
"""

from __future__ import annotations

import atexit
import contextlib
import ipaddress
import os
import re
import secrets
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

# Ryuk, testcontainers' reaper, is an image from a registry this project cannot reach: the pool
# cleans up itself. The variable must be set before testcontainers reads its configuration.
os.environ["TESTCONTAINERS_RYUK_DISABLED"] = "true"

import docker.errors
from docker.types import EndpointConfig, IPAMConfig, IPAMPool
from testcontainers.core.config import testcontainers_config
from testcontainers.core.container import DockerContainer

from environments.docker.image import ImageUnavailable, build_image, docker_client
from environments.docker.owner import LABEL_POOL, owner_alive, owner_labels, owner_tag, tag_alive
from environments.docker.sshkeys import generate_key_pair, host_key_from_pub, write_known_hosts
from environments.errors import EnvironmentBroken
from environments.model import CommandResult, ServerSpec
from ovmref.host.sysconfig import ovs_release_text
from ovmref.release import Release

testcontainers_config.ryuk_disabled = True  # also when testcontainers was imported before this module

NAME_PREFIX = "ovm-conformance"
TEMP_PREFIX = f"{NAME_PREFIX}-pool-"
SSH_PORT = 22
HOST_KEY = "/etc/ssh/ssh_host_ed25519_key.pub"
HOST_KEY_WAIT_S = 10.0  # how long an empty or unreadable host key is asked for again
# What the validator's tests need inside (mount -t tmpfs) when an engine refuses --privileged.
CAPABILITIES: dict[str, Any] = {
    "cap_add": ["SYS_ADMIN", "NET_ADMIN", "SYS_NICE"],  # SYS_NICE: the agent runs ahead of other work
    "security_opt": ["seccomp=unconfined", "apparmor=unconfined"],
}

Log = Callable[[str], object]
_refused_privileged: set[str] = set()  # Docker hosts (DOCKER_HOST) that refused --privileged


class PoolError(EnvironmentBroken, RuntimeError):
    """A pool operation failed; the message names the server and container."""


class PoolStartError(PoolError):
    """The pool could not be started; whatever it had made is already removed."""


@dataclass(frozen=True)
class PoolServer:
    """One server of the pool: its names, its container and its address on the pool network."""

    name: str
    fqdn: str
    container_name: str
    container_id: str
    ip: str
    release_text: str
    cluster_ip: str = ""  # on the cluster network (o2net), when the pool has one; else ip

    @property
    def interconnect_ip(self) -> str:
        """The address cluster.conf names for this server."""
        return self.cluster_ip or self.ip


def _quiet(_line: str) -> None:
    return None


def _slug(name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_.-]+", "-", name).strip("-.") or "server"


def _specs(servers: int | Sequence[ServerSpec]) -> tuple[ServerSpec, ...]:
    specs = (
        tuple(ServerSpec(f"vmserver{i}") for i in range(1, servers + 1))
        if isinstance(servers, int)
        else tuple(servers)
    )
    if not specs:
        raise ValueError("a container pool needs at least one server")
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"server names repeat: {names}")
    return specs


def _create_network(client: Any, name: str, labels: dict[str, str]) -> Any:
    """An internal bridge network with a subnet of its own, so servers keep their address.

    Docker re-addresses a container that reconnects unless the network's subnet was given by the
    user: the subnet Docker picks (from its configured pools) is read back and pinned.
    """
    last: Exception | None = None
    for _attempt in range(5):
        probe = client.networks.create(name, driver="bridge", internal=True, labels=labels)
        try:
            config = (probe.attrs.get("IPAM") or {}).get("Config") or []
        finally:
            probe.remove()
        subnets = [c for c in config if ":" not in c.get("Subnet", ":")]
        if not subnets:
            raise PoolStartError(f"Docker gave network {name} no IPv4 subnet: {config}")
        subnet = subnets[0]["Subnet"]
        gateway = subnets[0].get("Gateway") or str(next(ipaddress.ip_network(subnet).hosts()))
        ipam = IPAMConfig(pool_configs=[IPAMPool(subnet=subnet, gateway=gateway)])
        try:
            return client.networks.create(name, driver="bridge", internal=True, labels=labels, ipam=ipam)
        except docker.errors.APIError as exc:
            if "overlap" not in str(exc).lower():
                raise
            last = exc  # another run took that subnet between the two calls: ask again
    raise PoolStartError(f"no free subnet for network {name}: {last}")


def _addresses(network: Any, count: int) -> list[str]:
    config = network.attrs["IPAM"]["Config"][0]
    gateway = ipaddress.ip_address(config["Gateway"])
    hosts = (ip for ip in ipaddress.ip_network(config["Subnet"]).hosts() if ip != gateway)
    found = [str(next(hosts, "")) for _ in range(count)]
    if "" in found:
        raise PoolStartError(f"subnet {config['Subnet']} has no room for {count} servers")
    return found


def _is_container_process(pid: int, container_id: str) -> bool:
    """The process exists in this host's PID namespace and belongs to that container's cgroup."""
    try:
        return container_id in Path(f"/proc/{pid}/cgroup").read_text()
    except OSError:
        return False


def _ssh_banner(ip: str, timeout_s: float = 2.0) -> str:
    with socket.create_connection((ip, SSH_PORT), timeout=timeout_s) as sock:
        sock.settimeout(timeout_s)
        return sock.recv(256).decode(errors="replace")


class ContainerPool:
    """N lookalike servers on a private network; a context manager that removes all it made.

    `servers`: a count (vmserver1..N, domain example.com) or ServerSpecs (name, domain, version).
    `privileged`: None tries --privileged and, where the engine refuses it (a host whose own
    capability set is reduced), falls back to CAPABILITIES; True insists, False never tries.
    `cluster_network`: a second private network for the cluster interconnect, so a partition
    (disconnect from it) never cuts this host's SSH sessions, which use the first.
    `mounts(server)`: host directory -> container path bind mounts (read-write) for a server.
    """

    def __init__(
        self,
        servers: int | Sequence[ServerSpec] = 2,
        *,
        release: Release | str = Release.R2_2,
        image: str | None = None,
        privileged: bool | None = None,
        ready_timeout_s: float = 60.0,
        log: Log = _quiet,
        cluster_network: bool = False,
        mounts: Callable[[ServerSpec], dict[str, str]] | None = None,
    ) -> None:
        self.specs = _specs(servers)
        self.release = Release.parse(release) if isinstance(release, str) else release
        self.pool_id = f"{os.getpid()}-{secrets.token_hex(3)}"
        self.network_name = f"{NAME_PREFIX}-{self.pool_id}"
        self.labels = owner_labels(self.pool_id)
        self.image = image
        self.privileged = privileged
        self.ready_timeout_s = ready_timeout_s
        self.servers: dict[str, PoolServer] = {}
        self.workdir: Path | None = None
        self.key_path: Path | None = None
        self.public_key = ""
        self.known_hosts_path: Path | None = None
        self._log = log
        self._client: Any = None
        self._network: Any = None
        self._cluster_network: Any = None
        self.cluster_network_name = f"{self.network_name}-cluster" if cluster_network else None
        self._mounts = mounts
        self._containers: dict[str, DockerContainer] = {}
        self._host_keys: dict[str, str] = {}  # ip -> "ssh-ed25519 AAAA..."
        self._init_pids: dict[str, int] = {}  # server -> its container's init, as this host sees it
        self._paused: set[str] = set()
        self._started = False
        self._closed = False

    # -- lifecycle ------------------------------------------------------------------------------

    def __enter__(self) -> ContainerPool:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def start(self) -> ContainerPool:
        """Start every server and wait until each one's sshd answers; on failure remove everything."""
        if self._closed:
            raise PoolError(f"pool {self.pool_id} is closed")
        if self._started:
            return self
        self._started = True
        atexit.register(self.close)
        try:
            try:
                sweep_stale()
            except PoolError as exc:  # another run's leftovers must not stop this pool
                self._log(str(exc))
            image = self.image or build_image(log=self._log)
            self.image = image
            self._client = docker_client()
            try:
                self._client.images.get(image)
            except docker.errors.ImageNotFound:
                raise PoolStartError(
                    f"image {image} is not on this Docker engine (it is never pulled): "
                    "build it with python -m environments.docker.image"
                ) from None
            self.workdir = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{owner_tag()}-"))
            self.key_path, self.public_key = generate_key_pair(
                self.workdir, f"ovm-conformance-{self.pool_id}"
            )
            self.known_hosts_path = self.workdir / "known_hosts"
            self._network = _create_network(self._client, self.network_name, self.labels)
            if self.cluster_network_name is not None:
                self._cluster_network = _create_network(self._client, self.cluster_network_name, self.labels)
            self._start_servers(self.specs)
        except BaseException:
            self.close()
            raise
        self._log(f"pool {self.pool_id}: {', '.join(f'{s.name}={s.ip}' for s in self.servers.values())}")
        return self

    def _start_servers(self, specs: Sequence[ServerSpec]) -> None:
        """Start containers (the first alone: it learns whether --privileged is refused, the rest
        side by side), then wait for each one's sshd and capture its host key."""
        assert self.image is not None
        taken = [s.ip for s in self.servers.values()]
        ips = _addresses(self._network, len(taken) + len(specs))
        free = [ip for ip in ips if ip not in taken]
        cluster_free: Sequence[str | None] = [None] * len(specs)
        if self._cluster_network is not None:
            ctaken = [s.cluster_ip for s in self.servers.values()]
            cips = _addresses(self._cluster_network, len(ctaken) + len(specs))
            cluster_free = list(ip for ip in cips if ip not in ctaken)[: len(specs)]
        jobs = list(zip(specs, free, cluster_free, strict=False))
        image = self.image
        if jobs:
            first, first_ip, first_cluster_ip = jobs[0]
            self._run(first, first_ip, image, cluster_ip=first_cluster_ip)
        if len(jobs) > 1:
            with ThreadPoolExecutor(max_workers=min(4, len(jobs) - 1)) as workers:
                for future in [
                    workers.submit(self._run, spec, ip, image, cluster_ip=cip) for spec, ip, cip in jobs[1:]
                ]:
                    future.result()
        deadline = time.perf_counter() + self.ready_timeout_s
        for spec in specs:
            self._wait_ready(spec.name, deadline)
        for spec in specs:
            self._learn_host_key(spec.name)

    def add(self, *specs: ServerSpec) -> list[PoolServer]:
        """Start more servers in the running pool (freshly installed servers joining it), side by side."""
        if not self._started or self._closed:
            raise PoolError(f"pool {self.pool_id} is not running")
        names = [s.name for s in specs]
        for name in names:
            if name in self.servers or names.count(name) > 1:
                raise PoolError(f"{name} is already in pool {self.pool_id}")
        self.specs = (*self.specs, *specs)
        try:
            self._start_servers(specs)
        except BaseException:
            for name in names:
                if name in self._containers:
                    self._remove_container(name)
                self.servers.pop(name, None)
            self.specs = tuple(s for s in self.specs if s.name not in names)
            raise
        return [self.servers[name] for name in names]

    def remove(self, server: str) -> None:
        """Remove one server's container from the running pool; its host key is forgotten."""
        gone = self.server(server)
        self._remove_container(server)
        del self.servers[server]
        self.specs = tuple(s for s in self.specs if s.name != server)
        self._host_keys.pop(gone.ip, None)
        if self.known_hosts_path is not None:
            write_known_hosts(self.known_hosts_path, self._host_keys, SSH_PORT)

    def inventory_lines(
        self, pool: str, cluster_root: str, *, connect_timeout_s: int = 10, command_timeout_s: int = 30
    ) -> list[str]:
        """The head of an inventory (docs/inventory.md) that lets --env ssh and validate reach these
        containers: the pool, its storage, this pool's key and known_hosts, and every server."""
        return [
            f"pool: {pool}",
            "storage: nfs",
            f"cluster_root: {cluster_root}",
            "node_slots: 16",
            "ssh:",
            "  user: root",
            f"  key_file: {self.key_path}",
            f"  known_hosts: {self.known_hosts_path}",
            f"  connect_timeout_s: {connect_timeout_s}",
            f"  command_timeout_s: {command_timeout_s}",
            "servers:",
            *[
                f"  - {{name: {s.name}, host: {s.ip}, fqdn: {s.fqdn}, ip: {s.ip}}}"
                for s in self.servers.values()
            ],
        ]

    def status(self, server: str) -> str | None:
        """The container's state (running, paused, exited, ...), None if it cannot be read."""
        try:
            wrapped = self._wrapped(server)
            wrapped.reload()
            return str(wrapped.status)
        except (PoolError, docker.errors.APIError):
            return None

    def close(self) -> None:
        """Remove every container, the network and the key files. Safe to call again."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        problems: list[str] = []
        for server, container in self._containers.items():
            try:
                container.stop()  # removes the container (and its volumes) and closes its client
            except docker.errors.NotFound:
                pass
            except Exception as exc:
                problems.append(f"container of {server}: {exc}")
        if self._started:  # then anything else labelled with the pool: half-made containers, networks
            try:
                client = self._client or docker_client()
            except ImageUnavailable as exc:
                problems.append(str(exc))
            else:
                problems += _remove_labelled(client, f"{LABEL_POOL}={self.pool_id}")[1]
                client.close()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
        if problems:
            raise PoolError(f"pool {self.pool_id} left resources behind: {'; '.join(problems)}")

    # -- starting -------------------------------------------------------------------------------

    def _run(self, spec: ServerSpec, ip: str, image: str, *, cluster_ip: str | None = None) -> None:
        name = f"{self.network_name}-{_slug(spec.name)}"
        text = ovs_release_text(spec.version or self.release.default_server_version).strip()
        engine = os.environ.get("DOCKER_HOST", "local")
        privileged = self.privileged if self.privileged is not None else engine not in _refused_privileged
        try:
            container = self._start_container(spec, image, ip, name, text, privileged, cluster_ip)
        except docker.errors.APIError as exc:
            if self.privileged is not None or not privileged or "caps" not in str(exc):
                raise PoolStartError(f"{spec.name}: container {name} did not start: {exc}") from exc
            _refused_privileged.add(engine)
            self._log(f"the Docker engine refused --privileged ({exc}); using {CAPABILITIES}")
            self._remove_container(spec.name)
            privileged = False
            container = self._start_container(spec, image, ip, name, text, privileged, cluster_ip)
        self.privileged = privileged
        self.servers[spec.name] = PoolServer(
            spec.name, spec.fqdn, name, container.get_wrapped_container().id, ip, text, cluster_ip or ""
        )

    def _start_container(
        self,
        spec: ServerSpec,
        image: str,
        ip: str,
        name: str,
        text: str,
        privileged: bool,
        cluster_ip: str | None = None,
    ) -> DockerContainer:
        container = DockerContainer(
            image, name=name, env={"OVM_AUTHORIZED_KEY": self.public_key, "OVS_RELEASE_TEXT": text}
        )
        container.image = image  # a local image, never pulled: no TESTCONTAINERS_HUB_IMAGE_NAME_PREFIX
        endpoint = EndpointConfig(
            self._client.api.api_version, ipv4_address=ip, aliases=[spec.name, spec.fqdn]
        )
        container.with_kwargs(
            hostname=spec.fqdn,
            labels=self.labels,
            network=self.network_name,
            networking_config={self.network_name: endpoint},
            **({"privileged": True} if privileged else CAPABILITIES),
        )
        for host_path, container_path in (self._mounts(spec) if self._mounts else {}).items():
            container.with_volume_mapping(host_path, container_path, mode="rw")
        self._containers[spec.name] = container  # recorded first: close() removes a half-started one
        container.start()
        if self._cluster_network is not None and cluster_ip is not None:
            self._cluster_network.connect(
                container.get_wrapped_container().id, ipv4_address=cluster_ip, aliases=[spec.name, spec.fqdn]
            )
        return container

    def _remove_container(self, server: str) -> None:
        container = self._containers.pop(server)
        with contextlib.suppress(docker.errors.NotFound):
            container.stop()

    def _wait_ready(self, name: str, deadline: float) -> None:
        """Until sshd's banner comes from the server's address, read from this host."""
        server = self.servers[name]
        wrapped = self._containers[name].get_wrapped_container()
        last = "no answer yet"
        while True:
            wrapped.reload()
            if wrapped.status in ("exited", "dead"):
                logs = wrapped.logs(tail=20).decode(errors="replace")
                raise PoolStartError(f"{name}: container {server.container_name} {wrapped.status}:\n{logs}")
            try:
                banner = _ssh_banner(server.ip)
                if banner.startswith("SSH-"):
                    self._init_pids[name] = int(wrapped.attrs.get("State", {}).get("Pid") or 0)
                    return
                last = f"answered {banner[:60]!r}"
            except OSError as exc:
                last = str(exc) or type(exc).__name__
            if time.perf_counter() > deadline:
                raise PoolStartError(
                    f"{name}: sshd at {server.ip}:{SSH_PORT} (container {server.container_name}) "
                    f"did not answer this host within {self.ready_timeout_s:g} s ({last}); "
                    "a Docker engine in a VM (Docker Desktop) does not route container addresses to the host"
                )
            time.sleep(0.1)  # a container boots on the real clock

    def _read_host_key(self, name: str) -> str:
        """The server's ed25519 host key, read inside its container, asked again for up to
        HOST_KEY_WAIT_S while the answer is empty or not a key.

        A restarted container answers sshd's banner once its entrypoint is done, yet its key file
        was once read back empty there (a CI run on fuse-overlayfs, after a fenced server's
        restart): whether the file or docker exec's output lagged, a second read a moment later
        is what settles it, and a key that stays unreadable is still an error naming the file."""
        server = self.servers[name]
        source = f"{server.container_name}:{HOST_KEY}"
        deadline = time.perf_counter() + HOST_KEY_WAIT_S
        while True:
            result = self.exec(name, ["cat", HOST_KEY], timeout_s=10)
            problem = f"cannot read it: {result.stderr.strip() or f'exit {result.rc}'}"
            if result.rc == 0:
                try:
                    return host_key_from_pub(result.stdout, source)
                except ValueError as exc:
                    problem = str(exc).removeprefix(f"{source}: ")
            if time.perf_counter() > deadline:
                raise PoolStartError(f"{name}: {source}: {problem} (asked for {HOST_KEY_WAIT_S:g} s)")
            time.sleep(0.2)  # the container's files settle on the real clock

    def _learn_host_key(self, name: str) -> None:
        """Capture the host key at first boot; afterwards only check that it is still the same."""
        server = self.servers[name]
        key = self._read_host_key(name)
        known = self._host_keys.get(server.ip)
        if known is not None:
            if known != key:
                raise PoolError(f"{name}: host key changed across a reboot: {known[:40]}... -> {key[:40]}...")
            return
        self._host_keys[server.ip] = key
        assert self.known_hosts_path is not None
        write_known_hosts(self.known_hosts_path, self._host_keys, SSH_PORT)

    # -- per server -----------------------------------------------------------------------------

    def server(self, name: str) -> PoolServer:
        try:
            return self.servers[name]
        except KeyError:
            raise PoolError(
                f"no server {name!r} in pool {self.pool_id} ({', '.join(self.servers)})"
            ) from None

    def _wrapped(self, name: str) -> Any:
        self.server(name)
        return self._containers[name].get_wrapped_container()

    def _do(self, name: str, what: str, action: Callable[[], object]) -> None:
        try:
            action()
        except docker.errors.APIError as exc:
            raise PoolError(f"{what} {name} (container {self.server(name).container_name}): {exc}") from exc

    def exec(self, server: str, argv: Sequence[str], *, timeout_s: float = 60.0) -> CommandResult:
        """Run argv as root inside the server's container (docker exec), killed after timeout_s."""
        wrapped = self._wrapped(server)
        command = ["timeout", "-k", "5", f"{timeout_s:g}", *argv]
        try:
            rc, (out, err) = wrapped.exec_run(command, demux=True)
        except docker.errors.APIError as exc:
            raise PoolError(f"exec {list(argv)} on {server} (container {wrapped.name}): {exc}") from exc
        stderr = (err or b"").decode(errors="replace")
        if rc == 124:
            stderr += f"{argv[0]}: timed out after {timeout_s:g} s on {server}\n"
        return CommandResult(tuple(argv), rc, (out or b"").decode(errors="replace"), stderr)

    def kill(self, server: str) -> None:
        """Power the server off at once: SIGKILL to the container's init (its sshd), as docker kill
        sends it; the kernel then kills every process of the container at the same instant.

        Where this host runs the engine the signal is sent directly, to the pid read when the
        container came up and only if that process is still this container's (its cgroup names
        the container): the Docker API answers 100 ms or more after the kill, which a time-scaled
        pool would read as seconds of uncertainty about when the server died."""
        wrapped = self._wrapped(server)
        pid = self._init_pids.pop(server, 0)
        # a frozen init would take the signal only when thawed: the engine kills a paused container
        if pid > 0 and server not in self._paused and _is_container_process(pid, wrapped.id):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            deadline = time.perf_counter() + 10
            while self.status(server) in ("running", "paused") and time.perf_counter() < deadline:
                time.sleep(0.02)  # the engine notices its container's end on the real clock
            return
        self._do(server, "kill", wrapped.kill)
        self._paused.discard(server)

    def pause(self, server: str) -> None:
        """Freeze every process of the server: it neither answers nor dies (a hung host)."""
        self._do(server, "pause", self._wrapped(server).pause)
        self._paused.add(server)

    def unpause(self, server: str) -> None:
        self._do(server, "unpause", self._wrapped(server).unpause)
        self._paused.discard(server)

    def restart(self, server: str) -> None:
        """Reboot the server (or boot it after kill): same address, same host keys, sshd answering."""
        wrapped = self._wrapped(server)
        wrapped.reload()
        if wrapped.status == "paused":
            self.unpause(server)
        self._do(server, "restart", lambda: wrapped.restart(timeout=2))
        self._wait_ready(server, time.perf_counter() + self.ready_timeout_s)
        self._learn_host_key(server)

    def power_on(self, server: str) -> None:
        """Start a killed (powered-off) server again and wait for its sshd; a running one is left be."""
        wrapped = self._wrapped(server)
        wrapped.reload()
        if wrapped.status == "paused":
            self.unpause(server)
        elif wrapped.status != "running":
            self._do(server, "start", wrapped.start)
        self._wait_ready(server, time.perf_counter() + self.ready_timeout_s)
        self._learn_host_key(server)

    def running(self, server: str) -> bool:
        return self.status(server) == "running"

    def disconnect(self, server: str) -> None:
        """Unplug the server from the cluster network (the only one, if the pool has no second):
        it keeps running, reachable there by no one."""
        network = self._cluster_network or self._network
        container_id = self.server(server).container_id
        self._do(server, "disconnect", lambda: network.disconnect(container_id, force=True))

    def connect(self, server: str) -> None:
        """Plug the server back in, at the same address."""
        spec = self.server(server)
        network = self._cluster_network or self._network
        ip = spec.cluster_ip if self._cluster_network is not None else spec.ip
        self._do(
            server,
            "connect",
            lambda: network.connect(spec.container_id, ipv4_address=ip, aliases=[spec.name, spec.fqdn]),
        )

    def resources(self) -> dict[str, list[str]]:
        """Names of the containers, networks and volumes labelled with this pool (for checks)."""
        return labelled_resources(f"{LABEL_POOL}={self.pool_id}")


def labelled_resources(label: str = LABEL_POOL) -> dict[str, list[str]]:
    """Containers (running or not), networks and volumes carrying `label` ("key" or "key=value")."""
    client = docker_client()
    try:
        filters = {"label": label}
        return {
            "containers": [
                c.name for c in client.containers.list(all=True, filters=filters, ignore_removed=True)
            ],
            "networks": [n.name for n in client.networks.list(filters=filters)],
            "volumes": [v.name for v in client.volumes.list(filters=filters)],
        }
    finally:
        client.close()


def orphaned_resources() -> list[str]:
    """Containers, networks and volumes of this project whose owning process is dead: a leak."""
    client = docker_client()
    try:
        filters = {"label": LABEL_POOL}
        found: list[tuple[str, Any]] = [
            *(
                ("container", c)
                for c in client.containers.list(all=True, filters=filters, ignore_removed=True)
            ),
            *(("network", n) for n in client.networks.list(filters=filters)),
            *(("volume", v) for v in client.volumes.list(filters=filters)),
        ]
    finally:
        client.close()
    return [
        f"{kind} {item.name}"
        for kind, item in found
        if not owner_alive((item.attrs.get("Config") or {}).get("Labels") or item.attrs.get("Labels") or {})
    ]


def _remove_labelled(
    client: Any, label: str, keep: Callable[[dict[str, str]], bool] = lambda _: False
) -> tuple[list[str], list[str]]:
    """Remove containers, then networks and volumes, carrying `label` unless keep(their labels).

    Returns what was removed ("container NAME") and what could not be (with the engine's reason).
    """
    removed: list[str] = []
    failed: list[str] = []
    filters = {"label": label}
    kinds: list[tuple[str, Callable[[], list[Any]], Callable[[Any], None]]] = [
        (
            "container",
            lambda: client.containers.list(all=True, filters=filters, ignore_removed=True),
            lambda c: c.remove(force=True, v=True),
        ),
        ("network", lambda: client.networks.list(filters=filters), lambda n: n.remove()),
        ("volume", lambda: client.volumes.list(filters=filters), lambda v: v.remove(force=True)),
    ]
    for kind, listing, remove in kinds:
        for item in listing():
            labels = (item.attrs.get("Config") or {}).get("Labels") or item.attrs.get("Labels") or {}
            if keep(labels):
                continue
            try:
                remove(item)
                removed.append(f"{kind} {item.name}")
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as exc:
                failed.append(f"{kind} {item.name}: {exc}")
    return removed, failed


def sweep_stale() -> list[str]:
    """Remove the containers, networks, volumes and key directories of pools whose owner is dead.

    Pools of live processes (other pytest-xdist workers) and of other machines sharing the engine
    are left alone. Returns what was removed; raises PoolError naming what could not be.
    """
    removed: list[str] = []
    for path in Path(tempfile.gettempdir()).glob(f"{TEMP_PREFIX}*"):
        match = re.match(rf"{re.escape(TEMP_PREFIX)}(\d+-\d+)-", path.name)
        if match and not tag_alive(match[1]):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(f"directory {path}")
    try:
        client = docker_client()
    except ImageUnavailable:
        return removed  # no engine: no container can be left either
    try:
        swept, failed = _remove_labelled(client, LABEL_POOL, keep=owner_alive)
    finally:
        client.close()
    if failed:
        raise PoolError(f"could not remove what dead pools left: {'; '.join(failed)}")
    return removed + swept
