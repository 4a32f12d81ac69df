"""This machine's own apt sources for one Debian suite, handed to mmdebstrap as its mirrors.

mmdebstrap without a mirror argument would use its built-in default mirror; the project must
never name a mirror host, and only the machine's configured sources are reachable, so the base
image is bootstrapped from exactly the entries apt on this machine uses for that suite.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path


class AptSourcesError(RuntimeError):
    """The machine has no usable apt source for the suite (or no apt at all)."""


@dataclass
class SuiteSources:
    """Entries for one suite: one-line ("deb ...") and deb822 stanzas, and the files they came from."""

    suite: str
    one_line: list[str] = field(default_factory=list)
    deb822: list[str] = field(default_factory=list)
    origins: list[Path] = field(default_factory=list)

    def write(self, directory: Path) -> list[Path]:
        """Write the entries as mmdebstrap mirror files (.list/.sources tell it the format)."""
        written = []
        if self.one_line:
            path = directory / "machine.list"
            path.write_text("\n".join(self.one_line) + "\n")
            written.append(path)
        if self.deb822:
            path = directory / "machine.sources"
            path.write_text("\n\n".join(self.deb822) + "\n")
            written.append(path)
        return written


def source_files() -> list[Path]:
    """The files apt reads its sources from: sources.list and sources.list.d/*.list|*.sources."""
    if shutil.which("apt-config") is None:
        raise AptSourcesError(
            "apt-config not found: the base image is built from a Debian machine's apt sources"
        )
    out = subprocess.run(
        ["apt-config", "shell", "LIST", "Dir::Etc::sourcelist/f", "PARTS", "Dir::Etc::sourceparts/d"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    values = dict(re.findall(r"^(LIST|PARTS)='([^']*)'$", out, flags=re.MULTILINE))
    files = [Path(values["LIST"])] if values.get("LIST") else []
    parts = Path(values.get("PARTS") or "/etc/apt/sources.list.d")
    if parts.is_dir():
        files += sorted(p for p in parts.iterdir() if p.suffix in (".list", ".sources"))
    return [f for f in files if f.is_file()]


def _matches(name: str, suite: str) -> bool:
    return name == suite or name.startswith((f"{suite}-", f"{suite}/"))


def one_line_entries(text: str, suite: str) -> list[str]:
    """`deb [options] URI SUITE COMPONENTS...` lines of `text` whose suite belongs to `suite`."""
    kept = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line.startswith("deb "):
            continue
        rest = line[len("deb ") :].strip()
        if rest.startswith("["):
            _options, _, rest = rest.partition("]")
        words = rest.split()
        if len(words) >= 2 and _matches(words[1], suite):
            kept.append(line)
    return kept


def deb822_entries(text: str, suite: str) -> list[str]:
    """deb822 stanzas of `text` for `suite`, their Suites narrowed to it; disabled ones dropped."""
    kept = []
    for stanza in re.split(r"\n\s*\n", text):
        fields: list[tuple[str, list[str]]] = []
        for line in stanza.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            if line[0] in " \t" and fields:
                fields[-1][1].append(line)  # a continuation line (an embedded key block)
            elif ":" in line:
                name, _, value = line.partition(":")
                fields.append((name.strip(), [value.strip()]))
        values = {name.lower(): lines[0] for name, lines in fields}
        suites = [s for s in values.get("suites", "").split() if _matches(s, suite)]
        if "deb" not in values.get("types", "").split() or not suites:
            continue
        if values.get("enabled", "yes").lower() == "no":
            continue
        out = []
        for name, lines in fields:
            if name.lower() == "types":
                lines = ["deb"]
            elif name.lower() == "suites":
                lines = [" ".join(suites)]
            out.append(f"{name}: {lines[0]}".rstrip() + "".join(f"\n{cont}" for cont in lines[1:]))
        kept.append("\n".join(out))
    return kept


def sources_for_suite(suite: str, files: list[Path] | None = None) -> SuiteSources:
    """Collect the machine's entries for `suite`; raise AptSourcesError naming the files if none."""
    files = source_files() if files is None else files
    found = SuiteSources(suite)
    for path in files:
        text = path.read_text(errors="replace")
        if path.suffix == ".sources":
            entries = deb822_entries(text, suite)
            found.deb822 += entries
        else:
            entries = one_line_entries(text, suite)
            found.one_line += entries
        if entries:
            found.origins.append(path)
    if not (found.one_line or found.deb822):
        looked = ", ".join(str(p) for p in files) or "no source files at all"
        raise AptSourcesError(f"no enabled 'deb' apt source for suite {suite!r} on this machine ({looked})")
    return found
