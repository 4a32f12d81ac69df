"""Build the Oracle VM Server lookalike image locally, without any container registry.

Two cached images: a Debian base bootstrapped by mmdebstrap from this machine's apt sources and
`docker import`ed with the image settings (tagged by suite, packages and settings), and the
project layer, one COPY of every file at its place in the image (tagged by the content of every
input). One layer, because each build step costs seconds on some storage drivers (3 s per step on
fuse-overlayfs), and the project layer is rebuilt whenever ovmref/ or environments/ changes.
images/ovm-server/Dockerfile is the same image for machines that can pull a Debian base.

    python -m environments.docker.image [--release 2.2] [--force]   # prints the tag
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from environments.docker.aptsources import AptSourcesError, sources_for_suite
from environments.errors import EnvironmentBroken
from ovmref.host.sysconfig import ovs_release_text
from ovmref.release import Release

ROOT = Path(__file__).resolve().parents[2]
IMAGE_DIR = ROOT / "images" / "ovm-server"
DOCKERFILE = IMAGE_DIR / "Dockerfile"
SUITE = "bookworm"
VARIANT = "minbase"
PACKAGES = ("python3", "openssh-server", "iproute2", "procps", "ocfs2-tools")
PROJECT_DIR = "/opt/ovm-ha-conformance"
TOOL_WRAPPER = "images/ovm-server/ovs-tool"
TOOLS = (
    "/usr/lib/ovs/ovs-makerepo",
    "/usr/lib/ovs/ovs-cluster-configure",
    "/usr/lib/ovs/ovs-cluster-check",
    "/usr/sbin/ocfs2_hb_ctl",
)
ENTRYPOINT = "/usr/local/sbin/ovm-entrypoint"
XM_LOOKALIKE = "images/ovm-server/xm"  # `xm list` / `xm info` of the domains a state file names
XM = "/usr/sbin/xm"
XM_STATE = "/etc/xen-lookalike/domains.json"
# (source in the repo, place in the image): the Dockerfile's COPY lines
LAYOUT: tuple[tuple[str, str], ...] = (
    ("ovmref/", f"{PROJECT_DIR}/ovmref/"),
    ("environments/", f"{PROJECT_DIR}/environments/"),
    *((TOOL_WRAPPER, tool) for tool in TOOLS),
    ("images/ovm-server/entrypoint.sh", ENTRYPOINT),
    (XM_LOOKALIKE, XM),
)
EXECUTABLES = (*TOOLS, ENTRYPOINT, XM)
# the Dockerfile's closing lines, given to `docker import --change` here
SETTINGS = (f"ENV PYTHONPATH={PROJECT_DIR}", "EXPOSE 22", f'ENTRYPOINT ["{ENTRYPOINT}"]')
BASE_REPO = "ovm-conformance-base"
SERVER_REPO = "ovm-conformance-server"
LABEL_IMAGE = "ovm-conformance.image"

Log = Callable[[str], object]


class ImageUnavailable(EnvironmentBroken, RuntimeError):
    """This machine cannot build the image at all: no Docker engine, no mmdebstrap, no apt source."""


class ImageBuildError(RuntimeError):
    """The project layer failed to build: a defect in its inputs or in this module."""


def release_text(release: str | None) -> str:
    """/etc/ovs-release's line for a release family ("2.2") or an exact version ("2.1.2")."""
    if release is None:
        return ovs_release_text(Release.R2_2.default_server_version).strip()
    family = Release.parse(release)  # raises UnknownReleaseError for anything else
    version = family.default_server_version if release.strip() == family.value else release.strip()
    return ovs_release_text(version).strip()


def _short_hash(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()[:16]


def base_tag() -> str:
    """The base image's tag: what mmdebstrap is asked for and the settings it is imported with."""
    spec = "\n".join([SUITE, VARIANT, ",".join(sorted(PACKAGES)), *SETTINGS])
    return f"{BASE_REPO}:{_short_hash(spec.encode())}"


def _walk(path: Path) -> Iterator[Path]:
    """Files under `path`, caches and hidden files left out, in a stable order."""
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith(".") and not name.endswith((".pyc", ".pyo")):
                yield Path(dirpath) / name


def layer_files(release: str | None, root: Path = ROOT) -> list[tuple[str, bytes, int]]:
    """(place in the image, content, mode) of every file the project layer adds."""
    files = []
    for source, target in LAYOUT:
        path = root / source
        if source.endswith("/"):
            if not path.is_dir():
                raise ImageBuildError(f"{path}: a directory the image copies is missing")
            for file in _walk(path):
                mode = 0o755 if os.access(file, os.X_OK) else 0o644
                files.append((target + file.relative_to(path).as_posix(), file.read_bytes(), mode))
        else:
            if not path.is_file():
                raise ImageBuildError(f"{path}: a file the image copies is missing")
            files.append((target, path.read_bytes(), 0o755 if target in EXECUTABLES else 0o644))
    files.append(("/etc/ovs-release", (release_text(release) + "\n").encode(), 0o644))
    return files


def layer_context(base: str, release: str | None, root: Path = ROOT) -> tuple[str, bytes]:
    """The project layer's content hash and build context (a Dockerfile and layer/, as a tar)."""
    dockerfile = f"FROM {base}\nCOPY layer/ /\n".encode()
    buffer = io.BytesIO()
    parts = [dockerfile]
    now = int(datetime.now().timestamp())  # not hashed: the tag follows content, not time
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        entries = [("Dockerfile", dockerfile, 0o644)]
        entries += [("layer" + target, data, mode) for target, data, mode in layer_files(release, root)]
        directories = sorted({str(parent) for name, _, _ in entries for parent in Path(name).parents} - {"."})
        for name in directories:  # explicit, so every directory the layer makes is 0755
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, now
            tar.addfile(info)
        for name, data, mode in entries:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, now
            tar.addfile(info, io.BytesIO(data))
            parts += [name.encode(), str(mode).encode(), data]
    return _short_hash(*parts), buffer.getvalue()


def docker_client() -> Any:
    """A client of the local Docker engine, or ImageUnavailable saying why there is none."""
    try:
        import docker
    except ImportError as exc:
        raise ImageUnavailable(
            "the docker package is missing: pip install 'ovm-ha-conformance[containers]'"
        ) from exc
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except Exception as exc:
        raise ImageUnavailable(f"no Docker engine answers ({type(exc).__name__}: {exc})") from exc
    return client


def _has_image(client: Any, tag: str) -> bool:
    import docker.errors

    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    return True


@contextmanager
def _build_lock() -> Iterator[None]:
    """One build at a time on this machine (pytest-xdist workers): the others then find the cache."""
    path = Path(tempfile.gettempdir()) / "ovm-conformance-image.lock"
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_mmdebstrap(log: Log) -> str:
    """mmdebstrap's path, installing Debian's package when root with apt-get may do so."""
    found = shutil.which("mmdebstrap")
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise ImageUnavailable(
            "mmdebstrap is not installed (and this is not root with apt-get): apt-get install mmdebstrap"
        )
    log("installing mmdebstrap with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for argv in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "mmdebstrap"]):
        done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=900)
        if done.returncode != 0:
            raise ImageUnavailable(f"{' '.join(argv)} failed (exit {done.returncode}): {done.stderr[-800:]}")
    found = shutil.which("mmdebstrap")
    if not found:
        raise ImageUnavailable("apt-get installed mmdebstrap but it is not on PATH")
    return found


def _bootstrap(mmdebstrap: str, workdir: Path) -> Path:
    """A root filesystem tarball of the base, from this machine's apt sources for the suite."""
    try:
        mirrors = sources_for_suite(SUITE).write(workdir)
    except AptSourcesError as exc:
        raise ImageUnavailable(str(exc)) from exc
    except (OSError, subprocess.SubprocessError) as exc:
        raise ImageUnavailable(f"cannot read this machine's apt sources: {exc}") from exc
    rootfs = workdir / "rootfs.tar"
    logfile = workdir / "mmdebstrap.log"
    argv = [
        mmdebstrap,
        f"--variant={VARIANT}",
        f"--include={','.join(PACKAGES)}",
        f"--logfile={logfile}",
        SUITE,
        str(rootfs),
        *map(str, mirrors),
    ]

    def tail(fallback: str) -> str:
        text = logfile.read_text(errors="replace") if logfile.exists() else fallback
        return "\n".join(text.splitlines()[-25:])

    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=1800)
    except subprocess.TimeoutExpired as exc:
        raise ImageUnavailable(f"mmdebstrap of {SUITE} took over {exc.timeout:g} s:\n{tail('')}") from exc
    if done.returncode != 0:
        raise ImageUnavailable(
            f"mmdebstrap failed (exit {done.returncode}) for {SUITE}:\n{tail(done.stderr)}"
        )
    return rootfs


def build_base(client: Any, *, force: bool, log: Log) -> str:
    """The base image: bootstrapped and imported once, then found by its tag."""
    tag = base_tag()
    start = time.perf_counter()
    if not force and _has_image(client, tag):
        log(f"base image {tag}: cached ({time.perf_counter() - start:.2f} s)")
        return tag
    mmdebstrap = ensure_mmdebstrap(log)
    log(f"base image {tag}: bootstrapping {SUITE} ({', '.join(PACKAGES)}) with mmdebstrap")
    with tempfile.TemporaryDirectory(prefix="ovm-conformance-rootfs-") as tmp:
        rootfs = _bootstrap(mmdebstrap, Path(tmp))
        bootstrapped = time.perf_counter()
        repository, _, version = tag.partition(":")
        client.api.import_image(
            src=str(rootfs),
            repository=repository,
            tag=version,
            changes=[*SETTINGS, f"LABEL {LABEL_IMAGE}=base"],
        )
    if not _has_image(client, tag):
        raise ImageBuildError(f"docker import of {rootfs.name} did not produce {tag}")
    now = time.perf_counter()
    log(
        f"base image {tag}: built in {now - start:.1f} s "
        f"(mmdebstrap {bootstrapped - start:.1f} s, docker import {now - bootstrapped:.1f} s)"
    )
    return tag


def build_server(client: Any, base: str, release: str | None, *, force: bool, log: Log) -> str:
    """The project layer on `base`, tagged by the content of every input: rebuilt only on change."""
    import docker.errors

    start = time.perf_counter()
    content_hash, context = layer_context(base, release)
    tag = f"{SERVER_REPO}:{content_hash}"
    if not force and _has_image(client, tag):
        log(f"server image {tag}: cached ({time.perf_counter() - start:.2f} s)")
        return tag
    try:
        client.images.build(
            fileobj=io.BytesIO(context),
            custom_context=True,
            tag=tag,
            network_mode="none",  # the project layer only copies files: it needs no network
            pull=False,
            rm=True,
            forcerm=True,
        )
    except docker.errors.BuildError as exc:
        tail = "".join(str(step.get("stream") or step.get("error") or "") for step in exc.build_log)
        raise ImageBuildError(f"building {tag} on {base} failed: {exc}\n{tail[-2000:]}") from exc
    elapsed = time.perf_counter() - start
    log(f"server image {tag}: built in {elapsed:.1f} s ({len(context) // 1024} KiB context)")
    _prune_old_servers(client, tag, log)
    return tag


def _prune_old_servers(client: Any, keep: str, log: Log, age: timedelta = timedelta(days=1)) -> None:
    """Drop project layers of earlier sources, a day old and used by no container.

    Each edit of ovmref/ or environments/ makes a new one; a younger one may belong to a test run
    going on from another checkout, and Docker refuses to remove one a container uses.
    """
    import docker.errors

    cutoff = datetime.now(UTC) - age
    for old in client.images.list(name=SERVER_REPO):
        created = datetime.fromisoformat(old.attrs["Created"][:19]).replace(tzinfo=UTC)
        if keep in old.tags or created > cutoff:
            continue
        try:
            client.images.remove(old.id, noprune=False)
            log(f"removed the old project layer {', '.join(old.tags)}")
        except docker.errors.APIError:
            pass  # in use by a container, or removed meanwhile


def build_image(release: str | None = None, *, force: bool = False, log: Log = print) -> str:
    """Build (or find cached) the lookalike image; return its tag. `force` rebuilds both layers."""
    client = docker_client()
    start = time.perf_counter()
    try:
        with _build_lock():
            base = build_base(client, force=force, log=log)
            tag = build_server(client, base, release, force=force, log=log)
    finally:
        client.close()
    log(f"image {tag} ready in {time.perf_counter() - start:.1f} s")
    return tag


EXIT_UNAVAILABLE = 3  # no Docker engine, no mmdebstrap or no apt source: nothing to build with


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m environments.docker.image", description="Build the Oracle VM Server lookalike image."
    )
    parser.add_argument("--release", help="the default /etc/ovs-release: 2.1, 2.2, 3.x or a version")
    parser.add_argument("--force", action="store_true", help="rebuild both layers even if cached")
    args = parser.parse_args(argv)

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        tag = build_image(args.release, force=args.force, log=log)
    except ImageUnavailable as exc:  # this machine cannot build it at all: the tests that need it skip
        print(f"unavailable: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except (ImageBuildError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(tag)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
