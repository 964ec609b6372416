"""The gate's inputs: what an evaluator measured, the deltas' intervals, an override.

Pure data, the input of the gate's decision (`gitreg.model.gate`): the runner fills a
`Measurement` from an evaluator's output, `gitreg.evaluation.significance` the `Intervals`.
The evaluator's own process imports this module too: it needs nothing but the standard
library.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

Interval = tuple[float, float]


@dataclass(frozen=True)
class CommandLog:
    """One evaluator run: what ran, how it ended, the tails of its output."""

    role: str  # candidate | baseline
    version: str
    argv: list[str]
    returncode: int | None
    seconds: float
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Bootstrap:
    """An evaluator's resampled metrics: `metrics[m][i]` scored on resample i of
    `gitreg.evaluation.resample.counts(seed, samples, rows)`."""

    samples: int
    seed: int
    rows: int
    metrics: dict[str, list[float]]


@dataclass(frozen=True)
class Measurement:
    """What an evaluator reported for one version, or why it could not."""

    version: str
    metrics: dict[str, float] = field(default_factory=dict)
    by_slice: dict[str, dict[str, float]] = field(default_factory=dict)
    error: str | None = None
    log: CommandLog | None = None
    bootstrap: Bootstrap | None = None
    per_row: dict[str, list[float]] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    cached: bool = False  # reused from the result cache, not measured by this run


@dataclass(frozen=True)
class Intervals:
    """The deltas' intervals at `confidence` (metric -> (low, high) of candidate - baseline),
    and why a metric has none (metric -> reason; "*": for every metric)."""

    confidence: float
    delta: dict[str, Interval] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)

    def why_not(self, metric: str) -> str | None:
        if metric in self.delta:
            return None
        return self.missing.get(metric) or self.missing.get("*") or "no resampled scores"


@dataclass(frozen=True)
class Override:
    """A request to let a failed gate through: where it came from, and whether it counts."""

    reason: str
    source: str  # "stages.yaml comment" | "label gitreg-override"
    approved_by: list[str] = field(default_factory=list)
    pending: str | None = None  # why it does not count (yet), or None when approved


# --- a result as the cache keeps it -------------------------------------------------------------

RECORD_SCHEMA = "gitreg/evaluation-result/v1"


def cache_key(parts: dict[str, Any]) -> str:
    """The key of a result: a hash of everything it depends on (canonical JSON)."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def to_record(m: Measurement) -> dict[str, Any]:
    """A successful measurement as plain JSON data (its log's texts included)."""
    data = asdict(m)
    data.pop("cached")
    return {"schema": RECORD_SCHEMA, "measurement": data}


def from_record(data: dict[str, Any]) -> Measurement | None:
    """The measurement of a record, or None if it is not one this version wrote."""
    try:
        if data.get("schema") != RECORD_SCHEMA:
            return None
        m = dict(data["measurement"])
        log, boot = m.pop("log"), m.pop("bootstrap")
        measured = Measurement(
            **m,
            log=CommandLog(**log) if log is not None else None,
            bootstrap=Bootstrap(**boot) if boot is not None else None,
            cached=True,
        )
    except (KeyError, TypeError, ValueError):
        return None
    if measured.error is not None or not all(
        isinstance(v, (int, float)) for v in measured.metrics.values()
    ):
        return None
    return measured
