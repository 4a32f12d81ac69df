"""The lookalike Manager, started and stopped around each test that asks for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.manager.lookalike import Lookalike, pool, server, serving, vm
from tests.ssh.conftest import sshd  # noqa: F401  (the loopback sshd of the CLI tests)


def healthy_objects() -> dict[str, list[dict[str, object]]]:
    """Three VMs whose ids are the names the tests' `xm list` shows (web1, db1, tools): a guest is
    matched to its Vm by id (environments/manager/match.py)."""
    return {
        "Server": [server("vmserver1"), server("vmserver2")],
        "ServerPool": [pool("pool1", True, "vmserver1")],
        "Vm": [
            vm("web1", "vmserver1", True, vm_id_value="web1"),
            vm("db1", "vmserver2", True, crash="STOP", vm_id_value="db1"),
            vm("tools", "vmserver2", False, vm_id_value="tools"),
        ],
    }


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[Lookalike]:
    with serving(tmp_path, healthy_objects()) as look:  # type: ignore[arg-type]
        yield look
