"""One Oracle VM Server over SSH: strict host keys, key auth only, allow-listed commands, timeouts.

Pre-upgrade validation runs against production pools, so "read-only" is
enforced here rather than promised: in read-only mode (the default) a command
runs only if its program and every argument pass `READ_ONLY_COMMANDS`, and the
refusal happens before anything is sent. Commands are argv lists joined with
`shlex.join`, so a hostile guest or file name is one quoted word, never shell
syntax (the server's login shell must be POSIX: root's bash on Oracle VM
Server). Every command has a deadline; a command past it gets exit status 124
(as coreutils' `timeout`) and its channel is closed; the remote process may
run on until it ends by itself (a `cat` stuck on a hung NFS mount does: SSH
has no portable way to kill it, and OEL5 has no timeout(1)). Host keys come only from
the inventory's known_hosts file and unknown keys are rejected, never added.
Nothing here reads a key file (paramiko does, to authenticate), and every
message and log line goes through `redact`.
"""

from __future__ import annotations

import errno
import logging
import re
import shlex
import socket
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType, TracebackType

import paramiko

from environments.errors import EnvironmentBroken
from environments.model import CommandResult
from environments.ssh.inventory import ServerEntry
from environments.ssh.remoteproc import RemoteProcess
from ovmref.cluster.clusterconf import CLUSTER_CONF
from ovmref.cluster.services import SERVICE_ORDER
from ovmref.host.names import HOSTS, NSSWITCH_CONF, RESOLV_CONF
from ovmref.host.sysconfig import NETWORK_SYSCONFIG, O2CB_SYSCONFIG, OVS_RELEASE
from ovmref.host.vmcfg import VM_CFG_PATH
from ovmref.storage.fstab import FSTAB, PROC_MOUNTS
from ovmref.storage.repositories import REPOSITORIES, REPOSITORIES_OPTIONS

__all__ = [
    "KNOWN_SERVICES",
    "LISTDIR_FORMAT",
    "READABLE_FILES",
    "READ_ONLY_COMMANDS",
    "TIMEOUT_RC",
    "CommandRefused",
    "HostUnreachable",
    "RawResult",
    "SSHHost",
    "check_read_only",
    "redact",
]

log = logging.getLogger(__name__)


class _QuietRefusedForwards(logging.Filter):
    """paramiko logs every refused forward as an error; `forward` turns it into ConnectionRefusedError,
    which a caller polling for a starting server expects, so the log line is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "open FAILED" not in record.getMessage()


logging.getLogger("paramiko.transport").addFilter(_QuietRefusedForwards())

# The real clock: a remote command's deadline is wall time by nature (this is a driver, not ovmref).
_now = time.monotonic
_sleep = time.sleep

TIMEOUT_RC = 124  # what coreutils' timeout(1) returns, so reports read the same
_POLL_S = 0.02

# ---- secrets never leave ------------------------------------------------------------------
_KEY_BLOCK = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.DOTALL
)
_SECRET_WORD = r"[\w.-]*(?:password|passwd|passphrase|secret|token)[\w.-]*"
_SECRET_ASSIGNED = re.compile(rf"(?i)\b({_SECRET_WORD})(\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^\s'\"]+)")
_SECRET_OPTION = re.compile(rf"(?i)(?<![\w-])(--?{_SECRET_WORD})(\s+)(\"[^\"]*\"|'[^']*'|[^\s'\"]+)")


def redact(text: str) -> str:
    """Mask private key blocks and `password=...`-like values (also `--password X`)."""
    text = _KEY_BLOCK.sub("[REDACTED PRIVATE KEY]", text)
    text = _SECRET_ASSIGNED.sub(r"\1\2[REDACTED]", text)
    return _SECRET_OPTION.sub(r"\1\2[REDACTED]", text)


# ---- what read-only mode lets through ------------------------------------------------------
READABLE_FILES: frozenset[str] = frozenset(
    {
        OVS_RELEASE,
        HOSTS,
        RESOLV_CONF,
        NSSWITCH_CONF,
        NETWORK_SYSCONFIG,
        O2CB_SYSCONFIG,
        CLUSTER_CONF,
        REPOSITORIES,
        REPOSITORIES_OPTIONS,
        FSTAB,
        PROC_MOUNTS,
    }
)
"""The only files `cat` may read in read-only mode: what the HA prerequisite checks need (and a
3.x guest's /OVS/Repositories/<repository>/VirtualMachines/<vm>/vm.cfg, `ovmref.host.vmcfg.VM_CFG_PATH`:
names without '/' or a leading '.', so no path outside a repository's VirtualMachines)."""

KNOWN_SERVICES: frozenset[str] = frozenset(
    {*SERVICE_ORDER, "xend", "xendomains", "iscsi", "iscsid", "multipathd", "ntpd", "nfs", "nfslock"}
    | {"portmap", "rpcbind", "network", "sshd"}
)
"""Init scripts whose `status` may be asked (an unknown script's "status" could do anything)."""

LISTDIR_FORMAT = "%f\\0"  # find -printf: names NUL-separated, so any name survives

ArgCheck = Callable[[Sequence[str], Collection[str]], str | None]
"""(arguments after the program, readable files) -> why refused, or None if allowed."""


def _absolute(arg: str) -> bool:
    # absolute paths cannot be taken for options, and NUL cannot cross exec
    return arg.startswith("/") and "\0" not in arg


def _paths(args: Sequence[str]) -> str | None:
    bad = next((a for a in args if not _absolute(a)), None)
    return f"{bad!r} is not an absolute path" if bad is not None else None


def _cat(args: Sequence[str], readable: Collection[str]) -> str | None:
    if not args:
        return "cat needs a file (it would read its standard input)"
    unlisted = [a for a in args if a not in readable and VM_CFG_PATH.fullmatch(a) is None]
    return f"{unlisted[0]!r} is not on the allow-list of files validation reads" if unlisted else None


def _test(args: Sequence[str], readable: Collection[str]) -> str | None:
    if len(args) != 2 or args[0] not in ("-e", "-d", "-f", "-L", "-h", "-s"):
        return "only `test -e|-d|-f|-L|-h|-s PATH`"
    return _paths(args[1:])


def _readlink(args: Sequence[str], readable: Collection[str]) -> str | None:
    return "only `readlink PATH`" if len(args) != 1 else _paths(args)


def _stat(args: Sequence[str], readable: Collection[str]) -> str | None:
    rest = list(args)
    while rest and rest[0] in ("-L", "-c"):
        if rest.pop(0) == "-c":
            if not rest or "\0" in rest[0]:
                return "-c needs a format"
            rest.pop(0)
    if not rest:
        return "stat needs a path"
    return _paths(rest)


def _find(args: Sequence[str], readable: Collection[str]) -> str | None:
    # only the directory listing SSHHostFS.listdir needs; find can delete and execute
    if len(args) == 8 and _absolute(args[1]):
        shape = [args[0], *args[2:]]
        if shape == ["-H", "-mindepth", "1", "-maxdepth", "1", "-printf", LISTDIR_FORMAT]:
            return None
    return f"only `find -H PATH -mindepth 1 -maxdepth 1 -printf {LISTDIR_FORMAT}`"


def _exactly(*allowed: tuple[str, ...]) -> ArgCheck:
    def check(args: Sequence[str], readable: Collection[str]) -> str | None:
        if tuple(args) in allowed:
            return None
        forms = " | ".join(shlex.join(a) or "(no arguments)" for a in allowed)
        return f"only these arguments: {forms}"

    return check


def _uname(args: Sequence[str], readable: Collection[str]) -> str | None:
    bad = [a for a in args if a not in ("-a", "-s", "-n", "-r", "-v", "-m", "-p", "-i", "-o")]
    return f"unknown option {bad[0]!r}" if bad else None


def _getent(args: Sequence[str], readable: Collection[str]) -> str | None:
    if len(args) == 2 and args[0] == "hosts" and args[1] and not args[1].startswith("-"):
        return None
    return "only `getent hosts NAME`"


def _service(args: Sequence[str], readable: Collection[str]) -> str | None:
    if len(args) == 2 and args[1] == "status" and args[0] in KNOWN_SERVICES:
        return None
    return f"only `/sbin/service NAME status` for NAME in {', '.join(sorted(KNOWN_SERVICES))}"


READ_ONLY_COMMANDS: Mapping[str, ArgCheck] = MappingProxyType(
    {
        "cat": _cat,
        "test": _test,
        "readlink": _readlink,
        "stat": _stat,
        "find": _find,
        "hostname": _exactly((), ("-f",)),
        "uname": _uname,
        "id": _exactly(("-u",)),
        "getent": _getent,
        "/sbin/service": _service,
        "/usr/sbin/xm": _exactly(("list",), ("list", "--long"), ("info",)),
    }
)
"""Programs read-only mode may run, each with the check its arguments must pass."""


class CommandRefused(PermissionError):
    """A command that read-only mode does not allow; nothing was sent to the server."""


class HostUnreachable(EnvironmentBroken):
    """A server that cannot be reached or logged into; `reason` is a short kind for reports."""

    def __init__(self, entry: ServerEntry, reason: str, detail: str) -> None:
        super().__init__(redact(f"{entry.name} ({entry.address}) is unreachable: {detail}"))
        self.server, self.host, self.reason = entry.name, entry.host, reason


@dataclass(frozen=True)
class RawResult:
    """A command's exit status and output as bytes (file contents need not be text)."""

    argv: tuple[str, ...]
    rc: int
    stdout: bytes
    stderr: bytes


def check_read_only(argv: Sequence[str], readable_files: Collection[str] = READABLE_FILES) -> str | None:
    """Why read-only mode refuses `argv`, or None if it may run."""
    if not argv:
        return "empty command"
    check = READ_ONLY_COMMANDS.get(argv[0])
    if check is None:
        return f"{argv[0]!r} is not on the read-only allow-list ({', '.join(sorted(READ_ONLY_COMMANDS))})"
    return check(argv[1:], readable_files)


def _offered_key(client: paramiko.SSHClient) -> paramiko.PKey | None:
    """The host key the server offered, if the handshake got that far."""
    transport = client.get_transport()
    try:
        return transport.get_remote_server_key() if transport is not None else None
    except paramiko.SSHException:
        return None


def _fingerprint(key: paramiko.PKey) -> str:
    return f"{key.get_name()} {key.fingerprint}"


class SSHHost:
    """One server's SSH session. Read-only unless `read_only=False` (destructive runs)."""

    def __init__(
        self,
        entry: ServerEntry,
        *,
        read_only: bool = True,
        readable_files: Collection[str] = READABLE_FILES,
    ) -> None:
        self.entry = entry
        self.read_only = read_only
        self.readable_files = frozenset(readable_files)
        self._client: paramiko.SSHClient | None = None

    @property
    def name(self) -> str:
        return self.entry.name

    def __repr__(self) -> str:
        mode = "read-only" if self.read_only else "DESTRUCTIVE"
        return f"SSHHost({self.entry.name}, {self.entry.address}, {mode})"

    # ---- session -----------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        transport = self._client.get_transport() if self._client is not None else None
        return transport is not None and transport.is_active()

    def connect(self) -> None:
        """Log in; raises HostUnreachable saying why not (DNS, refused, timeout, auth, host key)."""
        if self.connected:
            return
        self.close()
        e = self.entry
        client = paramiko.SSHClient()
        try:
            client.load_host_keys(e.known_hosts)
        except OSError as exc:
            client.close()
            raise HostUnreachable(
                e, "config", f"cannot read known_hosts file {e.known_hosts}: {exc.strerror or exc}"
            ) from None
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        t = e.connect_timeout_s
        log.debug("%s: connecting to %s (timeout %.1f s)", e.name, e.address, t)
        try:
            client.connect(
                hostname=e.host,
                port=e.port,
                username=e.user,
                key_filename=e.key_file,
                allow_agent=True,
                look_for_keys=False,
                timeout=t,
                banner_timeout=t,
                auth_timeout=t,
                channel_timeout=t,
            )
        except Exception as exc:
            offered = _offered_key(client)
            transport = client.get_transport()
            # paramiko sometimes reports "No existing session" for a handshake that died: say why it died
            cause = transport.get_exception() if transport is not None else None
            client.close()
            reason, detail = self._why(cause if isinstance(cause, Exception) else exc, offered)
            failure = HostUnreachable(e, reason, detail)
            log.info("%s", failure)
            raise failure from None
        self._client = client
        log.debug("%s: connected to %s", e.name, e.address)

    def _why(self, exc: Exception, offered: paramiko.PKey | None) -> tuple[str, str]:
        """A short kind and a sentence for a failed connect; never the exception's key material."""
        e = self.entry
        if isinstance(exc, paramiko.SSHException) and "not found in known_hosts" in str(exc):
            key = _fingerprint(offered) if offered is not None else "a key"
            return "host key unknown", (
                f"host key unknown: the server offered {key}, which is not in known_hosts file "
                f"{e.known_hosts}; check that fingerprint with the server's administrator and add it "
                "(keys are never added automatically)"
            )
        if isinstance(exc, paramiko.BadHostKeyException):
            return "host key changed", (
                f"host key CHANGED: the server offered {_fingerprint(exc.key)} but known_hosts file "
                f"{e.known_hosts} expects {_fingerprint(exc.expected_key)}; the server was reinstalled "
                "or someone is in the middle: not connecting"
            )
        if isinstance(exc, paramiko.PasswordRequiredException):
            return "auth failed", (
                f"key file {e.key_file} is encrypted: load it into an ssh-agent (passphrases are not taken)"
            )
        if isinstance(exc, paramiko.AuthenticationException):
            keys = f"key file {e.key_file} and the ssh-agent" if e.key_file else "the ssh-agent's keys"
            return "auth failed", f"authentication failed for user {e.user} with {keys}"
        if isinstance(exc, socket.gaierror):
            return "dns", f"DNS cannot resolve {e.host}: {exc.strerror}"
        if isinstance(exc, paramiko.ssh_exception.NoValidConnectionsError):
            codes = {getattr(err, "errno", None) for err in exc.errors.values()}
            if errno.ECONNREFUSED in codes:
                return "refused", f"connection refused on port {e.port} (no SSH server listening?)"
            return "no route", f"no route to {e.host}"
        if isinstance(exc, TimeoutError):
            return "timeout", f"no answer on port {e.port} within {e.connect_timeout_s:g} s"
        if isinstance(exc, paramiko.SSHException):
            text = str(exc)
            if text == "No authentication methods available":
                return "auth failed", "no key to offer: set key_file or load a key into the ssh-agent"
            # paramiko says one or the other, depending on which of its threads notices first
            if text == "No existing session" or text.startswith("Error reading SSH protocol banner"):
                return "timeout", (
                    f"no SSH banner or handshake on port {e.port} within {e.connect_timeout_s:g} s "
                    "(not an SSH server, or it is hung or overloaded)"
                )
            if "timed out" in text.lower() or "timeout" in text.lower():
                return "timeout", f"SSH handshake did not finish within {e.connect_timeout_s:g} s: {text}"
            return "ssh", f"SSH error: {text}"
        if isinstance(exc, EOFError):
            return "ssh", "the server closed the connection during login"
        if isinstance(exc, OSError):
            return "network", f"network error: {exc.strerror or exc}"
        return "ssh", f"{type(exc).__name__}: {exc}"

    def _drop_if_dead(self) -> bool:
        """After a failed request: close the session only if its transport is gone. A live one may
        carry other channels (a supervised process dies with its session), and a channel that merely
        timed out while opening says nothing about them. True if the session was dropped."""
        if self.connected:
            return False
        self.close()
        return True

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> SSHHost:
        self.connect()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ---- supervised processes and forwarded ports (never in read-only mode) -------------------
    def _transport(self, what: str) -> paramiko.Transport:
        if self.read_only:
            raise CommandRefused(
                errno.EPERM, f"{self.name} ({self.entry.address}): read-only mode refused {what}"
            )
        self.connect()
        transport = self._client.get_transport() if self._client is not None else None
        if transport is None or not transport.is_active():
            raise HostUnreachable(self.entry, "connection lost", f"no SSH session for {what}")
        return transport

    def start(self, argv: Sequence[str], *, log_file: str, timeout_s: float | None = None) -> RemoteProcess:
        """Start argv on the server, its output appended to `log_file` there; returns at once.

        The remote shell prints its pid and execs argv, so the pid is the process's (and, sshd
        having made the session a new process group, its group's)."""
        args = self._checked(argv)
        timeout = self.entry.command_timeout_s if timeout_s is None else timeout_s
        script = 'echo "$$"; exec "$@" >>"$0" 2>&1'
        command = shlex.join(["sh", "-c", script, log_file, *args])
        transport = self._transport(f"starting {args[0]}")
        log.debug("%s: start %s", self.name, redact(command))
        try:
            chan = transport.open_session(timeout=timeout)
            chan.exec_command(command)
            chan.shutdown_write()
            chan.settimeout(timeout)
            first = b""
            while not first.endswith(b"\n"):
                chunk = chan.recv(64)
                if not chunk:
                    break
                first += chunk
        except (paramiko.SSHException, EOFError, OSError) as exc:
            self._drop_if_dead()
            raise HostUnreachable(self.entry, "connection lost", f"starting {args[0]}: {exc}") from None
        if not first.strip().isdigit():
            chan.close()
            raise HostUnreachable(
                self.entry, "ssh", f"starting {args[0]}: the shell printed {first[:80]!r}, not its pid"
            )
        return RemoteProcess(self.name, chan, int(first))

    def forward(self, port: int, timeout_s: float) -> paramiko.Channel:
        """A channel to 127.0.0.1:`port` on the server (SSH direct-tcpip), ready for sendall/recv.

        ConnectionRefusedError while nothing listens there yet."""
        transport = self._transport(f"forwarding to port {port}")
        try:
            chan = transport.open_channel(
                "direct-tcpip", ("127.0.0.1", port), ("127.0.0.1", 0), timeout=timeout_s
            )
        except paramiko.ChannelException as exc:
            raise ConnectionRefusedError(
                errno.ECONNREFUSED, f"{self.name}: 127.0.0.1:{port}: {exc.text or exc.code}"
            ) from None
        except (paramiko.SSHException, EOFError) as exc:
            if self._drop_if_dead():
                detail = f"forwarding to port {port}: {exc}"
                raise HostUnreachable(self.entry, "connection lost", detail) from None
            raise TimeoutError(f"{self.name}: forwarding to port {port}: {exc}") from None
        chan.settimeout(timeout_s)
        return chan

    # ---- commands ----------------------------------------------------------------------
    def run(self, argv: Sequence[str], timeout_s: float | None = None) -> CommandResult:
        """Run argv (never through our own shell parsing); output decoded as UTF-8, bad bytes replaced."""
        raw = self.run_bytes(argv, timeout_s)
        return CommandResult(
            raw.argv, raw.rc, raw.stdout.decode("utf-8", "replace"), raw.stderr.decode("utf-8", "replace")
        )

    def run_bytes(self, argv: Sequence[str], timeout_s: float | None = None) -> RawResult:
        """Run argv; rc 124 if it outlives its timeout. Raises CommandRefused or HostUnreachable."""
        args = self._checked(argv)
        timeout = self.entry.command_timeout_s if timeout_s is None else timeout_s
        if timeout <= 0:
            raise ValueError(f"timeout must be above 0 s, got {timeout}")
        self.connect()
        # LC_ALL=C: error messages read the same on every server (remotefs tells ENOENT from EACCES)
        command = "LC_ALL=C " + shlex.join(args)
        log.debug("%s: run %s (timeout %g s)", self.name, redact(command), timeout)
        try:
            result = self._exec(args, command, timeout)
        except (paramiko.SSHException, EOFError, OSError) as exc:
            self._drop_if_dead()
            detail = f"connection lost during {args[0]}: {exc}"
            failure = HostUnreachable(self.entry, "connection lost", detail)
            log.info("%s", failure)
            raise failure from None
        log.debug(
            "%s: rc=%d stdout=%d bytes stderr=%s",
            self.name,
            result.rc,
            len(result.stdout),
            redact(result.stderr[:300].decode("utf-8", "replace")).strip() or "(empty)",
        )
        return result

    def _checked(self, argv: Sequence[str]) -> tuple[str, ...]:
        if isinstance(argv, str | bytes):
            raise TypeError(f"argv must be a list of words, not one string: {redact(str(argv))!r}")
        args = tuple(argv)
        if not args:
            raise ValueError("empty command")
        for a in args:
            if not isinstance(a, str):
                raise TypeError(f"argv words must be str, got {type(a).__name__}")
            if "\0" in a:
                raise ValueError(f"a NUL byte cannot be passed in an argument: {redact(a)!r}")
        if self.read_only:
            why = check_read_only(args, self.readable_files)
            if why is not None:
                refused = CommandRefused(
                    errno.EPERM,
                    redact(
                        f"{self.name} ({self.entry.address}): read-only mode refused "
                        f"{shlex.join(args)}: {why}"
                    ),
                )
                log.warning("%s", refused.strerror)
                raise refused
        return args

    def _exec(self, args: tuple[str, ...], command: str, timeout: float) -> RawResult:
        deadline = _now() + timeout
        transport = self._client.get_transport() if self._client is not None else None
        if transport is None or not transport.is_active():
            raise paramiko.SSHException("SSH session not active")
        chan = transport.open_session(timeout=timeout)
        try:
            chan.settimeout(timeout)
            chan.exec_command(command)
            chan.shutdown_write()  # no standard input: a command waiting for it gets EOF at once
            out, err = bytearray(), bytearray()
            while True:
                got = False
                while chan.recv_ready():
                    out += chan.recv(65536)
                    got = True
                while chan.recv_stderr_ready():
                    err += chan.recv_stderr(65536)
                    got = True
                # done when the server closes the channel: it sends the exit status before the last
                # of stderr at times, but closes only after everything (messages arrive in order)
                if chan.closed and not chan.recv_ready() and not chan.recv_stderr_ready():
                    break
                remaining = deadline - _now()
                if remaining <= 0:
                    note = (
                        f"\n{self.name}: timed out after {timeout:g} s: `{args[0]}` did not finish; "
                        "its channel was closed\n"
                    )
                    log.info("%s: %s timed out after %g s", self.name, args[0], timeout)
                    return RawResult(args, TIMEOUT_RC, bytes(out), bytes(err) + note.encode())
                if got:
                    continue
                if chan.exit_status_ready():  # status in, close on its way
                    _sleep(min(_POLL_S / 4, remaining))
                else:
                    chan.status_event.wait(min(_POLL_S, remaining))
            rc = chan.recv_exit_status()
            if rc < 0 and not transport.is_active():
                raise EOFError("the server closed the connection")
            if rc < 0:  # closed without an exit status: killed by a signal
                err += f"\n{self.name}: {args[0]} ended without an exit status (killed?)\n".encode()
                rc = 255
            return RawResult(args, rc, bytes(out), bytes(err))
        finally:
            chan.close()
