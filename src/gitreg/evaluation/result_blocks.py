"""The optional blocks of an evaluator's result, beside its metrics: read and bounded.

    "bootstrap": {"samples": N, "seed": S, "rows": n, "metrics": {metric: [v_1 .. v_N]}}
    "per_row": {metric: [score of row 1 .. score of row n]}
    "environment": {name: text | number}   (what the evaluator ran with: python, libraries)

`bootstrap[metric][i]` is the metric scored on resample i of
`gitreg.evaluation.resample.counts(S, N, n)`; `per_row` scores are averaged over the same
resamples by `gitreg.evaluation.significance`. Only the policy's metrics are kept (the
others could not change a verdict). Anything malformed or too large raises ValueError
saying which, and the run becomes a failed measurement, like any other bad output.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

from gitreg.model.measurement import Bootstrap

MAX_SAMPLES = 100_000
MAX_ROWS = 1_000_000
MAX_VALUES = 8_000_000  # all resampled and per-row numbers of one result together
MAX_ENV_KEYS = 64
MAX_ENV_TEXT = 200


def _numbers(value: Any, where: str, most: int, nulls: bool = False) -> list[float]:
    """A list of finite numbers; with `nulls`, null too (a metric undefined on a
    resample, e.g. AUC when the resample holds one class), read as NaN."""
    if not isinstance(value, list) or not value:
        raise ValueError(f"{where} is not a non-empty list of numbers")
    if len(value) > most:
        raise ValueError(f"{where} holds {len(value)} values, more than {most}")
    for x in value:
        if x is None and nulls:
            continue
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
            raise ValueError(f"{where} holds {str(x)[:40]!r}, not a finite number")
    return [math.nan if x is None else float(x) for x in value]


def _int(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{where} is {str(value)[:40]!r}, not an integer in {low}..{high}")
    return value


def bootstrap(data: Any, known: Collection[str]) -> Bootstrap | None:
    """The "bootstrap" block, its lists checked against its own samples."""
    if data is None:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("metrics"), dict):
        raise ValueError('"bootstrap" is not {"samples", "seed", "rows", "metrics": {...}}')
    samples = _int(data.get("samples"), '"bootstrap.samples"', 1, MAX_SAMPLES)
    seed = _int(data.get("seed"), '"bootstrap.seed"', 0, 2**32 - 1)
    rows = _int(data.get("rows"), '"bootstrap.rows"', 1, MAX_ROWS)
    metrics = {}
    for name, values in data["metrics"].items():
        if name not in known:
            continue
        metrics[name] = _numbers(values, f'"bootstrap.metrics.{name}"', samples, nulls=True)
        if len(metrics[name]) != samples:
            raise ValueError(
                f'"bootstrap.metrics.{name}" holds {len(metrics[name])} values, not {samples}'
            )
    return Bootstrap(samples, seed, rows, metrics)


def per_row(data: Any, known: Collection[str]) -> dict[str, list[float]]:
    """The "per_row" block: one list per metric, all of one length."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError('"per_row" is not an object of metric -> [per-row scores]')
    out = {
        name: _numbers(values, f'"per_row.{name}"', MAX_ROWS)
        for name, values in data.items()
        if name in known
    }
    if len({len(v) for v in out.values()}) > 1:
        raise ValueError('"per_row" lists differ in length (one score per row, every metric)')
    return out


def environment(data: Any, nested: bool = True) -> dict[str, Any]:
    """The "environment" block: short texts and numbers, one level of objects in it."""
    if data is None:
        return {}
    if not isinstance(data, dict) or len(data) > MAX_ENV_KEYS:
        raise ValueError(f'"environment" is not an object of at most {MAX_ENV_KEYS} entries')
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict) and nested:  # e.g. {"libraries": {"scikit-learn": "1.5"}}
            value = environment(value, nested=False)
        elif isinstance(value, str):
            value = value[:MAX_ENV_TEXT]
        elif isinstance(value, bool) or not isinstance(value, (int, float, type(None))):
            raise ValueError(f'"environment.{str(key)[:40]}" is not a text or a number')
        out[str(key)[:MAX_ENV_TEXT]] = value
    return out


def split(data: dict[str, Any], known: Collection[str]) -> dict[str, Any]:
    """Pop the blocks out of a result object; the Measurement fields they fill."""
    boot = bootstrap(data.pop("bootstrap", None), known)
    rows = per_row(data.pop("per_row", None), known)
    values = sum(len(v) for v in rows.values())
    values += sum(len(v) for v in boot.metrics.values()) if boot else 0
    if values > MAX_VALUES:
        raise ValueError(f"reported {values} resampled and per-row values, more than {MAX_VALUES}")
    env = environment(data.pop("environment", None))
    return {"bootstrap": boot, "per_row": rows, "environment": env}
