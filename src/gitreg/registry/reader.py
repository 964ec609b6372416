"""Reading a registry at a ref: models, versions, stages. Never the working tree, never DVC.

`Registry` answers from git objects at one commit through one `cat-file --batch` process
(`summaries` of models not in the cache: two more, in the background, `store/bulk.py`);
`stages_at` is the one place that reads a model's stages.yaml at some other commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitreg.errors import ManifestError, NotFound, RegistryError
from gitreg.model import layout
from gitreg.model.records import ModelSummary
from gitreg.model.semver import latest_of_sorted, sort_each, sort_versions
from gitreg.store import dvcconfig
from gitreg.store.git import Git
from gitreg.store.snapshot import Snapshot, TreeEntry, corrupt, lists_object, tree_names

STAGED = "the index"  # the ref a staged registry names in messages
_FILES = ("model.yaml", "stages.yaml")  # what a model's summary reads, with versions/

if TYPE_CHECKING:
    from gitreg.model.manifest import ModelSpec, RegistryConfig, VersionManifest
    from gitreg.store.bulk import PendingReads

# pydantic (model.manifest, model.schema) is imported on the first manifest parsed, so a
# read answered from the cache (registry/cache.py) does not pay for loading it


def find_root(path: str | Path) -> Path:
    """The top of the git repository that contains the directory `path`."""
    where = Path(path)
    if not where.is_dir():
        raise NotFound(
            f"{path}: no such directory",
            "pass -C PATH to a registry repo",
            kind="directory",
            name=str(path),
        )
    top = Git(where).toplevel()
    if top is None:
        raise RegistryError(
            f"{where.resolve()} is not inside a git repository",
            "run `gitreg init PATH` to create a registry, or pass -C PATH to one",
        )
    return top


def _summary(
    name: str, spec: ModelSpec, versions: list[str], stages: dict[str, str]
) -> ModelSummary:
    return ModelSummary(
        name=name,
        description=spec.description,
        owners=list(spec.owners),
        task=spec.task,
        labels=dict(spec.labels),
        latest=latest_of_sorted(versions) or (versions[-1] if versions else None),
        versions=versions,
        stages=stages,
    )


def stages_at(snap: Snapshot, commit: str, name: str, strict: bool = False) -> dict[str, str]:
    """Stage -> version of model `name` in stages.yaml at `commit` ({} if it has none).

    A stages.yaml that does not parse reads as {} unless `strict`, where it raises.
    """
    from gitreg.model.manifest import Stages
    from gitreg.model.schema import parse

    path = layout.stages_file(name)
    data = snap.read_at(commit, path)
    if data is None:
        return {}
    try:
        return parse(
            Stages, data, path if commit == snap.commit else f"{path}@{commit[:12]}"
        ).mapping
    except ManifestError:
        if strict:
            raise
        return {}


@dataclass
class Registry:
    """A registry repository read at one commit. Use `Registry.open(path, ref)`."""

    root: Path
    snapshot: Snapshot
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, path: str | Path = ".", ref: str = "HEAD") -> Registry:
        """Open the registry that contains `path`, reading it at `ref`."""
        return cls.from_git(Git(find_root(path)), ref)

    @classmethod
    def from_git(cls, git: Git, ref: str = "HEAD", shown: str | None = None) -> Registry:
        """The registry in the repository `git` (bare, or a cache of a URL: `shown`)."""
        snap = Snapshot.at(git, ref)
        if not snap.exists(layout.CONFIG_FILE):
            snap.close()
            raise RegistryError(
                f"{shown or git.cwd}: no {layout.CONFIG_FILE} at {ref}: not a gitreg registry",
                "run `gitreg init` in it to add a registry (or commit gitreg.yaml first)",
            )
        return cls(Path(git.cwd), snap)

    @classmethod
    def staged(cls, path: str | Path = ".") -> Registry:
        """The registry as the index of the repository at `path` holds it (what `git commit`
        would record, e.g. in a pre-commit hook), not HEAD nor the working tree."""
        commit = Git(find_root(path)).index_commit()
        reg = cls.open(path, commit)
        reg.snapshot.ref = STAGED
        return reg

    @property
    def git(self) -> Git:
        return self.snapshot.git

    @property
    def commit(self) -> str:
        return self.snapshot.commit

    @property
    def ref(self) -> str:
        return self.snapshot.ref

    def close(self) -> None:
        self.snapshot.close()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- files -------------------------------------------------------------------------------

    def _load(self, cls: type[Any], path: str) -> Any:
        key = f"{cls.__name__}:{path}"
        if key not in self._cache:
            data = self.snapshot.read(path)
            if data is None:
                raise NotFound(
                    f"{path}: not found at {self.ref}", kind="file", name=path, where=self.ref
                )
            from gitreg.model.schema import parse

            self._cache[key] = parse(cls, data, path)
        return self._cache[key]

    @property
    def config(self) -> RegistryConfig:
        from gitreg.model.manifest import RegistryConfig

        cfg: RegistryConfig = self._load(RegistryConfig, layout.CONFIG_FILE)
        return cfg

    def model_names(self) -> list[str]:
        return sorted(e.name for e in self.snapshot.listdir(layout.MODELS_DIR) if e.is_tree)

    def has_model(self, name: str) -> bool:
        return self.snapshot.exists(layout.model_file(name))

    def _require_model(self, name: str) -> None:
        if not self.has_model(name):
            known = ", ".join(self.model_names()) or "none yet"
            raise NotFound(
                f"model {name!r} not found at {self.ref} (known models: {known})",
                "check the name; `gitreg list` shows the models",
                kind="model",
                name=name,
                where=self.ref,
            )

    def model(self, name: str) -> ModelSpec:
        from gitreg.model.manifest import ModelSpec

        self._require_model(name)
        spec: ModelSpec = self._load(ModelSpec, layout.model_file(name))
        return spec

    def stages(self, name: str) -> dict[str, str]:
        """Stage -> version for a model (empty if it has no stages.yaml)."""
        from gitreg.model.manifest import Stages

        path = layout.stages_file(name)
        if not self.snapshot.exists(path):
            return {}
        st: Stages = self._load(Stages, path)
        return st.mapping

    def stages_at(self, commit: str, name: str) -> dict[str, str]:
        """A model's stages at another commit (lenient: {} if unreadable)."""
        return stages_at(self.snapshot, commit, name)

    def versions(self, name: str) -> list[str]:
        """Versions of a model, ascending SemVer, from the file names."""
        entries = self.snapshot.listdir(layout.versions_dir(name))
        names = [e.name[: -len(".yaml")] for e in entries if e.name.endswith(".yaml")]
        return sort_versions(names)

    def version(self, name: str, version: str) -> VersionManifest:
        from gitreg.model.manifest import VersionManifest

        self._require_model(name)
        path = layout.version_file(name, version)
        if not self.snapshot.exists(path):
            known = ", ".join(self.versions(name)) or "none"
            raise NotFound(
                f"{name}@{version} not found at {self.ref} (versions: {known})",
                f"`gitreg show {name}` lists its versions",
                kind="version",
                name=f"{name}@{version}",
                where=self.ref,
            )
        vm: VersionManifest = self._load(VersionManifest, path)
        return vm

    def resolve_ref(self, name: str, what: str | None) -> str | None:
        """The version `name@what` means at this ref (stages.yaml, not tags; see
        `tags.pick_unreleased`); None for None."""
        if what is None:
            return None
        from gitreg.model.tags import pick_unreleased

        self._require_model(name)
        return pick_unreleased(
            name, what, self.versions(name), self.stages(name), self.config.stage_names
        )

    def summary(self, name: str) -> ModelSummary:
        return _summary(name, self.model(name), self.versions(name), self.stages(name))

    def _read_summaries(self, entries: list[TreeEntry]) -> dict[str, ModelSummary]:
        """`summary` of many models, read by two `cat-file --batch` in the background (each
        model's versions/ tree; its model.yaml and stages.yaml), asked by the model's tree
        id (git resolves the path): pydantic loads while git reads, the YAML is parsed while
        git still reads the trees, and every model's versions are sorted at once."""
        if not entries:
            return {}  # all cached: no pydantic to load
        from gitreg.store.bulk import start_reads

        with (
            start_reads(self.git, [f"{e.sha}:versions" for e in entries]) as vtrees,
            start_reads(self.git, [f"{e.sha}:{f}" for e in entries for f in _FILES]) as files,
        ):
            return self._summaries_of(entries, vtrees, files)

    def _summaries_of(
        self, entries: list[TreeEntry], vtrees: PendingReads, files: PendingReads
    ) -> dict[str, ModelSummary]:
        """`_read_summaries` from its two reads (started: they run while this goes on)."""
        from gitreg.model import yamlio
        from gitreg.model.manifest import ModelSpec, Stages  # while git reads
        from gitreg.model.schema import parse

        got = files.result()
        pairs = list(zip(got[::2], got[1::2]))
        self._check_missing(entries, _FILES, pairs)
        # not a model (has_model is False) without a model.yaml file
        kept = [(e, p) for e, p in zip(entries, pairs) if p[0] is not None and p[0][0] != "tree"]
        yamlio.expect([a[1] for _, p in kept for a in p if a is not None])
        models = []
        for entry, (spec, stages) in kept:
            assert spec is not None
            model = parse(ModelSpec, spec[1], layout.model_file(entry.name))
            st = parse(Stages, stages[1], layout.stages_file(entry.name)) if stages else None
            models.append((entry.name, model, st.mapping if st is not None else {}))
        trees = dict(zip((e.name for e in entries), vtrees.result()))
        self._check_missing(entries, ("versions",), [(t,) for t in trees.values()])
        names = [
            tree_names(t[1], ".yaml") if t is not None and t[0] == "tree" else []
            for t in (trees[name] for name, _, _ in models)
        ]
        return {
            name: _summary(name, model, versions, stages)
            for (name, model, stages), versions in zip(models, sort_each(names))
        }

    def _check_missing(
        self, entries: list[TreeEntry], parts: tuple[str, ...], got: Sequence[Sequence[Any]]
    ) -> None:
        """Raise if a part of a model cat-file did not find (None in `got`, per entry and
        part) is one its model's tree lists: a corrupt object, not an absent file."""
        asked = [(e, answers) for e, answers in zip(entries, got) if None in answers]
        if not asked:
            return
        listed = self.snapshot.read_trees([e.sha for e, _ in asked])
        for (entry, answers), kids in zip(asked, listed):
            for part, answer in zip(parts, answers):
                if answer is None and lists_object(kids, part):
                    raise corrupt(f"{layout.model_dir(entry.name)}/{part}", self.commit)

    def summaries(self) -> list[ModelSummary]:
        """Every model's summary; a model whose tree id is in the cache is not read again
        (`registry/cache.py`)."""
        from gitreg.registry.cache import ObjectCache

        cache = ObjectCache.open(self.git, "summaries")
        entries = [e for e in self.snapshot.listdir(layout.MODELS_DIR) if e.is_tree]
        hits = {e.name: cache.get(e.sha) for e in entries}
        read = self._read_summaries([e for e in entries if hits[e.name] is None])
        out = []
        for entry in sorted(entries, key=lambda e: e.name):
            hit = hits[entry.name]
            if hit is not None:
                out.append(ModelSummary(**hit))
            elif entry.name in read:
                cache.put(entry.sha, dict(vars(read[entry.name])))  # flat: no asdict copy
                out.append(read[entry.name])
        cache.save()
        return out

    def dvc_remote_url(self) -> str | None:
        """URL of the registry's DVC remote, from .dvc/config at this commit (no DVC import)."""
        data = self.snapshot.read(layout.DVC_CONFIG)
        if data is None:
            return None
        return dvcconfig.remote_url(data.decode("utf-8", "replace"), self.config.dvc_remote)
