"""The built-in evaluator: a classifier or regressor scored on a CSV, in its own process.

`gitreg evaluate` runs it as `python -m gitreg.evaluation.builtin` (see `runner`), so the
candidate model is loaded outside the process that holds the registry and any token.
It imports neither pydantic nor DVC. The metrics are `evaluation.metrics` (the names, per
task: `model.metrics.BUILTIN`).

The features go to the model as a pandas DataFrame with its training column names when
it has `feature_names_in_` (text columns stay text, for encoders), else as a float
array. `--bootstrap-samples N --bootstrap-seed S` adds every metric on N resamples drawn
by `resample.counts` (the same rows for the candidate and the baseline).

The label column is never given to the model, and what it writes on stderr (which the
report shows) names columns only through `disclosure.names` and shows foreign errors only
through `disclosure.message`: never values from the data set or the model file.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from gitreg.errors import GitregError
from gitreg.evaluation import disclosure, runner
from gitreg.evaluation import metrics as scoring
from gitreg.model import metrics as names

# module -> distribution: the libraries the environment block names, when imported
LIBRARIES = {
    "numpy": "numpy",
    "scipy": "scipy",
    "sklearn": "scikit-learn",
    "pandas": "pandas",
    "joblib": "joblib",
    "skops": "skops",
    "onnxruntime": "onnxruntime",
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
}


def _label(value: Any) -> str:
    """A class label as text, so that 1, 1.0, "1" and numpy's 1 compare equal."""
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else repr(number)


def _features(model: Any, header: list[str], target: str, slices: list[str]) -> list[str]:
    names = getattr(model, "feature_names_in_", None)
    columns = (
        [str(n) for n in names]
        if names is not None
        else [c for c in header if c != target and c not in slices]
    )
    if target in columns:
        raise GitregError(
            f"the model takes the label column {disclosure.name(target)} as a feature; the "
            "built-in evaluator never gives the model the label (retrain it without)"
        )
    missing = [c for c in columns if c not in header]
    if missing:
        raise GitregError(
            f"the data set lacks {len(missing)} of the model's feature columns: "
            f"{disclosure.names(missing)}"
        )
    expected = getattr(model, "n_features_in_", None)
    if isinstance(expected, int) and expected != len(columns):
        raise GitregError(
            f"the model expects {expected} features; the data set has {len(columns)} columns "
            f"besides the target and the slices: {disclosure.names(columns)}"
        )
    return columns


def _read(dataset: Path, target: str, slices: list[str]) -> tuple[list[str], list[dict[str, str]]]:
    with dataset.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header, rows = list(reader.fieldnames or []), list(reader)
    for column in [target, *slices]:
        if column not in header:
            raise GitregError(
                f"{disclosure.name(dataset.name)} has no column {disclosure.name(column)} "
                f"(columns: {disclosure.names(header)})"
            )
    if not rows:
        raise GitregError(f"{disclosure.name(dataset.name)} has no rows")
    return header, rows


def _matrix(rows: list[dict[str, str]], columns: list[str]) -> Any:
    import numpy as np

    out = np.empty((len(rows), len(columns)))
    for i, row in enumerate(rows):
        for j, column in enumerate(columns):
            try:
                out[i, j] = float(row[column])
            except (TypeError, ValueError):  # the value itself is never shown
                raise GitregError(
                    f"column {disclosure.name(column)} is not numeric (row {i + 1}); "
                    "use evaluation.command"
                ) from None
    return out


def _column(values: list[str]) -> Any:
    """A CSV column as floats (empty cells are NaN), or as text if any cell is not a number."""
    import numpy as np

    try:
        return np.array([float(v) if v.strip() else np.nan for v in values])
    except ValueError:
        return np.array(values, dtype=object)


def _inputs(model: Any, rows: list[dict[str, str]], columns: list[str]) -> Any:
    """What predict() gets: a DataFrame named as in training, when the model knows its
    feature names (and pandas is there), else a float array."""
    if getattr(model, "feature_names_in_", None) is None:
        return _matrix(rows, columns)
    try:
        import pandas as pd  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        return _matrix(rows, columns)
    return pd.DataFrame({c: _column([row[c] for row in rows]) for c in columns}, columns=columns)


def _call(what: str, fn: Any, features: Any) -> Any:
    try:
        return fn(features)
    except Exception as e:  # whatever the model raises, shown safely
        raise GitregError(f"the model's {what}() failed: {disclosure.message(e)}") from None


def _batches(rows: int) -> list[tuple[int, int]]:
    """At most `LATENCY_BATCHES` batches of `LATENCY_BATCH_ROWS` rows, spread evenly."""
    size = names.LATENCY_BATCH_ROWS
    starts = list(range(0, rows, size))
    step = max(1, len(starts) // names.LATENCY_BATCHES)
    return [(s, min(s + size, rows)) for s in starts[::step][: names.LATENCY_BATCHES]]


def _latency(model: Any, features: Any) -> dict[str, float]:
    """p50 and p95 milliseconds of predict() on row batches (after one warm-up call)."""
    import numpy as np

    take = features.iloc if hasattr(features, "iloc") else features
    batches = _batches(len(features))
    times = []
    try:
        model.predict(take[batches[0][0] : batches[0][1]])
        for start, end in batches:
            began = time.perf_counter()
            model.predict(take[start:end])
            times.append((time.perf_counter() - began) * 1000)
    except Exception as e:  # it predicted the whole data set: only the batches fail
        sys.stderr.write(
            f"note: latency not measured: predict() on a batch failed: {disclosure.message(e)}\n"
        )
        return {}
    p50, p95 = np.percentile(times, [50, 95])
    return {"latency_ms_p50": float(p50), "latency_ms_p95": float(p95)}


def _probabilities(model: Any, features: Any) -> tuple[Any, list[str] | None]:
    """predict_proba's output and the class of each column, or (None, None) without one."""
    proba_fn = getattr(model, "predict_proba", None)
    if not callable(proba_fn) or not hasattr(model, "classes_"):
        return None, None
    try:
        proba = proba_fn(features)
    except Exception as e:
        sys.stderr.write(
            f"note: predict_proba() failed ({disclosure.message(e)}); "
            "roc_auc, log_loss and average_precision are not reported\n"
        )
        return None, None
    classes = getattr(model, "classes_", None)  # an ONNX model knows them after the call
    return proba, None if classes is None else [_label(c) for c in classes]


def _scorer(task: str, model: Any, features: Any, rows: list[dict[str, str]], target: str) -> Any:
    import numpy as np

    pred = _call("predict", model.predict, features)
    if task == names.REGRESSION:
        truth = _column([row[target] for row in rows])
        if truth.dtype == object or np.isnan(truth).any():
            raise GitregError(
                f"the target column {disclosure.name(target)} is not numeric in every row "
                "(task: regression)"
            )
        return scoring.Regression(truth, np.asarray(pred, dtype=float).ravel())
    proba, classes = _probabilities(model, features)
    truth = [_label(row[target]) for row in rows]
    return scoring.Classification(truth, [_label(p) for p in pred], proba, classes)


def environment(task: str) -> dict[str, Any]:
    """The python version, the versions of the libraries this process imported, the task."""
    libraries = {}
    for module, dist in LIBRARIES.items():
        if module in sys.modules:
            try:
                libraries[dist] = metadata.version(dist)
            except metadata.PackageNotFoundError:
                continue
    return {"python": platform.python_version(), "libraries": libraries, "task": task}


def _load(model_path: Path, allowed: list[str]) -> Any:
    from gitreg.evaluation.loading import load_model

    model = load_model(model_path, allowed)
    if not callable(getattr(model, "predict", None)):
        kind = disclosure.name(type(model).__name__)
        raise GitregError(
            f"{disclosure.name(model_path.name)} holds a {kind}, which has no predict()"
        )
    return model


def builtin_metrics(
    model_path: Path,
    dataset: Path,
    target: str,
    slices: list[str],
    allowed: list[str],
    task: str = names.CLASSIFICATION,
    bootstrap: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """The task's metrics (`model.metrics.BUILTIN`) of a model on a CSV, by slice, the
    latency, the environment, and with `bootstrap` = (samples, seed) the resampled ones."""
    import numpy as np

    header, rows = _read(dataset, target, slices)
    model = _load(model_path, allowed)
    features = _inputs(model, rows, _features(model, header, target, slices))
    scorer = _scorer(task, model, features, rows, target)
    result: dict[str, Any] = scoring.reported(scorer.score())
    measured = list(result)
    by_slice: dict[str, dict[str, float]] = {}
    for column in slices:
        values = np.array([row[column] for row in rows], dtype=object)
        for value in sorted(set(values)):
            by_slice[f"{column}={value}"] = scoring.reported(scorer.score(values == value))
    result.update(_latency(model, features))
    if by_slice:
        result["by_slice"] = by_slice
    result["environment"] = environment(task)
    if bootstrap is not None:
        result["bootstrap"] = scoring.bootstrap(scorer, bootstrap[1], bootstrap[0], measured)
    return result


def main(argv: list[str] | None = None) -> int:
    """`python -m gitreg.evaluation.builtin`: the built-in evaluator's process."""
    parser = argparse.ArgumentParser(prog="python -m gitreg.evaluation.builtin")
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--target", default="target")
    parser.add_argument("--slice", dest="slices", action="append", default=[])
    parser.add_argument("--allow", action="append", default=[])
    parser.add_argument("--task", choices=names.TASKS, default=names.CLASSIFICATION)
    parser.add_argument("--bootstrap-samples", type=int, default=None)
    parser.add_argument("--bootstrap-seed", type=int, default=0)
    args = parser.parse_args(argv)
    boot = None if args.bootstrap_samples is None else (args.bootstrap_samples, args.bootstrap_seed)
    try:
        runner.require_builtin()
        result = builtin_metrics(
            args.model, args.dataset, args.target, args.slices, args.allow, args.task, boot
        )
    except GitregError as e:  # ours: messages built to be shown in the report
        hint = f" ({e.hint})" if e.hint else ""
        sys.stderr.write(f"error: {e.message}{hint}\n")
        return 2
    except Exception as e:  # anything else, shown without its details
        sys.stderr.write(f"error: {disclosure.message(e)}\n")
        return 2
    args.output.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
