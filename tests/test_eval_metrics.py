"""The built-in evaluator's metrics: weighted, vectorized, equal to scikit-learn's.

Each metric is computed with row weights (`gitreg.evaluation.metrics`): with all weights 1
it must equal `sklearn.metrics` on the rows, and with the multiplicities of a bootstrap
resample (`resample.counts`) it must equal `sklearn.metrics` on the resampled rows
materialized (`np.repeat`). Then the evaluator's process: tasks, probabilities, latency,
environment, bootstrap output, and the feature-names warning gone.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression, RidgeClassifier
from sklearn.model_selection import train_test_split

from gitreg.evaluation import builtin, resample, runner
from gitreg.evaluation import metrics as scoring
from gitreg.model import metrics as names
from gitreg.model import rules
from gitreg.model.manifest import ModelSpec

ROOT = Path(__file__).resolve().parents[1]


def sklearn_classification(
    y: np.ndarray, pred: np.ndarray, proba: np.ndarray | None, classes: list[str]
) -> dict[str, float]:
    """The reference: every classification metric by sklearn.metrics itself."""
    out = {
        "accuracy": skm.accuracy_score(y, pred),
        "balanced_accuracy": skm.balanced_accuracy_score(y, pred),
    }
    for avg, suffix in (("macro", ""), ("weighted", "_weighted")):
        p, r, f, _ = skm.precision_recall_fscore_support(y, pred, average=avg, zero_division=0)
        out |= {f"precision{suffix}": p, f"recall{suffix}": r, f"f1{suffix}": f}
    if proba is not None:
        if len(classes) == 2:
            positive = (y == classes[1]).astype(int)
            out["roc_auc"] = skm.roc_auc_score(positive, proba[:, 1])
            out["average_precision"] = skm.average_precision_score(positive, proba[:, 1])
        else:
            out["roc_auc"] = skm.roc_auc_score(y, proba, multi_class="ovr", labels=classes)
            out["average_precision"] = skm.average_precision_score(y, proba)
        out["log_loss"] = skm.log_loss(y, proba, labels=classes)
    return {k: float(v) for k, v in out.items()}


def sklearn_regression(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    return {
        "rmse": float(skm.root_mean_squared_error(y, pred)),
        "mae": float(skm.mean_absolute_error(y, pred)),
        "r2": float(skm.r2_score(y, pred)),
        "mape": float(skm.mean_absolute_percentage_error(y, pred)),
        "max_error": float(skm.max_error(y, pred)),
    }


def classified(k: int, rows: int = 240) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Labels, predictions and probabilities of a real model on `k` classes (as text), with
    ties in the scores (rounded), as a tree ensemble gives."""
    rng = np.random.default_rng(k)
    x = rng.normal(size=(rows * 2, 3))
    y = np.digitize(x[:, 0] + rng.normal(0, 0.7, rows * 2), np.linspace(-1, 1, k - 1))
    xtr, xte, ytr, yte = train_test_split(x, y.astype(str), test_size=0.5, random_state=0)
    model = LogisticRegression(max_iter=500).fit(xtr, ytr)
    proba = np.round(model.predict_proba(xte), 2)
    proba /= proba.sum(axis=1, keepdims=True)
    return yte, model.predict(xte), proba, [str(c) for c in model.classes_]


@pytest.mark.parametrize("k", [2, 3])
def test_all_ones_weights_equal_sklearn(k: int) -> None:
    y, pred, proba, classes = classified(k)
    scores = scoring.Classification(list(y), list(pred), proba, classes).score()
    expected = sklearn_classification(y, pred, proba, classes)
    assert set(scores) == set(expected)
    assert scores == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert scoring.Classification(list(y), list(pred), proba, classes).score(
        np.ones(len(y), dtype=np.int64)
    ) == pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("seed", [0, 7, 2026])
def test_weighted_equals_sklearn_on_the_resampled_rows(k: int, seed: int) -> None:
    y, pred, proba, classes = classified(k)
    scorer = scoring.Classification(list(y), list(pred), proba, classes)
    for counts in resample.counts(seed, 3, len(y)):
        rows = np.repeat(np.arange(len(y)), counts)  # the resample, materialized
        expected = sklearn_classification(y[rows], pred[rows], proba[rows], classes)
        assert scorer.score(counts) == pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("seed", [0, 7, 2026])
def test_regression_weighted_equals_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.normal(3, 2, 300)
    pred = y + rng.normal(0, 0.5, 300)
    scorer = scoring.Regression(y, pred)
    assert scorer.score() == pytest.approx(sklearn_regression(y, pred), rel=1e-9)
    for counts in resample.counts(seed, 3, len(y)):
        rows = np.repeat(np.arange(len(y)), counts)
        assert scorer.score(counts) == pytest.approx(
            sklearn_regression(y[rows], pred[rows]), rel=1e-9
        )


def test_undefined_auc_is_none_and_not_reported() -> None:
    """Rows of one class only: AUC and average precision are undefined, not 0 or NaN."""
    proba = np.array([[0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    scores = scoring.Classification(["1", "1", "1"], ["1", "0", "1"], proba, ["0", "1"]).score()
    assert scores["roc_auc"] is None and scores["accuracy"] == pytest.approx(2 / 3)
    assert "roc_auc" not in scoring.reported(scores)
    assert scores["average_precision"] == pytest.approx(
        skm.average_precision_score([1, 1, 1], proba[:, 1])
    )


def test_zero_weights_score_a_slice_as_sklearn_does() -> None:
    y, pred, proba, classes = classified(3)
    mask = np.arange(len(y)) % 4 == 0
    scores = scoring.Classification(list(y), list(pred), proba, classes).score(mask)
    assert scores == pytest.approx(
        sklearn_classification(y[mask], pred[mask], proba[mask], classes), rel=1e-9
    )


# --- the evaluator's process --------------------------------------------------------------------


def churn_frame(rows: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"tenure": rng.normal(size=rows), "spend": rng.normal(size=rows)})
    frame["region"] = np.where(np.arange(rows) % 2, "north", "south")
    frame["target"] = (frame.tenure + rng.normal(0, 0.8, rows) > 0).astype(int)
    frame["amount"] = 3 * frame.spend + rng.normal(0, 0.3, rows)
    return frame


def dump(model: Any, path: Path) -> Path:
    import joblib

    joblib.dump(model, path)
    return path


def evaluate(tmp_path: Path, model: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / "out.json"
    argv = ["--model", str(model), "--dataset", str(tmp_path / "holdout.csv"), "--output"]
    assert builtin.main([*argv, str(out), *args]) == 0
    result: dict[str, Any] = json.loads(out.read_text())
    return result


@pytest.fixture
def holdout(tmp_path: Path) -> pd.DataFrame:
    test = churn_frame(seed=1)
    test.to_csv(tmp_path / "holdout.csv", index=False)
    return test


def test_classification_reports_every_metric_with_probabilities(
    tmp_path: Path, holdout: pd.DataFrame
) -> None:
    """roc_auc and log_loss were not reported before (a policy on them failed)."""
    train = churn_frame()
    model = LogisticRegression().fit(train[["tenure", "spend"]], train.target)
    result = evaluate(tmp_path, dump(model, tmp_path / "m.joblib"), "--slice", "region")
    listed = names.builtin_names(names.CLASSIFICATION)
    assert listed is not None
    assert [k for k in result if k in listed] == list(listed)  # all, in the table's order
    x = holdout[["tenure", "spend"]]
    proba = model.predict_proba(x)
    assert result["roc_auc"] == pytest.approx(skm.roc_auc_score(holdout.target, proba[:, 1]))
    assert result["log_loss"] == pytest.approx(skm.log_loss(holdout.target, proba))
    assert result["latency_ms_p95"] >= result["latency_ms_p50"] > 0
    north = holdout.region == "north"
    assert result["by_slice"]["region=north"]["f1"] == pytest.approx(
        skm.f1_score(holdout.target[north], model.predict(x[north]), average="macro")
    )
    assert "latency_ms_p50" not in result["by_slice"]["region=north"]
    env = result["environment"]
    assert env["task"] == "classification"
    assert env["python"] == ".".join(map(str, sys.version_info[:3]))
    assert env["libraries"]["scikit-learn"] == __import__("sklearn").__version__
    imported = {d for m, d in builtin.LIBRARIES.items() if m in sys.modules}
    assert set(env["libraries"]) == imported  # what this process imported


def test_a_model_without_predict_proba_reports_no_probability_metrics(
    tmp_path: Path, holdout: pd.DataFrame
) -> None:
    train = churn_frame()
    model = RidgeClassifier().fit(train[["tenure", "spend"]], train.target)
    result = evaluate(tmp_path, dump(model, tmp_path / "m.joblib"), "--slice", "region")
    probability = {m.name for m in names.BUILTIN[names.CLASSIFICATION] if m.needs_proba}
    assert probability == {"roc_auc", "log_loss", "average_precision"}
    assert not probability & set(result) and "f1_weighted" in result


def test_regression_task_without_a_command(tmp_path: Path, holdout: pd.DataFrame) -> None:
    train = churn_frame()
    model = LinearRegression().fit(train[["tenure", "spend"]], train.amount)
    path = dump(model, tmp_path / "m.joblib")
    result = evaluate(tmp_path, path, "--task", "regression", "--target", "amount")
    pred = model.predict(holdout[["tenure", "spend"]])
    assert {k: result[k] for k in ("rmse", "mae", "r2", "mape", "max_error")} == pytest.approx(
        sklearn_regression(holdout.amount.to_numpy(), pred)
    )
    assert result["environment"]["task"] == "regression"
    assert "accuracy" not in result


def test_bootstrap_output_is_every_metric_per_resample(
    tmp_path: Path, holdout: pd.DataFrame
) -> None:
    train = churn_frame()
    model = RandomForestClassifier(n_estimators=5, random_state=0)
    model.fit(train[["tenure", "spend"]], train.target)
    path = dump(model, tmp_path / "m.joblib")
    args = ["--bootstrap-samples", "1000", "--bootstrap-seed", "42"]
    result = evaluate(tmp_path, path, *args)
    boot = result["bootstrap"]
    assert (boot["samples"], boot["seed"], boot["rows"]) == (1000, 42, len(holdout))
    latency = set(names.LATENCY)
    assert set(boot["metrics"]) == {k for k in result if k not in latency} - {
        "environment",
        "bootstrap",
    }
    assert all(len(v) == 1000 for v in boot["metrics"].values())
    proba = model.predict_proba(holdout[["tenure", "spend"]])
    third = next(c for i, c in enumerate(resample.counts(42, 1000, len(holdout))) if i == 2)
    rows = np.repeat(np.arange(len(holdout)), third)
    y = holdout.target.to_numpy()
    assert boot["metrics"]["roc_auc"][2] == pytest.approx(
        skm.roc_auc_score(y[rows], proba[rows, 1])
    )
    assert (tmp_path / "out.json").stat().st_size < runner.MAX_OUTPUT_BYTES
    metrics, _ = runner.parse_output(tmp_path / "out.json")  # extras are not metrics
    assert "bootstrap" not in metrics and metrics["f1"] == result["f1"]


def test_builtin_argv_passes_task_and_bootstrap(tmp_path: Path) -> None:
    argv = runner.builtin_argv(
        tmp_path / "m", tmp_path / "d", tmp_path / "o", "y", [], [], task="regression"
    )
    assert argv[argv.index("--task") + 1] == "regression" and "--bootstrap-samples" not in argv
    argv = runner.builtin_argv(
        tmp_path / "m", tmp_path / "d", tmp_path / "o", "y", [], [], bootstrap=(1000, 7)
    )
    assert argv[-4:] == ["--bootstrap-samples", "1000", "--bootstrap-seed", "7"]


def test_named_features_go_in_as_a_dataframe_without_warning(
    tmp_path: Path, holdout: pd.DataFrame
) -> None:
    """sklearn warned "X does not have valid feature names" in every log: the model got an
    array. Now it gets a DataFrame with its training column names (the evaluator's own
    process, its stderr as the report shows it)."""
    train = churn_frame()
    model = LogisticRegression().fit(train[["spend", "tenure"]], train.target)  # not file order
    path = dump(model, tmp_path / "m.joblib")
    out = tmp_path / "out.json"
    argv = [sys.executable, "-W", "always", "-m", "gitreg.evaluation.builtin", "--model"]
    argv += [str(path), "--dataset", str(tmp_path / "holdout.csv"), "--output", str(out)]
    proc = subprocess.run([*argv, "--slice", "region"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "feature names" not in proc.stderr and "Warning" not in proc.stderr, proc.stderr
    expected = skm.accuracy_score(holdout.target, model.predict(holdout[["spend", "tenure"]]))
    result = json.loads(out.read_text())
    assert result["accuracy"] == pytest.approx(expected)
    libraries = result["environment"]["libraries"]  # only what the evaluator's run imported
    assert {"numpy", "scikit-learn", "pandas", "joblib"} <= set(libraries)
    assert "onnxruntime" not in libraries and "lightgbm" not in libraries
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # in-process too
        evaluate(tmp_path, path, "--slice", "region")


# --- one list of metrics: the docs and validate -------------------------------------------------


def test_docs_table_is_the_metric_list() -> None:
    text = (ROOT / "docs/evaluation.md").read_text()
    rows = re.findall(r"^\| `(\w+)` \| (classification|regression|both) \|", text, re.M)
    documented: dict[str, set[str]] = {}
    for metric, task in rows:
        for t in names.TASKS if task == "both" else (task,):
            documented.setdefault(t, set()).add(metric)
    assert documented == {t: {m.name for m in infos} for t, infos in names.BUILTIN.items()}


def spec(task: str, metrics: list[str], command: list[str] | None = None) -> ModelSpec:
    evaluation: dict[str, Any] = {"dataset": "data/h.csv", "metrics": {m: {} for m in metrics}}
    if command:
        evaluation["command"] = command
    return ModelSpec.model_validate(
        {"schema": "gitreg/v1", "name": "churn", "task": task, "evaluation": evaluation}
    )


def test_unmeasurable_metrics_rule() -> None:
    path = "models/churn/model.yaml"
    assert rules.unmeasurable_metrics(spec("classification", ["f1", "roc_auc"]), path) == []
    (warning,) = rules.unmeasurable_metrics(spec("classification", ["auc", "f1"]), path)
    assert (warning.path, warning.field, warning.kind) == (
        path,
        "evaluation.metrics.auc",
        "unmeasurable-metric",
    )
    assert "does not report 'auc' for task: classification" in warning.message
    assert [w.field for w in rules.unmeasurable_metrics(spec("regression", ["f1"]), path)] == [
        "evaluation.metrics.f1"
    ]
    assert rules.unmeasurable_metrics(spec("regression", ["auc"], ["python", "x.py"]), path) == []
