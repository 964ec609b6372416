"""The built-in evaluator: a scikit-learn classifier scored on a CSV, in its own process.

`gitreg evaluate` runs it as `python -m gitreg.evaluation.builtin` (see `runner`), so the
candidate model is loaded outside the process that holds the registry and any token.
It imports neither pydantic nor DVC.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any

from gitreg.errors import GitregError
from gitreg.evaluation import runner

BUILTIN_METRICS = ("accuracy", "precision", "recall", "f1")


def _label(value: Any) -> str:
    """A class label as text, so that 1, 1.0, "1" and numpy's 1 compare equal."""
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else repr(number)


def _scores(truth: list[str], pred: list[str]) -> dict[str, float]:
    from sklearn.metrics import (  # type: ignore[import-untyped,unused-ignore]
        accuracy_score,
        precision_recall_fscore_support,
    )

    p, r, f, _ = precision_recall_fscore_support(truth, pred, average="macro", zero_division=0)
    return {
        "accuracy": float(accuracy_score(truth, pred)),
        "precision": float(p),
        "recall": float(r),
        "f1": float(f),
    }


def _features(model: Any, header: list[str], target: str, slices: list[str]) -> list[str]:
    names = getattr(model, "feature_names_in_", None)
    columns = (
        [str(n) for n in names]
        if names is not None
        else [c for c in header if c != target and c not in slices]
    )
    missing = [c for c in columns if c not in header]
    if missing:
        raise ValueError(f"the data set lacks the model's feature columns {missing}")
    expected = getattr(model, "n_features_in_", None)
    if isinstance(expected, int) and expected != len(columns):
        raise ValueError(
            f"the model expects {expected} features; the data set has {len(columns)} columns "
            f"besides the target and the slices: {', '.join(columns)}"
        )
    return columns


def builtin_metrics(
    model_path: Path, dataset: Path, target: str, slices: list[str], allowed: list[str]
) -> dict[str, Any]:
    """Accuracy and macro precision, recall and F1 of a classifier on a CSV, and by slice."""
    import numpy as np

    from gitreg.evaluation.loading import load_model

    with dataset.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header, rows = list(reader.fieldnames or []), list(reader)
    for column in [target, *slices]:
        if column not in header:
            raise ValueError(f"{dataset.name} has no column {column!r} (columns: {header})")
    if not rows:
        raise ValueError(f"{dataset.name} has no rows")
    model = load_model(model_path, allowed)
    if not callable(getattr(model, "predict", None)):
        raise ValueError(
            f"{model_path.name} holds a {type(model).__name__}, which has no predict()"
        )
    columns = _features(model, header, target, slices)
    try:
        features = np.array([[float(row[c]) for c in columns] for row in rows])
    except (TypeError, ValueError) as e:
        raise ValueError(f"a feature is not numeric ({e}); use evaluation.command") from None
    pred = [_label(p) for p in model.predict(features)]
    truth = [_label(row[target]) for row in rows]
    result: dict[str, Any] = _scores(truth, pred)
    by_slice: dict[str, dict[str, float]] = {}
    for column in slices:
        for value in sorted({row[column] for row in rows}):
            idx = [i for i, row in enumerate(rows) if row[column] == value]
            by_slice[f"{column}={value}"] = _scores([truth[i] for i in idx], [pred[i] for i in idx])
    if by_slice:
        result["by_slice"] = by_slice
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
    args = parser.parse_args(argv)
    try:
        runner.require_builtin()
        result = builtin_metrics(args.model, args.dataset, args.target, args.slices, args.allow)
    except GitregError as e:
        hint = f" ({e.hint})" if e.hint else ""
        sys.stderr.write(f"error: {e.message}{hint}\n")
        return 2
    except (ValueError, OSError, UnicodeDecodeError) as e:
        sys.stderr.write(f"error: {e}\n")
        return 2
    args.output.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
