"""The diabetes model's evaluator (model.yaml `evaluation.command`).

    python train/evaluate_diabetes.py MODEL DATASET OUTPUT

Predicts the held-out CSV with the pickled regressor and writes {"rmse", "mae", "r2"} to
OUTPUT as JSON. gitreg runs it in its sandbox, on a tree exported from the policy's commit.
"""

from __future__ import annotations

import csv
import json
import pickle
import sys
from pathlib import Path

from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score


def main(model_path: str, dataset: str, output: str) -> None:
    with Path(dataset).open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    target = "progression"
    x = [[float(v) for k, v in r.items() if k != target] for r in rows]
    y = [float(r[target]) for r in rows]
    path = Path(model_path)
    if path.is_dir():
        path = path / "model.pkl"
    with path.open("rb") as fh:
        model = pickle.load(fh)  # the registry's own artifact, md5-verified by gitreg
    predicted = model.predict(x)
    metrics = {
        "rmse": float(mean_squared_error(y, predicted) ** 0.5),
        "mae": float(mean_absolute_error(y, predicted)),
        "r2": float(r2_score(y, predicted)),
    }
    Path(output).write_text(json.dumps(metrics))


if __name__ == "__main__":
    main(*sys.argv[1:4])
