"""Enabling HA on a 2.x pool: what the Manager verifies on servers the master has not configured yet.

User's Guide 2.1, 9.4: the agent on the Server Pool Master runs
ovs-cluster-configure and starts the heartbeat (host.procedure.enable_ha_commands),
"The server pool setup is verified and any errors are displayed", and only
then are the repositories and cluster.conf propagated to the other servers.
A server that has no cluster configuration at all yet (no cluster.conf, no
cluster root registered: the state the documented procedure leaves the
servers other than the master in) cannot be judged on what that propagation
will give it; it is judged on everything else (release, names, its local
/OVS). A server that has some configuration is judged on all of it: a
cluster.conf that differs is an error to show, not something to overwrite.
"""

from __future__ import annotations

from collections.abc import Mapping

from ovmref.cluster.clusterconf import CLUSTER_CONF
from ovmref.hostfs import HostFS
from ovmref.prereq import Finding, PoolFacts, check_pool, check_rules, rules_for
from ovmref.release import Release
from ovmref.tools.storage_ops import load_repositories

# what the master's propagation and the services started after it give a server
PROPAGATED_RULES = frozenset(
    {
        "PRE-SAME-SHARED-STORAGE",
        "PRE-SAME-CLUSTER-ROOT",
        "PRE-CLUSTER-ROOT-MOUNT",
        "PRE-REPOSITORIES-FILE",
        "PRE-NO-LOCAL-OCFS2-ROOT",
        "PRE-CLUSTERCONF-IDENTICAL",
        "PRE-CLUSTERCONF-NO-LOOPBACK",
        "PRE-NFS-HEARTBEAT-FILE",
        "PRE-NODE-SLOTS",  # read from each server's cluster.conf (judged on the master's)
        "PRE-SERVICES-UP",
    }
)


def awaiting_configuration(fs: HostFS) -> bool:
    """No cluster.conf and no cluster root registered: the master has not configured it yet."""
    return not fs.exists(CLUSTER_CONF) and load_repositories(fs).cluster_root is None


def verify_for_enabling(hosts: Mapping[str, HostFS], release: Release, pool: PoolFacts) -> list[Finding]:
    """The prerequisite findings the Manager shows when HA is enabled (every error, by rule)."""
    if release is Release.R3:
        return check_pool(hosts, release, pool)
    configured = {name: fs for name, fs in hosts.items() if not awaiting_configuration(fs)}
    rules = rules_for(release, pool.storage_kind)
    findings = check_rules(hosts, release, pool, [r for r in rules if r not in PROPAGATED_RULES])
    findings += check_rules(configured, release, pool, [r for r in rules if r in PROPAGATED_RULES])
    return findings
