"""Flat records of models and versions, the rows the `--filter` language is matched against."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gitreg.model.manifest import VersionManifest
    from gitreg.model.query import Expr

# model.query (the filter language) is imported where a filter asks for it: release and
# validate import ModelSummary (through registry/reader.py) and filter nothing


@dataclass(frozen=True)
class ModelSummary:
    name: str
    description: str
    owners: list[str]
    task: str | None
    labels: dict[str, str]
    latest: str | None
    versions: list[str]
    stages: dict[str, str]


def needs_version_fields(expr: Expr) -> bool:
    """Whether `expr` reads a version's manifest (metrics, params, status, ...)."""
    return needs_version_fields_named(expr.fields())


def needs_version_fields_named(fields: Iterable[str]) -> bool:
    """Whether any of the record keys `fields` comes from a version's manifest."""
    from gitreg.model.query import VERSION_FIELDS

    return any(f in VERSION_FIELDS or f.startswith(("metrics.", "params.")) for f in fields)


def _flatten(prefix: str, data: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        nested = isinstance(value, Mapping)
        out.update(_flatten(f"{prefix}.{key}", value) if nested else {f"{prefix}.{key}": value})
    return out


def _version_fields(m: VersionManifest) -> dict[str, Any]:
    return {
        "version": m.version,
        "created": m.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "run_id": m.lineage.run.id if m.lineage.run else None,
        "source_path": [a.path for a in m.artifacts],
        "status": m.status,
        "framework": m.framework.name if m.framework else None,
        "author": m.author,
        **_flatten("metrics", m.metrics.flat()),
        **_flatten("params", m.params),
    }


def model_record(summary: ModelSummary, latest: VersionManifest | None = None) -> dict[str, Any]:
    """A model as a flat record; with its latest version's manifest, that version's fields."""
    record: dict[str, Any] = {
        "name": summary.name,
        "description": summary.description,
        "task": summary.task,
        "owners": list(summary.owners),
        "stages": list(summary.stages),
        "latest": summary.latest,
        **_flatten("tags", summary.labels),
        **_flatten("labels", summary.labels),
    }
    if latest is not None:
        record.update(_version_fields(latest))
    return record


def version_record(
    manifest: VersionManifest, stages_held: list[str], summary: ModelSummary | None = None
) -> dict[str, Any]:
    """One version as a flat record; `stages_held` are the stages that point at it. With its
    model's `summary`, the model's fields too (labels, owners, task, latest), so a version
    search can ask for `tags.team`; `description` stays the version's."""
    model = {k: v for k, v in model_record(summary).items() if k != "stages"} if summary else {}
    return {
        **model,
        "name": manifest.name,
        "description": manifest.description,
        "stages": list(stages_held),
        **_version_fields(manifest),
    }
