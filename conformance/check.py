"""`ovm-conformance check FILE...`: every problem of a server's configuration file, one line each.

A file is read the way the tool that uses it reads it (cluster.conf exactly as o2cb does, fstab as
libmount does), then the rules that need only that one file are run (for cluster.conf: a node on
a loopback address, an empty file, a node_count that does not match, two nodes numbered alike, a
node in a cluster that does not exist, ...). Every problem is printed as `FILE:LINE: problem`
(`FILE: problem` for the whole file), then one summary line per file.

Exit status (documented in `--help` and docs/check.md):
  0  every file is valid
  1  problems found in at least one file
  2  usage error (unknown option or kind, a format that cannot be told from the name)
  3  a file cannot be read at all (missing, permission denied, not UTF-8 text)
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ovmref.errors import ConfigSyntaxError

VALID, PROBLEMS, USAGE, UNREADABLE = 0, 1, 2, 3
EXIT_CODES = (
    "exit status: 0 valid, 1 problems found, 2 usage error, 3 a file cannot be read (missing, "
    "permission denied, not text)"
)


@dataclass(frozen=True)
class Problem:
    line: int  # 0: the whole file
    message: str

    def render(self, path: str) -> str:
        return f"{path}:{self.line}: {self.message}" if self.line else f"{path}: {self.message}"


@dataclass(frozen=True)
class CheckResult:
    problems: tuple[Problem, ...]
    summary: str


class Unreadable(Exception):
    """The file cannot be read at all; the message says why."""


class UnknownKind(ValueError):
    """The file's format cannot be told from its name."""


def _from_error(error: ConfigSyntaxError) -> Problem:
    return Problem(error.line, error.message)


def check_cluster_conf(text: str, path: str) -> CheckResult:
    from ovmref.cluster.clusterconf import cluster_conf_findings, read_cluster_conf

    try:
        read = read_cluster_conf(text, path)
    except ConfigSyntaxError as exc:
        return CheckResult((_from_error(exc),), "o2cb cannot use this file")
    conf = read.conf
    problems = tuple(Problem(f.line, f.message) for f in cluster_conf_findings(read))
    summary = (
        f"{len(conf.clusters)} cluster(s), {len(conf.nodes)} node(s), "
        f"{len(conf.heartbeats)} heartbeat region(s)"
    )
    return CheckResult(problems, summary)


_UUID = re.compile(r"[0-9A-Fa-f]{32}|[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}")
_SOURCE = re.compile(r"\S+:/\S*|/dev/\S+")


def check_repositories(text: str, path: str) -> CheckResult:
    """/etc/ovs/repositories: its line format is in no stored material, so what is checked is
    what every format must hold: each line names a repository (its UUID or its source), once."""
    from ovmref.storage.repositories import normalize_source

    problems: list[Problem] = []
    seen: Counter[str] = Counter()
    count = 0
    for lineno, raw in enumerate(text.splitlines(), start=1):
        words = [w.strip("\"'") for w in raw.split("#", 1)[0].split()]
        if not words:
            continue
        count += 1
        named = [w.replace("-", "").upper() for w in words if _UUID.fullmatch(w)]
        named += [normalize_source(w) for w in words if _SOURCE.fullmatch(w)]
        if not named:
            problems.append(Problem(lineno, "names no repository: no UUID (32 hex digits) and no source "
                                    "(host:/export or /dev/...)"))
        for name in named:
            seen[name] += 1
            if seen[name] == 2:
                problems.append(Problem(lineno, f"{name} is named by an earlier line too"))
    summary = f"{count} line(s) naming repositories (the line format is not documented: only UUIDs and " \
        "sources are checked)"
    return CheckResult(tuple(problems), summary)


def check_fstab(text: str, path: str) -> CheckResult:
    from ovmref.storage.fstab import parse_fstab

    skipped: list[ConfigSyntaxError] = []
    entries = parse_fstab(text, path, problems=skipped)
    problems = tuple(Problem(e.line, f"{e.message} (mount skips this line)") for e in skipped)
    ovs = sum(1 for e in entries if e.is_ovs)
    return CheckResult(problems, f"{len(entries)} mount(s), {ovs} under /OVS")


CHECKERS: dict[str, Callable[[str, str], CheckResult]] = {
    "cluster.conf": check_cluster_conf,
    "repositories": check_repositories,
    "fstab": check_fstab,
}


def guess_kind(path: Path) -> str:
    name = path.name
    for kind in CHECKERS:
        if name == kind or name.startswith(kind) or name.endswith(kind):
            return kind
    raise UnknownKind(f"{path}: cannot tell the file's format from its name; use --kind {'|'.join(CHECKERS)}")


def read_file(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Unreadable(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Unreadable(f"{path}: cannot read: not UTF-8 text (byte {exc.start})") from None


def check_file(path: Path, kind: str | None) -> tuple[str, CheckResult]:
    """(kind, result); raises UnknownKind or Unreadable."""
    kind = kind or guess_kind(path)
    return kind, CHECKERS[kind](read_file(path), str(path))
