"""Issue 10 end to end with the built-in evaluator: the gate's paired bootstrap on a real
scikit-learn model, candidate and baseline scored in their own sandboxed processes on the
same resampled rows (`gitreg.evaluation.resample.counts`).

Two near-identical classifiers (the second trained on 10% fewer rows) differ by noise on
120 held-out rows: with `significance` the drop is "not significant" and passes, without
it the same drop fails `max_regression`. A model that predicts one class is a real
regression, and fails with its interval shown.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression

from conftest import Registry, set_stages
from gitreg.store import dvc as artifacts
from test_eval_formats import NUMERIC, TEST, TRAIN, saved, set_model


def policy(significance: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "dataset": "data/holdout.csv",
        "timeout": 120,
        "metrics": {"accuracy": {"max_regression": 0.001}, "roc_auc": {"min": 0.5}},
    }
    if significance:
        out["significance"] = {"samples": 400, "confidence": 0.95, "seed": 3}
    return out


@pytest.fixture
def reg(registry: Registry, tmp_path: Path) -> Registry:
    TEST[[*NUMERIC, "target"]].to_csv(registry.path / "data/holdout.csv", index=False)
    artifacts.add_and_push(registry.path, ["data/holdout.csv"])
    registry.commit_all("held-out data")
    base = LogisticRegression().fit(TRAIN[NUMERIC], TRAIN.target)
    near = LogisticRegression(C=0.05).fit(TRAIN[NUMERIC][20:], TRAIN.target[20:])
    flat = DummyClassifier(strategy="most_frequent").fit(TRAIN[NUMERIC], TRAIN.target)
    for version, model in (("1.0.0", base), ("1.1.0", near), ("1.2.0", flat)):
        registry.register(version, saved(model, tmp_path / f"m{version}.joblib"))
    set_stages(registry, {"staging": "1.0.0"}, "staging holds 1.0.0")
    return registry


def gate(reg: Registry, version: str) -> tuple[int, dict[str, Any]]:
    res = reg.run("evaluate", "churn", version, "--baseline", "staging", "--json", "--no-cache")
    assert res.code in (0, 1), res.err + res.out
    report: dict[str, Any] = json.loads(res.out)["reports"][0]
    return res.code, {v["metric"]: v for v in report["verdicts"]}


def test_the_builtin_evaluator_feeds_the_paired_bootstrap(reg: Registry) -> None:
    set_model(reg, "churn", "classification", policy(significance=False))
    code, plain = gate(reg, "1.1.0")
    drop = plain["accuracy"]["delta"]
    assert drop is not None and drop < -0.001, plain["accuracy"]  # the premise: a small drop
    assert code == 1 and plain["accuracy"]["verdict"] == "fail"

    set_model(reg, "churn", "classification", policy(significance=True))
    code, judged = gate(reg, "1.1.0")
    accuracy = judged["accuracy"]
    assert accuracy["delta"] == pytest.approx(drop)
    low, high = accuracy["interval"]
    assert low < 0 < high, accuracy
    assert accuracy["significance"] == "not significant"
    assert accuracy["verdict"] == "pass" and code == 0
    assert judged["roc_auc"]["verdict"] == "pass"  # predict_proba reached the gate

    code, flat = gate(reg, "1.2.0")
    low, high = flat["accuracy"]["interval"]
    assert high < -0.001, flat["accuracy"]
    assert flat["accuracy"]["significance"] == "significant"
    assert code == 1 and flat["accuracy"]["verdict"] == "fail"
