"""o2quo: decide whether this node may keep using shared storage after a network loss.

Mirrors fs/ocfs2/cluster/quorum.c. Two nodes that cannot talk must not both
recover each other, so a node that lost contact with the majority of the
heartbeating nodes fences itself. Counts include this node (it heartbeats
and o2net_start_listening marks it connected). Nodes in transition put a
*hold* on decisions; a lost connection to a still-heartbeating peer takes a
hold for (dead_threshold + 2) iterations (O2NET_QUORUM_DELAY_MS), giving
o2hb the chance to declare the peer dead first, in which case nothing is
decided at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from ovmref.timing import O2CBTimings


class QuorumStateError(RuntimeError):
    """A callback out of order (the kernel BUG()s): the composing code is wrong."""


@dataclass(frozen=True)
class ScheduleQuorumCheck:
    """Call Quorum.on_timer at `at_ms` (the O2NET_QUORUM_DELAY_MS "still up" check)."""

    at_ms: int


@dataclass(frozen=True)
class FenceSelf:
    reason: str


@dataclass(frozen=True)
class QuorumDecided:
    """o2quo_make_decision ran: the numbers it used and what it concluded (for the timeline)."""

    heartbeating: int
    connected: int
    quorum: int
    lowest: int | None
    lowest_reachable: bool
    fence: bool
    detail: str


QuorumAction = ScheduleQuorumCheck | FenceSelf | QuorumDecided


def quorum_verdict(
    node: int, heartbeating: frozenset[int], connected: frozenset[int]
) -> QuorumDecided:
    """The pure decision rule of o2quo_make_decision for one node's view."""
    h, c = len(heartbeating), len(connected)
    lowest = min(heartbeating) if heartbeating else None
    lowest_reachable = lowest is not None and lowest in connected
    if node not in heartbeating or h <= 1:
        quorum = 0 if node not in heartbeating else 1
        detail = "not heartbeating" if node not in heartbeating else "only heartbeating node"
        return QuorumDecided(h, c, quorum, lowest, lowest_reachable, False, f"no decision: {detail}")
    if h % 2:
        quorum = (h + 1) // 2
        fence = c < quorum
        detail = (
            f"fencing this node because it is only connected to {c} nodes and {quorum} is needed "
            f"to make a quorum out of {h} heartbeating nodes"
            if fence else f"connected to {c} of {h} heartbeating nodes, quorum is {quorum}"
        )
    else:
        quorum = h // 2
        if c < quorum:
            fence = True
            detail = (
                f"fencing this node because it is only connected to {c} nodes and {quorum} is needed "
                f"to make a quorum out of {h} heartbeating nodes"
            )
        elif c == quorum and not lowest_reachable:
            fence = True
            detail = (
                f"fencing this node because it is connected to a half-quorum of {quorum} out of {h} "
                f"nodes which doesn't include the lowest active node {lowest}"
            )
        else:
            fence = False
            detail = (
                f"connected to {c} of {h} heartbeating nodes, quorum is {quorum}, "
                f"lowest active node {lowest} is {'' if lowest_reachable else 'un'}reachable"
            )
    return QuorumDecided(h, c, quorum, lowest, lowest_reachable, fence, detail)


class Quorum:
    """o2quo_state of one node, driven by o2hb (hb_up/down) and o2net (conn_up/err)."""

    def __init__(self, node: int, timings: O2CBTimings) -> None:
        self.node = node
        self.timings = timings
        self._heartbeating: set[int] = set()
        self._connected: set[int] = set()
        self._holds: set[int] = set()
        self._pending = False
        self._still_up: dict[int, int] = {}  # peer -> when o2net_still_up runs
        self.last_decision: QuorumDecided | None = None

    # ---- views -----------------------------------------------------------------------
    @property
    def heartbeating(self) -> frozenset[int]:
        return frozenset(self._heartbeating)

    @property
    def connected(self) -> frozenset[int]:
        return frozenset(self._connected)

    @property
    def holds(self) -> frozenset[int]:
        return frozenset(self._holds)

    @property
    def pending(self) -> bool:
        return self._pending

    def next_check_ms(self) -> int | None:
        return min(self._still_up.values(), default=None)

    # ---- holds -------------------------------------------------------------------------
    def _clear_hold(self, node: int) -> list[QuorumAction]:
        """Dropping the last hold runs a pending decision (o2quo_clear_hold)."""
        if node not in self._holds:
            return []
        self._holds.discard(node)
        if not self._holds and self._pending:
            self._pending = False
            return self._decide()
        return []

    def _decide(self) -> list[QuorumAction]:
        verdict = quorum_verdict(self.node, self.heartbeating, self.connected)
        self.last_decision = verdict
        actions: list[QuorumAction] = [verdict]
        if verdict.fence:
            actions.append(FenceSelf(verdict.detail))
        return actions

    # ---- callbacks ---------------------------------------------------------------------
    def hb_up(self, node: int, now_ms: int) -> list[QuorumAction]:
        """A node started heartbeating: hold decisions until we know its connection's fate."""
        if node in self._heartbeating:
            raise QuorumStateError(f"node {node} reported heartbeating twice")
        self._heartbeating.add(node)
        if node in self._connected:
            return self._clear_hold(node)
        self._holds.add(node)
        return []

    def hb_down(self, node: int, now_ms: int) -> list[QuorumAction]:
        """A node stopped heartbeating: its holds go, and no decision is made about it."""
        if node not in self._heartbeating:
            raise QuorumStateError(f"node {node} reported down but was not heartbeating")
        self._heartbeating.discard(node)
        self._still_up.pop(node, None)  # o2net_disconnect_node cancels nn_still_up
        return self._clear_hold(node)

    def conn_up(self, node: int, now_ms: int) -> list[QuorumAction]:
        """Connected: drops the hold hb_up took; connecting before heartbeating takes one."""
        if node in self._connected:
            raise QuorumStateError(f"node {node} reported connected twice")
        self._connected.add(node)
        if node in self._heartbeating:
            return self._clear_hold(node)
        self._holds.add(node)
        return []

    def conn_err(self, node: int, now_ms: int) -> list[QuorumAction]:
        """Lost (or never made) the connection: if the peer still heartbeats, hold and
        decide after the quorum delay unless o2hb declares it dead first."""
        self._connected.discard(node)
        if node not in self._heartbeating:
            return []
        self._holds.add(node)
        at = now_ms + self.timings.quorum_delay_ms
        self._still_up[node] = at
        return [ScheduleQuorumCheck(at)]

    def on_timer(self, now_ms: int) -> list[QuorumAction]:
        """Run every due o2net_still_up: the peer outlived the delay, so decide.

        As in the kernel, a check whose hold was already dropped (the peer
        reconnected) only leaves `pending` set for the next hold to drain.
        """
        actions: list[QuorumAction] = []
        for node in sorted(n for n, at in self._still_up.items() if at <= now_ms):
            del self._still_up[node]
            self._pending = True
            actions.extend(self._clear_hold(node))
        nxt = self.next_check_ms()
        if nxt is not None:
            actions.append(ScheduleQuorumCheck(nxt))
        return actions
