"""O2CB timing configuration and the failover bounds derived from it.

Values and formulas: ocfs2-tools o2cb.init.sh defaults, kernel
fs/ocfs2/cluster/heartbeat.h and tcp.h (see shared/docs/ovm-ha-facts.md s.1).
Tests and real-time environments shrink them; the formulas stay the same.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ovmref.release import Release

LIVE_THRESHOLD = 2  # O2HB_LIVE_THRESHOLD: changed reads before a node is live


@dataclass(frozen=True)
class O2CBTimings:
    """/etc/sysconfig/o2cb values plus the o2hb iteration and the guest boot time."""

    dead_threshold: int = 31  # O2CB_HEARTBEAT_THRESHOLD (iterations)
    idle_timeout_ms: int = 30000  # O2CB_IDLE_TIMEOUT_MS
    keepalive_delay_ms: int = 2000  # O2CB_KEEPALIVE_DELAY_MS
    reconnect_delay_ms: int = 2000  # O2CB_RECONNECT_DELAY_MS
    iteration_ms: int = 2000  # O2HB_REGION_TIMEOUT_MS
    guest_boot_ms: int = 5000  # time a restarted guest takes to report running
    reboot_ms: int = 60000  # time a fenced server takes to reboot and rejoin

    def __post_init__(self) -> None:
        if self.dead_threshold <= 2:
            raise ValueError(f"dead_threshold must be > 2 (kernel rule), got {self.dead_threshold}")
        if self.idle_timeout_ms <= self.keepalive_delay_ms:
            raise ValueError("idle_timeout_ms must be greater than keepalive_delay_ms (kernel rule)")
        if self.iteration_ms <= 0:
            raise ValueError("iteration_ms must be positive")

    @classmethod
    def for_release(cls, release: Release) -> O2CBTimings:
        """Defaults per release: 31/30000 ms for 2.x, 61/60000 ms for 3.x."""
        if release is Release.R3:
            return cls(dead_threshold=61, idle_timeout_ms=60000)
        return cls()

    def scaled(self, factor: float) -> O2CBTimings:
        """Same thresholds, every duration multiplied: real-time tests use short intervals."""
        return replace(
            self,
            idle_timeout_ms=max(2, int(self.idle_timeout_ms * factor)),
            keepalive_delay_ms=max(1, int(self.keepalive_delay_ms * factor)),
            reconnect_delay_ms=max(1, int(self.reconnect_delay_ms * factor)),
            iteration_ms=max(1, int(self.iteration_ms * factor)),
            guest_boot_ms=int(self.guest_boot_ms * factor),
            reboot_ms=int(self.reboot_ms * factor),
        )

    # --- derived quantities (facts s.1 "Derived timings") ---
    @property
    def dead_ms(self) -> int:
        """hb_dead_ms written in every heartbeat block."""
        return self.dead_threshold * self.iteration_ms

    @property
    def max_write_timeout_ms(self) -> int:
        """Self-fence after this long without a successful own-slot write."""
        return self.iteration_ms * (self.dead_threshold - 1)

    @property
    def quorum_delay_ms(self) -> int:
        """O2NET_QUORUM_DELAY_MS: wait before deciding quorum after a lost connection."""
        return (self.dead_threshold + 2) * self.iteration_ms

    def guest_restart_bound_ms(self) -> int:
        """Worst case from a guest's crash (its server stays up) to it running on another server:
        the agent's report and the master's start command, an iteration each to arrive, then the
        guest's boot."""
        return 2 * self.iteration_ms + self.guest_boot_ms

    def failover_bound_ms(self, fault: str) -> int:
        """Worst case from the fault to an HA guest running elsewhere.

        crash/hang/storage: peers judge the node dead after `dead_threshold`
        unchanged reads (+1 iteration of phase slack); partition: the minority
        first fences after idle timeout + quorum delay, then is judged dead.
        Restart adds the guest boot time and one iteration for the master's
        commands to reach a target.
        """
        detect = (self.dead_threshold + 1) * self.iteration_ms
        if fault == "partition":
            detect += self.idle_timeout_ms + self.quorum_delay_ms + self.iteration_ms
        elif fault not in ("crash", "hang", "storage", "master"):
            raise ValueError(f"unknown fault kind {fault!r}")
        if fault == "master":
            detect += self.iteration_ms  # election by lock after the same detection
        return detect + self.iteration_ms + self.guest_boot_ms
