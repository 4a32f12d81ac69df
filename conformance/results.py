"""Typed results collected from pytest reports (the "collect" stage of collect -> model -> render).

Scenario metadata travels as one JSON string in `report.user_properties`
(key METADATA_KEY), the evidence of a run under EVIDENCE_KEY; pytest-xdist
carries both from workers to the controller unchanged. The collector merges
the setup/call/teardown reports of each test into one ScenarioResult, with
the status words of conformance.statuses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from conformance.statuses import PRECEDENCE, Status, from_pytest
from environments.outcome import FaultOutcome

ScenarioStatus = Status  # the name the renderers and validate.py use

METADATA_KEY = "ovm_scenario"  # set at collection: rules, release, scenario, steps, feature, seed, replay
EVIDENCE_KEY = "ovm_evidence"  # set after the call: step outcomes, message, timeline, fault outcomes
# set on any failed phase: {"kind": suite|environment|"", "message": ..., "too_slow": true (an
# environment error because the run's measured latency left nothing to judge)}
OUTCOME_KEY = "ovm_outcome"

StepOutcome = str  # passed | failed | undefined | error | not-reached


@dataclass(frozen=True)
class StepInfo:
    """One Given/When/Then line of a scenario, examples filled in."""

    keyword: str
    text: str
    line: int
    table: tuple[tuple[str, ...], ...] = ()
    doc: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"keyword": self.keyword, "text": self.text, "line": self.line}
        if self.table:
            out["table"] = [list(row) for row in self.table]
        if self.doc:
            out["doc"] = self.doc
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StepInfo:
        return cls(
            keyword=str(data["keyword"]),
            text=str(data["text"]),
            line=int(data["line"]),
            table=tuple(tuple(str(c) for c in row) for row in data.get("table", ())),
            doc=str(data.get("doc", "")),
        )


@dataclass(frozen=True)
class ScenarioMeta:
    """What is known about a scenario test before it runs."""

    nodeid: str
    name: str  # the scenario's name as written (an Outline's placeholders kept)
    feature: str
    rules: tuple[str, ...]
    release: str
    environment: str
    seed: int
    replay: str
    title: str = ""  # this run's own title: an Outline's examples filled in
    line: int = 0  # the scenario's line in its feature file
    feature_name: str = ""  # the Feature: line's text
    example: tuple[tuple[str, str], ...] = ()  # an Outline's example row: (column, value)
    steps: tuple[StepInfo, ...] = ()
    destructive: bool = False

    @property
    def display(self) -> str:
        return self.title or self.name

    @property
    def template_key(self) -> tuple[str, int, str]:
        """The scenario as written (one per Outline, whatever its examples)."""
        return (self.feature, self.line, self.name)

    @property
    def example_key(self) -> tuple[str, int, str, tuple[tuple[str, str], ...]]:
        """One example of it (the same across releases)."""
        return (self.feature, self.line, self.name, self.example)

    def to_json(self) -> str:
        return json.dumps(
            {
                "nodeid": self.nodeid,
                "name": self.name,
                "title": self.title,
                "feature": self.feature,
                "feature_name": self.feature_name,
                "line": self.line,
                "rules": list(self.rules),
                "release": self.release,
                "environment": self.environment,
                "seed": self.seed,
                "replay": self.replay,
                "example": [list(pair) for pair in self.example],
                "steps": [s.to_dict() for s in self.steps],
                "destructive": self.destructive,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> ScenarioMeta:
        data = json.loads(text)
        return cls(
            nodeid=str(data["nodeid"]),
            name=str(data["name"]),
            title=str(data.get("title", "")),
            feature=str(data["feature"]),
            feature_name=str(data.get("feature_name", "")),
            line=int(data.get("line", 0)),
            rules=tuple(str(r) for r in data["rules"]),
            release=str(data["release"]),
            environment=str(data["environment"]),
            seed=int(data["seed"]),
            replay=str(data["replay"]),
            example=tuple((str(k), str(v)) for k, v in data.get("example", ())),
            steps=tuple(StepInfo.from_dict(s) for s in data.get("steps", ())),
            destructive=bool(data.get("destructive", False)),
        )


@dataclass(frozen=True)
class ScenarioResult:
    meta: ScenarioMeta
    status: Status
    duration_s: float
    message: str = ""
    timeline: tuple[dict[str, Any], ...] = ()
    timeline_truncated: bool = False
    failover: tuple[FaultOutcome, ...] = ()  # each injected fault's outcome, as the plugin computed it
    # timing checks with what a real-time run granted them, and the latency it measured
    latency: dict[str, Any] = field(default_factory=dict)
    too_slow: bool = False  # an error because the measured latency left nothing to judge
    step_outcomes: tuple[StepOutcome, ...] = ()  # one per meta.steps entry, when the scenario ran
    failed_step: int = -1  # index into meta.steps of the step that failed, -1 if none
    step_ms: tuple[float, ...] = ()  # how long each step took
    started: float = 0.0  # epoch seconds (0: unknown)

    @property
    def has_fault(self) -> bool:
        return any(event.get("kind") == "fault" for event in self.timeline)

    @property
    def failed_step_text(self) -> str:
        if 0 <= self.failed_step < len(self.meta.steps):
            step = self.meta.steps[self.failed_step]
            return f"{step.keyword} {step.text}"
        return ""


@dataclass
class _Pending:
    """Reports seen so far for one test id."""

    meta: ScenarioMeta
    status: Status | None = None
    duration_s: float = 0.0
    message: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    too_slow: bool = False  # the status is an environment error because the run was too slow to judge


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
        if isinstance(raw_evidence, str) and when == "call":
            pending.evidence = json.loads(raw_evidence)
        kind, too_slow = "", False
        raw_outcome = props.get(OUTCOME_KEY)
        if outcome == "failed" and isinstance(raw_outcome, str):
            classified = json.loads(raw_outcome)
            kind = str(classified.get("kind", ""))
            message = str(classified.get("message") or message)
            too_slow = bool(classified.get("too_slow"))
        status = from_pytest(when, outcome, message, kind)
        if status is not None and (pending.status is None or _worse(status, pending.status)):
            pending.status = status
            pending.message = message
            pending.too_slow = too_slow

    def results(self) -> list[ScenarioResult]:
        out: list[ScenarioResult] = []
        for pending in self._pending.values():
            evidence = pending.evidence
            out.append(
                ScenarioResult(
                    meta=pending.meta,
                    status=pending.status or "not-run",
                    duration_s=round(pending.duration_s, 6),
                    message=pending.message,
                    timeline=tuple(evidence.get("timeline", ())),
                    timeline_truncated=bool(evidence.get("timeline_truncated", False)),
                    failover=tuple(FaultOutcome.from_dict(o) for o in evidence.get("failover", ())),
                    latency=dict(evidence.get("latency", {})),
                    too_slow=pending.too_slow and pending.status == "environment-error",
                    step_outcomes=tuple(str(s) for s in evidence.get("steps", ())),
                    failed_step=int(evidence.get("failed_step", -1)),
                    step_ms=tuple(float(t) for t in evidence.get("step_ms", ())),
                    started=float(evidence.get("started", 0.0)),
                )
            )
        return out


def _worse(new: Status, old: Status) -> bool:
    """A failed call outranks a passed setup; a teardown error outranks a passed call."""
    return _MERGE_RANK[new] > _MERGE_RANK[old]


# passed ranks lowest when merging phases; otherwise PRECEDENCE's order (failed highest)
_MERGE_RANK: dict[str, int] = {
    s: 0 if s == "passed" else len(PRECEDENCE) - i for i, s in enumerate(PRECEDENCE)
}
