"""Helpers of the container tests: skipping without the optional dependencies, strict SSH."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

MISSING = [m for m in ("docker", "testcontainers", "paramiko") if importlib.util.find_spec(m) is None]


def needs_containers() -> None:
    if MISSING:
        pytest.skip(
            f"needs the containers extra ({', '.join(MISSING)} missing): pip install -e '.[containers]'"
        )


def ssh_client(pool: Any, server: str, known_hosts: str | None = None) -> Any:
    """A paramiko client logged in as root with the pool's key, host key checked strictly."""
    import paramiko

    client = paramiko.SSHClient()
    client.load_host_keys(known_hosts or str(pool.known_hosts_path))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect(
        pool.server(server).ip,
        port=22,
        username="root",
        key_filename=str(pool.key_path),
        look_for_keys=False,
        allow_agent=False,
        timeout=10,
        banner_timeout=10,
        auth_timeout=10,
    )
    return client


def ssh_run(pool: Any, server: str, command: str, timeout_s: float = 30) -> tuple[int, str, str]:
    client = ssh_client(pool, server)
    try:
        _stdin, stdout, stderr = client.exec_command(command, timeout=timeout_s)
        out, err = stdout.read().decode(), stderr.read().decode()
        return stdout.channel.recv_exit_status(), out, err
    finally:
        client.close()
