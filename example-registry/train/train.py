"""Train an iris classifier for the example registry.

    python train/train.py --version 1.0.0 --out OUT [--data-dir data]

Writes OUT/model.pkl (a scikit-learn estimator, pickled), OUT/metrics.json (declared metrics,
measured on a validation split of the training data), OUT/params.yaml, and, once, the
held-out evaluation set DATA_DIR/iris-holdout.csv that the registry tracks with DVC and the
evaluation gate re-measures every candidate on. Deterministic: same version, same bytes.
"""

from __future__ import annotations

import argparse
import csv
import json
import pickle
from pathlib import Path

from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
TARGET = "species"

# What each version is. 1.2.0 is the deliberately worse candidate the gate must refuse.
RECIPES = {
    "1.0.0": ("logistic regression, C=1", lambda: LogisticRegression(C=1.0, max_iter=1000)),
    "1.1.0": ("logistic regression, C=10", lambda: LogisticRegression(C=10.0, max_iter=1000)),
    "1.2.0": ("decision tree, depth 2", lambda: DecisionTreeClassifier(max_depth=2, random_state=0)),
}


def split() -> tuple[list[list[float]], list[list[float]], list[str], list[str]]:
    iris = load_iris()
    labels = [str(iris.target_names[i]) for i in iris.target]
    x_train, x_hold, y_train, y_hold = train_test_split(
        iris.data.tolist(), labels, test_size=0.4, random_state=7, stratify=labels
    )
    return x_train, x_hold, y_train, y_hold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", required=True, choices=sorted(RECIPES))
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--data-dir", type=Path, default=Path("data"))
    args = parser.parse_args()

    x_train, x_hold, y_train, y_hold = split()
    holdout = args.data_dir / "iris-holdout.csv"
    if not holdout.exists():
        args.data_dir.mkdir(parents=True, exist_ok=True)
        with holdout.open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow([*FEATURES, TARGET])
            writer.writerows([*row, label] for row, label in zip(x_hold, y_hold))

    # declared metrics come from a validation split of the training data, not the holdout
    x_fit, x_val, y_fit, y_val = train_test_split(
        x_train, y_train, test_size=0.25, random_state=1, stratify=y_train
    )
    description, make = RECIPES[args.version]
    model = make().fit(x_fit, y_fit)
    predicted = model.predict(x_val)
    metrics = {
        "accuracy": round(float(accuracy_score(y_val, predicted)), 4),
        "f1": round(float(f1_score(y_val, predicted, average="macro")), 4),
    }
    model = make().fit(x_train, y_train)  # the shipped model sees all training data

    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "model.pkl").open("wb") as fh:
        pickle.dump(model, fh, protocol=5)
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    params = {"estimator": type(model).__name__, **{
        k: v for k, v in model.get_params().items() if isinstance(v, (int, float, str))
    }}
    (args.out / "params.yaml").write_text("".join(f"{k}: {json.dumps(v)}\n" for k, v in params.items()))
    (args.out / "description.txt").write_text(description + "\n")
    print(f"trained iris {args.version} ({description}): {metrics}")


if __name__ == "__main__":
    main()
