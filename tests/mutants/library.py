"""Deliberately broken reference implementations: each one breaks one documented rule, once.

A scenario that cannot fail proves nothing. For each weak encoding that issue
13 lists, one mutant here breaks ovmref (or what a driver carries out for it)
the way a plausible implementation would get the rule wrong, and names the
scenarios that must fail on it and the step that must catch it.
tests/mutants/test_scenarios_fail_on_mutants.py runs every such scenario on
the simulator with its mutant patched in (tests/mutants/plugin.py) and
expects exactly that step to fail; unpatched, the same scenarios pass in the
normal suite. Nothing here is imported by ovmref: the bugs stay in the tests.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from ovmref.cluster import services as services_module
from ovmref.cluster.services import SERVICE_ORDER, ServiceOrderError, ServiceTable

Patch = Callable[[], contextlib.AbstractContextManager[None]]


@dataclass(frozen=True)
class Target:
    """A scenario that must fail on the mutant, in these releases, at a step containing `step`.

    `example`: for a Scenario Outline, the example rows (column -> value) that must fail; the
    outline's other rows run too but are not judged."""

    feature: str
    scenario: str
    releases: tuple[str, ...]
    step: str
    example: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Mutant:
    name: str
    item: str  # the item of issue 13 it belongs to
    breaks: str  # what the broken implementation gets wrong, in one sentence
    patch: Patch
    targets: tuple[Target, ...]


MUTANTS: dict[str, Mutant] = {}


def mutant(name: str, item: str, breaks: str, *targets: Target) -> Callable[[Patch], Patch]:
    def register(patch: Patch) -> Patch:
        if name in MUTANTS:
            raise ValueError(f"mutant {name} is defined twice")
        MUTANTS[name] = Mutant(name, item, breaks, patch, targets)
        return patch

    return register


def patched(target: Any, attribute: str, new: object) -> contextlib.AbstractContextManager[Any]:
    return mock.patch.object(target, attribute, new)


TWO_X = ("2.1", "2.2")
ALL = ("2.1", "2.2", "3.x")
SERVICES = "features/cluster_and_services.feature"


# ---------------------------------------------------------------------------- 4. service order
@mutant(
    "stop-checks-only-the-agent",
    "4",
    "a service may stop while any service but ovs-agent still runs after it",
    Target(
        SERVICES,
        "A cluster service cannot stop while the service started after it still runs",
        TWO_X,
        "the command fails",
        {"service": "ocfs2", "running": "o2cb, ocfs2 and ovsrepositories"},
    ),
    Target(
        SERVICES,
        "A cluster service cannot stop while the service started after it still runs",
        TWO_X,
        "the command fails",
        {"service": "o2cb", "running": "o2cb and ocfs2"},
    ),
)
@contextlib.contextmanager
def stop_checks_only_the_agent() -> Iterator[None]:
    def check_stop(self: ServiceTable, name: str) -> None:
        self._index(name)
        if name != "ovs-agent" and self.is_running("ovs-agent"):
            raise ServiceOrderError(f"cannot stop {name}: ovs-agent is still running")

    with patched(ServiceTable, "check_stop", check_stop):
        yield


@mutant(
    "start-checks-only-o2cb",
    "4",
    "a service may start once o2cb runs, whatever else is still stopped",
    Target(
        SERVICES,
        "A cluster service cannot start before the service started before it",
        TWO_X,
        "the command fails",
        {"service": "ovsrepositories", "running": "o2cb"},
    ),
    Target(
        SERVICES,
        "A cluster service cannot start before the service started before it",
        TWO_X,
        "the command fails",
        {"service": "ovs-agent", "running": "o2cb and ocfs2"},
    ),
)
@contextlib.contextmanager
def start_checks_only_o2cb() -> Iterator[None]:
    def check_start(self: ServiceTable, name: str) -> None:
        if self._index(name) > 0 and not self.is_running(SERVICE_ORDER[0]):
            raise ServiceOrderError(f"cannot start {name}: o2cb is not running")

    with patched(ServiceTable, "check_start", check_start):
        yield


@mutant(
    "start-checks-only-the-previous-service",
    "4",
    "a service may start when the one just before it runs, even if an earlier one was stopped",
    Target(
        SERVICES,
        "A cluster service cannot start before the service started before it",
        TWO_X,
        "the command fails",
        {"service": "ocfs2", "running": "no service"},
    ),
)
@contextlib.contextmanager
def start_checks_only_the_previous_service() -> Iterator[None]:
    def check_start(self: ServiceTable, name: str) -> None:
        i = self._index(name)
        if i > 1 and not self.is_running(SERVICE_ORDER[i - 1]):
            raise ServiceOrderError(f"cannot start {name}: {SERVICE_ORDER[i - 1]} is not running")

    with patched(ServiceTable, "check_start", check_start):
        yield


_ = services_module  # the module whose table the service mutants patch


# ------------------------------------------------------------ 13. not stand-alone, not without a Manager
PREREQ = "features/prerequisites.feature"
ENABLING = "features/enabling_ha.feature"
MASTERS = "features/master_and_roles.feature"


@mutant(
    "multi-server-only-in-3x",
    "13",
    "lets a one-server 2.x pool be HA enabled (the multiple-server check made for 3.x only)",
    Target(
        PREREQ, "A stand-alone Oracle VM Server cannot be HA enabled", TWO_X, "enabling HA fails naming rule"
    ),
)
@contextlib.contextmanager
def multi_server_only_in_3x() -> Iterator[None]:
    from ovmref import prereq
    from ovmref.release import Release

    rules = {
        r: tuple(x for x in ids if x != "PRE-MULTI-SERVER") if r is not Release.R3 else ids
        for r, ids in prereq.RULES_BY_RELEASE.items()
    }
    with mock.patch.dict(prereq.RULES_BY_RELEASE, rules):
        yield


@mutant(
    "guest-ha-alone-protects",
    "13",
    "restarts a guest that has HA enabled although HA was never enabled on the pool in the Manager",
    Target(
        ENABLING,
        "A cluster made with the Oracle VM Server tools alone restarts no guest",
        ALL,
        "guest vm1 is not restarted",
    ),
)
@contextlib.contextmanager
def guest_ha_alone_protects() -> Iterator[None]:
    from ovmref.failover.pooldb import GuestRecord, PoolDB

    def ha_protected(self: PoolDB, guest: GuestRecord) -> bool:
        return guest.ha

    with patched(PoolDB, "ha_protected", ha_protected):
        yield


# ---------------------------------------------------------------------------- 16, 17. masters (3.x)
@mutant(
    "no-master-takeover-in-3x",
    "16",
    "lets HA fail with the master in Oracle VM 3, as 2.1 does",
    Target(
        MASTERS,
        "In Oracle VM 3 another member takes over the master role and HA goes on",
        ("3.x",),
        "another server becomes the server pool master",
    ),
)
@contextlib.contextmanager
def no_master_takeover_in_3x() -> Iterator[None]:
    from ovmref import effects as fx
    from ovmref.agent import Agent
    from ovmref.release import Release

    original = Agent._peer_down  # what a server that is not the master does with a dead peer

    def peer_down(self: Agent, change: Any) -> list[fx.Effect]:
        if self.release is Release.R3 and change.node == self.master_node:
            return [fx.Record("ha_failed", "the master failed: nobody takes over")]
        return original(self, change)

    with patched(Agent, "_peer_down", peer_down):
        yield


@mutant(
    "new-master-forgets-stopped-guests",
    "17",
    "keeps the guests that are not running only in the old master's memory: a new master never heard of them",
    Target(
        MASTERS,
        "In Oracle VM 3 a guest that was not running can be started after the master failed",
        ("3.x",),
        "the operation succeeds",
    ),
)
@contextlib.contextmanager
def new_master_forgets_stopped_guests() -> Iterator[None]:
    from ovmref import effects as fx
    from ovmref.agent import Agent
    from ovmref.failover.pooldb import PoolDB

    original = Agent._become_master

    def become_master(self: Agent, now: int, db: PoolDB) -> list[fx.Effect]:
        if db.master is not None and db.master != self.name:  # taking over from another server
            db.guests = {n: g for n, g in db.guests.items() if g.server is not None}
        return original(self, now, db)

    with patched(Agent, "_become_master", become_master):
        yield


# ---------------------------------------------------------- 1, 2, 7. enabling HA, repositories, mounts
ENABLE_FROM_MASTER = "Enabling HA on a pool configured on its master only configures and joins every server"
ENABLE_KEEPS = "Enabling HA keeps the cluster.conf the administrator wrote and propagates it as it is"
ENABLE_ERRORS = "Enabling HA shows every error of the setup, not only the first"
NEW_REPOSITORY = (
    "A repository made with ovs-makerepo on the master is mounted on every server once HA is enabled"
)
AGENT_START = "A restarted agent receives the repositories and cluster.conf again"


@mutant(
    "enable-only-sets-the-flag",
    "1",
    "enables HA by setting the pool's flag, without configuring the cluster or propagating anything",
    # the master's cluster.conf was removed: the verification itself finds it missing
    Target(ENABLING, ENABLE_FROM_MASTER, TWO_X, "Then the operation succeeds"),
    # the master's is there: the verification passes and nothing reaches the other servers
    Target(ENABLING, ENABLE_KEEPS, TWO_X, "is the one the administrator wrote"),
    Target(ENABLING, NEW_REPOSITORY, TWO_X, "is mounted at its repository mount point on every server"),
)
@contextlib.contextmanager
def enable_only_sets_the_flag() -> Iterator[None]:
    from environments import hostsetup

    with (
        patched(hostsetup, "enable_ha_commands", lambda *_a, **_k: []),
        patched(hostsetup, "propagate_commands", lambda *_a, **_k: []),
        patched(hostsetup, "member_setup_commands", lambda *_a, **_k: []),
    ):
        yield


@mutant(
    "enable-makes-no-heartbeat-device",
    "1",
    "configures the cluster when HA is enabled but never creates the missing heartbeat file",
    Target(ENABLING, ENABLE_FROM_MASTER, TWO_X, "Then the operation succeeds"),  # PRE-NFS-HEARTBEAT-FILE
)
@contextlib.contextmanager
def enable_makes_no_heartbeat_device() -> Iterator[None]:
    from environments import hostsetup

    original = hostsetup.enable_ha_commands

    def commands(*args: Any, **kwargs: Any) -> list[tuple[str, list[str]]]:
        return [(s, argv) for s, argv in original(*args, **kwargs) if "ovs-makerepo" not in argv[0]]

    with patched(hostsetup, "enable_ha_commands", commands):
        yield


@mutant(
    "cluster-configure-regenerates",
    "1",
    "regenerates /etc/ocfs2/cluster.conf each time ovs-cluster-configure runs, even when it exists",
    Target(ENABLING, ENABLE_KEEPS, TWO_X, "is the one the administrator wrote"),
)
@contextlib.contextmanager
def cluster_configure_regenerates() -> Iterator[None]:
    from ovmref.cluster.clusterconf import CLUSTER_CONF
    from ovmref.tools import dispatch
    from ovmref.tools.cluster_configure import cluster_configure

    def regenerate(fs: Any, args: list[str], ctx: Any) -> Any:
        if fs.exists(CLUSTER_CONF):
            fs.remove(CLUSTER_CONF)
        return cluster_configure(fs, args, ctx)

    with mock.patch.dict(dispatch.TOOLS, {"ovs-cluster-configure": regenerate}):
        yield


@mutant(
    "propagation-leaves-out-cluster-conf",
    "1",
    "propagates the repositories but not cluster.conf, when HA is enabled and when an agent starts",
    Target(ENABLING, ENABLE_KEEPS, TWO_X, "is the one the administrator wrote"),
    Target(ENABLING, AGENT_START, TWO_X, "/etc/ocfs2/cluster.conf is the same on every server"),
)
@contextlib.contextmanager
def propagation_leaves_out_cluster_conf() -> Iterator[None]:
    from ovmref.cluster.clusterconf import CLUSTER_CONF
    from ovmref.tools import cluster_check

    files = tuple(p for p in cluster_check.PROPAGATED_FILES if p != CLUSTER_CONF)
    with patched(cluster_check, "PROPAGATED_FILES", files):
        yield


@mutant(
    "verification-stops-at-the-first-error",
    "1",
    "shows only the first broken prerequisite when HA is enabled",
    Target(ENABLING, ENABLE_ERRORS, TWO_X, "enabling HA fails naming rule PRE-HOSTNAME-NOT-LOOPBACK"),
)
@contextlib.contextmanager
def verification_stops_at_the_first_error() -> Iterator[None]:
    from environments import hostsetup

    original = hostsetup.verify_for_enabling

    def verify(*args: Any, **kwargs: Any) -> list[Any]:
        findings = original(*args, **kwargs)
        first = next((i for i, f in enumerate(findings) if f.status != "passed"), len(findings))
        return [f for i, f in enumerate(findings) if i <= first or f.status == "passed"]

    with patched(hostsetup, "verify_for_enabling", verify):
        yield


@mutant(
    "other-servers-mount-only-the-cluster-root",
    "2",
    "propagates the repository list but the other servers' agents never mount the other repositories",
    Target(ENABLING, NEW_REPOSITORY, TWO_X, "is mounted at its repository mount point on every server"),
)
@contextlib.contextmanager
def other_servers_mount_only_the_cluster_root() -> Iterator[None]:
    from ovmref.tools import service

    with mock.patch.dict(service._ON_START, {"ovsrepositories": lambda fs, ctx: []}):
        yield


@mutant(
    "repositories-mounted-the-2.1-way-in-2.2",
    "7",
    "mounts a 2.2 repository at /OVS/<UUID> (2.1's place) instead of /var/ovs/mount/<UUID>",
    Target(ENABLING, NEW_REPOSITORY, ("2.2",), "is mounted at its repository mount point on server1"),
)
@contextlib.contextmanager
def repositories_mounted_the_21_way_in_22() -> Iterator[None]:
    from ovmref.tools import storage_ops

    with patched(storage_ops, "repository_mountpoint", lambda release, uuid: f"/OVS/{uuid}"):
        yield


@mutant(
    "ovs-mounted-not-linked-in-2.2",
    "7",
    "mounts the 2.2 cluster root under /var/ovs/mount but makes /OVS a plain directory, not a link to it",
    # PRE-CLUSTER-ROOT-MOUNT already refuses to enable HA on such a pool (the Given); the Then step
    # is there for pools the suite does not build (ssh)
    Target(
        PREREQ,
        "In 2.2 the cluster root is mounted under /var/ovs/mount on every server",
        ("2.2",),
        "with HA enabled on the pool",
    ),
)
@contextlib.contextmanager
def ovs_mounted_not_linked_in_22() -> Iterator[None]:
    from ovmref.tools import storage_ops

    def link(fs: Any, target: str) -> None:
        if not fs.is_dir("/OVS"):
            fs.mkdir("/OVS", parents=True)

    with patched(storage_ops, "_link_ovs", link):
        yield


# ---------------------------------------------------------------------------- 8. name resolution
@mutant(
    "name-resolution-compares-addresses-only",
    "8",
    "accepts servers that mix DNS and /etc/hosts as long as every name resolves to the same address",
    Target(
        "features/name_resolution.feature",
        "Servers that mix DNS and /etc/hosts keep HA from being enabled",
        TWO_X,
        "enabling HA fails naming rule",
    ),
)
@contextlib.contextmanager
def name_resolution_compares_addresses_only() -> Iterator[None]:
    from ovmref import prereq

    original = prereq._name_service

    def name_service(server: str, fs: Any, pool: Any) -> str:
        original(server, fs, pool)  # unresolved names and wrong addresses still fail
        return "consistent"

    def lenient(server: str, fs: Any, pool: Any) -> str:
        try:
            return name_service(server, fs, pool)
        except Exception as exc:  # the mix itself is what this mutant forgives
            if "mixes DNS" in str(exc):
                return "consistent"
            raise

    with patched(prereq, "_name_service", lenient):
        yield


# ---------------------------------------------------------------------------- steps a QA engineer missed
FAILURES = "features/server_failure.feature"
MULTIPLE = "features/multiple_failures.feature"
FENCING = "features/heartbeat_quorum_fencing.feature"
FIRST_LOCK = "the new server pool master is the first server that acquired the master lock"


@mutant(
    "loser-of-the-master-lock-takes-the-role-too",
    "steps",
    "lets a server that lost the race for the master lock take the master role all the same",
    Target(
        MASTERS,
        "In 2.2 another server takes over as master and restarts the master's HA guests",
        ("2.2",),
        FIRST_LOCK,
    ),
    Target(
        MASTERS,
        "In Oracle VM 3 another member takes over the master role and HA goes on",
        ("3.x",),
        FIRST_LOCK,
    ),
)
@contextlib.contextmanager
def loser_of_the_master_lock_takes_the_role_too() -> Iterator[None]:
    from ovmref import effects as fx
    from ovmref.agent import Agent

    original = Agent._on_lease

    def on_lease(self: Agent, now: int, r: Any) -> list[fx.Effect]:
        if r.context == "master:takeover" and not r.granted:
            return [fx.LoadPoolDB()]
        return original(self, now, r)

    with patched(Agent, "_on_lease", on_lease):
        yield


@mutant(
    "locks-taken-without-the-whole-domain",
    "10",
    "lets a server take a lock while a peer it cannot reach still heartbeats (leases as a plain "
    "compare-and-set, not o2dlm): a server cut off with the master takes over the master role "
    "in the seconds before it fences",
    Target(
        MULTIPLE,
        "In 2.2 a server cut off with the master does not take the master role when the master fails "
        "after the network idle timeout",
        ("2.2",),
        FIRST_LOCK,
    ),
)
@contextlib.contextmanager
def locks_taken_without_the_whole_domain() -> Iterator[None]:
    from ovmref.agent import Agent

    with patched(Agent, "unreachable_peers", lambda self: frozenset()):
        yield


@mutant(
    "a-rebooted-peer-is-still-in-the-domain",
    "10",
    "counts a peer that fenced and rebooted into the split as a member of the lock domain, so the "
    "servers that stayed wait for it and restart no guest while it heartbeats",
    Target(
        FENCING,
        "A server that fenced on a split and rebooted into it does not hold up the servers that stayed",
        ALL,
        "guest vm2 is restarted on another server within the guest restart bound",
    ),
)
@contextlib.contextmanager
def a_rebooted_peer_is_still_in_the_domain() -> Iterator[None]:
    from ovmref.agent import Agent

    def unreachable_peers(self: Agent) -> frozenset[int]:
        return self.cluster.live_nodes - self.cluster.connected - {self.node}

    with patched(Agent, "unreachable_peers", unreachable_peers):
        yield


@mutant(
    "a-hang-is-a-crash",
    "steps",
    "treats a server back from a short hang like one that crashed: its guests are killed and restarted",
    Target(
        FENCING,
        "A server that hangs for less than the O2CB dead threshold keeps its guests, frozen but not stopped",
        ALL,
        "guest vm1 survives the hang of server2 without being restarted",
    ),
)
@contextlib.contextmanager
def a_hang_is_a_crash() -> Iterator[None]:
    from ovmref import effects as fx
    from ovmref.agent import Agent, guest_lease
    from ovmref.failover import messages as msg

    original = Agent._on_resumed

    def on_resumed(self: Agent, now: int) -> list[fx.Effect]:
        out = original(self, now)
        if self.fenced:
            return out
        for guest in sorted(self.guests):
            del self.guests[guest]
            out += [
                fx.KillGuest(guest, "killed after the hang"),
                fx.ReleaseLease(guest_lease(guest), self.node, self.generation),
                *self._to_master(msg.GuestCrashed(guest, self.node)),
            ]
        return out

    with patched(Agent, "_on_resumed", on_resumed):
        yield


@mutant(
    "master-handles-one-dead-server-per-read",
    "steps",
    "acts on only the last of the servers one heartbeat read declared dead",
    Target(
        MULTIPLE,
        "Two servers failed in two steps at one instant both have their HA guests restarted in the first "
        "one's bound",
        ALL,
        "within the failover bound of the first fault",
    ),
)
@contextlib.contextmanager
def master_handles_one_dead_server_per_read() -> Iterator[None]:
    from ovmref import effects as fx
    from ovmref.agent import Agent

    original = Agent._nodes_down

    def nodes_down(self: Agent, changes: list[Any]) -> list[fx.Effect]:
        return original(self, changes[-1:])

    with patched(Agent, "_nodes_down", nodes_down):
        yield


@mutant(
    "auto-places-on-the-first-server-that-fits",
    "steps",
    "starts an Auto guest on the lowest-numbered server it fits on, not the one with most free memory",
    Target(
        SERVICES,
        "A server added to the pool takes the next guest the Auto policy starts, and only that one",
        TWO_X,
        "server4 runs 1 guest",
    ),
)
@contextlib.contextmanager
def auto_places_on_the_first_server_that_fits() -> Iterator[None]:
    from ovmref.failover import coordinator

    def choose_server(guest: Any, servers: Any, available: Any, free_memory: Any) -> str | None:
        candidates = [s for s in available if s in servers]
        if guest.preferred:
            candidates = [s for s in candidates if s in set(guest.preferred)]
        fitting = [s for s in candidates if free_memory.get(s, 0) >= guest.memory_mb]
        return min(fitting, key=lambda s: servers[s].node) if fitting else None

    with patched(coordinator, "choose_server", choose_server):
        yield


@mutant(
    "powered-off-guests-are-never-retried",
    "steps",
    "leaves an HA guest powered off for good, even when a server becomes available again",
    Target(
        FAILURES,
        "Counted after the failed server comes back, every guest runs again",
        ALL,
        "3 of the guests vm1 to vm3 are running",
    ),
)
@contextlib.contextmanager
def powered_off_guests_are_never_retried() -> Iterator[None]:
    from ovmref.failover.coordinator import Coordinator

    with patched(Coordinator, "_retry_powered_off", lambda self: None):
        yield


# ---------------------------------------------------------------------------- 10. a crashed guest
@mutant(
    "crashed-guest-restarted-where-most-room",
    "10",
    "restarts a crashed guest on the server with most free memory, its own server included",
    Target(
        FAILURES,
        "A crashed HA guest is restarted on another server although its own has the most room",
        TWO_X,
        "is restarted on another server within the guest restart bound",
    ),
)
@contextlib.contextmanager
def crashed_guest_restarted_where_most_room() -> Iterator[None]:
    from ovmref.failover.coordinator import Coordinator

    original_crashed, original_place = Coordinator._on_crashed, Coordinator._place

    def on_crashed(self: Coordinator, m: Any) -> None:
        with patched(Coordinator, "_place", lambda c, g, exclude=None: original_place(c, g)):
            original_crashed(self, m)

    with patched(Coordinator, "_on_crashed", on_crashed):
        yield



# ---------------------------------------------------------------------------- 11. live migration
MIGRATION = "features/migration_and_maintenance.feature"
PLANNED = "features/planned_operations.feature"
LIVE = "was live migrated to"


@mutant(
    "live-migration-is-a-cold-restart",
    "11",
    "moves a guest by stopping it and booting it on the target, its restart counter left alone",
    Target(MIGRATION, "A live-migrated guest keeps running on its new server", ALL, LIVE),
    Target(
        MIGRATION,
        "In Oracle VM 3 live migration works without HA and the guest runs uninterrupted",
        ("3.x",),
        LIVE,
    ),
    Target(MIGRATION, "Maintenance mode migrates the running guests away from the server", ("3.x",), LIVE),
    *(
        Target(
            PLANNED,
            "In 2.x, guests migrated at the prompt keep running when their server is <operation>",
            TWO_X,
            LIVE,
            {"operation": operation},
        )
        for operation in ("shut down", "restarted", "deleted")
    ),
    *(
        Target(
            PLANNED,
            "In Oracle VM 3 HA guests migrated first keep running when their server is <operation>",
            ("3.x",),
            LIVE,
            {"operation": operation},
        )
        for operation in ("shut down", "restarted", "deleted")
    ),
)
@contextlib.contextmanager
def live_migration_is_a_cold_restart() -> Iterator[None]:
    import dataclasses

    from ovmref import effects as fx
    from ovmref.agent import Agent

    original = Agent._on_lease

    def on_lease(self: Agent, now: int, r: Any) -> list[fx.Effect]:
        return [
            dataclasses.replace(e, migrated=False) if isinstance(e, fx.BootGuest) else e
            for e in original(self, now, r)
        ]

    with patched(Agent, "_on_lease", on_lease):
        yield


@mutant(
    "live-migration-pauses-like-a-boot",
    "11",
    "suspends a migrated guest and resumes it on the target only as late as a fresh boot would run",
    Target(MIGRATION, "A live-migrated guest keeps running on its new server", ALL, LIVE),
    Target(MIGRATION, "Maintenance mode migrates the running guests away from the server", ("3.x",), LIVE),
    Target(
        PLANNED,
        "In 2.x, guests migrated at the prompt keep running when their server is <operation>",
        TWO_X,
        LIVE,
        {"operation": "shut down"},
    ),
)
@contextlib.contextmanager
def live_migration_pauses_like_a_boot() -> Iterator[None]:
    from environments.sim import driver
    from ovmref.timing import O2CBTimings

    with patched(driver, "MIGRATION_MS", O2CBTimings().guest_boot_ms):
        yield


# ---------------------------------------------------------------------------- 12. 3.x without HA
@mutant(
    "maintenance-migrates-only-on-an-ha-pool",
    "12",
    "puts a server of a pool without HA into maintenance mode by stopping its guests, not migrating them",
    Target(
        MIGRATION,
        "On a pool without HA maintenance mode migrates every running guest automatically",
        ("3.x",),
        "guest vm1 was live migrated to another server",
    ),
)
@contextlib.contextmanager
def maintenance_migrates_only_on_an_ha_pool() -> Iterator[None]:
    from ovmref.failover.coordinator import Coordinator

    original = Coordinator._drain

    def drain(
        self: Coordinator, rec: Any, *, migrate: bool, restart: bool, delete: bool, halt: bool = True
    ) -> None:
        if not halt and not self.db.ha_enabled:
            migrate = False
        original(self, rec, migrate=migrate, restart=restart, delete=delete, halt=halt)

    with patched(Coordinator, "_drain", drain):
        yield


@mutant(
    "3x-refuses-every-unmigrated-shutdown",
    "12",
    "refuses to restart, shut down or delete a 3.x server without migration whatever guests it runs",
    *(
        Target(
            PLANNED,
            "In Oracle VM 3 a server running only guests without HA can be <operation> unmigrated, "
            "and they stop",
            ("3.x",),
            "Then the operation succeeds",
            {"operation": operation},
        )
        for operation in ("shut down", "restarted", "deleted")
    ),
)
@contextlib.contextmanager
def refuses_every_unmigrated_shutdown() -> Iterator[None]:
    from ovmref.failover import requests as rq
    from ovmref.failover.coordinator import Coordinator

    original = Coordinator._server_request

    def server_request(self: Coordinator, op: object, rec: Any, r3: bool) -> tuple[bool, str]:
        running = [g for g in self.db.guests_on(rec.name) if g.state in ("running", "starting")]
        if isinstance(op, rq.ShutdownServer) and r3 and not op.migrate and running:
            return False, "you must first migrate the running virtual machines"
        return original(self, op, rec, r3)

    with patched(Coordinator, "_server_request", server_request):
        yield


# ---------------------------------------------------------------------------- 16. masters
@mutant(
    "2.1-master-taken-over-like-2.2",
    "16",
    "lets another 2.1 server take over as master when the master hangs or is cut off, as 2.2 does",
    *(
        Target(
            MASTERS,
            "In 2.1 HA fails with a Server Pool Master that is <what>, not only with one that crashed",
            ("2.1",),
            "there is no server pool master",
            {"what": what},
        )
        for what in ("hung", "cut off")
    ),
)
@contextlib.contextmanager
def master_taken_over_in_21() -> Iterator[None]:
    from ovmref import effects as fx
    from ovmref.agent import Agent
    from ovmref.release import Release

    original = Agent._peer_down

    def peer_down(self: Agent, change: Any) -> list[fx.Effect]:
        saved = self.release
        self.release = Release.R2_2 if saved is Release.R2_1 else saved
        try:
            return original(self, change)
        finally:
            self.release = saved

    with patched(Agent, "_peer_down", peer_down):
        yield


@mutant(
    "a-runaway-server-carries-on",
    "16",
    "lets a server back from a hang longer than its write timeout carry on instead of fencing itself",
    Target(
        MASTERS,
        "In 2.2 a hung master that resumes after another server took over fences itself and leaves the role "
        "to it",
        ("2.2",),
        "server1 fences itself",
    ),
)
@contextlib.contextmanager
def a_runaway_server_carries_on() -> Iterator[None]:
    from ovmref.cluster.node import ClusterNode, NodeOutput

    def resumed(self: ClusterNode, now_ms: int) -> NodeOutput:
        # the hang is not counted: the write timeout starts afresh, as if the server had just written
        disk = self._disk
        if disk.fence_deadline_ms is not None:
            disk.fence_deadline_ms = now_ms + disk.timings.max_write_timeout_ms
        return NodeOutput()

    with patched(ClusterNode, "resumed", resumed):
        yield


# ---------------------------------------------------------------------------- 15. nowhere to go, preferred
@mutant(
    "unmigrated-restart-ignores-the-preferred-servers",
    "15",
    "restarts an HA guest that was not migrated off a server being shut down on the emptiest server, "
    "whatever its preferred servers",
    *(
        Target(
            PLANNED,
            "In 2.x an HA guest not migrated when its server is <operation> restarts on its preferred "
            "server, not the emptiest",
            TWO_X,
            "guest vm1 is running on server3",
            {"operation": operation},
        )
        for operation in ("shut down", "restarted", "deleted")
    ),
)
@contextlib.contextmanager
def unmigrated_restart_ignores_the_preferred_servers() -> Iterator[None]:
    import dataclasses

    from ovmref.failover import coordinator
    from ovmref.failover.coordinator import Coordinator

    original_stopped, choose = Coordinator._on_stopped, coordinator.choose_server

    def auto(guest: Any, servers: Any, available: Any, free_memory: Any) -> str | None:
        return choose(dataclasses.replace(guest, preferred=()), servers, available, free_memory)

    def on_stopped(self: Coordinator, m: Any) -> None:
        with patched(coordinator, "choose_server", auto):
            original_stopped(self, m)

    with patched(Coordinator, "_on_stopped", on_stopped):
        yield


# ---------------------------------------------------------------------------- 5. heartbeat error recovery
@mutant(
    "hb-ctl-kill-only-answers",
    "5",
    "answers `ocfs2_hb_ctl -K` with success but leaves the heartbeat region running",
    Target(
        SERVICES,
        "After a real heartbeat error the heartbeat killed by hand stops, and the services restarted in "
        "order bring the server back",
        TWO_X,
        "no other server sees server2 heartbeating",
    ),
)
@contextlib.contextmanager
def hb_ctl_kill_only_answers() -> Iterator[None]:
    from ovmref.tools import hbctl

    with patched(hbctl, "stop_region", lambda fs, cluster, region: True):
        yield


# ---------------------------------------------------------------------------- 6. node slots
@mutant(
    "node-slots-counted-off-by-one",
    "6",
    "refuses a cluster that has as many nodes as the heartbeat device has node slots (>= for >)",
    Target(
        PREREQ,
        "The 16 node slots of the cluster root take exactly 16 servers",
        TWO_X,
        "Then the operation succeeds",
    ),
)
@contextlib.contextmanager
def node_slots_counted_off_by_one() -> Iterator[None]:
    import dataclasses

    from ovmref import prereq

    original = prereq.node_slots

    def node_slots(server: str, fs: Any, release: Any, pool: Any) -> str:
        return original(server, fs, release, dataclasses.replace(pool, node_slots=pool.node_slots - 1))

    with mock.patch.dict(prereq.CHECKS, {"PRE-NODE-SLOTS": prereq._per_server("PRE-NODE-SLOTS", node_slots)}):
        yield


# ---------------------------------------------------------------------------- 3. adding a server
ADD_BY_MANAGER = "A server added to an HA pool receives cluster.conf and joins the cluster"
ADD_THEN_PROPAGATE = (
    "ovs-cluster-check --propagate on the master gives a newly added server the pool's cluster.conf"
)
ADD_THEN_MAKEREPO = (
    "ovs-makerepo run on a newly added server gives it the cluster root and it joins the cluster"
)
PROPAGATE_ON_MASTER = "ovs-cluster-check --propagate on the master makes cluster.conf identical everywhere"


@mutant(
    "added-server-alone-receives-cluster-conf",
    "3",
    "when the Manager adds a server, the master's agent sends cluster.conf and the repositories to "
    "the new server only: the servers already in the pool keep the node list without it",
    Target(SERVICES, ADD_BY_MANAGER, TWO_X, "/etc/ocfs2/cluster.conf is the same on every server"),
)
@contextlib.contextmanager
def added_server_alone_receives_cluster_conf() -> Iterator[None]:
    from environments import hostsetup
    from ovmref.cluster.clusterconf import CLUSTER_CONF, render_cluster_conf
    from ovmref.tools.cluster_configure import generate_cluster_conf

    def join_server(self: hostsetup.PoolHostSetup, name: str, run: hostsetup.Runner) -> Any:
        master = self.pool.master
        master_fs = self.pool.hosts[master]
        conf = render_cluster_conf(generate_cluster_conf(master_fs, self.pool.context(master)))
        master_fs.write_text(CLUSTER_CONF, conf)
        self.propagate(master, name)  # cluster.conf and the repositories, to the new server alone
        lib = "/usr/lib/ovs"
        steps: list[tuple[str, list[str]]] = [
            (name, ["umount", "/OVS"]),
            (name, [f"{lib}/ovs-cluster-configure"]),
            *[(name, ["service", svc, "start"]) for svc in SERVICE_ORDER],
            (name, [f"{lib}/ovs-cluster-check", "--alter-fstab"]),
        ]
        return hostsetup.run_in_order(steps, run)

    with patched(hostsetup.PoolHostSetup, "join_server", join_server):
        yield


@mutant(
    "propagation-fills-in-only-missing-files",
    "3",
    "ovs-cluster-check --propagate copies cluster.conf only to servers that have none, so a server "
    "whose copy differs keeps it",
    Target(SERVICES, ADD_THEN_PROPAGATE, TWO_X, "/etc/ocfs2/cluster.conf is the same on every server"),
    Target(SERVICES, PROPAGATE_ON_MASTER, TWO_X, "/etc/ocfs2/cluster.conf is the same on every server"),
)
@contextlib.contextmanager
def propagation_fills_in_only_missing_files() -> Iterator[None]:
    from ovmref.cluster.clusterconf import CLUSTER_CONF
    from ovmref.host.installed_pool import InstalledPool

    original = InstalledPool._propagate

    def propagate(self: InstalledPool, server: str, path: str, text: str) -> None:
        if path != CLUSTER_CONF or not self.hosts[server].exists(CLUSTER_CONF):
            original(self, server, path, text)

    with patched(InstalledPool, "_propagate", propagate):
        yield


@mutant(
    "makerepo-off-the-master-leaves-it-to-the-master",
    "3",
    "ovs-makerepo run on a server that is not the Server Pool Master exits 0 but registers and mounts "
    "nothing, leaving the repositories to the master's propagation",
    Target(SERVICES, ADD_THEN_MAKEREPO, TWO_X, "/etc/ovs/repositories on server4 lists /dev/sdb1"),
)
@contextlib.contextmanager
def makerepo_off_the_master_leaves_it_to_the_master() -> Iterator[None]:
    from ovmref.tools import dispatch
    from ovmref.tools.context import ToolResult
    from ovmref.tools.makerepo import makerepo

    def lazy(fs: Any, args: list[str], ctx: Any) -> ToolResult:
        if not ctx.is_master:
            return ToolResult(0, "the Server Pool Master propagates the repositories\n")
        return makerepo(fs, args, ctx)

    with mock.patch.dict(dispatch.TOOLS, {"ovs-makerepo": lazy}):
        yield


# ---------------------------------------------------------------------------- 6. the heartbeat file read back
@mutant(
    "heartbeat-file-always-formatted-the-white-paper-way",
    "6",
    "mkfs.ocfs2 on a file made with dd prints the options it was given but writes the white paper's "
    "heartbeat file (label server_pool_hb, 16 node slots, 2k blocks, 4k clusters) whatever they are",
    Target(
        SERVICES,
        "The heartbeat file made by hand reads back as mkfs.ocfs2 made it, on every server",
        TWO_X,
        "the OCFS2 file system in /OVS/.server_pool_hb on server2 has size 300M, label",
        {"slots": "32"},
    ),
)
@contextlib.contextmanager
def heartbeat_file_always_formatted_the_white_paper_way() -> Iterator[None]:
    import dataclasses

    from ovmref.storage import shared
    from ovmref.storage.volume_files import volume_file
    from ovmref.tools import mkfs

    original = mkfs._format_file

    def format_file(fs: Any, ctx: Any, request: Any) -> Any:
        fmt = original(fs, ctx, request)
        held = volume_file(fs, ctx.storage, request.target)
        assert held is not None  # the original formatted it there
        volume, inner = held
        fixed = dataclasses.replace(
            fmt,
            label=shared.ORACLE_HEARTBEAT_LABEL,
            node_slots=shared.ORACLE_NODE_SLOTS,
            block_size=shared.ORACLE_HEARTBEAT_BLOCK,
            cluster_size=shared.ORACLE_HEARTBEAT_CLUSTER,
        )
        volume.ocfs2.format_file(inner, fixed)
        return fmt

    with patched(mkfs, "_format_file", format_file):
        yield


@mutant(
    "dd-megabytes-are-si",
    "6",
    "dd reads bs=1M as 1,000,000 bytes (MB's) instead of 1,048,576, so the white paper's heartbeat "
    "file is 300,000,000 bytes, not 300 MiB",
    Target(
        SERVICES,
        "The heartbeat file made by hand reads back as mkfs.ocfs2 made it, on every server",
        TWO_X,
        "the OCFS2 file system in /OVS/.server_pool_hb on server2 has size 300M",
    ),
)
@contextlib.contextmanager
def dd_megabytes_are_si() -> Iterator[None]:
    from ovmref.tools import dd

    with mock.patch.dict(dd._MULTIPLIERS, {"M": 1000**2, "G": 1000**3}):
        yield


# ---------------------------------------------------------------------------- 9. pools and storage
@mutant(
    "own-heartbeat-slot-never-checked",
    "9",
    "never checks that its own heartbeat slot still holds the block it wrote (o2hb_check_own_slot), "
    "so a second pool made on the same storage writes over the pool's slots unnoticed",
    Target(
        "features/shared_storage.feature",
        "A second server pool made on the same shared storage is detected by the servers whose slots "
        "it takes",
        TWO_X,
        "server1 reports another heartbeat in its own slot",
    ),
)
@contextlib.contextmanager
def own_heartbeat_slot_never_checked() -> Iterator[None]:
    from ovmref.heartbeat import disk

    def check_own_slot(self: Any, buf: bytes) -> bool:
        return len(self._recent_writes) >= 2

    with patched(disk.DiskHeartbeat, "_check_own_slot", check_own_slot):
        yield


# ---------------------------------------------------------------------------- 14. one Manager per pool
@mutant(
    "any-manager-may-manage-the-pool",
    "14",
    "lets the server pool master carry out an operation from any Oracle VM Manager, not only from "
    "the one that manages the pool",
    Target(MASTERS, "A second Oracle VM Manager cannot manage the pool", TWO_X, "the operation is refused"),
)
@contextlib.contextmanager
def any_manager_may_manage_the_pool() -> Iterator[None]:
    import dataclasses

    from ovmref.agent import Agent

    original = Agent._on_request

    def on_request(self: Agent, event: Any) -> Any:
        return original(self, dataclasses.replace(event, manager=None))

    with patched(Agent, "_on_request", on_request):
        yield
