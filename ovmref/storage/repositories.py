"""/etc/ovs/repositories and /etc/ovs/repositories.options (Oracle VM 2.x storage repositories).

The real line format is not in any stored material (the 2.1 User's Guide's section 7.3
"Repository Configuration File" is cut off in every stored copy, and no real line has been found),
so there are two readers. A real server's file is read by `repository_mentions` only: which
repository UUIDs and sources its lines name, whatever else they hold. The model of this suite
(the simulator, the lookalike servers' installs) writes and parses its own line format, kept
stable:

    # <UUID, 32 hex digits>  <source>  <flag>  [description ...]
    0A1B...  example.com:/OVS  C  cluster root

flag is `C` for the cluster root (at most one) and `-` for any other
repository; the description is the rest of the line. Every repository,
including the one mounted at /OVS, must be listed here (white paper).

repositories.options holds mount options per repository:

    <UUID>  <comma-separated mount options>
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from ovmref.errors import ConfigSyntaxError
from ovmref.storage.fstab import FSTAB, PROC_MOUNTS, MountEntry, parse_fstab, render_fstab

__all__ = [
    "FSTAB",
    "PROC_MOUNTS",
    "REPOSITORIES",
    "REPOSITORIES_OPTIONS",
    "MountEntry",
    "Repository",
    "RepositoryList",
    "parse_fstab",
    "parse_repositories",
    "parse_repository_options",
    "render_fstab",
    "render_repositories",
    "render_repository_options",
    "repository_mentions",
    "uuid_for_source",
]

REPOSITORIES = "/etc/ovs/repositories"
REPOSITORIES_OPTIONS = "/etc/ovs/repositories.options"
_UUID = re.compile(r"[0-9A-F]{32}")


def uuid_for_source(source: str) -> str:
    """A stable repository UUID for a source (ovs-makerepo names NFS repositories; no randomness here)."""
    return hashlib.md5(source.rstrip("/").encode(), usedforsecurity=False).hexdigest().upper()


def normalize_source(source: str) -> str:
    """`host:/OVS/` and `host:/OVS` are the same export."""
    return source if source.endswith(":/") or source == "/" else source.rstrip("/")


@dataclass(frozen=True)
class Repository:
    uuid: str
    source: str
    cluster_root: bool = False
    description: str = ""


@dataclass(frozen=True)
class RepositoryList:
    repositories: tuple[Repository, ...] = ()

    @property
    def cluster_root(self) -> Repository | None:
        return next((r for r in self.repositories if r.cluster_root), None)

    def by_source(self, source: str) -> Repository | None:
        wanted = normalize_source(source)
        return next((r for r in self.repositories if normalize_source(r.source) == wanted), None)

    def by_uuid(self, uuid: str) -> Repository | None:
        return next((r for r in self.repositories if r.uuid == uuid.upper()), None)

    def with_added(self, repo: Repository) -> RepositoryList:
        return RepositoryList((*self.repositories, repo))


def parse_repositories(text: str, path: str = REPOSITORIES) -> RepositoryList:
    repos: list[Repository] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split(None, 3)
        if len(fields) < 3:
            raise ConfigSyntaxError(path, lineno, "expected '<UUID> <source> <C|-> [description]'")
        uuid, source, flag = fields[0], fields[1], fields[2]
        if not _UUID.fullmatch(uuid):
            raise ConfigSyntaxError(path, lineno, f"repository UUID {uuid!r} must be 32 uppercase hex digits")
        if flag not in ("C", "-"):
            raise ConfigSyntaxError(path, lineno, f"flag must be C (cluster root) or -, got {flag!r}")
        if ":/" not in source and not source.startswith("/"):
            raise ConfigSyntaxError(
                path, lineno, f"source {source!r} is neither host:/export nor a device path"
            )
        current = RepositoryList(tuple(repos))
        if current.by_uuid(uuid):
            raise ConfigSyntaxError(path, lineno, f"duplicate repository UUID {uuid}")
        if current.by_source(source):
            raise ConfigSyntaxError(path, lineno, f"source {source} is listed twice")
        if flag == "C" and current.cluster_root:
            raise ConfigSyntaxError(
                path, lineno, f"second cluster root (first: {current.cluster_root.source})"
            )
        repos.append(Repository(uuid, source, flag == "C", fields[3] if len(fields) > 3 else ""))
    return RepositoryList(tuple(repos))


def render_repositories(repos: RepositoryList) -> str:
    lines = ["# Oracle VM Server repositories: <UUID> <source> <C=cluster root|-> [description]"]
    for r in repos.repositories:
        lines.append(f"{r.uuid} {r.source} {'C' if r.cluster_root else '-'} {r.description}".rstrip())
    return "\n".join(lines) + "\n"


def parse_repository_options(text: str, path: str = REPOSITORIES_OPTIONS) -> dict[str, tuple[str, ...]]:
    options: dict[str, tuple[str, ...]] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        if len(fields) != 2:
            raise ConfigSyntaxError(path, lineno, "expected '<UUID> <option,option,...>'")
        if not _UUID.fullmatch(fields[0]):
            raise ConfigSyntaxError(
                path, lineno, f"repository UUID {fields[0]!r} must be 32 uppercase hex digits"
            )
        if fields[0] in options:
            raise ConfigSyntaxError(path, lineno, f"options for {fields[0]} given twice")
        opts = tuple(fields[1].split(","))
        if any(not o for o in opts):
            raise ConfigSyntaxError(path, lineno, f"empty mount option in {fields[1]!r}")
        options[fields[0]] = opts
    return options


def render_repository_options(options: dict[str, tuple[str, ...]]) -> str:
    return "".join(f"{uuid} {','.join(opts)}\n" for uuid, opts in options.items())


_SOURCE_WORD = re.compile(r"\S+:/\S*|/dev/\S+")
_UUID_WORD = re.compile(
    r"[0-9A-Fa-f]{32}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
)


def repository_mentions(text: str) -> frozenset[str]:
    """Every repository UUID (upper case, no dashes) and source (normalised) the file's lines
    name, comments and blank lines left out: all that can be read from a file whose format is
    not known."""
    found: set[str] = set()
    for raw in text.splitlines():
        line = raw.split("#", 1)[0]
        for word in line.split():
            word = word.strip("\"'")
            if _UUID_WORD.fullmatch(word):
                found.add(word.replace("-", "").upper())
            elif _SOURCE_WORD.fullmatch(word):
                found.add(normalize_source(word))
    return frozenset(found)
