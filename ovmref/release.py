"""Oracle VM releases whose HA behaviour the documents describe.

Rules differ per release (2.1: HA fails with the master; 2.2: another server
takes the master role by lock; 3.x: clustered pools, inbound migration lock),
so every rule, scenario and default is keyed by one of these.
"""

from __future__ import annotations

import enum
import re


class UnknownReleaseError(ValueError):
    """A release name that is none of 2.1, 2.2, 3.x."""


class Release(enum.Enum):
    R2_1 = "2.1"
    R2_2 = "2.2"
    R3 = "3.x"

    @classmethod
    def parse(cls, text: str) -> Release:
        """Accept '2.1', '2.1.2', '2.2.0', '3', '3.x', '3.0.3' and map them to a family."""
        t = text.strip().lower()
        for member in cls:
            if t == member.value:
                return member
        m = re.fullmatch(r"(\d+)(?:\.(\d+))?(?:\.\d+)*(?:[-.][\w.]+)?", t)
        if m:
            major, minor = int(m.group(1)), int(m.group(2) or 0)
            if major == 2 and minor == 1:
                return cls.R2_1
            if major == 2 and minor == 2:
                return cls.R2_2
            if major == 3:
                return cls.R3
        raise UnknownReleaseError(f"unknown Oracle VM release {text!r}: expected one of 2.1, 2.2, 3.x")

    @property
    def default_server_version(self) -> str:
        """The server version a fresh simulated server of this family reports."""
        return {Release.R2_1: "2.1.5", Release.R2_2: "2.2.0", Release.R3: "3.0.3"}[self]

    def __str__(self) -> str:
        return self.value


ALL_RELEASES: tuple[Release, ...] = tuple(Release)


def version_tuple(version: str) -> tuple[int, ...]:
    """'2.1.2' -> (2, 1, 2); non-numeric tails are dropped ('3.3.3-1085' -> (3, 3, 3))."""
    head = re.split(r"[-\s]", version.strip(), maxsplit=1)[0]
    parts: list[int] = []
    for p in head.split("."):
        if not p.isdigit():
            break
        parts.append(int(p))
    if not parts:
        raise UnknownReleaseError(f"not a version number: {version!r}")
    return tuple(parts)
