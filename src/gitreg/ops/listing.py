"""`gitreg list` and `gitreg show`: the models of a registry, one model, one version."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitreg.model.query import parse
from gitreg.model.records import ModelSummary
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


def list_models(reg: Registry, stage: str | None, filter_: str | None) -> list[ModelSummary]:
    """Models holding `stage` (if given) that match the `--filter` expression (if given)."""
    where = parse(filter_) if filter_ is not None else None
    return reg.find(stage, where)


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
