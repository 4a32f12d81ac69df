"""A tiny deterministic pool for ClusterNode tests.

A heap of actions on a virtual clock, one shared dict of heartbeat slots and
a network whose links can be cut. It executes ClusterNode effects the way a
driver must: ReadRegion snapshots the slots *before* the WriteSlot that
follows it in the same output, timers can be re-armed and cancelled, a hung
node keeps its events until it resumes. Faults: crash, hang/resume, storage
loss (or failing writes only), network partition, clean stop, restart with a new generation.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ovmref.cluster.node import ClusterNode, NodeOutput
from ovmref.effects import CancelTimer, Fence, ReadRegion, Record, Send, SetTimer, WriteSlot
from ovmref.events import Event, Received, RegionRead, RegionReadFailed, SlotWritten, TimerFired
from ovmref.heartbeat.membership import MembershipChange, NodeDown
from ovmref.timing import O2CBTimings

BLOCK_BYTES = 512

#: short timings: threshold 5 iterations of 1 s, idle 4 s (> 2 heartbeat discoveries)
FAST = O2CBTimings(dead_threshold=5, idle_timeout_ms=4000, keepalive_delay_ms=1000,
                   reconnect_delay_ms=1000, iteration_ms=1000)


@dataclass(frozen=True)
class Seen:
    """`observer` learned `change` at `at_ms`."""

    at_ms: int
    observer: int
    change: MembershipChange


@dataclass(frozen=True)
class Fenced:
    at_ms: int
    node: int
    reason: str


class MiniPool:
    def __init__(
        self,
        n: int,
        timings: O2CBTimings = FAST,
        *,
        start_offsets_ms: Sequence[int] | None = None,
        latency_ms: int = 1,
        node_timings: dict[int, O2CBTimings] | None = None,
    ) -> None:
        self.timings = timings
        self.now = 0
        self.latency_ms = latency_ms
        self.members = list(range(n))
        per_node = node_timings or {}
        self.nodes = {i: ClusterNode(i, self.members, per_node.get(i, timings), generation=0x1000 + i)
                      for i in self.members}
        self.slots: dict[int, bytes] = {}
        self.seen: list[Seen] = []
        self.fenced: dict[int, Fenced] = {}
        self.records: list[tuple[int, int, Record]] = []
        self.writes: list[tuple[int, int]] = []  # (time, node) of every successful slot write
        self.crashed: dict[int, int] = {}  # node -> time
        self.hung: dict[int, int] = {}  # node -> time the hang began (while hung)
        self.hangs: list[tuple[int, int, int | None]] = []  # (node, began, resumed)
        self.stopped: set[int] = set()
        self.storage_lost: set[int] = set()
        self.writes_failing: set[int] = set()
        self._cut: set[frozenset[int]] = set()
        self._heap: list[tuple[int, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._timers: dict[tuple[int, str], int] = {}
        self._backlog: dict[int, list[Event]] = {}
        offsets = start_offsets_ms or [0] * n
        for i in self.members:
            self.at(offsets[i], self._starter(i))

    def _starter(self, node: int) -> Callable[[], None]:
        return lambda: self._apply(node, self.nodes[node].start(self.now))

    # ---- clock ---------------------------------------------------------------------------
    def at(self, at_ms: int, action: Callable[[], None]) -> None:
        heapq.heappush(self._heap, (at_ms, next(self._order), action))

    def run_until(self, t_ms: int) -> None:
        while self._heap and self._heap[0][0] <= t_ms:
            at, _, action = heapq.heappop(self._heap)
            self.now = at
            action()
        self.now = t_ms

    # ---- faults --------------------------------------------------------------------------
    def crash(self, node: int) -> None:
        self.crashed[node] = self.now

    def hang(self, node: int) -> None:
        self.hung[node] = self.now
        self._backlog[node] = []

    def resume(self, node: int) -> None:
        began = self.hung.pop(node)
        self.hangs.append((node, began, self.now))
        self._apply(node, self.nodes[node].resumed(self.now))
        for event in self._backlog.pop(node, []):
            self.deliver(node, event)

    def lose_storage(self, node: int) -> None:
        self.storage_lost.add(node)

    def fail_writes(self, node: int) -> None:
        """Reads still work (a read-only path, a full write queue): only writes fail."""
        self.writes_failing.add(node)

    def isolate(self, group: Iterable[int]) -> None:
        """Cut every link between `group` and the other members."""
        inside = set(group)
        for a in inside:
            for b in set(self.members) - inside:
                self._cut.add(frozenset((a, b)))

    def heal(self) -> None:
        self._cut.clear()

    def stop(self, node: int) -> None:
        self._apply(node, self.nodes[node].stop(self.now))
        self.stopped.add(node)

    def restart(self, node: int, generation: int) -> None:
        """The server comes back (new o2hb generation) with the same node number."""
        self.crashed.pop(node, None)
        self.stopped.discard(node)
        self.fenced.pop(node, None)
        self.nodes[node] = ClusterNode(node, self.members, self.timings, generation)
        self._apply(node, self.nodes[node].start(self.now))

    # ---- driver --------------------------------------------------------------------------
    def alive(self, node: int) -> bool:
        return node not in self.crashed and node not in self.stopped and not self.nodes[node].fenced

    def deliver(self, node: int, event: Event) -> None:
        if not self.alive(node):
            return
        if node in self.hung:
            self._backlog[node].append(event)
            return
        self._apply(node, self.nodes[node].handle(self.now, event))

    def _later(self, at_ms: int, node: int, event: Event) -> None:
        self.at(at_ms, lambda: self.deliver(node, event))

    def _apply(self, node: int, out: NodeOutput) -> None:
        self.seen.extend(Seen(self.now, node, change) for change in out.membership)
        for effect in out.effects:
            if isinstance(effect, SetTimer):
                key = (node, effect.name)
                token = next(self._order)
                self._timers[key] = token
                self.at(effect.at_ms, self._timer(key, token))
            elif isinstance(effect, CancelTimer):
                self._timers.pop((node, effect.name), None)
            elif isinstance(effect, ReadRegion):
                if node in self.storage_lost:
                    self._later(self.now, node, RegionReadFailed("I/O error"))
                else:
                    empty = bytes(BLOCK_BYTES)
                    snapshot = {n: self.slots.get(n, empty) for n in self.members}
                    self._later(self.now, node, RegionRead(snapshot))
            elif isinstance(effect, WriteSlot):
                if node in self.storage_lost or node in self.writes_failing:
                    self._later(self.now, node, SlotWritten(False, "I/O error"))
                else:
                    self.slots[effect.node] = effect.data
                    self.writes.append((self.now, node))
                    self._later(self.now, node, SlotWritten(True))
            elif isinstance(effect, Send):
                if frozenset((node, effect.peer)) not in self._cut:
                    self._later(self.now + self.latency_ms, effect.peer, Received(node, effect.message))
            elif isinstance(effect, Fence):
                self.fenced[node] = Fenced(self.now, node, effect.reason)
            elif isinstance(effect, Record):
                self.records.append((self.now, node, effect))
            else:
                raise AssertionError(f"ClusterNode produced an unexpected effect {effect!r}")

    def _timer(self, key: tuple[int, str], token: int) -> Callable[[], None]:
        def fire() -> None:
            if self._timers.get(key) != token:
                return  # re-armed or cancelled since
            del self._timers[key]
            self.deliver(key[0], TimerFired(key[1]))

        return fire

    # ---- questions -----------------------------------------------------------------------
    def downs(self, node: int) -> list[Seen]:
        """Every peer's NodeDown about `node`, in time order."""
        return [s for s in self.seen if isinstance(s.change, NodeDown) and s.change.node == node
                and s.observer != node]

    def first_down(self, observer: int, node: int) -> Seen | None:
        return next((s for s in self.downs(node) if s.observer == observer), None)

    def records_of(self, kind: str) -> list[tuple[int, int, Record]]:
        return [r for r in self.records if r[2].kind == kind]
