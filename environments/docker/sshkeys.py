"""A pool's own SSH key pair and the known_hosts of its servers, so every login is checked strictly.

The key pair is made per pool (never a developer's key); host keys are learned out of band (read
inside each container), never trusted on first use, so a test connecting with RejectPolicy or
StrictHostKeyChecking=yes proves it reached the server it meant to.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)  # an existing file keeps its mode through O_CREAT


def generate_key_pair(directory: Path, comment: str) -> tuple[Path, str]:
    """Write an ed25519 key pair (OpenSSH format, 0600) as `directory`/id_ed25519{,.pub}.

    Returns the private key's path and the public key line for authorized_keys.
    """
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    line = f"{public.decode()} {comment}"
    path = directory / "id_ed25519"
    _write_private(path, private)
    _write_private(directory / "id_ed25519.pub", (line + "\n").encode())
    return path, line


def host_key_from_pub(text: str, source: str) -> str:
    """'ssh-ed25519 AAAA...' from a host's .pub file (its comment dropped)."""
    words = text.split()
    if len(words) < 2 or not words[0].startswith("ssh-"):
        raise ValueError(f"{source}: not an OpenSSH public key: {text[:80]!r}")
    return f"{words[0]} {words[1]}"


def write_known_hosts(path: Path, host_keys: Mapping[str, str], port: int = 22) -> None:
    """One line per address: `ip,[ip]:port keytype key`.

    OpenSSH and paramiko look a port-22 host up by its bare address and any other port as
    `[ip]:port`; both spellings are written so either lookup finds the key.
    """
    lines = [f"{ip},[{ip}]:{port} {key}" for ip, key in sorted(host_keys.items())]
    _write_private(path, ("\n".join(lines) + "\n").encode() if lines else b"")
