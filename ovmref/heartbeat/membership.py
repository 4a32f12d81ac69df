"""What the heartbeat layers tell the rest of the stack.

o2hb reports nodes coming and going on disk (NodeUp/NodeDown); o2net reports
connections (ConnUp/ConnErr). o2quo and the HA agent consume both, so the
types live apart from the machines that produce them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DownReason = Literal["timeout", "generation", "clean-leave"]


@dataclass(frozen=True)
class NodeUp:
    """The node's slot changed LIVE_THRESHOLD times: it heartbeats on the shared disk."""

    node: int


@dataclass(frozen=True)
class NodeDown:
    """The node left the region.

    reason: "timeout" (dead_threshold unchanged reads), "generation" (it
    restarted with a new generation) or "clean-leave" (it wrote generation 0).
    """

    node: int
    reason: DownReason


MembershipChange = NodeUp | NodeDown


@dataclass(frozen=True)
class ConnUp:
    """The o2net connection to this peer is established (handshake accepted)."""

    node: int


@dataclass(frozen=True)
class ConnErr:
    """The o2net connection to this peer was lost or never came up; `reason` says why."""

    node: int
    reason: str = ""


ConnChange = ConnUp | ConnErr
