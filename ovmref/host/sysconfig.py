"""Shell-variable files of /etc/sysconfig (o2cb, network) and /etc/ovs-release.

RHEL init scripts source these files, so they are `KEY=value` lines with
optional quotes; O2CB timings must match on every node (o2net disconnects a
peer whose values differ), which is why they are written from O2CBTimings.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from ovmref.errors import ConfigSyntaxError, Problems, problem
from ovmref.timing import O2CBTimings

O2CB_SYSCONFIG = "/etc/sysconfig/o2cb"
NETWORK_SYSCONFIG = "/etc/sysconfig/network"
OVS_RELEASE = "/etc/ovs-release"

_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)")


def parse_sysconfig(text: str, path: str, problems: Problems = None) -> dict[str, str]:
    """`KEY=value` lines (value may be quoted, CR tolerated); comments and blank lines are skipped.
    With `problems`, a line bash would not assign from is skipped there, as sourcing skips it."""
    values: dict[str, str] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _ASSIGNMENT.fullmatch(line)
        if m is None:
            problem(problems, ConfigSyntaxError(path, lineno, f"expected KEY=value, got {line!r}"))
            continue
        try:
            words = shlex.split(m.group(2), comments=True)
        except ValueError as exc:
            problem(problems, ConfigSyntaxError(path, lineno, f"bad quoting in value of {m.group(1)}: {exc}"))
            continue
        if len(words) > 1:
            problem(problems, ConfigSyntaxError(path, lineno, f"value of {m.group(1)} has unquoted spaces"))
            continue
        values[m.group(1)] = words[0] if words else ""
    return values


def render_sysconfig(values: dict[str, str], header: str = "") -> str:
    lines = [f"# {h}" for h in header.splitlines()]
    lines += [f"{k}={shlex.quote(v) if v else ''}" for k, v in values.items()]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class O2CBConfig:
    """/etc/sysconfig/o2cb as the o2cb init script reads it."""

    enabled: bool
    cluster: str
    timings: O2CBTimings
    stack: str = "o2cb"


def parse_o2cb_sysconfig(text: str, path: str = O2CB_SYSCONFIG) -> O2CBConfig:
    values = parse_sysconfig(text, path)
    defaults = O2CBTimings()

    def number(key: str, default: int) -> int:
        value = values.get(key, "")
        if value == "":
            return default
        if not value.isdigit():
            raise ConfigSyntaxError(path, _line_of(text, key), f"{key} must be a number, got {value!r}")
        return int(value)

    try:
        timings = O2CBTimings(
            dead_threshold=number("O2CB_HEARTBEAT_THRESHOLD", defaults.dead_threshold),
            idle_timeout_ms=number("O2CB_IDLE_TIMEOUT_MS", defaults.idle_timeout_ms),
            keepalive_delay_ms=number("O2CB_KEEPALIVE_DELAY_MS", defaults.keepalive_delay_ms),
            reconnect_delay_ms=number("O2CB_RECONNECT_DELAY_MS", defaults.reconnect_delay_ms),
        )
    except ValueError as exc:
        if isinstance(exc, ConfigSyntaxError):
            raise
        raise ConfigSyntaxError(path, 0, str(exc)) from None
    enabled = values.get("O2CB_ENABLED", "false")
    if enabled not in ("true", "false"):
        raise ConfigSyntaxError(
            path, _line_of(text, "O2CB_ENABLED"), f"O2CB_ENABLED must be true or false, got {enabled!r}"
        )
    return O2CBConfig(
        enabled=enabled == "true",
        cluster=values.get("O2CB_BOOTCLUSTER", ""),
        timings=timings,
        stack=values.get("O2CB_STACK", "o2cb"),
    )


def render_o2cb_sysconfig(conf: O2CBConfig) -> str:
    t = conf.timings
    return render_sysconfig(
        {
            "O2CB_ENABLED": "true" if conf.enabled else "false",
            "O2CB_STACK": conf.stack,
            "O2CB_BOOTCLUSTER": conf.cluster,
            "O2CB_HEARTBEAT_THRESHOLD": str(t.dead_threshold),
            "O2CB_IDLE_TIMEOUT_MS": str(t.idle_timeout_ms),
            "O2CB_KEEPALIVE_DELAY_MS": str(t.keepalive_delay_ms),
            "O2CB_RECONNECT_DELAY_MS": str(t.reconnect_delay_ms),
        },
        header="O2CB configuration (read by /etc/init.d/o2cb)",
    )


def _line_of(text: str, key: str) -> int:
    for lineno, line in enumerate(text.splitlines(), start=1):
        if line.strip().startswith(f"{key}="):
            return lineno
    return 0


def parse_network_hostname(text: str, path: str = NETWORK_SYSCONFIG, problems: Problems = None) -> str | None:
    """HOSTNAME= of /etc/sysconfig/network: what `hostname` prints after boot."""
    return parse_sysconfig(text, path, problems).get("HOSTNAME") or None


def ovs_release_text(version: str) -> str:
    return f"Oracle VM server release {version}\n"


def parse_ovs_release(text: str, path: str = OVS_RELEASE) -> str:
    """The version named by /etc/ovs-release ("Oracle VM server release 2.1.5")."""
    m = re.search(r"release\s+(\d+(?:\.\d+)*\S*)", text)
    if m is None:
        raise ConfigSyntaxError(path, 1, f"no 'release <version>' in {text.strip()!r}")
    return m.group(1)
