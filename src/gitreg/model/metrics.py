"""The metrics the built-in evaluator reports, per task: the one list.

The evaluator computes these (`gitreg.evaluation.metrics`), `validate` warns about a
policy that names any other (`rules.unmeasurable_metrics`), and docs/evaluation.md shows
this table (a test keeps them equal).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricInfo:
    name: str
    goal: str  # "maximize" or "minimize": which way is better
    meaning: str
    needs_proba: bool = False  # reported only for a model with predict_proba


CLASSIFICATION = "classification"
REGRESSION = "regression"
TASKS = (CLASSIFICATION, REGRESSION)
LATENCY_BATCH_ROWS = 100  # a latency sample: one predict() call on this many rows
LATENCY_BATCHES = 50  # at most this many batches, spread over the data set

_LATENCY = (
    MetricInfo(
        "latency_ms_p50",
        "minimize",
        f"median milliseconds of predict() on a {LATENCY_BATCH_ROWS}-row batch",
    ),
    MetricInfo(
        "latency_ms_p95",
        "minimize",
        f"95th percentile milliseconds of predict() on a {LATENCY_BATCH_ROWS}-row batch",
    ),
)

BUILTIN: dict[str, tuple[MetricInfo, ...]] = {
    CLASSIFICATION: (
        MetricInfo("accuracy", "maximize", "share of rows predicted right"),
        MetricInfo("balanced_accuracy", "maximize", "mean recall over the classes"),
        MetricInfo("precision", "maximize", "precision, macro average over the classes"),
        MetricInfo("recall", "maximize", "recall, macro average over the classes"),
        MetricInfo("f1", "maximize", "F1, macro average over the classes"),
        MetricInfo("precision_weighted", "maximize", "precision, averaged by class support"),
        MetricInfo("recall_weighted", "maximize", "recall, averaged by class support"),
        MetricInfo("f1_weighted", "maximize", "F1, averaged by class support"),
        MetricInfo(
            "roc_auc",
            "maximize",
            "area under the ROC curve (binary: of the second class; multiclass: "
            "one-vs-rest, macro average)",
            True,
        ),
        MetricInfo("log_loss", "minimize", "cross-entropy of the predicted probabilities", True),
        MetricInfo(
            "average_precision",
            "maximize",
            "area under the precision-recall curve (multiclass: one-vs-rest, macro average)",
            True,
        ),
        *_LATENCY,
    ),
    REGRESSION: (
        MetricInfo("rmse", "minimize", "root mean squared error"),
        MetricInfo("mae", "minimize", "mean absolute error"),
        MetricInfo("r2", "maximize", "coefficient of determination"),
        MetricInfo("mape", "minimize", "mean absolute percentage error, as a fraction"),
        MetricInfo("max_error", "minimize", "largest absolute error"),
        *_LATENCY,
    ),
}
LATENCY = tuple(m.name for m in _LATENCY)


def builtin_names(task: str | None) -> tuple[str, ...] | None:
    """The metrics the built-in evaluator reports for `task`; None if it has no such task."""
    infos = BUILTIN.get(task or "")
    return None if infos is None else tuple(m.name for m in infos)
