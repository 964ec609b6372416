"""`gitreg list`, `search-versions` and `show`: searches, one model, one version."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gitreg.model.query import parse
from gitreg.model.records import (
    ModelSummary,
    model_record,
    needs_version_fields_named,
    version_record,
)
from gitreg.model.search import check_fields, limited, matches_model, ordered, parse_order_by
from gitreg.registry.reader import Registry

if TYPE_CHECKING:
    from gitreg.model.manifest import ModelSpec, VersionManifest


@dataclass(frozen=True)
class ModelView:
    """One model: its summary, model.yaml, and every version's manifest."""

    summary: ModelSummary
    spec: ModelSpec
    versions: list[VersionManifest]

    def to_dict(self) -> dict[str, object]:
        return model_data(self)


@dataclass(frozen=True)
class VersionView:
    """One version's manifest and the stages it holds."""

    manifest: VersionManifest
    stages: list[str]

    def to_dict(self) -> dict[str, object]:
        return version_data(self)


def search_models(
    reg: Registry,
    filter_: str | None = None,
    order_by: Sequence[str] = (),
    max_results: int | None = None,
    stage: str | None = None,
) -> list[ModelSummary]:
    """Models matching `filter_`, by the rule of `gitreg.model.search` (the model with one
    of its versions), sorted by `order_by` (default by name), at most `max_results`."""
    where = parse(filter_) if filter_ is not None else None
    keys = parse_order_by(order_by)
    models = [m for m in reg.summaries() if stage is None or stage in m.stages]
    if where is None and not keys:  # no record to match or sort by: the summaries, by name
        return limited(models, max_results)
    filtered = where.fields() if where else set()
    wanted = filtered | {k.field for k in keys}
    # the filter may need every version; the order only the latest's (what it sorts by)
    deep = needs_version_fields_named(filtered)
    latest_only = not deep and needs_version_fields_named(wanted)
    joined = [_joined(reg, m, deep, latest_only) for m in models]
    check_fields(wanted, [r for rows in joined for r in rows], "model or version")
    if where is not None:
        picked = [
            (m, rows) for m, rows in zip(models, joined, strict=True) if matches_model(where, rows)
        ]
        models, joined = [m for m, _ in picked], [rows for _, rows in picked]
    if keys:  # a model sorts by its latest version's fields
        latest = [next((r for r in rows if r.get("version") == m.latest), rows[-1])
                  for m, rows in zip(models, joined, strict=True)]  # fmt: skip
        models = ordered(models, latest, keys)
    return limited(models, max_results)


def _joined(
    reg: Registry, m: ModelSummary, deep: bool, latest_only: bool = False
) -> list[dict[str, Any]]:
    """The model's records: joined with each version (ascending) if `deep`, with its
    latest version if `latest_only`, else alone."""
    if not (deep or latest_only) or not m.versions or (latest_only and m.latest is None):
        return [model_record(m)]
    versions = [m.latest] if latest_only and m.latest is not None else m.versions
    return [model_record(m, reg.version(m.name, v)) for v in versions]


def search_versions(
    reg: Registry,
    filter_: str | None = None,
    order_by: Sequence[str] = (),
    max_results: int | None = None,
    stage: str | None = None,
) -> list[VersionView]:
    """Every version of every model matching `filter_` (its fields and its model's), sorted
    by `order_by` (default by name, then SemVer), at most `max_results`."""
    where = parse(filter_) if filter_ is not None else None
    keys = parse_order_by(order_by)
    views, records = [], []
    for m in reg.summaries():
        for v in m.versions:
            held = [s for s, held_v in m.stages.items() if held_v == v]
            if stage is not None and stage not in held:
                continue
            vm = reg.version(m.name, v)
            views.append(VersionView(vm, held))
            records.append(version_record(vm, held, m))
    check_fields((where.fields() if where else set()) | {k.field for k in keys}, records, "version")
    if where is not None:
        kept = [(v, r) for v, r in zip(views, records, strict=True) if where.matches(r)]
        views, records = [v for v, _ in kept], [r for _, r in kept]
    return limited(ordered(views, records, keys) if keys else views, max_results)


def show(reg: Registry, name: str, version: str | None) -> ModelView | VersionView:
    """A model, or with `version` one version of it."""
    if version:
        vm = reg.version(name, version)
        return VersionView(vm, [s for s, v in reg.stages(name).items() if v == version])
    summary = reg.summary(name)
    return ModelView(summary, reg.model(name), [reg.version(name, v) for v in summary.versions])


def model_data(view: ModelView) -> dict[str, object]:
    """`gitreg show NAME --json`."""
    from dataclasses import asdict

    return {
        **asdict(view.summary),
        "model": view.spec.to_dict(),
        "versions": [
            {
                "version": v.version,
                "status": v.status,
                "created": v.to_dict()["created"],
                "author": v.author,
                "metrics": v.metrics.flat(),
            }
            for v in view.versions
        ],
    }


def version_data(view: VersionView) -> dict[str, object]:
    """`gitreg show NAME@VERSION --json`."""
    return {**view.manifest.to_dict(), "stages": view.stages}
