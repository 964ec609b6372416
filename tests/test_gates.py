"""The gate's decision and its reports: pure functions, no registry, no processes."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from gitreg.model.gate import (
    NO_BASELINE,
    Bootstrap,
    CommandLog,
    GateSummary,
    Measurement,
    decide,
    judge,
    threshold_text,
)
from gitreg.model.manifest import MetricPolicy
from gitreg.render.gate import MARKER, markdown, text

F1 = MetricPolicy(goal="maximize", min=0.8, max_regression=0.02)
LOSS = MetricPolicy(goal="minimize", max=0.5, max_regression=0.05)


@pytest.mark.parametrize(
    ("policy", "candidate", "baseline", "verdict", "reason"),
    [
        (F1, 0.91, 0.90, "pass", "within thresholds"),
        (F1, 0.88, 0.90, "pass", "within thresholds"),  # exactly the allowed drop
        (F1, 0.87, 0.90, "fail", "dropped by 0.03 against the baseline (allowed 0.02)"),
        (F1, 0.79, None, "fail", "below min 0.8"),
        (F1, 0.85, None, "pass", "within thresholds (no baseline to compare with)"),
        (
            F1,
            0.70,
            0.90,
            "fail",
            "below min 0.8; dropped by 0.2 against the baseline (allowed 0.02)",
        ),
        (LOSS, 0.30, 0.20, "fail", "rose by 0.1 against the baseline (allowed 0.05)"),
        (LOSS, 0.10, 0.20, "pass", "within thresholds"),  # lower is better
        (LOSS, 0.60, None, "fail", "above max 0.5"),
        (None, 0.5, 0.4, "info", "no policy"),
    ],
)
def test_judge(
    policy: MetricPolicy | None,
    candidate: float,
    baseline: float | None,
    verdict: str,
    reason: str,
) -> None:
    v = judge("m", policy, candidate, baseline)
    assert (v.verdict, v.reason) == (verdict, reason)
    assert v.delta == (None if baseline is None else pytest.approx(candidate - baseline))


def test_threshold_text() -> None:
    assert threshold_text(F1) == ">= 0.8, drop <= 0.02"
    assert threshold_text(LOSS) == "<= 0.5, rise <= 0.05"
    assert threshold_text(MetricPolicy(goal="minimize")) == "minimize"
    assert threshold_text(None) == "-"


def log(role: str, version: str) -> CommandLog:
    return CommandLog(role, version, ["score", "{x}"], 0, 0.5, "ok\n", "uses ``` fences\n")


def measured(version: str, f1: float, slices: dict[str, float] | None = None) -> Measurement:
    by_slice = {s: {"f1": v} for s, v in (slices or {}).items()}
    return Measurement(version, {"f1": f1, "auc": 0.7}, by_slice, log=log("x", version))


def test_decide_with_slices_and_declared_metrics() -> None:
    report = decide(
        "churn",
        "production",
        "data/holdout.csv",
        {"f1": F1},
        measured("1.1.0", 0.91, {"region=eu": 0.95, "region=us": 0.70}),
        measured("1.0.0", 0.90, {"region=eu": 0.94, "region=us": 0.90}),
        {"f1": 0.99},
        {"f1": 0.93},
    )
    assert [(v.metric, v.verdict) for v in report.verdicts] == [("f1", "pass"), ("auc", "info")]
    assert [v.verdict for v in report.slices["region=eu"]] == ["pass"]
    (us,) = report.slices["region=us"]
    assert us.verdict == "fail" and us.reason.startswith("below min 0.8; dropped by 0.2")
    assert report.passed is False  # a slice holds the same thresholds as the whole
    (declared,) = report.declared
    assert (declared.candidate_declared, declared.candidate_measured) == (0.99, 0.91)
    assert (declared.baseline_declared, declared.baseline_measured) == (0.93, 0.90)
    assert [entry.version for entry in report.logs] == ["1.0.0", "1.1.0"]  # baseline ran first


def test_decide_when_nothing_could_be_measured() -> None:
    broken = Measurement("1.1.0", error="timed out after 1 s")
    report = decide("churn", None, None, {"f1": F1, "auc": F1}, broken, None, {})
    assert [(v.metric, v.verdict, v.reason) for v in report.verdicts] == [
        ("f1", "fail", "not measured: timed out after 1 s"),
        ("auc", "fail", "not measured: timed out after 1 s"),
    ]
    assert report.notes == [NO_BASELINE]
    (only,) = decide("churn", None, None, {}, broken, None, {}).verdicts
    assert (only.metric, only.verdict) == ("evaluation", "fail")


def test_decide_when_the_baseline_could_not_be_measured() -> None:
    policy = {"f1": F1, "auc": MetricPolicy(min=0.5)}
    baseline = Measurement("1.0.0", error="exited with code 3")
    report = decide("churn", "production", None, policy, measured("1.1.0", 0.9), baseline, {})
    f1, auc = report.verdicts
    assert f1.verdict == "fail"
    assert (
        f1.reason
        == "cannot check max_regression: the baseline could not be measured (exited with code 3)"
    )
    assert auc.verdict == "pass"  # absolute thresholds still apply
    assert report.notes == ["baseline 1.0.0 could not be measured: exited with code 3"]


def test_decide_metric_missing_from_output() -> None:
    report = decide("churn", None, None, {"recall": F1}, measured("1.1.0", 0.9), None, {})
    recall = report.verdicts[0]
    assert (recall.verdict, recall.reason) == ("fail", "the evaluation did not report it")


def summary() -> GateSummary:
    report = decide(
        "churn",
        "production",
        "data/holdout.csv",
        {"f1": F1},
        measured("1.1.0", 0.85, {"a|b": 0.9}),
        measured("1.0.0", 0.90, {"a|b": 0.9}),
        {"f1": 0.99},
    )
    return GateSummary("abc123", "def456", [report], ["churn 1.1.0 -> dev: gate: false"])


def test_markdown() -> None:
    md = markdown(summary())
    assert md.startswith(MARKER + "\n## gitreg evaluate: failed\n")
    assert "- skipped: churn 1.1.0 -> dev: gate: false" in md
    assert "### ❌ churn 1.1.0 → production: failed" in md
    assert "| metric | baseline | candidate | delta | threshold | verdict |" in md
    assert (
        "| f1 | 0.9 | 0.85 | -0.05 | >= 0.8, drop <= 0.02 "
        "| ❌ fail: dropped by 0.05 against the baseline (allowed 0.02) |"
    ) in md
    assert "| a\\|b | f1 | 0.9 | 0.9 | +0 |" in md  # pipes escaped in cells
    assert "| f1 | - | 0.9 | 0.99 | 0.85 |" in md  # declared beside measured
    assert "<details><summary>Log: x 1.1.0: exit 0, 0.5 s</summary>" in md
    assert "````text\nuses ``` fences\n````" in md  # a fence longer than any in the log
    sections = ["| metric |", "#### Slices", "#### Declared", "<details>"]
    assert [md.index(s) for s in sections] == sorted(md.index(s) for s in sections)
    cut = markdown(summary(), limit=500)
    assert len(cut) <= 500 and cut.startswith(MARKER) and cut.endswith("have all of it)\n")


def test_markdown_and_text_without_changes() -> None:
    empty = GateSummary("abc123", "def456")
    assert (
        markdown(empty) == f"{MARKER}\n## gitreg evaluate: passed\n\nNo stage change to evaluate.\n"
    )
    assert text(empty) == "No stage change to evaluate."


def test_text_and_json() -> None:
    lines = text(summary()).splitlines()
    assert lines[0] == "churn 1.1.0 -> production against 1.0.0: FAILED"
    assert lines[1].split() == ["METRIC", "BASELINE", "CANDIDATE", "DELTA", "THRESHOLD", "VERDICT"]
    assert "f1 [a|b]" in text(summary())
    assert lines[-1] == "skipped: churn 1.1.0 -> dev: gate: false"
    data = json.loads(json.dumps(summary().to_dict()))
    assert data["passed"] is False and data["base"] == "def456"
    report = data["reports"][0]
    assert report["verdicts"][0] == {
        "metric": "f1",
        "baseline": 0.9,
        "candidate": 0.85,
        "delta": pytest.approx(-0.05),
        "threshold": ">= 0.8, drop <= 0.02",
        "verdict": "fail",
        "reason": "dropped by 0.05 against the baseline (allowed 0.02)",
        "interval": None,
        "significance": None,
    }
    assert report["logs"][0]["stderr"] == "uses ``` fences\n"
    assert set(report) == {
        "model", "candidate", "baseline", "stage", "dataset", "passed", "verdicts", "slices",
        "declared", "notes", "logs", "outcome", "kind", "override", "environment", "cached",
    }  # fmt: skip


# --- relative forms, significance, rollback, override (issue 10) ------------------------------

from gitreg.evaluation.significance import intervals as bootstrap_intervals  # noqa: E402
from gitreg.evaluation.significance import percentile_interval  # noqa: E402
from gitreg.model.gate import Intervals, Override  # noqa: E402
from gitreg.model.manifest import Significance  # noqa: E402
from gitreg.render.gate import workflow_commands  # noqa: E402

PCT = MetricPolicy(goal="maximize", max_regression_pct=5)
GAIN = MetricPolicy(goal="maximize", min_improvement=0.01)
GAIN_PCT = MetricPolicy(goal="minimize", min_improvement_pct=10)


@pytest.mark.parametrize(
    ("policy", "candidate", "baseline", "verdict", "reason"),
    [
        (PCT, 0.96, 1.0, "pass", "within thresholds"),  # 4% of 1.0 drop, 5% allowed
        (
            PCT,
            0.94,
            1.0,
            "fail",
            "dropped by 0.06 against the baseline (allowed 5% of the baseline)",
        ),
        (
            PCT,
            -0.01,
            0.0,
            "fail",
            "dropped by 0.01 against the baseline (allowed 5% of the baseline)",
        ),
        (PCT, 0.0, 0.0, "pass", "within thresholds"),  # baseline 0: 5% of 0 is 0, no move is fine
        (PCT, -1.05, -1.0, "pass", "within thresholds"),  # a percentage of |baseline|
        (GAIN, 0.91, 0.90, "pass", "within thresholds"),  # exactly the required gain
        (GAIN, 0.905, 0.90, "fail", "improved by 0.005, needs at least 0.01"),
        (GAIN_PCT, 0.18, 0.20, "pass", "within thresholds"),  # lower is better, 10% of 0.2
        (GAIN_PCT, 0.19, 0.20, "fail", "improved by 0.01, needs at least 10% of the baseline"),
        (GAIN_PCT, 0.0, 0.0, "pass", "within thresholds"),  # baseline 0: 10% of 0 is 0
    ],
)
def test_relative_forms(
    policy: MetricPolicy, candidate: float, baseline: float, verdict: str, reason: str
) -> None:
    v = judge("m", policy, candidate, baseline)
    assert (v.verdict, v.reason) == (verdict, reason)
    assert (v.interval, v.significance) == (None, None)


def test_threshold_text_of_relative_forms() -> None:
    both = MetricPolicy(max_regression_pct=2, min_improvement=0.01, min_improvement_pct=1)
    assert threshold_text(both) == "drop <= 2%, gain >= 0.01, gain >= 1%"


NOISE = MetricPolicy(goal="maximize", max_regression=0.005)


def at(lo: float, hi: float, confidence: float = 0.95) -> Intervals:
    return Intervals(confidence, {"m": (lo, hi)})


@pytest.mark.parametrize(
    ("policy", "candidate", "interval", "verdict", "significance", "reason"),
    [
        # on 150 rows, a drop of 0.01 whose interval includes 0: noise, passes
        (NOISE, 0.89, (-0.05, 0.03), "pass", "not significant",
         "dropped by 0.01 against the baseline (allowed 0.005), not significant "
         "(95% interval [-0.05, +0.03])"),
        # the whole interval beyond the allowed drop: a real regression
        (NOISE, 0.87, (-0.05, -0.01), "fail", "significant",
         "dropped by 0.03 against the baseline (allowed 0.005), significant "
         "(95% interval [-0.05, -0.01])"),
        # excludes 0 but reaches the good side of the limit: not significantly beyond it
        (NOISE, 0.89, (-0.02, -0.004), "pass", "not significant",
         "dropped by 0.01 against the baseline (allowed 0.005), not significant "
         "(95% interval [-0.02, -0.004])"),
        # touching the limit exactly is not beyond it
        (NOISE, 0.89, (-0.02, -0.005), "pass", "not significant", None),
        # an improvement must be significant to count: touching 0 is not
        (GAIN, 0.93, (0.0, 0.06), "fail", "not significant",
         "improved by 0.03, not significantly (needs 0.01) (95% interval [+0, +0.06])"),
        (GAIN, 0.93, (0.01, 0.06), "pass", "significant", "within thresholds"),
        (GAIN, 0.93, (0.005, 0.06), "fail", "not significant", None),  # above 0, below 0.01
    ],
)  # fmt: skip
def test_significance_decides_by_the_interval(
    policy: MetricPolicy,
    candidate: float,
    interval: tuple[float, float],
    verdict: str,
    significance: str,
    reason: str | None,
) -> None:
    v = judge("m", policy, candidate, 0.90, intervals=at(*interval))
    assert (v.verdict, v.significance, v.interval) == (verdict, significance, interval)
    if reason is not None:
        assert v.reason == reason


def test_a_delta_within_the_limits_needs_no_confirmation() -> None:
    v = judge("m", NOISE, 0.898, 0.90, intervals=at(-0.003, -0.001))
    assert (v.verdict, v.significance, v.reason) == ("pass", "within limits", "within thresholds")


def test_interval_exactly_touching_zero_on_a_regression() -> None:
    zero = MetricPolicy(max_regression=0)
    v = judge("m", zero, 0.89, 0.90, intervals=at(-0.02, 0.0))
    assert (v.verdict, v.significance) == ("pass", "not significant")
    v = judge("m", zero, 0.89, 0.90, intervals=at(-0.02, -1e-6))
    assert (v.verdict, v.significance) == ("fail", "significant")


def test_min_max_fail_whatever_the_significance() -> None:
    policy = MetricPolicy(min=0.9, max_regression=0.005)
    v = judge("m", policy, 0.89, 0.90, intervals=at(-0.05, 0.03))
    assert v.verdict == "fail" and v.reason.startswith("below min 0.9; dropped by 0.01")


def test_missing_bootstrap_falls_back_to_the_plain_rule() -> None:
    why = Intervals(0.95, missing={"m": "the baseline's evaluation reported no resampled scores"})
    v = judge("m", NOISE, 0.89, 0.90, intervals=why)
    assert (v.verdict, v.significance, v.interval) == ("fail", "not judged", None)
    assert v.reason == (
        "dropped by 0.01 against the baseline (allowed 0.005); significance not judged "
        "(the baseline's evaluation reported no resampled scores): plain rule"
    )
    report = decide(
        "churn", "production", None, {"f1": NOISE}, measured("1.1.0", 0.89),
        measured("1.0.0", 0.90), {}, intervals=Intervals(0.95, missing={"*": "no bootstrap"}),
    )  # fmt: skip
    assert report.verdicts[0].verdict == "fail"
    assert any(n.startswith("significance could not be judged: no bootstrap") for n in report.notes)


def test_the_baseline_is_shown_when_the_candidate_is_not_measured() -> None:
    """Issue 10: the BASELINE column showed "-" and verdicts[].baseline was null."""
    broken = Measurement("1.1.0", error="timed out after 1 s")
    report = decide("churn", "production", None, {"f1": F1}, broken, measured("1.0.0", 0.9), {})
    (f1,) = report.verdicts
    assert (f1.verdict, f1.baseline, f1.candidate) == ("fail", 0.9, None)
    assert text(GateSummary("x", None, [report])).splitlines()[2].split()[:3] == ["f1", "0.9", "-"]
    assert "| f1 | 0.9 | - | - |" in markdown(GateSummary("x", None, [report]))


def test_rollback_is_gated_on_min_max_only() -> None:
    """Issue 10: a rollback to a slightly worse version was refused like a promotion."""
    args = ("churn", "production", None, {"f1": F1}, measured("1.0.0", 0.85))
    promotion = decide(*args, measured("1.1.0", 0.90), {})
    assert promotion.outcome == "failed"
    rollback = decide(*args, measured("1.1.0", 0.90), {}, kind="rollback")
    assert rollback.outcome == "passed" and rollback.kind == "rollback"
    assert rollback.verdicts[0].baseline == 0.90  # still shown
    assert rollback.verdicts[0].reason.startswith("within min/max (a rollback")
    below_min = decide(
        *args[:4], measured("1.0.0", 0.7), measured("1.1.0", 0.9), {}, kind="rollback"
    )
    assert below_min.outcome == "failed"


def test_override_counts_only_once_approved() -> None:
    args = (
        "churn",
        "production",
        None,
        {"f1": F1},
        measured("1.1.0", 0.85),
        measured("1.0.0", 0.9),
    )
    pending = Override("incident 42", "label gitreg-override", [], "no approval yet")
    report = decide(*args, {}, override=pending)
    assert (report.outcome, report.passed) == ("failed", False)
    approved = Override("incident 42", "label gitreg-override", ["alice"])
    report = decide(*args, {}, override=approved)
    assert (report.outcome, report.passed) == ("overridden", True)
    summary_ = GateSummary("x", None, [report])
    shown = text(summary_)
    assert "churn 1.1.0 -> production against 1.0.0: OVERRIDDEN" in shown
    assert "Override (label gitreg-override): incident 42. Approved by alice." in shown
    assert markdown(summary_).startswith(f"{MARKER}\n## gitreg evaluate: passed (overridden)\n")
    assert report.to_dict()["outcome"] == "overridden"


def test_workflow_commands_escape_their_values() -> None:
    report = decide(
        "churn", "production", None, {"f1": F1}, measured("1.1.0", 0.85),
        measured("1.0.0", 0.9), {},
    )  # fmt: skip
    report.verdicts[0] = replace(report.verdicts[0], reason="100% bad\r\nnext: line, too")
    (line,) = workflow_commands(GateSummary("x", None, [report]))
    assert line == (
        "::error title=gitreg evaluate%3A churn 1.1.0 -> production failed::"
        "f1: 100%25 bad%0D%0Anext: line, too"
    )
    assert workflow_commands(summary()) == [  # the slice passes: no line for it
        "::error title=gitreg evaluate%3A churn 1.1.0 -> production failed::"
        "f1: dropped by 0.05 against the baseline (allowed 0.02)"
    ]
    approved = replace(report, override=Override("r", "label gitreg-override", ["alice"]))
    assert workflow_commands(GateSummary("x", None, [approved]))[0].startswith("::warning ")


def test_percentile_interval_and_paired_resamples() -> None:
    assert percentile_interval([float(i) for i in range(101)], 0.9) == pytest.approx((5, 95))
    assert percentile_interval([1.0, 2.0], 0.5) == pytest.approx((1.25, 1.75))
    settings = Significance(samples=200, seed=7)
    rows = 150
    base_rows = [1.0] * rows
    cand_rows = [1.0] * rows
    cand_rows[0] = 0.0  # one row worse: a drop of 1/150 that some resamples never draw
    cand = Measurement("1.1.0", {"m": 149 / 150}, per_row={"m": cand_rows})
    base = Measurement("1.0.0", {"m": 1.0}, per_row={"m": base_rows})
    got = bootstrap_intervals(cand, base, settings, ["m"])
    lo, hi = got.delta["m"]
    assert lo < 0 and hi == 0.0  # row 0 is missing from some resamples: the interval touches 0
    again = bootstrap_intervals(cand, base, settings, ["m"])
    assert again.delta == got.delta  # the seed decides the resamples
    v = judge("m", MetricPolicy(max_regression=0), 149 / 150, 1.0, intervals=got)
    assert (v.verdict, v.significance) == ("pass", "not significant")


def test_intervals_say_why_not() -> None:
    settings = Significance(samples=100, seed=0)
    boot = Bootstrap(samples=100, seed=1, rows=3, metrics={"m": [0.5] * 100})
    cand = Measurement("1.1.0", {"m": 0.5}, bootstrap=boot)
    base = Measurement("1.0.0", {"m": 0.5}, per_row={"m": [0.5, 0.5, 0.5]})
    got = bootstrap_intervals(cand, base, settings, ["m", "n"])
    assert got.delta == {}
    assert got.missing["m"] == (
        "the candidate's bootstrap used samples=100, seed=1, not the policy's samples=100, seed=0"
    )
    assert "reported no resampled or per-row scores for n" in got.missing["n"]
    same = Bootstrap(samples=100, seed=0, rows=4, metrics={"m": [0.5] * 100})
    cand = Measurement("1.1.0", {"m": 0.5}, bootstrap=same)
    got = bootstrap_intervals(cand, base, settings, ["m"])
    assert got.missing["*"] == "the candidate was scored on 4 rows, the baseline on 3"
