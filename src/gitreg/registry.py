"""Reading a registry at a ref: models, versions, stages. Never the working tree, never DVC."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import layout
from .errors import NotFoundError, RegistryError
from .gitops import Git, Snapshot
from .manifest import ModelSpec, RegistryConfig, Stages, VersionManifest, parse
from .semver import latest, sort_versions

if TYPE_CHECKING:
    from .api import ModelVersion
    from .pull import PullResult
    from .query import Expr


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Registry:
    """A registry repository read at one commit. Use `Registry.open(path, ref)`."""

    root: Path
    snapshot: Snapshot
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, path: str | Path = ".", ref: str = "HEAD") -> Registry:
        """Open the registry that contains `path`, reading it at `ref`.

        A git URL gives a registry for deploy tools: `resolve` and `pull` from its release
        tags, without a clone.
        """
        from .resolve import is_url

        if isinstance(path, str) and is_url(path):
            from .api import RemoteRegistry

            return RemoteRegistry(path)
        where = Path(path)
        if not where.is_dir():
            raise RegistryError(f"{path}: no such directory", "pass -C PATH to a registry repo")
        top = Git(where).toplevel()
        if top is None:
            raise RegistryError(
                f"{where.resolve()} is not inside a git repository",
                "run `gitreg init PATH` to create a registry, or pass -C PATH to one",
            )
        git = Git(top)
        snap = Snapshot.at(git, ref)
        reg = cls(top, snap)
        if not snap.exists(layout.CONFIG_FILE):
            snap.close()
            raise RegistryError(
                f"{top}: no {layout.CONFIG_FILE} at {ref}: not a gitreg registry",
                "run `gitreg init` in it to add a registry (or commit gitreg.yaml first)",
            )
        return reg

    def resolve(self, ref: str) -> ModelVersion:
        """`name@1.3.0`, `name@latest` or `name@<stage>`, from this repo's release tags."""
        from .resolve import resolve

        return resolve(ref, str(self.root))

    def pull(self, mv: ModelVersion, dest: str | Path, force: bool = False) -> PullResult:
        """Download `mv`'s artifacts into `dest` through DVC, md5-verified, atomically."""
        from .pull import pull

        return pull(mv, Path(dest), force=force)

    @property
    def git(self) -> Git:
        return self.snapshot.git

    @property
    def commit(self) -> str:
        return self.snapshot.commit

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
                raise NotFoundError(f"{path}: not found at {self.snapshot.ref}")
            self._cache[key] = parse(cls, data, path)
        return self._cache[key]

    @property
    def config(self) -> RegistryConfig:
        cfg: RegistryConfig = self._load(RegistryConfig, layout.CONFIG_FILE)
        return cfg

    def model_names(self) -> list[str]:
        return sorted(e.name for e in self.snapshot.listdir(layout.MODELS_DIR) if e.is_tree)

    def has_model(self, name: str) -> bool:
        return self.snapshot.exists(layout.model_file(name))

    def _require_model(self, name: str) -> None:
        if not self.has_model(name):
            known = ", ".join(self.model_names()) or "none yet"
            raise NotFoundError(
                f"model {name!r} not found at {self.snapshot.ref} (known models: {known})",
                "check the name; `gitreg list` shows the models",
            )

    def model(self, name: str) -> ModelSpec:
        self._require_model(name)
        spec: ModelSpec = self._load(ModelSpec, layout.model_file(name))
        return spec

    def stages(self, name: str) -> dict[str, str]:
        """Stage -> version for a model (empty if it has no stages.yaml)."""
        path = layout.stages_file(name)
        if not self.snapshot.exists(path):
            return {}
        st: Stages = self._load(Stages, path)
        return st.mapping

    def versions(self, name: str) -> list[str]:
        """Versions of a model, ascending SemVer, from the file names."""
        entries = self.snapshot.listdir(layout.versions_dir(name))
        names = [e.name[: -len(".yaml")] for e in entries if e.name.endswith(".yaml")]
        return sort_versions(names)

    def version(self, name: str, version: str) -> VersionManifest:
        self._require_model(name)
        path = layout.version_file(name, version)
        if not self.snapshot.exists(path):
            known = ", ".join(self.versions(name)) or "none"
            raise NotFoundError(
                f"{name}@{version} not found at {self.snapshot.ref} (versions: {known})",
                f"`gitreg show {name}` lists its versions",
            )
        vm: VersionManifest = self._load(VersionManifest, path)
        return vm

    def summary(self, name: str) -> ModelSummary:
        spec = self.model(name)
        versions = self.versions(name)
        return ModelSummary(
            name=name,
            description=spec.description,
            owners=list(spec.owners),
            task=spec.task,
            labels=dict(spec.labels),
            latest=latest(versions) or (versions[-1] if versions else None),
            versions=versions,
            stages=self.stages(name),
        )

    def summaries(self) -> list[ModelSummary]:
        return [self.summary(n) for n in self.model_names() if self.has_model(n)]

    def find(self, stage: str | None = None, where: Expr | None = None) -> list[ModelSummary]:
        """Models holding `stage` and matching a `--filter` expression (see query.py).

        The latest version's manifest is read only when the expression asks for its fields.
        """
        from .query import model_record, needs_version_fields

        models = [m for m in self.summaries() if stage is None or stage in m.stages]
        if where is None:
            return models
        deep = needs_version_fields(where)
        return [
            m
            for m in models
            if where.matches(
                model_record(m, self.version(m.name, m.latest) if deep and m.latest else None)
            )
        ]

    def dvc_remote_url(self) -> str | None:
        """URL of the registry's DVC remote, from .dvc/config at this commit (no DVC import)."""
        from .dvcconfig import remote_url

        data = self.snapshot.read(".dvc/config")
        if data is None:
            return None
        return remote_url(data.decode("utf-8", "replace"), self.config.dvc_remote)
