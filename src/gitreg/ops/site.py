"""`gitreg site`: a static HTML catalog of a registry, built from git objects at one ref.

`collect` reads the registry (`read_registry`: two git processes for the whole tree, plus
one `for-each-ref` for the tags and one `git log` for the commits the tags name) into
typed data; a renderer (`gitreg.render.site.pages`) turns that data into pages, each with
the key of its inputs; `build` writes only the pages whose key changed (store/sitedir.py).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from gitreg.errors import NotFound
from gitreg.evaluation.stored_report import StoredReport, StoredResults
from gitreg.model import layout, tags
from gitreg.model.manifest import ModelSpec, Stages, VersionManifest
from gitreg.model.records import ModelSummary, model_record
from gitreg.model.schema import from_data, parse
from gitreg.model.semver import latest, sort_versions
from gitreg.model.timeline import StageEvent, stage_events
from gitreg.registry import cache
from gitreg.registry.reader import Registry
from gitreg.store import bulk, github_repo, refs, results, sitedir

# Bump when the data a page is rendered from changes shape: every page is then rewritten.
DATA_FORMAT = "2"


@dataclass(frozen=True)
class VersionEntry:
    """One version; its manifest is parsed the first time a page asks for it."""

    name: str
    version: str
    blob: str  # the manifest's blob id
    stages: list[str]
    registered_at: str | None  # the commit of its registration tag, if released
    source: RegistryObjects = field(repr=False, compare=False)

    @functools.cached_property
    def manifest(self) -> VersionManifest:
        return self.source.version(self.name, self.version)

    @functools.cached_property
    def text(self) -> str:
        """The manifest as committed."""
        return self.source.text(layout.version_file(self.name, self.version))

    @functools.cached_property
    def evaluation(self) -> StoredReport | None:
        """The last stored evaluation of this version (`RegistryObjects.evaluation`)."""
        return self.source.evaluation(self.name, self.version)


@dataclass(frozen=True)
class ModelEntry:
    """One model; model.yaml and the manifests are parsed when a page needs them."""

    name: str
    stages: dict[str, str]
    versions: list[VersionEntry]  # ascending SemVer
    latest: str | None
    inputs: str  # a hash of the blob and tag ids the model's pages are made from
    model_tags: list[tags.Tag] = field(repr=False)
    source: RegistryObjects = field(repr=False, compare=False)

    @functools.cached_property
    def timeline(self) -> list[StageEvent]:
        """The stage changes, from the release tags (read when the model's page is made)."""
        return stage_events(self.model_tags, self.source.who())

    @functools.cached_property
    def spec(self) -> ModelSpec:
        return self.source.spec(self.name)

    @functools.cached_property
    def summary(self) -> ModelSummary:
        spec = self.spec
        return ModelSummary(
            name=self.name,
            description=spec.description,
            owners=list(spec.owners),
            task=spec.task,
            labels=dict(spec.labels),
            latest=self.latest,
            versions=[v.version for v in self.versions],
            stages=self.stages,
        )

    @functools.cached_property
    def latest_manifest(self) -> VersionManifest | None:
        found = [v for v in self.versions if v.version == self.latest]
        return found[0].manifest if found else None

    @functools.cached_property
    def records(self) -> list[dict[str, Any]]:
        """What `gitreg list --filter` matches this model against (`gitreg.model.search`):
        the model alone, then the model joined with each of its versions, ascending."""
        joined = [model_record(self.summary, v.manifest) for v in self.versions]
        return [model_record(self.summary), *joined]

    @functools.cached_property
    def last_change(self) -> str | None:
        """The newest of its release tag dates and its latest version's creation (UTC)."""
        times = [self.latest_manifest.created] if self.latest_manifest else []
        for date in (t.date for t in self.model_tags):
            try:
                times.append(datetime.fromisoformat(date))
            except ValueError:
                continue
        return max(times).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if times else None


@dataclass(frozen=True)
class SiteData:
    ref: str
    commit: str
    stages: list[str]  # gitreg.yaml's order
    github: str | None  # owner/name when the registry is on GitHub
    base_url: str | None
    models: list[ModelEntry]
    files: frozenset[str] = field(default_factory=frozenset)  # every path in the tree
    # the `.dvc` pointers outside models/ (data sets): lineage links to them when present
    data_pointers: str = ""
    # what the index keeps of each model by its inputs (`render.site.index`): opened by
    # `build` when the index is to be rendered, under "index"
    memos: dict[str, cache.ObjectCache] = field(default_factory=dict, repr=False, compare=False)

    @property
    def memo(self) -> cache.ObjectCache | None:
        return self.memos.get("index")

    def key(self, *parts: str) -> str:
        """The key of a page made from `parts` and what every page shows."""
        shared = [DATA_FORMAT, self.github or "", self.base_url or "", ",".join(self.stages)]
        shared.append(self.data_pointers)
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


class RegistryObjects:
    """The manifests of a registry at one commit: blob ids of every file, contents read in
    one batch, each manifest parsed (and kept) the first time it is asked for."""

    def __init__(
        self,
        reg: Registry,
        files: dict[str, str],
        blobs: dict[str, bytes],
        records: Callable[[], Mapping[str, Mapping[str, Any]]] | None = None,
        stored_models: Collection[str] | None = (),
        stage_cache: cache.ObjectCache | None = None,
    ) -> None:
        self.reg = reg
        self.files = files
        self._blobs = blobs
        self._read_records = records or dict
        self._records: Mapping[str, Mapping[str, Any]] | None = None
        self._parsed: dict[str, Any] = {}
        self.promoted_in: list[str] = []  # the commits the stage tags name (`who`)
        self._who: Mapping[str, str] | None = None
        self.stage_cache = stage_cache  # stages.yaml blob id -> its mapping
        # the models this clone keeps evaluation results of (None: unknown, any)
        self.stored_models = stored_models
        self._stored: dict[str, StoredResults] = {}
        self._index: dict[str, list[str]] = {}  # model -> versions, from file names
        for path in files:
            kind = layout.classify(path)
            if kind is not None and kind[0] == "model":
                self._index.setdefault(kind[1], [])
        for path in files:
            kind = layout.classify(path)
            if kind is not None and kind[0] == "version" and kind[1] in self._index:
                self._index[kind[1]].append(kind[2] or "")

    def who(self) -> Mapping[str, str]:
        """Commit -> author of each commit in `promoted_in`, read (one `git log`)
        the first time a timeline needs it: a build that writes no model page never does."""
        if self._who is None:
            info = bulk.commit_info(self.reg.git, self.promoted_in)
            self._who = {commit: c.name for commit, c in info.items()}
        return self._who

    def records(self) -> Mapping[str, Mapping[str, Any]]:
        """model -> version -> YAML data (`cache.version_records`), read the first time a
        manifest is needed: a build that rewrites no page never reads the cache."""
        if self._records is None:
            self._records = self._read_records()
        return self._records

    def _load(self, cls: type[Any], path: str) -> Any:
        if path not in self._parsed:
            data = self._blobs.get(self.files.get(path, ""))
            if data is None:
                raise NotFound(f"{path}: not found at {self.reg.ref}", kind="file", name=path)
            self._parsed[path] = parse(cls, data, path)
        return self._parsed[path]

    def spec(self, name: str) -> ModelSpec:
        spec: ModelSpec = self._load(ModelSpec, layout.model_file(name))
        return spec

    def stages(self, name: str) -> dict[str, str]:
        """stages.yaml's mapping, from `stage_cache` by its blob id when parsed before."""
        blob = self.files.get(layout.stages_file(name))
        if blob is None:
            return {}
        key = f"stages:{blob}"
        hit = self.stage_cache.get(key) if self.stage_cache is not None else None
        if hit is None:
            stages: Stages = self._load(Stages, layout.stages_file(name))
            hit = stages.mapping
            if self.stage_cache is not None:
                self.stage_cache.put(key, hit)
        return dict(hit)

    def version(self, name: str, version: str) -> VersionManifest:
        path = layout.version_file(name, version)
        if path in self._parsed:
            done: VersionManifest = self._parsed[path]
            return done
        data = self.records().get(name, {}).get(version)
        if cache.exact_record(data):
            # the cached YAML data of this very blob (keyed by its model's tree id)
            self._parsed[path] = from_data(VersionManifest, data, path)
        manifest: VersionManifest = self._load(VersionManifest, path)
        return manifest

    def text(self, path: str) -> str:
        return self._blobs.get(self.files.get(path, ""), b"").decode("utf-8", "replace")

    def evaluation(self, name: str, version: str) -> StoredReport | None:
        """The last evaluation of `name@version` stored in this clone (`gitreg evaluate`),
        judged against the version the highest stage holds when another version does (as
        `gitreg evaluate NAME VERSION --baseline STAGE`); None when none is stored."""
        wanted = self.stored_models is None or name in self.stored_models
        spec = self.spec(name) if wanted else None
        if spec is None or spec.evaluation is None:
            return None
        if name not in self._stored:
            at = (self.reg.commit, self.reg.ref)
            allowed = self.reg.config.allow_pickle_imports
            self._stored[name] = StoredResults(self.reg.git, spec, at, allowed)
        stages = self.stages(name)
        held = [  # a stage naming a version the tree lacks is validate's to report
            s
            for s in reversed(self.reg.config.stage_names)
            if stages.get(s, version) != version
            and layout.version_file(name, stages[s]) in self.files
        ]
        baseline = (held[0], self.version(name, stages[held[0]])) if held else None
        return self._stored[name].report(self.version(name, version), baseline)

    def model_names(self) -> list[str]:
        return sorted(self._index)

    def version_names(self, name: str) -> list[str]:
        """The versions of model `name` from their file names, ascending SemVer."""
        return sort_versions(self._index.get(name, []))


def read_registry(reg: Registry) -> RegistryObjects:
    """Every manifest at the registry's commit: one `ls-tree`, one `cat-file --batch`, and
    the version manifests' YAML data from the object-id cache (`registry/cache.py`, shared
    with every whole-registry read): only the models whose tree changed are parsed again.
    """
    files = bulk.tree_blobs(reg.git, reg.commit)
    wanted = [sha for p, sha in files.items() if layout.classify(p) is not None]
    blobs = bulk.read_blobs(reg.git, wanted)
    stored = results.models(results.cache_dir(reg.git))  # None: any model may have some
    return RegistryObjects(
        reg,
        files,
        blobs,
        lambda: cache.version_records(reg.git, reg.commit),
        stored,
        cache.ObjectCache.open(reg.git, "site-stages"),
    )


def _model_entry(
    name: str,
    objs: RegistryObjects,
    model_tags: list[tags.Tag],
) -> ModelEntry:
    order = objs.version_names(name)
    stages = objs.stages(name)
    registered = {t.parsed.version: t.commit for t in model_tags if t.parsed.kind == "register"}
    entries = [
        VersionEntry(
            name,
            v,
            objs.files[layout.version_file(name, v)],
            [s for s, held in stages.items() if held == v],
            registered.get(v),
            objs,
        )
        for v in order
    ]
    ids = [objs.files.get(p, "") for p in (layout.model_file(name), layout.stages_file(name))]
    tag_ids = [f"{t.name}={t.commit}:{t.date}:{sorted(t.trailers.items())}" for t in model_tags]
    inputs = "\0".join([*ids, *(e.blob for e in entries), *sorted(tag_ids)])
    return ModelEntry(
        name=name,
        stages=stages,
        versions=entries,
        latest=latest(order) or (order[-1] if order else None),
        inputs=hashlib.sha1(inputs.encode()).hexdigest(),
        model_tags=model_tags,
        source=objs,
    )


def collect(reg: Registry, base_url: str | None = None) -> SiteData:
    """Everything the site shows, read from git objects at the registry's ref."""
    objs = read_registry(reg)
    by_model = refs.by_model(reg.git)
    made_in = [
        t.trailers.get("Promoted-in", "") for ts in by_model.values() for t in ts if t.trailers
    ]
    objs.promoted_in = made_in
    models = [_model_entry(n, objs, by_model.get(n, [])) for n in objs.model_names()]
    if objs.stage_cache is not None:
        objs.stage_cache.save()
    configured = reg.config.github.repo if reg.config.github else None
    gh = github_repo.discover(reg.git, configured)
    return SiteData(
        ref=reg.ref,
        commit=reg.commit,
        stages=[s.name for s in reg.config.stages],
        github=gh,
        base_url=base_url.rstrip("/") + "/" if base_url else None,
        models=models,
        files=frozenset(objs.files),
        data_pointers=" ".join(
            sorted(p for p in objs.files if p.endswith(".dvc") and not p.startswith("models/"))
        ),
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

    def prepare(todo: list[str]) -> None:
        """Read once, before the workers fork, what their pages will need."""
        if "index.html" in todo:
            data.memos["index"] = cache.ObjectCache.open(reg.git, "site")
        objs = data.models[0].source if data.models else None
        if objs is None or not any(rel.startswith("models/") for rel in todo):
            return
        objs.records()  # the manifests' data (the object-id cache)
        if any(rel.endswith("/index.html") for rel in todo):
            objs.who()  # one `git log` for every model page's timeline

    keyed = {p: (page.key, page.render) for p, page in wanted.items()}
    done = sitedir.write(Path(out), keyed, prepare)
    if data.memo is not None and data.memo.used:  # the index was rendered: keep what it used
        data.memo.save()
    return SiteResult(
        out=str(Path(out).resolve()),
        index=str((Path(out) / "index.html").resolve()),
        models=len(data.models),
        versions=sum(len(m.versions) for m in data.models),
        written=done.written,
        unchanged=done.unchanged,
        removed=done.removed,
    )
