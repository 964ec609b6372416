"""`gitreg card`: model.yaml's card and policy with one version's facts (rendered by
`gitreg.render.card`).

The version is the one asked for, else the one in the last stage of gitreg.yaml's order
that holds one (production before staging), else the latest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitreg.model.manifest import ModelSpec, VersionManifest
from gitreg.model.semver import latest
from gitreg.registry.reader import Registry


@dataclass(frozen=True)
class ModelCard:
    spec: ModelSpec
    version: VersionManifest | None
    stages: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.spec.to_dict(),
            "version": self.version.to_dict() if self.version else None,
            "stages": self.stages,
        }


def build_card(reg: Registry, name: str, version: str | None = None) -> ModelCard:
    """The card of `name` at `version`, else the version in the highest stage, else latest."""
    spec = reg.model(name)
    stages = reg.stages(name)
    if version is None:
        held = [stages[s] for s in reversed(reg.config.stage_names) if s in stages]
        version = held[0] if held else latest(reg.versions(name))
    vm = reg.version(name, version) if version else None
    return ModelCard(spec, vm, stages)
