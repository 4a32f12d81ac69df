"""A GET-only client of the Oracle VM Manager 3.x Web Services REST API.

Base URL `https://<manager>:7002/ovm/core/wsapi/rest`, HTTP Basic authentication, `Accept:
application/json`; `GET /<Type>` lists every object of a type (Oracle VM 3.4 Developer's Guide,
"Using the REST API", https://docs.oracle.com/en/virtualization/oracle-vm/3.4/developer/vmapi-rest.html;
the same calls as cloudbase/python-ovmclient `ovmclient/connection.py` and `base.py`
`BaseManager.get_all`, which GETs `Server`, `ServerPool` and `Vm` under that base). Research notes:
/work/shared/docs/ovm-real-servers.md, "Real clients and fixtures of the Oracle VM Manager 3.x REST API".

Read-only by construction: the only request this module builds is a GET of one of three listed
types (`ManagerClient.list` takes no method, no body, no free path), and the HTTP session is
mounted on an adapter that refuses to send any other method, so not even code that reaches the
private session can send a PUT, POST or DELETE (the Manager's writes: every change is a Job).

TLS is verified (the system's CAs, or the inventory's `ca_file`); there is no option to turn
verification off. The password is read from the environment variable or the file the inventory
names, only when the Manager is asked, and never appears in a message this module makes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import requests
from requests.adapters import HTTPAdapter

from environments.ssh.inventory import ManagerEntry

API_PATH = "/ovm/core/wsapi/rest"
Kind = Literal["Server", "ServerPool", "Vm"]
KINDS: tuple[Kind, ...] = ("Server", "ServerPool", "Vm")
TIMEOUT_S = 20.0


class NotGetError(RuntimeError):
    """Something tried to send a request other than GET to the Manager: refused before sending."""


class ManagerUnavailable(Exception):
    """The Manager did not answer, refused the credentials, or answered what is not its JSON: one
    line naming the host (never the password)."""


class CredentialsError(ManagerUnavailable):
    """The password's environment variable is not set, or its file cannot be read."""


class _GetOnlyAdapter(HTTPAdapter):
    """Sends GET requests, and refuses every other method before a byte leaves the machine."""

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        if request.method != "GET":
            raise NotGetError(
                f"refused to send {request.method} to Oracle VM Manager: the read-out is GET-only"
            )
        return super().send(request, *args, **kwargs)


def read_password(entry: ManagerEntry, environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    if entry.password_env is not None:
        value = env.get(entry.password_env)
        if not value:
            raise CredentialsError(
                f"Oracle VM Manager {entry.host}: environment variable {entry.password_env} "
                "(manager password_env) is not set"
            )
        return value
    if entry.password_file is not None:
        try:
            value = Path(entry.password_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise CredentialsError(
                f"Oracle VM Manager {entry.host}: its password_file {entry.password_file} cannot be read "
                f"({type(exc).__name__})"
            ) from None
        if not value:
            raise CredentialsError(
                f"Oracle VM Manager {entry.host}: its password_file {entry.password_file} is empty"
            )
        return value
    raise CredentialsError(
        f"Oracle VM Manager {entry.host}: no password_env or password_file in the inventory"
    )


class ManagerClient:
    """Lists Servers, ServerPools and Vms of one Manager, GET only."""

    def __init__(self, entry: ManagerEntry, password: str, timeout_s: float = TIMEOUT_S) -> None:
        if entry.user is None:
            raise CredentialsError(f"Oracle VM Manager {entry.host}: no user in the inventory")
        host = f"[{entry.host}]" if ":" in entry.host else entry.host
        self.host = entry.host
        self.base = f"https://{host}:{entry.port}{API_PATH}"
        self._timeout = timeout_s
        session = requests.Session()
        session.trust_env = False  # no proxy or netrc from the environment, no REQUESTS_CA_BUNDLE
        for prefix in ("https://", "http://"):
            session.mount(prefix, _GetOnlyAdapter(max_retries=0))
        session.auth = (entry.user, password)
        session.verify = entry.ca_file if entry.ca_file is not None else True
        session.headers.update({"Accept": "application/json"})
        self._session = session

    def list(self, kind: Kind) -> list[dict[str, Any]]:
        """`GET <base>/<kind>`: every object of that type, as the Manager's JSON list."""
        if kind not in KINDS:
            raise ValueError(f"not a type the read-out lists: {kind!r}")
        url = f"{self.base}/{kind}"
        try:
            response = self._session.request("GET", url, timeout=self._timeout, allow_redirects=False)
        except requests.exceptions.SSLError:
            raise ManagerUnavailable(
                f"Oracle VM Manager {self.host}: its TLS certificate is not trusted (give the CA that "
                "signed it as manager ca_file)"
            ) from None
        except requests.exceptions.RequestException as exc:
            raise ManagerUnavailable(
                f"Oracle VM Manager {self.host}: unreachable ({type(exc).__name__})"
            ) from None
        if response.status_code in (401, 403):
            raise ManagerUnavailable(
                f"Oracle VM Manager {self.host}: refused the read-out (HTTP {response.status_code}: "
                "check the manager user and its password)"
            )
        if response.status_code != 200:
            raise ManagerUnavailable(
                f"Oracle VM Manager {self.host}: GET {kind} answered HTTP {response.status_code}"
            )
        try:
            data = response.json()
        except ValueError:
            raise ManagerUnavailable(
                f"Oracle VM Manager {self.host}: GET {kind} did not answer JSON"
            ) from None
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise ManagerUnavailable(
                f"Oracle VM Manager {self.host}: GET {kind} did not answer a list of objects"
            )
        return data

    def close(self) -> None:
        self._session.close()
