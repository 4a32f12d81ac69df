"""The GET-only Manager client against the lookalike Manager: the calls python-ovmclient makes,
TLS verified (refused without the CA), nothing but GET can be sent, a refusing or unreachable
Manager is one line naming the host and never the password."""

from __future__ import annotations

import inspect
import socket
from pathlib import Path

import pytest
import requests

from environments.manager.client import (
    API_PATH,
    CredentialsError,
    ManagerClient,
    ManagerUnavailable,
    NotGetError,
    read_password,
)
from environments.manager.facts import ask_manager
from environments.ssh.inventory import ManagerEntry
from tests.manager.lookalike import PASSWORD, USER, Lookalike


def _entry(look: Lookalike, *, ca: bool = True, port: int | None = None) -> ManagerEntry:
    return ManagerEntry(
        look.host, port or look.port, USER, password_env="OVM_TEST_PW", ca_file=look.ca_file if ca else None
    )


ENV = {"OVM_TEST_PW": PASSWORD}


def test_reads_servers_pool_and_vms_with_the_calls_python_ovmclient_makes(manager: Lookalike) -> None:
    facts = ask_manager(_entry(manager), ENV)
    assert [(m, p) for m, p, _ in manager.seen] == [
        ("GET", f"{API_PATH}/Server"),
        ("GET", f"{API_PATH}/ServerPool"),
        ("GET", f"{API_PATH}/Vm"),
    ]
    assert all(accept == "application/json" for _, _, accept in manager.seen) and all(manager.auth_ok)
    assert [(s.name, s.maintenance) for s in facts.servers] == [("vmserver1", False), ("vmserver2", False)]
    (pool,) = facts.pools
    assert (pool.name, pool.clustered, pool.master, pool.servers) == (
        "pool1",
        True,
        "vmserver1",
        ("vmserver1", "vmserver2"),
    )
    vms = {v.name: v for v in facts.vms}
    assert (vms["web1"].ha, vms["web1"].restart_on_crash, vms["web1"].server, vms["web1"].memory_mb) == (
        True,
        "RESTART",
        "vmserver1",
        1024,
    )
    assert (vms["db1"].restart_on_crash, vms["tools"].ha, vms["tools"].start_policy) == (
        "STOP",
        False,
        "BEST_SERVER",
    )


@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS"])
def test_no_request_other_than_get_can_be_sent(manager: Lookalike, method: str) -> None:
    client = ManagerClient(_entry(manager), PASSWORD)
    url = f"{client.base}/Vm/0004fb0000060000/stop"
    with pytest.raises(NotGetError, match=method):
        client._session.request(method, url, timeout=5)  # even the private session refuses
    with pytest.raises(NotGetError):
        client._session.send(requests.Request(method, url).prepare(), timeout=5)
    assert manager.seen == [], "a non-GET request reached the Manager"
    client.list("Vm")  # and GET still goes through the same session
    assert [m for m, _, _ in manager.seen] == ["GET"]


def test_the_client_offers_only_listing_three_types() -> None:
    public = {n for n, _ in inspect.getmembers(ManagerClient, inspect.isfunction) if not n.startswith("_")}
    assert public == {"list", "close"}
    client = ManagerClient(ManagerEntry("127.0.0.1", 1, USER, "X"), PASSWORD)
    with pytest.raises(ValueError, match="Job"):
        client.list("Job")  # type: ignore[arg-type]


def test_an_unverified_certificate_is_refused_unless_ca_file_names_its_ca(manager: Lookalike) -> None:
    with pytest.raises(ManagerUnavailable, match=r"127\.0\.0\.1: its TLS certificate is not trusted"):
        ask_manager(_entry(manager, ca=False), ENV)
    assert manager.seen == [], "the request went through an untrusted TLS session"
    assert ask_manager(_entry(manager, ca=True), ENV).pools


@pytest.mark.parametrize("status", [401, 403, 500, 503])
def test_a_refusing_manager_is_one_line_naming_the_host_never_the_password(
    manager: Lookalike, status: int
) -> None:
    manager.status = status
    with pytest.raises(ManagerUnavailable) as caught:
        ask_manager(_entry(manager), ENV)
    message = str(caught.value)
    assert message.startswith("Oracle VM Manager 127.0.0.1: ") and f"HTTP {status}" in message
    assert "\n" not in message and PASSWORD not in message


def test_wrong_credentials_are_refused_as_such(manager: Lookalike) -> None:
    with pytest.raises(ManagerUnavailable, match=r"refused the read-out \(HTTP 401"):
        ask_manager(_entry(manager), {"OVM_TEST_PW": "wrong"})


def test_an_unreachable_manager_is_one_line_naming_the_host() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nothing listens there
    entry = ManagerEntry("127.0.0.1", port, USER, password_env="OVM_TEST_PW")
    with pytest.raises(ManagerUnavailable, match=r"^Oracle VM Manager 127\.0\.0\.1: unreachable"):
        ask_manager(entry, ENV)


def test_the_password_comes_from_the_environment_or_the_file(tmp_path: Path) -> None:
    assert read_password(ManagerEntry("m", user="u", password_env="PW"), {"PW": "x1"}) == "x1"
    path = tmp_path / "pw"
    path.write_text("from-file\n", encoding="utf-8")
    assert read_password(ManagerEntry("m", user="u", password_file=str(path)), {}) == "from-file"
    with pytest.raises(CredentialsError, match=r"variable PW \(manager password_env\) is not set"):
        read_password(ManagerEntry("m", user="u", password_env="PW"), {})
    path.write_text("", encoding="utf-8")
    with pytest.raises(CredentialsError, match="is empty"):
        read_password(ManagerEntry("m", user="u", password_file=str(path)), {})


def test_the_lookalike_leaves_no_port_behind(tmp_path: Path) -> None:
    from tests.manager.conftest import healthy_objects
    from tests.manager.lookalike import serving

    with serving(tmp_path, healthy_objects()) as look:  # type: ignore[arg-type]
        port = look.port
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
