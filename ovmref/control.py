"""What a pool's operator does to a server's agent outside the cluster protocol, as typed events.

A server added to the pool, the cluster services stopped under the agent, the agent daemon started
or stopped: the simulator and the local supervisor deliver the very same objects to
`Agent.control`, the local one over the server's control socket (environments/local/wire.py
registers this module, so nothing else can be built from such a request).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PeerAdded:
    """cluster.conf gained a node: a server was added to the pool (the master propagates the file)."""

    node: int
    name: str
    #: its o2net endpoint (cluster.conf's ip_address and ip_port); None where no network is real
    address: tuple[str, int] | None = None


@dataclass(frozen=True)
class ClusterServicesStopped:
    """The cluster services were stopped under the agent (o2cb/ocfs2 stop, ocfs2_hb_ctl -K)."""


@dataclass(frozen=True)
class AgentDaemon:
    """`service ovs-agent start` or `stop`: the agent daemon runs or not (the o2cb heartbeat goes on)."""

    running: bool


ControlEvent = PeerAdded | ClusterServicesStopped | AgentDaemon
