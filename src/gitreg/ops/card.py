"""`gitreg card`: model.yaml's card and policy with one version's facts (rendered by
`gitreg.render.card`), and the Hugging Face metadata of its front matter.

The version is the one asked for, else the one in the last stage of gitreg.yaml's order
that holds one (production before staging), else the latest. Its results are the
evaluation gate's measurements when the caller has them (`Measurements`), else the metrics
declared at registration; the card says which. `card_of` looks the measurements up in the
results `gitreg evaluate` stored in this clone (`gitreg.evaluation.reuse.stored`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from gitreg.evaluation import reuse
from gitreg.model.manifest import ModelSpec, VersionManifest
from gitreg.model.semver import latest
from gitreg.registry.reader import Registry

# gitreg's framework names (store/formats.py) where the Hugging Face Hub spells them otherwise
HF_LIBRARY = {"torch": "pytorch", "skops": "sklearn"}
UNRECORDED = "not recorded"
MARKS = {"measured": "measured by the gate", "declared": "declared at registration"}


@dataclass(frozen=True)
class Measurements:
    """What the evaluation gate measured for a version, and where that came from.

    `source` says which run (e.g. "gitreg evaluate in PR #12 at 3f2a1b0"); `dataset` is
    the data set it measured on (default: the model's `evaluation.dataset`).
    """

    metrics: dict[str, float]
    source: str
    dataset: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Results:
    """The numbers a card reports: `kind` "measured" (by the gate) or "declared" (at
    registration, measured by whoever registered the version)."""

    kind: Literal["measured", "declared"]
    metrics: dict[str, float]
    source: str
    dataset: str | None
    url: str | None = None


@dataclass(frozen=True)
class ModelCard:
    spec: ModelSpec
    version: VersionManifest | None
    stages: dict[str, str]
    results: Results | None = None

    def metadata(self) -> dict[str, Any]:
        """The Hugging Face model card metadata (the README's YAML front matter)."""
        spec, vm, card = self.spec, self.version, self.spec.card
        meta: dict[str, Any] = {}
        if card.license:
            meta["license"] = card.license
        framework = vm.framework.name if vm and vm.framework else None
        library = card.library_name or (HF_LIBRARY.get(framework, framework) if framework else None)
        if library:
            meta["library_name"] = library
        tags = [f"{k}:{v}" for k, v in spec.labels.items()]
        if tags:
            meta["tags"] = tags
        datasets = card.datasets or ([d.name for d in vm.lineage.data] if vm else [])
        if datasets:
            meta["datasets"] = datasets
        if self.results and self.results.metrics:
            meta["metrics"] = list(self.results.metrics)
            meta["model-index"] = [{"name": spec.name, "results": [self._result()]}]
        return meta

    def _result(self) -> dict[str, Any]:
        """One model-index result; each metric's name says whether the gate measured it.
        (The Hub accepts a `source` only with a URL.)"""
        r = self.results
        assert r is not None
        dataset = r.dataset or UNRECORDED
        mark = MARKS[r.kind]
        result: dict[str, Any] = {
            "task": {"type": self.spec.task or "other"},
            "dataset": {"type": dataset, "name": dataset},
            "metrics": [
                {"type": m, "value": v, "name": f"{m} ({mark})", "verified": False}
                for m, v in r.metrics.items()
            ],
        }
        if r.url:
            result["source"] = {"name": r.source, "url": r.url}
        return result

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.spec.to_dict(),
            "version": self.version.to_dict() if self.version else None,
            "stages": self.stages,
            "results": None if self.results is None else vars(self.results),
            "metadata": self.metadata(),
        }


def results_of(
    spec: ModelSpec, vm: VersionManifest | None, measured: Measurements | None
) -> Results | None:
    """The gate's measurements when there are any, else the declared metrics (or None)."""
    if measured is not None and measured.metrics:
        dataset = measured.dataset or (spec.evaluation.dataset if spec.evaluation else None)
        return Results("measured", dict(measured.metrics), measured.source, dataset, measured.url)
    if vm is None or not vm.metrics.flat():
        return None
    source = (
        f"declared at registration by {vm.author}; "
        "no measurement of this version by the gate is stored here"
    )
    url = vm.lineage.run.url if vm.lineage.run else None
    return Results("declared", vm.metrics.flat(), source, None, url)


def build_card(
    reg: Registry, name: str, version: str | None = None, measured: Measurements | None = None
) -> ModelCard:
    """The card of `name` at `version`, else the version in the highest stage, else latest.

    `measured`: the gate's measurements of that version, if the caller has them.
    """
    spec = reg.model(name)
    stages = reg.stages(name)
    version = version or card_version(reg, name, stages)
    vm = reg.version(name, version) if version else None
    return ModelCard(spec, vm, stages, results_of(spec, vm, measured))


def card_version(reg: Registry, name: str, stages: dict[str, str]) -> str | None:
    """The version in the highest stage that holds one, else the latest (None: none)."""
    held = [stages[s] for s in reversed(reg.config.stage_names) if s in stages]
    return held[0] if held else latest(reg.versions(name))


def card_of(reg: Registry, name: str, version: str | None = None) -> ModelCard:
    """`build_card` with the gate's measurements of the version when this clone stored
    them (`stored_measurements`), else the declared metrics."""
    version = version or card_version(reg, name, reg.stages(name))
    measured = stored_measurements(reg, name, version) if version else None
    return build_card(reg, name, version, measured)


def stored_measurements(reg: Registry, name: str, version: str) -> Measurements | None:
    """What `gitreg evaluate NAME VERSION --ref REF` measured for the version under the
    model's policy at the registry's ref, if its result is stored in this clone's cache
    (same key: the same artifacts, data set, evaluator, policy and task); else None."""
    spec = reg.model(name)
    if spec.evaluation is None:
        return None
    vm = reg.version(name, version)
    policy = (reg.commit, reg.snapshot.ref)
    found = reuse.stored(reg.git, spec, vm, policy, reg.config.allow_pickle_imports)
    if found is None or not found.metrics:
        return None
    return Measurements(dict(found.metrics), "gitreg evaluate", spec.evaluation.dataset)
