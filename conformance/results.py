"""Typed results collected from pytest reports (the "collect" stage of collect -> model -> render).

Scenario metadata travels as one JSON string in `report.user_properties`
(key EVIDENCE_KEY), which pytest-xdist carries from workers to the
controller unchanged; the collector merges the setup/call/teardown reports
of each test into one ScenarioResult.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

# unknown: a pre-upgrade check that could not observe what it needs on a host (never "passed")
ScenarioStatus = Literal["passed", "failed", "error", "unknown", "skipped", "not-applicable"]
SCENARIO_STATUSES: tuple[ScenarioStatus, ...] = (
    "passed",
    "failed",
    "error",
    "unknown",
    "skipped",
    "not-applicable",
)
NOT_APPLICABLE_PREFIX = "not applicable:"

METADATA_KEY = "ovm_scenario"  # set at collection: rules, release, scenario, feature, seed, replay
EVIDENCE_KEY = "ovm_evidence"  # set after the call: timeline, failover marks, outcome class


@dataclass(frozen=True)
class ScenarioMeta:
    """What is known about a scenario test before it runs."""

    nodeid: str
    name: str
    feature: str
    rules: tuple[str, ...]
    release: str
    environment: str
    seed: int
    replay: str

    def to_json(self) -> str:
        return json.dumps(
            {
                "nodeid": self.nodeid,
                "name": self.name,
                "feature": self.feature,
                "rules": list(self.rules),
                "release": self.release,
                "environment": self.environment,
                "seed": self.seed,
                "replay": self.replay,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> ScenarioMeta:
        data = json.loads(text)
        return cls(
            nodeid=str(data["nodeid"]),
            name=str(data["name"]),
            feature=str(data["feature"]),
            rules=tuple(str(r) for r in data["rules"]),
            release=str(data["release"]),
            environment=str(data["environment"]),
            seed=int(data["seed"]),
            replay=str(data["replay"]),
        )


@dataclass(frozen=True)
class ScenarioResult:
    meta: ScenarioMeta
    status: ScenarioStatus
    duration_s: float
    message: str = ""
    timeline: tuple[dict[str, Any], ...] = ()
    timeline_truncated: bool = False
    failover: tuple[dict[str, Any], ...] = ()
    # timing checks with what a real-time run granted them, and the latency it measured
    latency: dict[str, Any] = field(default_factory=dict)
    too_slow: bool = False  # an error because the measured latency left nothing to judge

    @property
    def has_fault(self) -> bool:
        return any(event.get("kind") == "fault" for event in self.timeline)


@dataclass
class _Pending:
    """Reports seen so far for one test id."""

    meta: ScenarioMeta
    status: ScenarioStatus = "passed"
    duration_s: float = 0.0
    message: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)


class ResultCollector:
    """Fed every TestReport in the controller; yields one ScenarioResult per scenario test."""

    def __init__(self) -> None:
        self._pending: dict[str, _Pending] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def add(
        self,
        *,
        nodeid: str,
        when: str,
        outcome: str,
        duration_s: float,
        user_properties: list[tuple[str, object]],
        message: str,
    ) -> None:
        """Merge one phase report; reports without scenario metadata (unit tests) are ignored."""
        props = dict(user_properties)
        raw_meta = props.get(METADATA_KEY)
        if not isinstance(raw_meta, str):
            return
        pending = self._pending.get(nodeid)
        if pending is None:
            pending = self._pending[nodeid] = _Pending(meta=ScenarioMeta.from_json(raw_meta))
        pending.duration_s += duration_s
        raw_evidence = props.get(EVIDENCE_KEY)
        environment_error = False
        if isinstance(raw_evidence, str):
            pending.evidence = json.loads(raw_evidence)
            environment_error = bool(pending.evidence.get("environment_error"))
            if outcome == "failed" and pending.evidence.get("failed_step"):
                message = f"step '{pending.evidence['failed_step']}' failed: {message}"
        status = _phase_status(when, outcome, message, environment_error)
        if status is not None and _worse(status, pending.status):
            pending.status = status
            pending.message = message

    def results(self) -> list[ScenarioResult]:
        out: list[ScenarioResult] = []
        for pending in self._pending.values():
            evidence = pending.evidence
            out.append(
                ScenarioResult(
                    meta=pending.meta,
                    status=pending.status,
                    duration_s=round(pending.duration_s, 6),
                    message=pending.message,
                    timeline=tuple(evidence.get("timeline", ())),
                    timeline_truncated=bool(evidence.get("timeline_truncated", False)),
                    failover=tuple(evidence.get("failover", ())),
                    latency=dict(evidence.get("latency", {})),
                    too_slow=pending.status == "error" and bool(evidence.get("too_slow")),
                )
            )
        return out


def _phase_status(when: str, outcome: str, message: str, environment_error: bool) -> ScenarioStatus | None:
    if outcome == "passed":
        return "passed" if when == "call" else None
    if outcome == "skipped":
        return "not-applicable" if message.startswith(NOT_APPLICABLE_PREFIX) else "skipped"
    if when != "call" or environment_error:
        return "error"
    return "failed"


_SEVERITY: dict[ScenarioStatus, int] = {
    "passed": 0,
    "not-applicable": 1,
    "skipped": 2,
    "unknown": 3,
    "error": 4,
    "failed": 5,
}


def _worse(new: ScenarioStatus, old: ScenarioStatus) -> bool:
    return _SEVERITY[new] > _SEVERITY[old]
