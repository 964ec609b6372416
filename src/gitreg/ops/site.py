"""`gitreg site`: a static HTML catalog of a registry, built from git objects at one ref.

`collect` reads the registry (`read_registry`: two git processes for the whole tree, plus
one `for-each-ref` for the tags and one `git log` for the commits the tags name) into
typed data; a renderer (`gitreg.render.site.pages`) turns that data into pages, each with
the key of its inputs; `build` writes only the pages whose key changed (store/sitedir.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from gitreg.model import layout, tags
from gitreg.model.manifest import ModelSpec, RegistryConfig, Stages, VersionManifest
from gitreg.model.records import ModelSummary, model_record
from gitreg.model.schema import parse
from gitreg.model.semver import latest, sort_versions
from gitreg.registry.reader import Registry
from gitreg.store import bulk, github_repo, refs, sitedir

# Bump when the data a page is rendered from changes shape: every page is then rewritten.
DATA_FORMAT = "1"


@dataclass(frozen=True)
class StageEvent:
    """One release tag of a stage: a version entered it, or left it empty."""

    stage: str
    version: str | None
    kind: str  # promoted | removed
    tag: str
    date: str
    promoted_in: str | None
    promoted_by: str | None
    pull_request: str | None
    approved_by: list[str]


@dataclass(frozen=True)
class VersionEntry:
    manifest: VersionManifest
    text: str  # the manifest as committed
    blob: str
    stages: list[str]
    registered_at: str | None  # the commit of its registration tag, if released
    evaluation: dict[str, Any] | None = None  # the last stored evaluation report


@dataclass(frozen=True)
class ModelEntry:
    summary: ModelSummary
    spec: ModelSpec
    versions: list[VersionEntry]  # ascending SemVer
    timeline: list[StageEvent]
    record: dict[str, Any]  # what `list --filter` matches against
    last_change: str | None
    inputs: str  # the blob and tag ids the model's pages are made from


@dataclass(frozen=True)
class SiteData:
    ref: str
    commit: str
    stages: list[str]  # gitreg.yaml's order
    github: str | None  # owner/name when the registry is on GitHub
    base_url: str | None
    models: list[ModelEntry]
    files: frozenset[str] = field(default_factory=frozenset)  # every path in the tree

    def key(self, *parts: str) -> str:
        """The key of a page made from `parts` and what every page shows."""
        shared = [DATA_FORMAT, self.github or "", self.base_url or "", ",".join(self.stages)]
        return hashlib.sha1("\0".join([*shared, *parts]).encode()).hexdigest()


@dataclass(frozen=True)
class Page:
    key: str
    render: Callable[[], bytes]


@dataclass(frozen=True)
class SiteResult:
    out: str
    index: str
    models: int
    versions: int
    written: list[str]
    unchanged: int
    removed: list[str]


@dataclass
class RegistryObjects:
    """What the whole registry holds at one commit, parsed, with the blob id of each file."""

    files: dict[str, str]  # path -> blob id
    config: RegistryConfig
    specs: dict[str, ModelSpec]
    stages: dict[str, dict[str, str]]
    versions: dict[str, dict[str, VersionManifest]]
    texts: dict[str, str]  # version file path -> its text


def read_registry(reg: Registry) -> RegistryObjects:
    """Every manifest at the registry's commit: one `ls-tree`, one `cat-file --batch`.

    This is the one place the site reads manifests; a cache of parsed records keyed by
    tree id can replace its body without changing its callers.
    """
    files = bulk.tree_blobs(reg.git, reg.commit)
    kinds = {p: k for p in files if (k := layout.classify(p)) is not None}
    blobs = bulk.read_blobs(reg.git, [files[p] for p in kinds])
    objs = RegistryObjects(files, reg.config, {}, {}, {}, {})
    for path, (kind, name, version) in sorted(kinds.items()):
        data = blobs.get(files[path])
        if data is None:
            continue
        if kind == "model":
            objs.specs[name] = parse(ModelSpec, data, path)
        elif kind == "stages":
            objs.stages[name] = parse(Stages, data, path).mapping
        elif version is not None:
            objs.versions.setdefault(name, {})[version] = parse(VersionManifest, data, path)
            objs.texts[path] = data.decode("utf-8", "replace")
    return objs


def last_evaluation(reg: Registry, name: str, version: str) -> dict[str, Any] | None:
    """The last stored evaluation report of `name@version`, or None.

    No stored evaluation results exist in this tree yet: every version shows none. When
    they land, read them here (from git objects) and the version page shows the report.
    """
    return None


def _timeline(model_tags: list[tags.Tag], who: Mapping[str, tuple[str, str]]) -> list[StageEvent]:
    state = tags.released_state(model_tags)
    stage_tags = [t for t in model_tags if t.parsed.kind in ("assign", "unassign")]
    out = []
    for t in sorted(stage_tags, key=lambda t: t.parsed.counter or 0):
        made_in = t.trailers.get("Promoted-in")
        approved = [a.strip() for a in t.trailers.get("Approved-by", "").split(",") if a.strip()]
        out.append(
            StageEvent(
                stage=t.parsed.stage or "",
                version=state.version_at(t) if t.parsed.kind == "assign" else None,
                kind="promoted" if t.parsed.kind == "assign" else "removed",
                tag=t.name,
                date=t.date,
                promoted_in=made_in,
                promoted_by=who[made_in][0] if made_in in who else None,
                pull_request=t.trailers.get("Pull-Request"),
                approved_by=approved,
            )
        )
    return out


def _last_change(versions: list[VersionManifest], model_tags: list[tags.Tag]) -> str | None:
    """The newest of the model's release tag dates and version creation times (UTC)."""
    times = [v.created for v in versions]
    for t in model_tags:
        try:
            times.append(datetime.fromisoformat(t.date))
        except ValueError:
            continue
    if not times:
        return None
    return max(times).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _model_entry(
    name: str,
    objs: RegistryObjects,
    model_tags: list[tags.Tag],
    who: Mapping[str, tuple[str, str]],
    evaluation: Callable[[str, str], dict[str, Any] | None],
) -> ModelEntry:
    spec = objs.specs[name]
    manifests = objs.versions.get(name, {})
    order = sort_versions(list(manifests))
    stages = objs.stages.get(name, {})
    summary = ModelSummary(
        name=name,
        description=spec.description,
        owners=list(spec.owners),
        task=spec.task,
        labels=dict(spec.labels),
        latest=latest(order) or (order[-1] if order else None),
        versions=order,
        stages=stages,
    )
    registered = {t.parsed.version: t.commit for t in model_tags if t.parsed.kind == "register"}
    entries = []
    for v in order:
        path = layout.version_file(name, v)
        held = [s for s, held_v in stages.items() if held_v == v]
        entries.append(
            VersionEntry(
                manifests[v], objs.texts[path], objs.files[path], held, registered.get(v),
                evaluation(name, v),
            )
        )  # fmt: skip
    ids = [objs.files.get(p, "") for p in (layout.model_file(name), layout.stages_file(name))]
    tag_ids = [f"{t.name}={t.commit}:{t.date}:{sorted(t.trailers.items())}" for t in model_tags]
    inputs = "\0".join([*ids, *(e.blob for e in entries), *sorted(tag_ids)])
    record = model_record(summary, manifests[summary.latest] if summary.latest else None)
    return ModelEntry(
        summary,
        spec,
        entries,
        _timeline(model_tags, who),
        record,
        _last_change(list(manifests.values()), model_tags),
        hashlib.sha1(inputs.encode()).hexdigest(),
    )


def collect(reg: Registry, base_url: str | None = None) -> SiteData:
    """Everything the site shows, read from git objects at the registry's ref."""
    objs = read_registry(reg)
    by_model = refs.by_model(reg.git)
    made_in = [
        t.trailers.get("Promoted-in", "") for ts in by_model.values() for t in ts if t.trailers
    ]
    who = bulk.commit_authors(reg.git, made_in)

    def evaluation(name: str, version: str) -> dict[str, Any] | None:
        return last_evaluation(reg, name, version)

    models = [
        _model_entry(name, objs, by_model.get(name, []), who, evaluation)
        for name in sorted(objs.specs)
    ]
    configured = objs.config.github.repo if objs.config.github else None
    gh = github_repo.discover(reg.git, configured)
    return SiteData(
        ref=reg.ref,
        commit=reg.commit,
        stages=[s.name for s in objs.config.stages],
        github=gh,
        base_url=base_url.rstrip("/") + "/" if base_url else None,
        models=models,
        files=frozenset(objs.files),
    )


def build(
    reg: Registry,
    out: str | Path,
    pages: Callable[[SiteData], dict[str, Page]],
    base_url: str | None = None,
) -> SiteResult:
    """Write the site into `out`: only pages whose inputs changed since the last build."""
    data = collect(reg, base_url)
    wanted = pages(data)
    done = sitedir.write(Path(out), {p: (page.key, page.render) for p, page in wanted.items()})
    return SiteResult(
        out=str(Path(out).resolve()),
        index=str((Path(out) / "index.html").resolve()),
        models=len(data.models),
        versions=sum(len(m.versions) for m in data.models),
        written=done.written,
        unchanged=done.unchanged,
        removed=done.removed,
    )

