"""One metric against the baseline: the allowed moves, the required gains, significance.

Pure. The move in the wrong direction for the metric's goal is compared with each allowed
regression (`max_regression`, `max_regression_pct` of |baseline|: 0 at a baseline of 0)
and the move in the right direction with each required improvement (`min_improvement`,
`min_improvement_pct`). With an interval of the delta (significance on), a regression
fails only when the whole interval lies beyond the allowed move (touching it is not
enough), and an improvement counts only when the whole interval lies above 0 and at or
above the required one. `gitreg.model.gate.judge` puts this together with min/max.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from gitreg.model.measurement import Interval

if TYPE_CHECKING:
    from gitreg.model.manifest import MetricPolicy

_EPS = 1e-9


class Comparison(NamedTuple):
    failures: list[str]
    let_through: list[str]  # regressions beyond a limit the interval did not confirm
    unconfirmed: bool  # the interval did not confirm a crossed limit or a required gain


def _limits(policy: MetricPolicy, baseline: float) -> tuple[list[tuple[float, str]], ...]:
    """(allowed wrong-way moves, required gains): (absolute value, how the policy says it).

    A percentage is of |baseline|: at a baseline of 0 it is 0 (docs/evaluation.md)."""
    regress, gain = [], []
    if policy.max_regression is not None:
        regress.append((policy.max_regression, f"{policy.max_regression:g}"))
    if policy.max_regression_pct is not None:
        pct = policy.max_regression_pct
        regress.append((pct / 100 * abs(baseline), f"{pct:g}% of the baseline"))
    if policy.min_improvement is not None:
        gain.append((policy.min_improvement, f"{policy.min_improvement:g}"))
    if policy.min_improvement_pct is not None:
        pct = policy.min_improvement_pct
        gain.append((pct / 100 * abs(baseline), f"{pct:g}% of the baseline"))
    return regress, gain


def interval_text(interval: Interval, confidence: float | None = None) -> str:
    level = f"{confidence * 100:g}% " if confidence is not None else ""
    return f"{level}interval [{interval[0]:+.4g}, {interval[1]:+.4g}]"


def compare(
    policy: MetricPolicy, candidate: float, baseline: float, interval: Interval | None
) -> Comparison:
    """Failures, regressions let through as not significant, and whether the interval left
    a crossed limit or a required gain unconfirmed.

    `wrong` is the move in the wrong direction for the goal (negative: an improvement); with
    an interval, `wrong_lo`/`wrong_hi` bound it."""
    sign = -1.0 if policy.goal == "maximize" else 1.0
    wrong = sign * (candidate - baseline)
    if interval is not None:
        wrong_lo, wrong_hi = sorted((sign * interval[0], sign * interval[1]))
    failures: list[str] = []
    lenient: list[str] = []
    unconfirmed = False
    regress, gain = _limits(policy, baseline)
    way = "dropped" if policy.goal == "maximize" else "rose"
    for limit, said in regress:
        if wrong <= limit + _EPS:
            continue
        moved = f"{way} by {wrong:.4g} against the baseline (allowed {said})"
        if interval is None or wrong_lo > limit + _EPS:
            failures.append(moved + (", significant" if interval is not None else ""))
        else:
            lenient.append(moved)
    for need, said in gain:
        gained = -wrong
        if gained < need - _EPS:
            failures.append(f"improved by {gained:.4g}, needs at least {said}")
        elif interval is not None and (-wrong_hi <= _EPS or -wrong_hi < need - _EPS):
            failures.append(f"improved by {gained:.4g}, not significantly (needs {said})")
            unconfirmed = True
    return Comparison(failures, lenient, unconfirmed or bool(lenient))
