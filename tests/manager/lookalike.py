"""A lookalike Oracle VM Manager 3.x for the tests: HTTPS on 127.0.0.1, an ephemeral port, the REST
objects in the shape the real JSON has (ids `{"type","value","uri","name"}`; fields as in
environments/manager/facts.py's sources), at the URLs cloudbase/python-ovmclient GETs
(`<base>/Server`, `<base>/ServerPool`, `<base>/Vm`, with Basic auth and `Accept: application/json`).

Served by Werkzeug's threaded WSGI server (werkzeug.serving.make_server, already a dependency of the
machine's Flask and a well-kept library; the test's fixture starts it and shuts it down). It records
every request it receives, so a test can show that nothing but GET reached it. Its certificate is
signed by a CA made for the run with `cryptography`: trusted only when the client names that CA.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import ssl
import threading
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

BASE = "/ovm/core/wsapi/rest"
USER = "admin"
PASSWORD = "s3cret-Manager-pw"  # a test greps the report and the log for it


def ident(kind: str, value: str, name: str, host: str = "127.0.0.1") -> dict[str, str]:
    return {
        "type": f"com.oracle.ovm.mgr.ws.model.{kind}",
        "value": value,
        "uri": f"https://{host}:7002{BASE}/{kind}/{value}",
        "name": name,
    }


def server_id(name: str) -> str:
    """A server's id as the Manager writes it (colon-separated hex, the shape fog-oracle's mock
    `serverId.value` has), made from its name: any pool's servers get one each, the same every run."""
    digest = f"{zlib.crc32(name.encode()):08x}"
    return "03:aa:02:fc:" + ":".join(digest[i : i + 2] for i in range(0, 8, 2))


POOL_ID = "0004fb00000200001111"


def server(name: str, maintenance: bool = False) -> dict[str, Any]:
    return {
        "id": ident("Server", server_id(name), name),
        "name": name,
        "serverRunState": "RUNNING",
        "maintenanceMode": maintenance,
        "serverRoles": ["UTILITY", "VM"],
        "ovmVersion": "3.3.3-1085",
    }


def pool(
    name: str, clustered: bool, master: str, servers: Sequence[str] = ("vmserver1", "vmserver2")
) -> dict[str, Any]:
    return {
        "id": ident("ServerPool", POOL_ID, name),
        "name": name,
        "clusterId": ident("Cluster", "aa11bb22", "cluster") if clustered else None,
        "masterServerId": ident("Server", server_id(master), master),
        "serverIds": [ident("Server", server_id(n), n) for n in servers],
        "vmIds": [],
        "virtualIp": "192.0.2.10",
        "vmStartPolicy": "BEST_SERVER",
    }


def vm_id(name: str) -> str:
    """A Vm id as the Manager writes it: 32 lowercase hex digits, `0004fb0000060000` first
    (fog-oracle's mock `list_vms.rb`), made from the name."""
    return f"0004fb0000060000{zlib.crc32(name.encode()):08x}{zlib.adler32(name.encode()):08x}"


def vm(
    name: str,
    server_name: str | None,
    ha: bool,
    crash: str = "RESTART",
    memory: int = 1024,
    *,
    vm_id_value: str | None = None,
) -> dict[str, Any]:
    """A Vm object; its id is `vm_id(name)` unless given (a 3.x server's `xm list` shows the id)."""
    return {
        "id": ident("Vm", vm_id_value or vm_id(name), name),
        "name": name,
        "vmRunState": "RUNNING" if server_name else "STOPPED",
        "highAvailability": ha,
        "restartActionOnCrash": crash,
        "restartActionOnPowerOff": "STOP",
        "restartActionOnRestart": "RESTART",
        "vmStartPolicy": "BEST_SERVER",
        "serverId": ident("Server", server_id(server_name), server_name) if server_name else None,
        "serverPoolId": ident("ServerPool", POOL_ID, "pool1"),
        "memory": memory,
        "affinityGroupIds": [],
    }


def describe_pool(
    name: str,
    servers: Sequence[str],
    master: str,
    guests: Mapping[str, Sequence[tuple[str, int, bool]]],
    *,
    clustered: bool = True,
) -> dict[str, list[dict[str, Any]]]:
    """The Manager's objects for any pool: its servers, the pool (its master), and each guest as a Vm
    whose id is the name `xm list` shows (3.x: a guest's domain is named by its Vm id, see
    environments/manager/merge.py) and whose name is its simple name, as give_guests writes it in
    vm.cfg. guests: server -> (xm name, MB, HA)."""
    return {
        "Server": [server(s) for s in servers],
        "ServerPool": [pool(name, clustered, master, servers)],
        "Vm": [
            vm(f"guest-{xm_name[-4:]}", host, ha, memory=mb, vm_id_value=xm_name)
            for host, listed in guests.items()
            for xm_name, mb, ha in listed
        ],
    }


@dataclass
class Lookalike:
    """What the lookalike serves and what it was asked."""

    objects: dict[str, list[dict[str, Any]]]
    status: int = 200  # another code: every answer is that (401, 403, 500 ...)
    seen: list[tuple[str, str, str]] = field(default_factory=list)  # (method, path, Accept)
    auth_ok: list[bool] = field(default_factory=list)
    port: int = 0
    ca_file: str = ""

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def inventory_lines(self) -> list[str]:
        """The inventory's `manager:` section that points at this lookalike (password in PASSWORD_ENV)."""
        return [
            "manager:",
            f"  host: {self.host}",
            f"  port: {self.port}",
            f"  user: {USER}",
            f"  password_env: {PASSWORD_ENV}",
            f"  ca_file: {self.ca_file}",
        ]

    def app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        self.seen.append((request.method, request.path, request.headers.get("Accept", "")))
        given = request.headers.get("Authorization", "")
        good = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        self.auth_ok.append(given == good)
        if self.status != 200:
            response = Response(json.dumps({"message": "refused"}), self.status, mimetype="application/json")
        elif given != good:
            response = Response("Unauthorized", 401, {"WWW-Authenticate": 'Basic realm="ovm"'})
        elif request.method != "GET":
            response = Response("{}", 405, mimetype="application/json")
        else:
            kind = request.path.removeprefix(BASE + "/")
            if request.path.startswith(BASE + "/") and kind in self.objects:
                response = Response(json.dumps(self.objects[kind]), 200, mimetype="application/json")
            else:
                response = Response("not found", 404)
        return response(environ, start_response)


def _certificates(directory: Path) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate, server key): a CA for the run and a leaf for 127.0.0.1."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lookalike Oracle VM Manager test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


@contextmanager
def serving(directory: Path, objects: dict[str, list[dict[str, Any]]]) -> Iterator[Lookalike]:
    """The lookalike on 127.0.0.1 and an ephemeral port, for the length of the block."""
    ca, cert, key = _certificates(directory)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    look = Lookalike(objects, ca_file=str(ca))
    server = make_server("127.0.0.1", 0, look.app, threaded=True, ssl_context=context)
    look.port = server.server_port
    thread = threading.Thread(target=server.serve_forever, name="lookalike-manager", daemon=True)
    thread.start()
    try:
        yield look
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


PASSWORD_ENV = "OVM_TEST_MANAGER_PW"  # the variable the tests' inventories name for the password


def loopback_inventory(path: Path, sshd: Any, look: Lookalike) -> Path:
    """A one-server 3.x inventory: the server is the loopback sshd (tests/ssh/sshd_server.py), the
    Manager this lookalike, its password in PASSWORD_ENV; validate and simulate read the same one."""
    path.write_text(
        "pool: pool1\nstorage: nfs\ncluster_root: nfs.example.com:/OVS\nrelease: '3.x'\n"
        f"ssh: {{user: {sshd.user}, known_hosts: {sshd.known_hosts}, key_file: {sshd.key_file}, "
        f"port: {sshd.port}, connect_timeout_s: 5}}\n"
        "servers:\n  - {name: vmserver1, host: 127.0.0.1, fqdn: vmserver1.example.com, ip: 127.0.0.1}\n"
        + "\n".join(look.inventory_lines())
        + "\n"
    )
    return path
