"""The SSH driver's tests log into a real sshd on loopback (see sshd_server); they skip, saying
why, when openssh-server is not installed (`.ci/run` installs it as root)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.ssh.sshd_server import Sshd, SshdUnavailable, running_sshd


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    try:
        server = running_sshd(tmp_path_factory.mktemp("sshd"))
        started = server.__enter__()
    except SshdUnavailable as exc:
        pytest.skip(str(exc))
    try:
        yield started
    finally:
        server.__exit__(None, None, None)
