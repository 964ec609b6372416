"""Train a diabetes progression regressor for the example registry.

    python train/train_diabetes.py --version 1.0.0 --out OUT [--data-dir data]

scikit-learn's bundled diabetes data (442 patients, 10 standardised features, the disease
progression one year later). Writes OUT/model.pkl, OUT/metrics.json (declared metrics on a
validation split of the training data), OUT/params.yaml, OUT/description.txt and, once,
the held-out set DATA_DIR/diabetes-holdout.csv that the registry tracks with DVC.
Deterministic: same version, same bytes.
"""

from __future__ import annotations

import argparse
import csv
import json
import pickle
from pathlib import Path

from sklearn.datasets import load_diabetes
from sklearn.linear_model import Lasso, LinearRegression, Ridge
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import train_test_split

TARGET = "progression"

RECIPES = {
    "1.0.0": ("ordinary least squares", lambda: LinearRegression()),
    "1.1.0": ("ridge regression, alpha=0.1", lambda: Ridge(alpha=0.1)),
    "1.2.0": ("lasso, alpha=0.5: sparser, a little worse", lambda: Lasso(alpha=0.5)),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", required=True, choices=sorted(RECIPES))
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--data-dir", type=Path, default=Path("data"))
    args = parser.parse_args()

    data = load_diabetes()
    features = list(data.feature_names)
    x_train, x_hold, y_train, y_hold = train_test_split(
        data.data.round(6).tolist(), data.target.tolist(), test_size=0.3, random_state=7
    )
    holdout = args.data_dir / "diabetes-holdout.csv"
    if not holdout.exists():
        args.data_dir.mkdir(parents=True, exist_ok=True)
        with holdout.open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow([*features, TARGET])
            writer.writerows([*row, target] for row, target in zip(x_hold, y_hold))

    x_fit, x_val, y_fit, y_val = train_test_split(x_train, y_train, test_size=0.25, random_state=1)
    description, make = RECIPES[args.version]
    predicted = make().fit(x_fit, y_fit).predict(x_val)
    metrics = {
        "rmse": round(float(mean_squared_error(y_val, predicted) ** 0.5), 3),
        "mae": round(float(mean_absolute_error(y_val, predicted)), 3),
        "r2": round(float(r2_score(y_val, predicted)), 4),
    }
    model = make().fit(x_train, y_train)

    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "model.pkl").open("wb") as fh:
        pickle.dump(model, fh, protocol=5)
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    params = {"estimator": type(model).__name__, **{
        k: v for k, v in model.get_params().items() if isinstance(v, (int, float, str))
    }}
    (args.out / "params.yaml").write_text("".join(f"{k}: {json.dumps(v)}\n" for k, v in params.items()))
    (args.out / "description.txt").write_text(description + "\n")
    print(f"trained diabetes {args.version} ({description}): {metrics}")


if __name__ == "__main__":
    main()
