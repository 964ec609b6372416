"""The paired bootstrap's intervals: how far apart candidate and baseline really are.

Resample i is the same rows for both models (`gitreg.evaluation.resample.counts`, the
one home of how resamples are drawn). The delta's distribution is
`candidate[i] - baseline[i]`; its percentile interval at `confidence` (linear
interpolation between order statistics, as numpy's default) is the delta's interval.

Per metric, an evaluator reports either the resampled scores themselves (a "bootstrap"
block: the built-in evaluator) or one score per row ("per_row": a command), whose
resampled means are computed here. Where neither is there, or the two runs disagree on
samples, seed or rows, the metric has no interval and `Intervals.missing` says why: the
gate then applies its plain rule (`gitreg.model.gate`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from gitreg.evaluation import resample
from gitreg.model.manifest import Evaluation, Significance
from gitreg.model.measurement import Interval, Intervals, Measurement


def percentile_interval(values: Sequence[float], confidence: float) -> Interval:
    """The central `confidence` interval of `values` (linear interpolation)."""
    ordered = sorted(values)
    tail = (1 - confidence) / 2

    def at(q: float) -> float:
        pos = q * (len(ordered) - 1)
        low = int(pos)
        high = min(low + 1, len(ordered) - 1)
        return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)

    return at(tail), at(1 - tail)


def _resampled_means(
    rows: dict[tuple[str, str], list[float]], s: Significance
) -> dict[tuple[str, str], list[float]]:
    """The mean of each per-row list on each resample, all lists over the same resamples."""
    import numpy as np

    keys = list(rows)
    matrix = np.array([rows[k] for k in keys], dtype=float)
    n = matrix.shape[1]
    means = np.empty((len(keys), s.samples))
    for i, counts in enumerate(resample.counts(s.seed, s.samples, n)):
        means[:, i] = matrix @ counts / n
    return {k: [float(x) for x in means[j]] for j, k in enumerate(keys)}


def _source(m: Measurement, role: str, metric: str, s: Significance) -> str | None:
    """Why `m` has no usable resampled scores for `metric`, or None."""
    boot = m.bootstrap
    if boot is not None and metric in boot.metrics:
        if (boot.samples, boot.seed) != (s.samples, s.seed):
            return (
                f"the {role}'s bootstrap used samples={boot.samples}, seed={boot.seed}, "
                f"not the policy's samples={s.samples}, seed={s.seed}"
            )
        return None
    if metric in m.per_row:
        return None
    return f"the {role}'s evaluation reported no resampled or per-row scores for {metric}"


def _rows_of(m: Measurement, metric: str) -> int:
    if m.bootstrap is not None and metric in m.bootstrap.metrics:
        return m.bootstrap.rows
    return len(m.per_row[metric])


def intervals(
    candidate: Measurement, baseline: Measurement, s: Significance, metrics: Iterable[str]
) -> Intervals:
    """The delta's interval of each metric both runs can resample, and why not the others."""
    missing: dict[str, str] = {}
    usable = []
    for metric in metrics:
        why = _source(candidate, "candidate", metric, s) or _source(baseline, "baseline", metric, s)
        if why is None and _rows_of(candidate, metric) != _rows_of(baseline, metric):
            why = (
                f"the candidate was scored on {_rows_of(candidate, metric)} rows, the "
                f"baseline on {_rows_of(baseline, metric)}"
            )
        if why is None:
            usable.append(metric)
        else:
            missing[metric] = why
    per_row = {
        (role, metric): m.per_row[metric]
        for metric in usable
        for role, m in (("candidate", candidate), ("baseline", baseline))
        if m.bootstrap is None or metric not in m.bootstrap.metrics
    }
    try:
        means = _resampled_means(per_row, s) if per_row else {}
    except ImportError:
        reason = "per-row scores need numpy to resample (pip install 'gitreg[sklearn]')"
        return Intervals(s.confidence, missing={**missing, **dict.fromkeys(usable, reason)})
    delta = {}
    for metric in usable:
        draws = {}
        for role, m in (("candidate", candidate), ("baseline", baseline)):
            boot = m.bootstrap
            draws[role] = (
                boot.metrics[metric]
                if boot is not None and metric in boot.metrics
                else means[(role, metric)]
            )
        pairs = zip(draws["candidate"], draws["baseline"])
        diffs = [c - b for c, b in pairs if not (math.isnan(c) or math.isnan(b))]
        if len(diffs) * 2 < s.samples:  # undefined on most resamples: no honest interval
            missing[metric] = (
                f"{metric} is undefined on {s.samples - len(diffs)} of {s.samples} resamples"
            )
            continue
        delta[metric] = percentile_interval(diffs, s.confidence)
    if missing and not delta and len(set(missing.values())) == 1:
        missing = {"*": next(iter(missing.values()))}
    return Intervals(s.confidence, delta, missing)


def for_gate(
    ev: Evaluation, baseline: Measurement | None, candidate: Measurement
) -> Intervals | None:
    """The intervals a gate judges by: None without significance or without a baseline."""
    if ev.significance is None or baseline is None:
        return None
    if baseline.error or candidate.error:
        return Intervals(ev.significance.confidence, missing={"*": "a run was not measured"})
    return intervals(candidate, baseline, ev.significance, ev.metrics)
