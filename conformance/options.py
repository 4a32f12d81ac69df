"""Command-line options of a conformance run, parsed once and validated up front.

A typo in a release or environment name must stop the run with one clear
line before anything is collected, not surface later as skipped scenarios.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shlex
import tempfile
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

import environments
from conformance.catalog import Catalog, load_catalog
from ovmref.release import ALL_RELEASES, Release, UnknownReleaseError


class OptionError(ValueError):
    """A bad option value; the message is meant for the user as it is."""


@dataclass(frozen=True)
class OvmOptions:
    environment: str
    releases: tuple[Release, ...]
    seed: int
    report_dir: Path
    write_report: bool
    run_id: str
    catalog_path: Path | None = None
    allow_destructive: str | None = None  # pool name a destructive run was explicitly allowed on
    inventory: Path | None = None  # real hosts (the ssh environment)
    pool_name: str | None = None  # the inventory's pool
    features_dir: Path | None = None  # a user's own feature folder (None: the suite's)
    allure_dir: Path | None = None  # also write allure results there
    force: bool = False  # an existing run directory of the same id may be replaced
    latest: str = "auto"  # move reports/latest: auto (a run of the whole suite), yes, no
    caller: str = "pytest"  # "cli": ovm-conformance prints the closing summary itself

    def driver_options(self) -> dict[str, object]:
        """What environments.create needs beyond release and seed (the ssh environment's pool)."""
        if self.inventory is None:
            return {}
        return {"inventory": self.inventory, "allow_destructive": self.allow_destructive}

    def target(self) -> str:
        """What the report names as the pool checked: a real pool's name, inventory and mode."""
        if self.pool_name is None:
            return ""
        mode = (
            f"destructive scenarios allowed (--ovm-allow-destructive {self.allow_destructive})"
            if self.allow_destructive is not None
            else "read-only"
        )
        return f"{self.pool_name} (inventory {self.inventory}), {mode}"

    def not_allowed_reason(self, destructive: bool) -> str:
        """Why a destructive scenario does not start on a real pool, or '' when it may."""
        if not destructive or self.environment != "ssh" or self.allow_destructive is not None:
            return ""
        return (
            f"destructive on the real pool {self.pool_name}: not run unless allowed "
            f"(ovm-conformance run --allow-destructive {self.pool_name}; "
            f"pytest --ovm-allow-destructive {self.pool_name})"
        )


def parse_releases(text: str) -> tuple[Release, ...]:
    """'all', one release or a comma list; returned in the canonical order 2.1, 2.2, 3.x."""
    if text.strip().lower() == "all":
        return ALL_RELEASES
    chosen: set[Release] = set()
    for part in text.split(","):
        if not part.strip():
            continue
        try:
            chosen.add(Release.parse(part))
        except UnknownReleaseError as exc:
            raise OptionError(f"{exc} (or 'all')") from None
    if not chosen:
        raise OptionError(f"no release given in {text!r}: use 2.1, 2.2, 3.x, a comma list or 'all'")
    return tuple(r for r in ALL_RELEASES if r in chosen)


def check_environment(name: str) -> str:
    known = environments.available()
    if name not in known:
        raise OptionError(f"unknown environment {name!r}: choose one of {', '.join(known)}")
    return name


def check_real_pool(
    environment: str, inventory: Path | None, allow_destructive: str | None, prefix: str = "--ovm-"
) -> str | None:
    """The inventory's pool name for --ovm-env ssh (None elsewhere), after checking that the
    inventory parses and that --ovm-allow-destructive, if given, names that very pool.

    `prefix` names the options as the caller spells them: "--ovm-" for pytest, "--" for the CLI."""
    env, inv, allow = f"{prefix}env", f"{prefix}inventory", f"{prefix}allow-destructive"
    if environment != "ssh":
        for given, option in ((inventory, inv), (allow_destructive, allow)):
            if given is not None:
                raise OptionError(f"{option} is for a real pool: use it with {env} ssh")
        return None
    if inventory is None:
        raise OptionError(f"{env} ssh needs the pool's inventory: {inv} pool.yaml")
    from environments.ssh.inventory import InventoryError, WrongPoolError, allows_destructive, load_inventory

    try:
        pool = load_inventory(inventory)
        allows_destructive(pool, allow_destructive, inventory)
    except (InventoryError, WrongPoolError) as exc:
        raise OptionError(str(exc).replace("--ovm-allow-destructive", allow)) from None
    return pool.pool


RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def check_run_id(run_id: str | None, option: str = "--run-id") -> str | None:
    """A run id names one directory inside the report directory: no path, no parent, no hidden name."""
    if run_id is None:
        return None
    if not RUN_ID.fullmatch(run_id) or run_id in (".", ".."):
        raise OptionError(
            f"{option} {run_id!r}: use letters, digits, '.', '_' and '-' (a directory name, no path)"
        )
    return run_id


def check_writable_dir(path: Path, option: str) -> Path:
    """Prove that `path` is (or can become) a directory that takes files, before any scenario runs.

    Directories made for the proof are removed again: a run that stops at a later check leaves
    nothing behind."""
    if path.exists() and not path.is_dir():
        raise OptionError(f"{option} {path}: exists and is not a directory")
    made = [p for p in (path, *path.parents) if not p.exists()]
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".ovm-write-check.", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OptionError(f"{option} {path}: cannot write there: {exc.strerror or exc}") from None
    finally:
        for directory in made:  # innermost first
            with contextlib.suppress(OSError):
                directory.rmdir()
    return path


def new_run_id() -> str:
    """UTC timestamp plus a little randomness, so parallel runs never share a directory."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def derive_seed(base_seed: int, nodeid: str) -> int:
    """A scenario's own seed: stable across processes (unlike hash()), so -n N equals a serial run."""
    return zlib.crc32(f"{base_seed}:{nodeid}".encode())


REPLAY_PROGRAM = "python3 -m conformance"  # works wherever the package is installed (and in a checkout)


def replay_command(
    environment: str,
    release: str,
    base_seed: int,
    nodeid: str,
    inventory: Path | None = None,
    features_dir: Path | None = None,
) -> str:
    pool = f" --inventory {shlex.quote(str(inventory))}" if inventory is not None else ""
    features = f" --features {shlex.quote(str(features_dir))}" if features_dir is not None else ""
    return (
        f"{REPLAY_PROGRAM} run --env {shlex.quote(environment)}{pool}{features} "
        f"--release {shlex.quote(release)} --seed {base_seed} --scenario {shlex.quote(nodeid)}"
    )


# ---- access from pytest hooks ------------------------------------------------------------
OPTIONS_KEY = pytest.StashKey[OvmOptions]()
CATALOG_KEY = pytest.StashKey[Catalog]()


def ovm_options_of(config: pytest.Config) -> OvmOptions:
    return config.stash[OPTIONS_KEY]


def catalog_of(config: pytest.Config) -> Catalog:
    """The catalog, loaded on first use so runs without scenarios (unit tests) never need one."""
    if CATALOG_KEY not in config.stash:
        config.stash[CATALOG_KEY] = load_catalog(ovm_options_of(config).catalog_path)
    return config.stash[CATALOG_KEY]


def is_controller(config: pytest.Config) -> bool:
    """False inside pytest-xdist workers: only the controller collects results and writes reports."""
    return not hasattr(config, "workerinput")
