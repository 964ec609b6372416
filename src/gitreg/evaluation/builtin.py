"""The built-in evaluator: a scikit-learn classifier scored on a CSV, in its own process.

`gitreg evaluate` runs it as `python -m gitreg.evaluation.builtin` (see `runner`), so the
candidate model is loaded outside the process that holds the registry and any token.
It imports neither pydantic nor DVC.

The label column is never given to the model, and what it writes on stderr (which the
report shows) names columns only through `disclosure.names` and shows foreign errors only
through `disclosure.message`: never values from the data set or the model file.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any

from gitreg.errors import GitregError
from gitreg.evaluation import disclosure, runner

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


def _predict(model: Any, features: Any) -> list[str]:
    try:
        return [_label(p) for p in model.predict(features)]
    except Exception as e:  # whatever the model raises, shown safely
        raise GitregError(f"the model's predict() failed: {disclosure.message(e)}") from None


def builtin_metrics(
    model_path: Path, dataset: Path, target: str, slices: list[str], allowed: list[str]
) -> dict[str, Any]:
    """Accuracy and macro precision, recall and F1 of a classifier on a CSV, and by slice."""
    from gitreg.evaluation.loading import load_model

    header, rows = _read(dataset, target, slices)
    model = load_model(model_path, allowed)
    if not callable(getattr(model, "predict", None)):
        kind = disclosure.name(type(model).__name__)
        raise GitregError(
            f"{disclosure.name(model_path.name)} holds a {kind}, which has no predict()"
        )
    pred = _predict(model, _matrix(rows, _features(model, header, target, slices)))
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
