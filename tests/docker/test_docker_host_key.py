"""Reading a container's host key: an empty answer after a restart is asked again, a key that
stays unreadable is one error naming the file, and no sshd or engine is needed to show it."""

from __future__ import annotations

import time
from collections.abc import Sequence

import pytest

from environments.model import CommandResult
from tests.docker.docker_support import needs_containers

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOvmHaConformanceTestKeyOnlyNotReal0000000000"


class _Answers:
    """A pool's exec, answering `cat` of the host key from a script of (rc, stdout) pairs."""

    def __init__(self, answers: Sequence[tuple[int, str]]) -> None:
        self.answers = list(answers)
        self.asked = 0

    def __call__(self, server: str, argv: Sequence[str], *, timeout_s: float = 60.0) -> CommandResult:
        rc, out = self.answers[min(self.asked, len(self.answers) - 1)]
        self.asked += 1
        return CommandResult(tuple(argv), rc, out, "" if rc == 0 else "cat: No such file or directory\n")


def _pool(answers: _Answers) -> object:
    needs_containers()
    from environments.docker.pool import ContainerPool, PoolServer

    pool = object.__new__(ContainerPool)
    pool.servers = {"server4": PoolServer("server4", "server4.example", "slot4", "id4", "10.0.0.4", "2.2")}
    pool.exec = answers  # type: ignore[method-assign]
    return pool


def test_an_empty_key_file_is_read_again_until_it_holds_the_key(monkeypatch: pytest.MonkeyPatch) -> None:

    monkeypatch.setattr(time, "sleep", lambda _s: None)
    answers = _Answers([(0, ""), (0, ""), (0, KEY + " root@server4\n")])
    pool = _pool(answers)
    assert pool._read_host_key("server4") == KEY  # type: ignore[attr-defined]
    assert answers.asked == 3


def test_a_key_that_stays_empty_is_one_error_naming_the_container_and_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from environments.docker import pool as pool_module

    clock = iter(float(t) for t in range(1000))
    monkeypatch.setattr(time, "perf_counter", lambda: next(clock))
    monkeypatch.setattr(time, "sleep", lambda _s: None)
    pool = _pool(_Answers([(0, "")]))
    with pytest.raises(pool_module.PoolStartError) as caught:
        pool._read_host_key("server4")  # type: ignore[attr-defined]
    message = str(caught.value)
    assert message.startswith(
        "server4: slot4:/etc/ssh/ssh_host_ed25519_key.pub: not an OpenSSH public key: ''"
    )
    assert "asked for 10 s" in message and "\n" not in message


def test_a_missing_key_file_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    from environments.docker import pool as pool_module

    clock = iter(float(t) for t in range(1000))
    monkeypatch.setattr(time, "perf_counter", lambda: next(clock))
    monkeypatch.setattr(time, "sleep", lambda _s: None)
    pool = _pool(_Answers([(1, "")]))
    with pytest.raises(pool_module.PoolStartError, match="cannot read it: cat: No such file or directory"):
        pool._read_host_key("server4")  # type: ignore[attr-defined]
