"""The evaluation gate: a candidate's measured metrics against the baseline's, under a policy.

Pure: measurements in, a `GateReport` out (rendered by `gitreg.render.gate`). A metric
passes when it meets `min` and `max` and, with a baseline, has not moved in the wrong
direction for its `goal` by more than `max_regression`. Anything that could not be
measured fails; metrics without a policy are shown for information. Declared metrics
(from the version manifests) are shown beside the measured ones and never used to decide.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # not at run time: the evaluator's own process does without pydantic
    from gitreg.model.manifest import MetricPolicy

Verdict = Literal["pass", "fail", "info"]
NO_BASELINE = "no baseline: only absolute thresholds apply"
_UNREPORTED = "the evaluation did not report it"
_EPS = 1e-9


@dataclass(frozen=True)
class MetricVerdict:
    metric: str
    baseline: float | None
    candidate: float | None
    delta: float | None
    threshold: str
    verdict: Verdict
    reason: str


@dataclass(frozen=True)
class DeclaredMetric:
    """A metric as the manifests declare it and as the gate measured it."""

    metric: str
    baseline_declared: float | None
    baseline_measured: float | None
    candidate_declared: float | None
    candidate_measured: float | None


@dataclass(frozen=True)
class CommandLog:
    """One evaluator run: what ran, how it ended, the tails of its output."""

    role: str  # candidate | baseline
    version: str
    argv: list[str]
    returncode: int | None
    seconds: float
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Measurement:
    """What an evaluator reported for one version, or why it could not."""

    version: str
    metrics: dict[str, float] = field(default_factory=dict)
    by_slice: dict[str, dict[str, float]] = field(default_factory=dict)
    error: str | None = None
    log: CommandLog | None = None


@dataclass
class GateReport:
    model: str
    candidate: str
    baseline: str | None
    stage: str | None
    dataset: str | None
    verdicts: list[MetricVerdict]
    slices: dict[str, list[MetricVerdict]] = field(default_factory=dict)
    declared: list[DeclaredMetric] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    logs: list[CommandLog] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        rows = [*self.verdicts, *(v for vs in self.slices.values() for v in vs)]
        return all(v.verdict != "fail" for v in rows)

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, **asdict(self)}


@dataclass
class GateSummary:
    """Every gate of one `gitreg evaluate` run, and the stage changes it did not gate."""

    ref: str
    base: str | None = None
    reports: list[GateReport] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.reports)

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "ref": self.ref,
            "base": self.base,
            "reports": [r.to_dict() for r in self.reports],
            "skipped": self.skipped,
        }


# --- the decision ---------------------------------------------------------------------------


def threshold_text(policy: MetricPolicy | None) -> str:
    if policy is None:
        return "-"
    parts = [f">= {policy.min:g}"] if policy.min is not None else []
    parts += [f"<= {policy.max:g}"] if policy.max is not None else []
    if policy.max_regression is not None:
        way = "drop" if policy.goal == "maximize" else "rise"
        parts.append(f"{way} <= {policy.max_regression:g}")
    return ", ".join(parts) or policy.goal


def judge(
    metric: str,
    policy: MetricPolicy | None,
    candidate: float | None,
    baseline: float | None,
    baseline_missing: str | None = None,
) -> MetricVerdict:
    """One metric's verdict. `baseline_missing`: why a baseline exists but has no value."""
    delta = candidate - baseline if candidate is not None and baseline is not None else None
    text = threshold_text(policy)
    if policy is None:
        return MetricVerdict(metric, baseline, candidate, delta, text, "info", "no policy")
    if candidate is None:
        return MetricVerdict(metric, baseline, None, None, text, "fail", _UNREPORTED)
    failures = []
    if policy.min is not None and candidate < policy.min - _EPS:
        failures.append(f"below min {policy.min:g}")
    if policy.max is not None and candidate > policy.max + _EPS:
        failures.append(f"above max {policy.max:g}")
    limit = policy.max_regression
    if limit is not None and baseline is not None:
        wrong = baseline - candidate if policy.goal == "maximize" else candidate - baseline
        if wrong > limit + _EPS:
            way = "dropped" if policy.goal == "maximize" else "rose"
            failures.append(f"{way} by {wrong:.4g} against the baseline (allowed {limit:g})")
    elif limit is not None and baseline_missing is not None:
        failures.append(f"cannot check max_regression: {baseline_missing}")
    if failures:
        return MetricVerdict(metric, baseline, candidate, delta, text, "fail", "; ".join(failures))
    reason = "within thresholds"
    if limit is not None and baseline is None:
        reason += " (no baseline to compare with)"
    return MetricVerdict(metric, baseline, candidate, delta, text, "pass", reason)


def _rows(
    policy: Mapping[str, MetricPolicy],
    cand: Mapping[str, float],
    base: Mapping[str, float] | None,
    base_missing: str | None,
    *,
    extras: bool,
) -> list[MetricVerdict]:
    names = [*policy, *(sorted(m for m in cand if m not in policy) if extras else [])]
    rows = []
    for m in names:
        b = base.get(m) if base is not None else None
        why_no_base = base_missing or (
            "the baseline's evaluation did not report it" if base is not None else None
        )
        rows.append(judge(m, policy.get(m), cand.get(m), b, baseline_missing=why_no_base))
    return rows


def decide(
    model: str,
    stage: str | None,
    dataset: str | None,
    policy: Mapping[str, MetricPolicy],
    candidate: Measurement,
    baseline: Measurement | None,
    declared_candidate: Mapping[str, float],
    declared_baseline: Mapping[str, float] | None = None,
    notes: list[str] | None = None,
) -> GateReport:
    """The gate's report for a candidate measured against a baseline (None: none)."""
    notes = list(notes or [])
    if baseline is None:
        notes.append(NO_BASELINE)
    elif baseline.error:
        notes.append(f"baseline {baseline.version} could not be measured: {baseline.error}")
    base_metrics = baseline.metrics if baseline is not None and not baseline.error else None
    base_missing = (
        f"the baseline could not be measured ({baseline.error})"
        if baseline is not None and baseline.error
        else None
    )
    if candidate.error:
        missing = f"not measured: {candidate.error}"
        verdicts = [
            MetricVerdict(m, None, None, None, threshold_text(p), "fail", missing)
            for m, p in policy.items()
        ] or [MetricVerdict("evaluation", None, None, None, "-", "fail", missing)]
        slices: dict[str, list[MetricVerdict]] = {}
    else:
        if not policy:
            notes.append("the model's evaluation policy sets no metrics: nothing gates")
        verdicts = _rows(policy, candidate.metrics, base_metrics, base_missing, extras=True)
        slices = {}
        for name, values in candidate.by_slice.items():
            base_slice = baseline.by_slice.get(name) if baseline and not baseline.error else None
            shown = {m: p for m, p in policy.items() if m in values}
            slices[name] = _rows(shown, values, base_slice, None, extras=not policy)
            if not slices[name]:
                notes.append(f"slice {name}: none of the policy's metrics reported")
    declared_base, measured_base = declared_baseline or {}, base_metrics or {}
    declared = [
        DeclaredMetric(
            m, declared_base.get(m), measured_base.get(m),
            declared_candidate.get(m), candidate.metrics.get(m),
        )
        for m in sorted({*declared_candidate, *declared_base})
    ]  # fmt: skip
    logs = [r.log for r in (baseline, candidate) if r is not None and r.log is not None]
    version = baseline.version if baseline else None
    return GateReport(
        model, candidate.version, version, stage, dataset, verdicts, slices, declared, notes, logs
    )
