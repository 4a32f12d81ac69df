"""`docker`: every Oracle VM Server of the pool is a container of the lookalike image, reached over SSH.

The pool logic is the local environment's (environments/local/driver.py): the
same ovmref agent runs as `serverd`, in real time, on the same files. What
changes is where it runs and how the supervisor reaches it:

- each server is its own container (its own kernel namespaces, hostname = its
  FQDN, sshd), started by testcontainers on a private network for SSH and a
  second one for the cluster interconnect (the cluster.conf addresses);
- the agent is started over SSH (paramiko, the pool's own key, host keys
  captured at the first boot and checked strictly on every connection); the
  SSH channel's exit status is the agent's, so a fence, a halt or a reboot
  request reads as on local; control requests go through an SSH-forwarded
  channel to the agent's loopback port; guest kills, partitions' routes and
  the cluster root's mount are commands over SSH;
- the cluster root is one host directory bind-mounted into every container
  and mounted inside it, by each boot, at the documented path
  (/var/ovs/mount/<uuid>, /OVS, /poolfsmnt/<uuid>); the agent reaches it
  through that mount;
- faults are the container's: a crash is `docker kill`, a hang `docker
  pause`, a partition blackhole routes between the two sides of the cluster
  network (environments/docker/network.py says why not a disconnect); a
  server that fences itself is killed and started again, so its guests die
  and it rejoins.

Each server's files (its /etc, /proc/mounts model, agent configuration and
event log) live in a host directory bind-mounted at /ovm/server; Oracle's
commands typed in a scenario run on those files as on local (see the README's
limits: the in-image tool runner is not written yet).

Containers are lent by this process's ServerSlots (environments/docker/slots.py)
and given back reset when the driver closes, so a scenario does not pay for
starting and removing its containers.

Time runs `OVM_DOCKER_TIME_SCALE` (default 0.02) times Oracle's timings:
SSH round trips and container starts are slower than local processes. Their
durations (SSH commands, control channels, Docker API calls) go into the
latency ledger beside what the agents measure, as on local.
"""

from __future__ import annotations

import contextlib
import dataclasses
import posixpath
import shlex
import shutil
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from environments.agentpool import build_problem
from environments.base import EnvironmentBroken
from environments.docker.image import ImageUnavailable
from environments.docker.network import ContainerNetwork
from environments.docker.pool import ContainerPool, PoolError, PoolServer
from environments.docker.slots import SERVER_DIR, STORAGE_DIR, ServerSlots, server_slots
from environments.hostdir import DirectoryHostFS, DirectoryTree
from environments.latency import LatencyLedger
from environments.local.driver import ControlSocket, LocalDriver, LocalHost, ServerProc, _safe
from environments.local.serverconfig import ServerConfig
from environments.model import CommandResult, OpResult, PoolSpec, PoolState, ServerSpec
from environments.ssh.connection import HostUnreachable, SSHHost
from environments.ssh.inventory import ServerEntry
from ovmref.host.installed_pool import PoolHostFS, ServerInfo
from ovmref.host.sysconfig import ovs_release_text
from ovmref.host.trees import Tree
from ovmref.release import Release
from ovmref.states.power import PowerEvent
from ovmref.storage.fstab import PROC_MOUNTS, parse_fstab
from ovmref.storage.repositories import normalize_source
from ovmref.timing import O2CBTimings

PROJECT = "/opt/ovm-ha-conformance"  # where the image holds ovmref and the agent
CONTROL_PORT = 7778  # the agent's control port on the server's loopback
WRAPPER_NAME = "agent-wrapper.py"  # where a test-only agent script is copied (OVM_TEST_AGENT_WRAPPER)
SSH_TIMEOUT_S = 20.0
# a condition is polled at most this often: each poll is an SSH round trip to every server, whose CPU
# the agents would lose; verdicts are read from the servers' own records, not from when a poll looked
MIN_POLL_REAL_S = 0.04
# what a slot must lose before it is lent again: agents, guests, cluster-root mounts, partition routes
RESET_SCRIPT = (
    "pkill -KILL -f [e]nvironments.local.serverd; pkill -KILL -x ovm-guest; "
    "for m in $(awk '$2 ~ \"^/(var/ovs/mount|OVS|poolfsmnt)\" {print $2}' /proc/mounts); "
    'do umount -l "$m" || exit 1; done; ip route flush type blackhole; '
    "! pgrep -f [e]nvironments.local.serverd >/dev/null"
)


T = TypeVar("T")


class LentServers:
    """The containers lent to one pool, by the pool's server names (the network's plugs). Every
    Docker API call made through it is timed into `ledger` once the driver has set one."""

    def __init__(self, slots: ServerSlots) -> None:
        self.slots = slots
        self.slot_of: dict[str, str] = {}
        self.ledger: LatencyLedger | None = None
        self.clock: Callable[[], int] = lambda: 0

    def _timed(self, name: str, call: Callable[[], T]) -> T:
        started = time.monotonic()
        try:
            return call()
        finally:
            if self.ledger is not None:
                self.ledger.note("docker", self.clock(), (time.monotonic() - started) * 1000, name)

    @property
    def pool(self) -> ContainerPool:
        assert self.slots.pool is not None
        return self.slots.pool

    def take(self, names: list[str]) -> None:
        for name, server in zip(names, self.slots.lend(len(names)), strict=True):
            self.slot_of[name] = server.name

    def server(self, name: str) -> PoolServer:
        return self.pool.server(self.slot_of[name])

    def slot_dir(self, name: str) -> Path:
        return self.slots.slot_dir(self.slot_of[name])

    def status(self, name: str) -> str | None:
        return self._timed(name, lambda: self.pool.status(self.slot_of[name]))

    def running(self, name: str) -> bool:
        return self.status(name) == "running"

    def kill(self, name: str) -> None:
        self._timed(name, lambda: self.pool.kill(self.slot_of[name]))

    def pause(self, name: str) -> None:
        self._timed(name, lambda: self.pool.pause(self.slot_of[name]))

    def unpause(self, name: str) -> None:
        self._timed(name, lambda: self.pool.unpause(self.slot_of[name]))

    def power_on(self, name: str) -> None:
        self._timed(name, lambda: self.pool.power_on(self.slot_of[name]))


class DockerDriver(LocalDriver):
    name = "docker"
    run_dir_prefix = "ovm-docker-"
    poll_s = 0.008
    default_time_scale = 0.02
    time_scale_variable = "OVM_DOCKER_TIME_SCALE"
    agents_start_together = True  # waiting on each agent over SSH would cost a second per server

    def __init__(
        self,
        release: Release,
        seed: int,
        timings: O2CBTimings | None = None,
        image: str | None = None,
        **options: Any,
    ) -> None:
        self.lent = LentServers(server_slots(image))
        self._ssh_hosts: dict[str, SSHHost] = {}
        self._powering_on: dict[str, threading.Thread] = {}
        self._power_errors: dict[str, BaseException] = {}
        super().__init__(release, seed, timings, **options)
        self.lent.ledger, self.lent.clock = self.ledger, self.now_ms
        self.storage_dir = self.lent.slots.storage / self.run_id

    def _make_network(self) -> str:
        self.network = ContainerNetwork(self.lent, self._ssh_run)
        return "containers on a private cluster network (partitions: blackhole routes between the sides)"

    # ============================================================================= containers
    def build_pool(self, spec: PoolSpec) -> OpResult:
        problem = build_problem(self.spec, spec)
        if problem is not None:
            return problem
        self._take(list(spec.servers))
        servers = tuple(self._addressed(s) for s in spec.servers)
        return super().build_pool(dataclasses.replace(spec, servers=servers))

    def add_server(self, spec: ServerSpec) -> OpResult:
        if self.spec is None:
            return OpResult(False, "build the pool first")
        if spec.name in self.hosts:
            return OpResult(False, f"{spec.name} is already in the pool")
        self._take([spec])
        return super().add_server(self._addressed(spec))

    def _take(self, specs: list[ServerSpec]) -> None:
        """Containers for these servers, each named after its server and carrying its release."""
        try:
            self.lent.take([s.name for s in specs])
        except (PoolError, ImageUnavailable) as exc:
            raise EnvironmentBroken(f"no containers for {', '.join(s.name for s in specs)}: {exc}") from exc
        for s in specs:
            release = ovs_release_text(s.version or self.release.default_server_version).strip()
            script = (
                'hostname "$1" && printf "%s\\n" "$1" > /etc/hostname'
                ' && printf "%s\\n" "$2" > /etc/ovs-release'
            )
            result = self._ssh_run(s.name, ["sh", "-c", script, "name", s.fqdn, release])
            if result.rc != 0:
                raise EnvironmentBroken(f"{s.name}: naming its container failed: {result.stderr.strip()}")

    def _addressed(self, spec: ServerSpec) -> ServerSpec:
        """The server as installed: its cluster.conf address is its container's on the cluster network."""
        return dataclasses.replace(spec, ip=self.lent.server(spec.name).interconnect_ip)

    def _make_host(self, info: ServerInfo) -> PoolHostFS:
        """The server's files: in its slot's directory, which its container has at /ovm/server."""
        root = self.lent.slot_dir(info.name) / "root"
        root.mkdir(parents=True, exist_ok=True)
        return DirectoryHostFS(root)

    def _make_tree(self, source: str) -> Tree:
        path = self.storage_dir / _safe(source.replace(":/", "-").replace("/", "-"))
        path.mkdir(parents=True, exist_ok=True)
        return DirectoryTree(path)

    # ============================================================================= SSH
    def ssh(self, server: str) -> SSHHost:
        """The SSH session to a server of the pool (key auth, host key checked strictly)."""
        ssh = self._ssh_hosts.get(server)
        if ssh is None:
            ssh = self._ssh_hosts[server] = _session(self.lent.pool, server, self.lent.server(server))
        return ssh

    def _ssh_run(self, server: str, argv: list[str]) -> CommandResult:
        started = time.monotonic()
        try:
            return self.ssh(server).run(argv)
        except HostUnreachable as exc:
            return CommandResult(tuple(argv), 255, "", str(exc))
        finally:
            self.ledger.note("ssh", self.now_ms(), (time.monotonic() - started) * 1000, server)

    def _must(self, host: LocalHost, argv: list[str]) -> None:
        result = self._ssh_run(host.name, argv)
        if result.rc != 0:
            raise EnvironmentBroken(
                f"{host.name}: {shlex.join(argv)} failed (rc {result.rc}): {result.stderr.strip()[-300:]}"
            )

    # ============================================================================= the agent
    def _agent_config(self, host: LocalHost) -> ServerConfig:
        return dataclasses.replace(
            super()._agent_config(host), control_port=CONTROL_PORT
        )

    def _launch(self, host: LocalHost) -> ServerProc:
        """Mount the cluster root where the release puts it, then start the agent over SSH."""
        mountpoint = self._cluster_root_mountpoint(host)
        if mountpoint is not None:
            at, source = shlex.quote(mountpoint), shlex.quote(self._volume_in_container())
            script = f"mkdir -p {at} && {{ mountpoint -q {at} || mount --bind {source} {at}; }}"
            self._must(host, ["sh", "-c", script])
        program = self._agent_program()
        entry = ["-m", "environments.local.serverd"]
        if program is not None:  # tests only: the script goes into the server's directory, run from there
            shutil.copyfile(program, host.dir / WRAPPER_NAME)
            entry = [f"{SERVER_DIR}/{WRAPPER_NAME}"]
            self._mark("agent_wrapper", host.name, detail=f"agent run by {program.name}, not serverd")
        argv = ["env", f"PYTHONPATH={PROJECT}", "python3", *entry, SERVER_DIR]
        try:
            return self.ssh(host.name).start(argv, log_file=f"{SERVER_DIR}/serverd.log")
        except HostUnreachable as exc:
            raise EnvironmentBroken(f"{host.name}: the agent could not be started: {exc}") from exc

    def _volume_in_container(self) -> str:
        assert self.volume_dir is not None
        return f"{STORAGE_DIR}/{self.volume_dir.relative_to(self.lent.slots.storage)}"

    def _cluster_root_mountpoint(self, host: LocalHost) -> str | None:
        """Where the server's /proc/mounts has the cluster root (NFS); None for a block device,
        whose heartbeat area lives beside the volume and is reached without a mount."""
        if self.setup is None or not self.setup.pool.root_volume.nfs:
            return None
        text = host.fs.read_text(PROC_MOUNTS) or ""
        root = normalize_source(self.setup.pool.cluster_root)
        for entry in parse_fstab(text, PROC_MOUNTS):
            if normalize_source(entry.source) == root and entry.mountpoint.startswith("/"):
                return posixpath.normpath(entry.mountpoint)
        return None

    def _storage_target(self, host: LocalHost) -> str:
        return self._cluster_root_mountpoint(host) or self._volume_in_container()

    def _control_socket(self, host: LocalHost, timeout_s: float) -> ControlSocket:
        try:
            channel: ControlSocket = self.ssh(host.name).forward(CONTROL_PORT, timeout_s)
        except HostUnreachable as exc:
            raise ConnectionResetError(str(exc)) from None
        return channel

    def _signal(self, host: LocalHost, sig: signal.Signals) -> None:
        """SIGSTOP/SIGCONT freeze and thaw the whole server (docker pause); SIGKILL ends the agent's
        process group on the server (its guests with it)."""
        with contextlib.suppress(PoolError):
            if sig == signal.SIGSTOP:
                self.lent.pause(host.name)
            elif sig == signal.SIGCONT:
                if self.lent.status(host.name) == "paused":
                    self.lent.unpause(host.name)
            elif host.process is not None:
                self._signal_orphans(host, host.process.pid)

    def _signal_orphans(self, host: LocalHost, pgid: int) -> None:
        if self.lent.running(host.name):
            self._ssh_run(host.name, ["kill", "-KILL", "--", f"-{pgid}"])

    def _kill_guest_process(self, host: LocalHost, pid: int) -> None:
        self._ssh_run(host.name, ["kill", "-KILL", str(pid)])

    # ============================================================================= power
    def _took_effect(self, host: LocalHost, before: int) -> int:
        """A container is killed or frozen a few milliseconds after the request is sent, but the
        Docker API answers 100 ms or more later (several seconds of pool time). So the fault counts
        from the request, or from the server's own last heartbeat write if that came after it."""
        self._read_events(host)
        written = [
            e.t_ms
            for e in self._timeline
            if e.kind == "heartbeat" and e.server == host.name and e.t_ms >= before
        ]
        return max([before, *written])

    def _fault_seen_by(self, host: LocalHost, at: int, after: int) -> int:
        """A killed or frozen container wrote its last heartbeat just before the fault: had it still
        run an iteration (and its timers' measured lateness) after that, it would have written
        another. So the fault took effect by then, often long before the Docker API answered."""
        if host.power.state not in ("crashed", "hung"):
            return after
        self._read_events(host)
        writes = [e.t_ms for e in self._timeline if e.kind == "heartbeat" and e.server == host.name]
        if not writes:
            return after
        late_ms = self.ledger.lag_between(at - self.timings.iteration_ms, after, [host.name])
        return min(after, max(at, max(writes) + self.timings.iteration_ms + int(late_ms / self.scale) + 1))

    def _cut_power(self, host: LocalHost) -> None:
        """docker kill: every process of the server dies at once, the agent and its guests."""
        if host.process is not None:
            host.killed_by_us = True
        self._power_off_container(host)

    def _power_off_container(self, host: LocalHost) -> None:
        self._join_power_on(host)
        with contextlib.suppress(PoolError):
            if self.lent.status(host.name) in ("running", "paused"):
                self.lent.kill(host.name)
        self.ssh(host.name).close()

    def _went_down(self, host: LocalHost, event: PowerEvent) -> None:
        """The server is off: its container is killed (a shut-down one stays off until booted)."""
        super()._went_down(host, event)
        if not self._closed:
            self._power_off_container(host)

    def _rebooting(self, host: LocalHost) -> None:
        """A fenced or restarted server reboots: its container starts again in the background, so
        it is up when the reboot delay has passed and the agent boots."""
        if not self._closed:
            self._start_power_on(host)

    def _start_power_on(self, host: LocalHost) -> None:
        def power_on() -> None:
            try:
                self.lent.power_on(host.name)
            except BaseException as exc:
                self._power_errors[host.name] = exc

        thread = threading.Thread(target=power_on, name=f"power-on-{host.name}", daemon=True)
        self._powering_on[host.name] = thread
        thread.start()

    def _join_power_on(self, host: LocalHost) -> None:
        thread = self._powering_on.pop(host.name, None)
        if thread is not None:
            thread.join(timeout=120)
        error = self._power_errors.pop(host.name, None)
        if error is not None and not self._closed:
            raise EnvironmentBroken(f"{host.name}: its container did not start again: {error}")

    def _boot(self, host: LocalHost) -> None:
        """Power on: the container runs (started if it was off), then services and the agent."""
        if not host.up:  # off (or, after a fault, killed): its container runs again first
            self._join_power_on(host)
            if not self.lent.running(host.name):
                self.lent.power_on(host.name)  # a PoolError names the container: an environment error
            assert isinstance(self.network, ContainerNetwork)
            self.network.server_started(host.name)
        super()._boot(host)

    # ============================================================================= time
    def wait_until(self, predicate: Callable[[PoolState], bool], timeout_ms: int, step_ms: int = 250) -> bool:
        """As the base, but never polls faster than MIN_POLL_REAL_S: each look is an SSH round trip."""
        step = max(step_ms, int(MIN_POLL_REAL_S * 1000 / self.scale))
        return super().wait_until(predicate, timeout_ms, step)

    # ============================================================================= cleanup
    def close(self) -> None:
        """Give every container back reset (or have it removed), then remove the run's files."""
        if self._closed:
            return
        for thread in list(self._powering_on.values()):
            thread.join(timeout=60)
        try:
            if isinstance(self.network, ContainerNetwork):
                self.network.heal()
            healed = True
        except Exception:
            healed = False
        for name in list(self.lent.slot_of):
            self._give_back(name, healed)
        for host in self.hosts.values():
            host.process = None  # their agents ended with their SSH sessions
        super().close()
        shutil.rmtree(self.storage_dir, ignore_errors=True)

    def _give_back(self, name: str, healed: bool) -> None:
        """Reset the server's container and return it to the slots, or have it removed."""
        slot = self.lent.slot_of.pop(name)
        slots = self.lent.slots
        ssh = self._ssh_hosts.pop(name, None)
        if ssh is not None:
            ssh.close()  # the agent's session ends: it dies, and its guests with it
        pool = self.lent.pool
        ok = False
        try:
            status = pool.status(slot)
            if status == "paused":
                pool.unpause(slot)
            elif status != "running":
                pool.power_on(slot)
            with _session(pool, slot, pool.server(slot)) as reset:
                ok = healed and reset.run(["sh", "-c", RESET_SCRIPT]).rc == 0
        except (PoolError, HostUnreachable):
            ok = False
        directory = slots.slot_dir(slot)
        for child in directory.iterdir() if directory.is_dir() else ():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
        if ok:
            slots.give_back(slot)
        else:
            with contextlib.suppress(PoolError):
                slots.discard(slot)


def _session(pool: ContainerPool, name: str, box: PoolServer) -> SSHHost:
    """A destructive-mode SSH session to one container, as root with the pool's key."""
    assert pool.key_path is not None and pool.known_hosts_path is not None
    entry = ServerEntry(
        name=name,
        host=box.ip,
        port=22,
        user="root",
        key_file=str(pool.key_path),
        known_hosts=str(pool.known_hosts_path),
        fqdn=None,
        ip=box.interconnect_ip,
        connect_timeout_s=SSH_TIMEOUT_S,
        command_timeout_s=SSH_TIMEOUT_S,
    )
    return SSHHost(entry, read_only=False)
