"""The evaluation gate: a candidate's measured metrics against the baseline's, under a policy.

Pure: measurements in, a `GateReport` out (rendered by `gitreg.render.gate`). A metric
passes when it meets `min` and `max` and, with a baseline, has not moved in the wrong
direction for its `goal` by more than `max_regression` (`max_regression_pct`: a percentage
of |baseline|) and has improved by at least `min_improvement` (`min_improvement_pct`).
With `significance`, each delta's bootstrap interval (`gitreg.evaluation.significance`)
decides: a regression fails only when the whole interval lies beyond the allowed move, an
improvement counts only when the whole interval lies above 0 and at or above the required
improvement. Anything that could not be measured fails; metrics without a policy are shown
for information. Declared metrics (from the version manifests) are shown beside the
measured ones and never used to decide. A rollback is judged on `min`/`max` only; an
approved override turns a failed gate into an "overridden" one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from gitreg.model.comparison import Comparison, compare, interval_text
from gitreg.model.measurement import Bootstrap as Bootstrap
from gitreg.model.measurement import CommandLog as CommandLog
from gitreg.model.measurement import Interval, Intervals
from gitreg.model.measurement import Measurement as Measurement
from gitreg.model.measurement import Override as Override

if TYPE_CHECKING:  # not at run time: the evaluator's own process does without pydantic
    from gitreg.model.manifest import MetricPolicy

Verdict = Literal["pass", "fail", "info"]
Outcome = Literal["passed", "failed", "overridden"]
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
    interval: Interval | None = None  # the delta's bootstrap interval (candidate - baseline)
    # significant | not significant | within limits | not judged (None: significance off)
    significance: str | None = None


@dataclass(frozen=True)
class DeclaredMetric:
    """A metric as the manifests declare it and as the gate measured it."""

    metric: str
    baseline_declared: float | None
    baseline_measured: float | None
    candidate_declared: float | None
    candidate_measured: float | None


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
    kind: str = "promotion"  # promotion | rollback
    override: Override | None = None
    environment: dict[str, dict[str, Any]] = field(default_factory=dict)  # role -> facts
    cached: list[str] = field(default_factory=list)  # roles whose result came from the cache

    @property
    def checks_passed(self) -> bool:
        rows = [*self.verdicts, *(v for vs in self.slices.values() for v in vs)]
        return all(v.verdict != "fail" for v in rows)

    @property
    def outcome(self) -> Outcome:
        if self.checks_passed:
            return "passed"
        counts = self.override is not None and self.override.pending is None
        return "overridden" if counts else "failed"

    @property
    def passed(self) -> bool:
        return self.outcome != "failed"

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "outcome": self.outcome, **asdict(self)}


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
    way = "drop" if policy.goal == "maximize" else "rise"
    if policy.max_regression is not None:
        parts.append(f"{way} <= {policy.max_regression:g}")
    if policy.max_regression_pct is not None:
        parts.append(f"{way} <= {policy.max_regression_pct:g}%")
    if policy.min_improvement is not None:
        parts.append(f"gain >= {policy.min_improvement:g}")
    if policy.min_improvement_pct is not None:
        parts.append(f"gain >= {policy.min_improvement_pct:g}%")
    return ", ".join(parts) or policy.goal


_RELATIVE = ("max_regression", "max_regression_pct", "min_improvement", "min_improvement_pct")


def _relative(policy: MetricPolicy) -> bool:
    """Whether the policy compares the metric with the baseline at all."""
    return any(getattr(policy, f) is not None for f in _RELATIVE)


def _significance(policy: MetricPolicy, found: Comparison) -> str:
    """How the interval bore on the verdict: it did not confirm a crossed limit or a
    required gain ("not significant"), it confirmed a failure or the required gain
    ("significant"), or nothing needed confirming ("within limits")."""
    if found.unconfirmed:
        return "not significant"
    gains = policy.min_improvement is not None or policy.min_improvement_pct is not None
    return "significant" if found.failures or gains else "within limits"


def judge(
    metric: str,
    policy: MetricPolicy | None,
    candidate: float | None,
    baseline: float | None,
    baseline_missing: str | None = None,
    *,
    intervals: Intervals | None = None,
    relative: bool = True,
) -> MetricVerdict:
    """One metric's verdict. `baseline_missing`: why a baseline exists but has no value;
    `intervals`: the significance settings' intervals (None: significance is off);
    `relative`: False skips every comparison with the baseline (a rollback)."""
    delta = candidate - baseline if candidate is not None and baseline is not None else None
    text = threshold_text(policy)

    def verdict(v: Verdict, reason: str, **kw: Any) -> MetricVerdict:
        return MetricVerdict(metric, baseline, candidate, delta, text, v, reason, **kw)

    if policy is None:
        return verdict("info", "no policy")
    if candidate is None:
        return verdict("fail", _UNREPORTED)
    failures = []
    if policy.min is not None and candidate < policy.min - _EPS:
        failures.append(f"below min {policy.min:g}")
    if policy.max is not None and candidate > policy.max + _EPS:
        failures.append(f"above max {policy.max:g}")
    compares = _relative(policy) and relative
    interval: Interval | None = None
    significance: str | None = None
    lenient: list[str] = []
    if compares and baseline is not None:
        if intervals is not None:
            interval = intervals.delta.get(metric)
            significance = "not judged" if interval is None else None
        found = compare(policy, candidate, baseline, interval)
        more, lenient = found.failures, found.let_through
        if interval is not None:
            significance = _significance(policy, found)
            shown = interval_text(interval, intervals.confidence if intervals else None)
            more = [f"{f} ({shown})" for f in more]
            lenient = [f"{m}, not significant ({shown})" for m in lenient]
        failures += more
    elif compares and baseline_missing is not None:
        fields = [f for f in _RELATIVE if getattr(policy, f) is not None]
        failures.append(f"cannot check {'/'.join(fields)}: {baseline_missing}")
    if significance == "not judged" and intervals is not None:
        lenient.append(f"significance not judged ({intervals.why_not(metric)}): plain rule")
    kw = {"interval": interval, "significance": significance}
    if failures:
        return verdict("fail", "; ".join(failures + lenient), **kw)
    reason = "; ".join(lenient) or "within thresholds"
    if compares and baseline is None:
        reason += " (no baseline to compare with)"
    elif _relative(policy) and not relative:
        reason = "within min/max (a rollback: no comparison with the baseline)"
    return verdict("pass", reason, **kw)


def _rows(
    policy: Mapping[str, MetricPolicy],
    cand: Mapping[str, float],
    base: Mapping[str, float] | None,
    base_missing: str | None,
    *,
    extras: bool,
    intervals: Intervals | None = None,
    relative: bool = True,
) -> list[MetricVerdict]:
    names = [*policy, *(sorted(m for m in cand if m not in policy) if extras else [])]
    rows = []
    for m in names:
        b = base.get(m) if base is not None else None
        why_no_base = base_missing or (
            "the baseline's evaluation did not report it" if base is not None else None
        )
        rows.append(
            judge(
                m, policy.get(m), cand.get(m), b, why_no_base,
                intervals=intervals, relative=relative,
            )
        )  # fmt: skip
    return rows


def _unmeasured(
    policy: Mapping[str, MetricPolicy], error: str, base: Mapping[str, float] | None
) -> list[MetricVerdict]:
    """A candidate that could not be measured fails every metric; the baseline's numbers
    are still shown."""
    missing = f"not measured: {error}"
    base = base or {}
    return [
        MetricVerdict(m, base.get(m), None, None, threshold_text(p), "fail", missing)
        for m, p in policy.items()
    ] or [MetricVerdict("evaluation", None, None, None, "-", "fail", missing)]


def _significance_notes(
    intervals: Intervals | None, policy: Mapping[str, MetricPolicy]
) -> list[str]:
    if intervals is None or not any(_relative(p) for p in policy.values()):
        return []
    if "*" in intervals.missing:
        return [f"significance could not be judged: {intervals.missing['*']}; the plain rule "
                "(point estimates against the limits) applies"]  # fmt: skip
    if not any(m in intervals.delta for m, p in policy.items() if _relative(p)):
        return []  # no delta has one: each verdict says why its significance was not judged
    level = f"{intervals.confidence * 100:g}%"
    return [f"significance: deltas shown with their {level} paired-bootstrap interval"]


def _slices(
    policy: Mapping[str, MetricPolicy],
    candidate: Measurement,
    baseline: Measurement | None,
    notes: list[str],
    relative: bool,
) -> dict[str, list[MetricVerdict]]:
    """Each slice's verdicts (no significance: slices are small)."""
    slices = {}
    for name, values in candidate.by_slice.items():
        base_slice = baseline.by_slice.get(name) if baseline and not baseline.error else None
        shown = {m: p for m, p in policy.items() if m in values}
        slices[name] = _rows(shown, values, base_slice, None, extras=not policy, relative=relative)
        if not slices[name]:
            notes.append(f"slice {name}: none of the policy's metrics reported")
    return slices


def _declared(
    declared_cand: Mapping[str, float],
    declared_base: Mapping[str, float],
    candidate: Measurement,
    measured_base: Mapping[str, float] | None,
) -> list[DeclaredMetric]:
    measured_base = measured_base or {}
    return [
        DeclaredMetric(
            m, declared_base.get(m), measured_base.get(m),
            declared_cand.get(m), candidate.metrics.get(m),
        )
        for m in sorted({*declared_cand, *declared_base})
    ]  # fmt: skip


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
    *,
    intervals: Intervals | None = None,
    kind: str = "promotion",
    override: Override | None = None,
) -> GateReport:
    """The gate's report for a candidate measured against a baseline (None: none).

    `kind` "rollback" judges `min`/`max` only; `intervals` (significance on) judge deltas."""
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
    relative = kind != "rollback"
    if candidate.error:
        verdicts = _unmeasured(policy, candidate.error, base_metrics)
        slices: dict[str, list[MetricVerdict]] = {}
    else:
        if not policy:
            notes.append("the model's evaluation policy sets no metrics: nothing gates")
        if baseline is not None and relative:
            notes += _significance_notes(intervals, policy)
        verdicts = _rows(
            policy, candidate.metrics, base_metrics, base_missing,
            extras=True, intervals=intervals, relative=relative,
        )  # fmt: skip
        slices = _slices(policy, candidate, baseline, notes, relative)
    declared = _declared(declared_candidate, declared_baseline or {}, candidate, base_metrics)
    runs = [(role, r) for role, r in (("baseline", baseline), ("candidate", candidate)) if r]
    logs = [r.log for _, r in runs if r.log is not None]
    version = baseline.version if baseline else None
    report = GateReport(
        model, candidate.version, version, stage, dataset, verdicts, slices, declared, notes, logs
    )
    report.kind, report.override = kind, override
    report.environment = {role: dict(r.environment) for role, r in runs if r.environment}
    report.cached = [role for role, r in runs if r.cached]
    return report
