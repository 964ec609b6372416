"""The gate's decision and its reports: pure functions, no registry, no processes."""

from __future__ import annotations

import json

import pytest

from gitreg.model.gate import (
    NO_BASELINE,
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
