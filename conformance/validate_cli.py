"""`ovm-conformance validate --inventory pool.yaml`: the pre-upgrade check of a real pool over SSH.

Read-only by construction: every server is opened through the SSH driver's
read-only view (allow-listed reading commands only, strict host keys, a
timeout on every command). Writes the same report as `run`; exits 0 when
every prerequisite passed, 1 when one failed, 3 when something could not be
observed (an unreachable server, a fact the inventory must give), 4 when no
server answers at all, 2 for an inventory that cannot be used.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from conformance.catalog import load_catalog
from conformance.file_kinds import DEFINITION_HINT, looks_like_pool_definition
from conformance.options import OptionError, check_run_id, check_writable_dir, new_run_id
from conformance.report_files import write_report
from conformance.statuses import EXIT_CODE_HELP
from conformance.validate import Member, PoolDescription, ValidationError, validate_pool, validation_report
from environments.manager.join import join_manager
from ovmref.cluster.o2cb_status import O2CBStatus
from ovmref.cluster.services import SERVICE_ORDER
from ovmref.hostfs import HostFS
from ovmref.prereq import ServiceState
from ovmref.readiness.nplus1 import render_table
from ovmref.readiness.readout import PoolReadout
from ovmref.release import Release


class ValidateUsageError(Exception):
    """The inventory cannot be used: one line, exit status 2."""


class ValidateEnvironmentError(Exception):
    """No server answers (or none says its release): one line, exit status 4."""


def add_parser(sub: Any) -> None:  # argparse's subparsers action (its generic type is private)
    validate = sub.add_parser(
        "validate",
        help="check a real pool's HA prerequisites over SSH, read-only, before an upgrade",
        description="Connects to every server of the inventory read-only (strict host keys, key "
        "authentication, allow-listed reading commands, a timeout on each) and checks the "
        "prerequisite rules. Nothing on the servers is changed. The inventory is not the pool "
        "definition that `simulate` reads (see docs/validation.md).",
        epilog="example:\n  ovm-conformance validate --inventory pool.yaml --report-dir reports\n\n"
        + EXIT_CODE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    validate.add_argument("--inventory", type=Path, required=True, help="pool inventory (YAML)")
    validate.add_argument(
        "--report-dir", default="reports", help="where run directories go (default: reports)"
    )
    validate.add_argument("--run-id", help="name of the run directory (default: UTC time + random)")
    validate.add_argument(
        "--force", action="store_true", help="let --run-id replace an existing run directory"
    )
    validate.add_argument(
        "--readiness",
        action="store_true",
        help="also read the guests (xm list, xm info, 3.x vm.cfg) and check HA readiness: the HA flags "
        "and the N+1 table, what HA would do if each server failed or were taken down now "
        "(docs/readiness.md; on whenever the inventory has an ha: section or a manager: with credentials, "
        "whose Oracle VM Manager 3.x is then read GET-only)",
    )
    validate.set_defaults(handler=cmd_validate)


def cmd_validate(args: argparse.Namespace, extra: list[str]) -> int:
    if extra:
        raise ValidateUsageError(f"unexpected arguments after '--': {' '.join(extra)}")
    try:
        from environments.ssh.connection import HostUnreachable, SSHHost
        from environments.ssh.guest_readout import ServerSession, read_pool
        from environments.ssh.inventory import InventoryError, load_inventory
        from environments.ssh.readers import XmListError, o2cb_status, running_guests, service_states
        from environments.ssh.remotefs import SSHHostFS
    except ImportError as exc:
        raise ValidateUsageError(
            f"validate needs the SSH driver's dependencies ({exc.name}): "
            "pip install 'ovm-ha-conformance[ssh]'"
        ) from exc
    try:
        inventory = load_inventory(args.inventory)  # InventoryError: FILE:LINE: problem
    except InventoryError as exc:
        if looks_like_pool_definition(args.inventory):
            raise ValidateUsageError(f"{exc}; {DEFINITION_HINT}") from None
        raise
    try:  # before connecting to anything: the report can be written, no earlier run is replaced
        run_id = check_run_id(args.run_id) or new_run_id()
        report_dir = check_writable_dir(Path(args.report_dir).resolve(), "--report-dir")
    except OptionError as exc:
        raise ValidateUsageError(str(exc)) from None
    if (report_dir / run_id).exists() and not args.force:
        raise ValidateUsageError(
            f"{report_dir / run_id} already exists: choose another --run-id, or add --force to replace it"
        )
    entries = {s.name: s for s in inventory.servers}
    opened: dict[str, SSHHost] = {}
    files: dict[str, HostFS] = {}
    print(f"validating pool {inventory.pool}: {len(entries)} servers, read-only", flush=True)

    def open_host(name: str) -> HostFS:
        entry = entries[name]
        print(f"  {name} ({entry.host}): connecting ...", end=" ", flush=True)
        host = SSHHost(entry, read_only=True)
        clock0 = time.monotonic()
        try:
            host.connect()
        except HostUnreachable as exc:
            print(f"unreachable ({time.monotonic() - clock0:.1f} s)", flush=True)
            raise OSError(str(exc)) from None
        print(f"connected ({time.monotonic() - clock0:.1f} s), reading its files", flush=True)
        opened[name] = host
        files[name] = SSHHostFS(host)
        return files[name]

    def services(name: str) -> Mapping[str, ServiceState] | None:
        try:
            return service_states(opened[name], SERVICE_ORDER)
        except HostUnreachable:
            return None

    def o2cb(name: str) -> O2CBStatus | None:
        try:
            return o2cb_status(opened[name])
        except HostUnreachable:
            return None

    def guests(name: str) -> list[str] | None:
        try:
            found = running_guests(opened[name])
        except (HostUnreachable, XmListError):
            return None
        return None if found is None else [d.name for d in found]

    def read_out(release: Release, unreachable: Mapping[str, str]) -> PoolReadout:
        def session(name: str) -> ServerSession | None:
            return ServerSession(opened[name], files[name]) if name in opened else None

        try:
            readout = read_pool(inventory.pool, release, list(entries), session, inventory.ha, unreachable)
        except HostUnreachable as exc:  # a server lost in the middle: the readiness rules say unknown
            readout = read_pool(
                inventory.pool,
                release,
                list(entries),
                lambda _n: None,
                inventory.ha,
                {n: str(exc) for n in entries},
            )
        return join_manager(readout, inventory.manager)

    description = PoolDescription(
        name=inventory.pool,
        cluster_root=inventory.cluster_root,
        storage=inventory.storage,
        members=tuple(Member(s.name, s.fqdn, s.ip, s.host) for s in inventory.servers),
        release=inventory.release,
        node_slots=inventory.node_slots,
        dns_zone=inventory.dns_zone,
    )
    started = datetime.now(UTC).isoformat(timespec="seconds")
    clock = time.monotonic()
    try:
        readiness = (
            args.readiness
            or inventory.ha is not None
            or (inventory.manager is not None and inventory.manager.has_credentials)
        )
        validation = validate_pool(
            description, open_host, services, guests, o2cb, read_out if readiness else None
        )
    except ValidationError as exc:
        raise ValidateEnvironmentError(str(exc)) from None
    finally:
        for host in opened.values():
            host.close()
    report = validation_report(
        validation,
        load_catalog(),
        run_id=run_id,
        environment="ssh",
        started=started,
        duration_s=time.monotonic() - clock,
        replay=f"ovm-conformance validate --inventory {args.inventory}",
        target=f"{inventory.pool} (inventory {args.inventory.resolve()}), read-only",
    )
    paths = write_report(report, report_dir)
    for server, why in validation.unreachable.items():
        print(f"unreachable: {server}: {why}")
    for note in validation.notes:
        print(f"note: {note}")
    if validation.table is not None:
        print("N+1 (what HA would do now; docs/readiness.md):")
        for line in render_table(validation.table):
            print(f"  {line}")
    for finding in validation.findings:
        if finding.status != "passed":
            print(
                f"{finding.status.upper():8} {finding.rule:32} {finding.server or 'pool'}: {finding.message}"
            )
    counts = report.summary.rules
    print(
        f"{report.verdict}: {len(report.rows)} prerequisite and readiness rules for Oracle VM "
        f"{validation.release} "
        f"({counts['passed']} passed, {counts['failed']} failed, {counts['unknown']} unknown)"
    )
    print(f"report: {paths.html}")
    return report.exit_code
