"""The lookalike image: one definition for the registry Dockerfile and the local build, cached builds.

The first tests need no Docker engine: they hold the Dockerfile to what the local build makes and
check the content hash that names the project layer. The last builds the image twice.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

from environments.docker import image
from environments.docker.aptsources import (
    AptSourcesError,
    deb822_entries,
    one_line_entries,
    sources_for_suite,
)
from ovmref.release import UnknownReleaseError


def _dockerfile_instructions() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", image.DOCKERFILE.read_text())
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_the_dockerfile_installs_the_packages_the_local_base_bootstraps() -> None:
    lines = _dockerfile_instructions()
    assert lines[0] == f"FROM debian:{image.SUITE}-slim"
    (install,) = [line for line in lines if "apt-get install" in line]
    packages = install.split("--no-install-recommends", 1)[1].split("&&", 1)[0].split()
    assert sorted(packages) == sorted(image.PACKAGES)


def test_the_dockerfile_copies_and_configures_what_the_local_layer_holds() -> None:
    lines = _dockerfile_instructions()
    copies = tuple(tuple(line.split()[1:]) for line in lines if line.startswith("COPY "))
    assert copies == image.LAYOUT
    assert tuple(lines[-len(image.SETTINGS) :]) == image.SETTINGS
    (chmod,) = [line for line in lines if "chmod 0755" in line]
    assert set(image.EXECUTABLES) <= set(chmod.split())
    assert "/etc/ovs-release" in next(line for line in lines if line.startswith("RUN printf"))


def test_the_layer_puts_tools_at_oracles_paths_executable() -> None:
    files = {target: mode for target, _data, mode in image.layer_files(None)}
    for tool in image.TOOLS:
        assert files[tool] == 0o755, tool
    assert files[image.ENTRYPOINT] == 0o755
    assert files["/opt/ovm-ha-conformance/ovmref/release.py"] == 0o644
    assert not [t for t in files if "__pycache__" in t or t.endswith(".pyc")]


def test_the_release_file_names_the_release() -> None:
    assert image.release_text(None) == "Oracle VM server release 2.2.0"
    assert image.release_text("2.1") == "Oracle VM server release 2.1.5"
    assert image.release_text("3.0.3") == "Oracle VM server release 3.0.3"
    files = {target: data for target, data, _mode in image.layer_files("2.1.2")}
    assert files["/etc/ovs-release"] == b"Oracle VM server release 2.1.2\n"
    with pytest.raises(UnknownReleaseError):
        image.release_text("4.0")


def _copy_inputs(root: Path) -> None:
    for source, _target in image.LAYOUT:
        src, dst = image.ROOT / source, root / source
        if source.endswith("/"):
            shutil.copytree(src, dst, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)


def test_the_layer_tag_follows_content_only(tmp_path: Path) -> None:
    _copy_inputs(tmp_path)
    first, _ = image.layer_context("base:1", None, tmp_path)
    assert image.layer_context("base:1", None, tmp_path)[0] == first
    cache = tmp_path / "ovmref" / "__pycache__"
    cache.mkdir()
    (cache / "release.cpython-311.pyc").write_bytes(b"\0")
    assert image.layer_context("base:1", None, tmp_path)[0] == first, "a bytecode cache changed the tag"
    (tmp_path / "ovmref" / "release.py").write_text("# changed\n", encoding="utf-8")
    assert image.layer_context("base:1", None, tmp_path)[0] != first, "a source change kept the tag"
    assert (
        image.layer_context("base:2", None, image.ROOT)[0]
        != image.layer_context("base:1", None, image.ROOT)[0]
    )
    assert (
        image.layer_context("base:1", "2.1", image.ROOT)[0]
        != image.layer_context("base:1", None, image.ROOT)[0]
    )


def test_apt_sources_are_narrowed_to_the_suite(tmp_path: Path) -> None:
    one_line = (
        "deb http://mirror.invalid/debian bookworm main\n"
        "# deb http://mirror.invalid/debian bookworm-backports main\n"
        "deb-src http://mirror.invalid/debian bookworm main\n"
        "deb [signed-by=/k.gpg] http://mirror.invalid/security bookworm-security main\n"
        "deb http://mirror.invalid/debian trixie main\n"
    )
    assert one_line_entries(one_line, "bookworm") == [
        "deb http://mirror.invalid/debian bookworm main",
        "deb [signed-by=/k.gpg] http://mirror.invalid/security bookworm-security main",
    ]
    key = " -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n -----END PGP PUBLIC KEY BLOCK-----"
    deb822 = (
        "Types: deb deb-src\nURIs: http://mirror.invalid/debian\nSuites: bookworm bookworm-updates trixie\n"
        f"Components: main\nSigned-By:\n{key}\n"
        "\n"
        "Types: deb\nURIs: http://mirror.invalid/other\nSuites: bookworm\nComponents: main\nEnabled: no\n"
        "\n"
        "# a comment\nTypes: deb\nURIs: http://mirror.invalid/node\nSuites: nodistro\nComponents: main\n"
    )
    assert deb822_entries(deb822, "bookworm") == [
        "Types: deb\nURIs: http://mirror.invalid/debian\nSuites: bookworm bookworm-updates\n"
        f"Components: main\nSigned-By:\n{key}"
    ]
    (tmp_path / "a.sources").write_text(deb822)
    (tmp_path / "b.list").write_text(one_line)
    found = sources_for_suite("bookworm", [tmp_path / "a.sources", tmp_path / "b.list"])
    out = tmp_path / "out"
    out.mkdir()
    written = found.write(out)
    assert [p.name for p in written] == ["machine.list", "machine.sources"]
    assert "trixie" not in "".join(p.read_text() for p in written)
    with pytest.raises(AptSourcesError, match=r"no enabled 'deb' apt source for suite 'sid'.*b\.list"):
        sources_for_suite("sid", [tmp_path / "b.list"])


def test_building_twice_gives_the_same_tag_and_the_second_is_cached(image_tag: str) -> None:
    first = image.build_image(log=lambda _line: None)  # image_tag's inputs may have been edited since
    lines: list[str] = []
    start = time.perf_counter()
    second = image.build_image(log=lines.append)
    elapsed = time.perf_counter() - start
    assert second == first
    assert second.startswith(f"{image.SERVER_REPO}:")
    assert [bool(re.search(r"^(base|server) image \S+: cached \(", line)) for line in lines[:2]] == [
        True,
        True,
    ], lines
    assert elapsed < 10, f"a cached build took {elapsed:.1f} s: {lines}"
