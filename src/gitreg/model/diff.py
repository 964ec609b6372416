"""What differs between two version manifests of a model (pure; `gitreg diff`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gitreg.model.manifest import VersionManifest


@dataclass(frozen=True)
class MetricDelta:
    metric: str
    a: float | None
    b: float | None

    @property
    def delta(self) -> float | None:
        if self.a is None or self.b is None:
            return None
        return self.b - self.a

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "a": self.a, "b": self.b, "delta": self.delta}


@dataclass(frozen=True)
class FieldChange:
    field: str
    a: Any
    b: Any


@dataclass
class VersionDiff:
    name: str
    a: str
    b: str
    metrics: list[MetricDelta] = field(default_factory=list)
    params: list[FieldChange] = field(default_factory=list)
    other: list[FieldChange] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "a": self.a,
            "b": self.b,
            "metrics": [m.to_dict() for m in self.metrics],
            "params": [asdict(p) for p in self.params],
            "changes": [asdict(c) for c in self.other],
        }


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings as dotted keys; lists stay values."""
    if not isinstance(data, dict):
        return {prefix: data} if prefix else {}
    out: dict[str, Any] = {}
    for k, v in data.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, dict) and v:
            out.update(flatten(v, key))
        else:
            out[key] = v
    return out


def _changes(a: dict[str, Any], b: dict[str, Any]) -> list[FieldChange]:
    fa, fb = flatten(a), flatten(b)
    return [
        FieldChange(k, fa.get(k), fb.get(k))
        for k in sorted(set(fa) | set(fb))
        if fa.get(k) != fb.get(k)
    ]


IGNORED = {"version", "created", "metrics", "params", "schema", "name"}


def diff_manifests(va: VersionManifest, vb: VersionManifest) -> VersionDiff:
    """Metric deltas, param changes and every other changed field, `va` to `vb`."""
    name, a, b = va.name, va.version, vb.version
    ma, mb = va.metrics.flat(), vb.metrics.flat()
    metrics = [MetricDelta(m, ma.get(m), mb.get(m)) for m in sorted(set(ma) | set(mb))]
    da, db = va.to_dict(), vb.to_dict()
    artifacts_a = {x["path"].rsplit("/", 1)[-1]: x for x in da.pop("artifacts")}
    artifacts_b = {x["path"].rsplit("/", 1)[-1]: x for x in db.pop("artifacts")}
    other = _changes(
        {k: v for k, v in da.items() if k not in IGNORED},
        {k: v for k, v in db.items() if k not in IGNORED},
    )
    for art in sorted(set(artifacts_a) | set(artifacts_b)):
        x, y = artifacts_a.get(art, {}), artifacts_b.get(art, {})
        if x.get("md5") != y.get("md5"):
            other.append(FieldChange(f"artifacts.{art}.md5", x.get("md5"), y.get("md5")))
        if x.get("size") != y.get("size"):
            other.append(FieldChange(f"artifacts.{art}.size", x.get("size"), y.get("size")))
    return VersionDiff(name, a, b, metrics, _changes(va.params, vb.params), other)
