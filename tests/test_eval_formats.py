"""Real model formats under the safe loader's default allow-list, and directory artifacts.

Each format: a real (tiny) model trained here, saved as users save it, loaded and scored
by the built-in evaluator with no `allow_pickle_imports`. Each allowance added for them:
a global of the same module that would run code is still refused. Directory artifacts
and `evaluation.entrypoint`, `task: regression` and `validate`'s warning, end to end in a
real registry with a DVC remote.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pickle
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
import skops.io
import yaml
from sklearn import metrics as skm
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from conftest import Registry
from gitreg.errors import UnsafeModelError
from gitreg.evaluation import allowlist, builtin, loading, pickles
from gitreg.store import dvc as artifacts

FEATURES = ["tenure", "spend", "plan"]


def frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = pd.DataFrame({"tenure": rng.normal(size=rows), "spend": rng.normal(size=rows)})
    data["plan"] = rng.choice(["basic", "plus", "pro"], rows)
    data["target"] = data.tenure + (data.plan == "pro") + rng.normal(0, 0.7, rows) > 0.3
    data["target"] = data["target"].astype(int)
    data["amount"] = 3 * data.spend + rng.normal(0, 0.3, rows)
    return data


TRAIN, TEST = frame(200, 0), frame(120, 1)
NUMERIC = ["tenure", "spend"]


def pipeline() -> Pipeline:
    columns = ColumnTransformer(
        [("numbers", StandardScaler(), NUMERIC), ("plan", OneHotEncoder(), ["plan"])]
    )
    return Pipeline([("columns", columns), ("model", LogisticRegression())])


# name -> (the fitted model, its input columns, the target)
MODELS: dict[str, tuple[Any, list[str], str]] = {
    "pipeline": (pipeline(), FEATURES, "target"),
    "forest": (RandomForestClassifier(n_estimators=5, random_state=0), NUMERIC, "target"),
    "boosting": (GradientBoostingClassifier(n_estimators=5, random_state=0), NUMERIC, "target"),
    "hist-boosting": (HistGradientBoostingClassifier(max_iter=5), NUMERIC, "target"),
    "logistic": (LogisticRegression(), NUMERIC, "target"),
    "knn": (KNeighborsClassifier(), NUMERIC, "target"),
    "sgd": (SGDClassifier(random_state=0), NUMERIC, "target"),
    "mlp": (MLPClassifier(hidden_layer_sizes=(4,), max_iter=50, random_state=0), NUMERIC, "target"),
    "forest-regressor": (RandomForestRegressor(n_estimators=5, random_state=0), NUMERIC, "amount"),
    "boosting-regressor": (GradientBoostingRegressor(n_estimators=5), NUMERIC, "amount"),
}


def fitted(name: str) -> tuple[Any, list[str], str]:
    model, columns, target = MODELS[name]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tiny MLP does not converge
        return model.fit(TRAIN[columns], TRAIN[target]), columns, target


def saved(model: Any, path: Path) -> Path:
    if path.name.endswith(".z.joblib"):
        joblib.dump(model, path, compress=3)
    elif path.suffix == ".joblib":
        joblib.dump(model, path)
    elif path.suffix == ".skops":
        skops.io.dump(model, path)
    else:
        with path.open("wb") as fh:
            pickle.dump(model, fh)
    return path


def scored(
    tmp_path: Path, model: Path, target: str, task: str, data: pd.DataFrame = TEST
) -> dict[str, Any]:
    data.to_csv(tmp_path / "holdout.csv", index=False)
    out = tmp_path / "out.json"
    args = ["--model", str(model), "--dataset", str(tmp_path / "holdout.csv"), "--output"]
    args += [str(out), "--target", target, "--task", task]
    assert builtin.main(args) == 0
    result: dict[str, Any] = json.loads(out.read_text())
    return result


@pytest.mark.parametrize("suffix", [".joblib", ".z.joblib", ".pkl"])
@pytest.mark.parametrize("name", list(MODELS))
def test_sklearn_models_load_with_the_default_allow_list(
    name: str, suffix: str, tmp_path: Path
) -> None:
    """Refused before ("it imports None.dtype", or a helper class not on the list)."""
    model, columns, target = fitted(name)
    path = saved(model, tmp_path / f"model{suffix}")
    loaded = loading.load_model(path)
    assert (loaded.predict(TEST[columns]) == model.predict(TEST[columns])).all()
    task = "regression" if target == "amount" else "classification"
    result = scored(tmp_path, path, target, task)
    key, metric = ("r2", skm.r2_score) if task == "regression" else ("accuracy", skm.accuracy_score)
    assert result[key] == pytest.approx(metric(TEST[target], model.predict(TEST[columns])))


def test_picklescan_misnames_a_global_after_a_nested_pickle(tmp_path: Path) -> None:
    """Why "None.dtype": a joblib object array (the pipeline's column names) is a nested
    pickle with its own memo; picklescan numbers it after the outer one, so a later memo
    reference of the outer pickle ("numpy") reads the wrong entry. gitreg's own walk keeps
    a memo per pickle."""
    from picklescan.scanner import scan_file_path

    path = saved(fitted("pipeline")[0], tmp_path / "model.joblib")
    by_picklescan = {(g.module, g.name) for g in scan_file_path(str(path)).globals}
    assert ("None", "dtype") in by_picklescan
    with path.open("rb") as fh:
        named = pickles.globals_in(fh)
    assert ("numpy", "dtype") in named and not any(m == "None" for m, _ in named)
    assert "None.dtype" not in loading.check(path)


def test_lightgbm_and_xgboost_where_installed(tmp_path: Path) -> None:
    lightgbm = pytest.importorskip("lightgbm", reason="lightgbm is in the dev extra")
    models = [lightgbm.LGBMClassifier(n_estimators=5, verbose=-1)]
    try:
        import xgboost
    except ImportError:
        print("xgboost not installed (too big for the dev extra): its wrapper is not tested")
    else:
        models.append(xgboost.XGBClassifier(n_estimators=5))
    for i, model in enumerate(models):
        model.fit(TRAIN[NUMERIC], TRAIN.target)
        for suffix in (".joblib", ".pkl"):
            path = saved(model, tmp_path / f"model{i}{suffix}")
            result = scored(tmp_path, path, "target", "classification")
            proba = model.predict_proba(TEST[NUMERIC])[:, 1]
            assert result["roc_auc"] == pytest.approx(skm.roc_auc_score(TEST.target, proba))


def test_skops_file(tmp_path: Path) -> None:
    model, columns, _ = fitted("pipeline")
    path = saved(model, tmp_path / "model.skops")
    result = scored(tmp_path, path, "target", "classification")
    assert result["f1"] == pytest.approx(
        skm.f1_score(TEST.target, model.predict(TEST[columns]), average="macro")
    )


def test_onnx_classifier_and_regressor(tmp_path: Path) -> None:
    """Converted with skl2onnx and run by onnxruntime: the probabilities (its ZipMap
    output) give roc_auc and log_loss; a regressor's one output its predictions."""
    from skl2onnx import to_onnx

    for name, target, task in (
        ("logistic", "target", "classification"),
        ("forest-regressor", "amount", "regression"),
    ):
        model, columns, _ = fitted(name)
        onnx = to_onnx(model, TRAIN[columns].to_numpy(np.float32)[:1])
        path = tmp_path / f"{name}.onnx"
        path.write_bytes(onnx.SerializeToString())
        # no feature names in an ONNX model: every column but the target is a feature
        result = scored(tmp_path, path, target, task, TEST[[*columns, target]])
        x = TEST[columns]
        if task == "classification":
            proba = model.predict_proba(x)
            assert result["roc_auc"] == pytest.approx(
                skm.roc_auc_score(TEST.target, proba[:, 1]), abs=1e-4
            )
            assert result["log_loss"] == pytest.approx(skm.log_loss(TEST.target, proba), abs=1e-4)
        else:
            assert result["rmse"] == pytest.approx(
                skm.root_mean_squared_error(TEST[target], model.predict(x)), rel=1e-4
            )


# --- each allowance, and what is still refused next to it ---------------------------------------


def crafted(module: str, name: str, *args: str) -> bytes:
    """A pickle that calls `module.name(*args)`."""
    strings = b"".join(b"V" + a.encode("raw_unicode_escape") + b"\n" for a in args)
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n(" + strings + b"tR."


# an allowance -> a global of the same module that runs code or reads files, still refused
NEIGHBOURS = {
    "collections.defaultdict": ("collections", "namedtuple", "x", "a"),  # exec()s a class body
    "numpy.float32": ("numpy", "fromfile", "/etc/passwd"),
    "sklearn.calibration._CalibratedClassifier": (
        "sklearn.calibration",
        "calibration_curve",
    ),
    "sklearn.linear_model._sgd_fast.Hinge": ("sklearn.linear_model._sgd_fast", "_plain_sgd64"),
    "sklearn.neighbors._kd_tree.newObj": ("sklearn.neighbors._kd_tree", "np"),
    # a distance that calls a Python function
    "sklearn.metrics._dist_metrics.newObj": ("sklearn.metrics._dist_metrics", "PyFuncDistance64"),
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor": (
        "sklearn.ensemble._hist_gradient_boosting.predictor",
        "_predict_from_raw_data",
    ),
    # joblib's Parallel runs the functions it is given
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper": (
        "sklearn.ensemble._hist_gradient_boosting.binning",
        "Parallel",
    ),
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer": (
        "sklearn.neural_network._stochastic_optimizers",
        "BaseOptimizer",
    ),
    "sklearn.neighbors._ball_tree.BallTree": ("sklearn.neighbors._ball_tree", "simultaneous_sort"),
    "lightgbm.basic.Booster": ("lightgbm.basic", "Dataset", "/etc/passwd"),  # reads a file
    "xgboost.core.Booster": ("xgboost.core", "DMatrix", "/etc/passwd"),
}


@pytest.mark.parametrize("allowed", list(NEIGHBOURS))
def test_each_allowance_still_refuses_its_neighbours(allowed: str, tmp_path: Path) -> None:
    module, name, *args = NEIGHBOURS[allowed]
    pytest.importorskip(module.split(".")[0], reason=f"{module} is not installed")
    policy = allowlist.ImportPolicy()
    assert allowed in allowlist.EXACT
    path = tmp_path / "model.pkl"
    path.write_bytes(crafted(module, name, *args))
    with pytest.raises(UnsafeModelError, match="refused to load, it imports") as err:
        loading.load_model(path)
    assert [shown for shown, _ in err.value.refused] in (  # a long name is not shown
        [f"{module}.{name}"],
        ["<a name not shown>"],
    )
    # every function, module and non-estimator class of that module but the listed ones
    mod = importlib.import_module(allowed.rpartition(".")[0])
    for attr, obj in vars(mod).items():
        full = f"{mod.__name__}.{attr}"
        if attr.startswith("__") or full in allowlist.EXACT or allowlist.is_estimator_class(obj):
            continue
        if callable(obj) or inspect.ismodule(obj):
            why = policy.problem(mod.__name__, attr) or policy.problem_resolved(
                mod.__name__, attr, obj
            )
            assert why is not None, full


# --- end to end: directory artifacts, entrypoint, regression, validate --------------------------


def set_model(reg: Registry, name: str, task: str, evaluation: dict[str, Any]) -> None:
    path = reg.path / f"models/{name}/model.yaml"
    spec = yaml.safe_load(path.read_text())
    spec["task"], spec["evaluation"] = task, evaluation
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    reg.commit_all(f"{name}: evaluation policy")


def measured(reg: Registry, name: str, version: str) -> dict[str, Any]:
    res = reg.run("evaluate", name, version, "--json")
    report: dict[str, Any] = json.loads(res.out)["reports"][0]
    report["code"] = res.code
    return report


def reason(report: dict[str, Any], metric: str) -> str:
    text: str = next(v["reason"] for v in report["verdicts"] if v["metric"] == metric)
    return text


def test_directory_artifact_entrypoint_regression_and_validate(
    registry: Registry, tmp_path: Path
) -> None:
    """A directory artifact (a model plus its preprocessing files) could not be evaluated;
    `task: regression` needed a command; validate did not warn about a metric the
    built-in evaluator cannot report."""
    TEST.to_csv(registry.path / "data/holdout.csv", index=False)
    artifacts.add_and_push(registry.path, ["data/holdout.csv"])
    registry.commit_all("held-out data")
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    saved(fitted("pipeline")[0], bundle / "model.joblib")
    (bundle / "preprocessing.json").write_text('{"version": 1}')
    registry.register("1.0.0", bundle, "--task", "classification")
    policy = {"dataset": "data/holdout.csv", "timeout": 120}
    metrics = {"f1": {"min": 0.5}, "roc_auc": {"min": 0.5}, "log_loss": {"goal": "minimize"}}
    set_model(registry, "churn", "classification", {**policy, "metrics": metrics})
    report = measured(registry, "churn", "1.0.0")
    assert report["code"] == 0, report
    assert all(v["verdict"] == "pass" for v in report["verdicts"] if v["metric"] in metrics)
    assert not any("feature names" in log["stderr"] for log in report["logs"])

    # two loadable files: the error names them; evaluation.entrypoint picks one
    two = tmp_path / "two"
    two.mkdir()
    saved(fitted("pipeline")[0], two / "model.joblib")
    (two / "sub").mkdir()
    saved(fitted("forest")[0], two / "sub" / "old.pkl")
    registry.register("1.1.0", two)
    report = measured(registry, "churn", "1.1.0")
    assert report["code"] == 1
    assert "found model.joblib, sub/old.pkl; set evaluation.entrypoint" in reason(report, "f1")
    chosen = {**policy, "metrics": metrics, "entrypoint": "model.joblib"}
    set_model(registry, "churn", "classification", chosen)
    assert measured(registry, "churn", "1.1.0")["code"] == 0
    set_model(registry, "churn", "classification", {**chosen, "entrypoint": "nope.pkl"})
    report = measured(registry, "churn", "1.1.0")
    assert "evaluation.entrypoint 'nope.pkl' is not a loadable file" in reason(report, "f1")
    assert "found: model.joblib, sub/old.pkl" in reason(report, "f1")
    manifest = registry.path / "models/churn/model.yaml"
    good = manifest.read_text()
    manifest.write_text(good.replace("entrypoint: nope.pkl", "entrypoint: ../escape.pkl"))
    registry.commit_all("an entrypoint outside the artifacts")
    res = registry.run("validate")
    assert res.code != 0 and "evaluation.entrypoint" in res.out + res.err
    assert "must be a relative path" in res.out + res.err
    manifest.write_text(good)
    registry.commit_all("fixed")

    # regression, built-in evaluator, no command; validate warns about a metric it lacks
    regressor = saved(fitted("forest-regressor")[0], tmp_path / "regressor.joblib")
    registry.register("1.0.0", regressor, "--task", "regression", name="price")
    rmetrics = {"rmse": {"goal": "minimize", "max": 5}, "accuracy": {"min": 0.5}}
    set_model(registry, "price", "regression", {**policy, "target": "amount", "metrics": rmetrics})
    report = measured(registry, "price", "1.0.0")
    rows = {v["metric"]: v for v in report["verdicts"]}
    assert rows["rmse"]["verdict"] == "pass" and rows["r2"]["verdict"] == "info"
    assert rows["accuracy"]["verdict"] == "fail"
    res = registry.run("validate", "--json")
    warnings = json.loads(res.out)["warnings"]
    assert [(w["path"], w["field"], w["kind"]) for w in warnings] == [
        ("models/price/model.yaml", "evaluation.metrics.accuracy", "unmeasurable-metric")
    ]


def test_the_scan_stops_on_a_file_of_junk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bytes that are no opcode restart the walk at every byte: it stops after MAX_RUNS
    runs (the unpickler still refuses the file), so junk cannot keep gitreg busy."""
    monkeypatch.setattr(pickles, "MAX_RUNS", 1000)
    path = tmp_path / "junk.pkl"
    path.write_bytes(b"\xff" * 5000 + crafted("posix", "system", "true"))
    with path.open("rb") as fh:
        assert len(pickles._segments(fh)) == 1000
    with path.open("rb") as fh:
        assert pickles.globals_in(fh) == set()  # the global is past the 1000th byte
    with path.open("rb") as fh:
        monkeypatch.setattr(pickles, "MAX_RUNS", 10_000)
        assert pickles.globals_in(fh) == {("posix", "system")}
