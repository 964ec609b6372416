"""The Python API (DESIGN §8): one `Registry.open(path | url)`, two kinds of registry.

```python
import gitreg
model = gitreg.load("churn@production", repo="https://github.com/acme/models.git")

from gitreg import Registry
reg = Registry.open("https://github.com/acme/models.git")   # or a local path
mv = reg.resolve("churn@production")      # ModelVersion: .version .metrics .artifacts .manifest
reg.pull("churn@production", "./model")   # or reg.pull(mv, ...): through DVC, md5-verified
reg.load("churn@1.3.0")                   # the estimator, from the content-addressed cache
reg.find("metrics.f1 > 0.9")              # models; reg.find_versions(...) for versions
reg.history("churn")                      # registrations, promotions, deprecations
```

Both kinds answer `resolve`, `pull` and `load` from release tags only (a URL needs no
clone) and share the `Registry` protocol; `find`, `find_versions` and `history` read the
registry at a ref (a URL's default branch, through the fetch cache). A local registry also
reads its models, versions and stages (`model`, `versions`, `version`, `stages`, ...).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from gitreg.registry.released import ResolvedVersion
from gitreg.store.remote import check_repo, is_url

if TYPE_CHECKING:
    from gitreg.model.manifest import ModelSpec, VersionManifest
    from gitreg.model.records import ModelSummary
    from gitreg.ops.listing import VersionView
    from gitreg.ops.pull import PullResult
    from gitreg.registry.history import Event
    from gitreg.registry.reader import Registry as Reader

ModelVersion = ResolvedVersion


class Registry(Protocol):
    """What every registry gives a deploy tool: the released state, by tags."""

    def resolve(self, ref: str, verify: bool = False) -> ModelVersion:
        """`name@1.3.0`, `name@latest` or `name@<stage>`, from release tags."""
        ...

    def pull(
        self,
        ref: str | ModelVersion,
        dest: str | Path,
        force: bool = False,
        allow_deprecated: bool = False,
    ) -> PullResult:
        """Download a version's artifacts into `dest` through DVC, md5-verified, atomically;
        a ref (`name@production`) is resolved first, its tag verified. A deprecated version
        is refused unless `allow_deprecated`."""
        ...

    def load(self, ref: str, extra_allowed: Iterable[str] = ()) -> Any:
        """The model `ref` names, loaded safely (see `gitreg.load`)."""
        ...

    def find(
        self,
        expr: str | None = None,
        stage: str | None = None,
        order_by: Sequence[str] = (),
        max_results: int | None = None,
    ) -> list[ModelSummary]:
        """Models matching a filter string (MLflow search syntax; docs/search.md)."""
        ...

    def find_versions(
        self,
        expr: str | None = None,
        stage: str | None = None,
        order_by: Sequence[str] = (),
        max_results: int | None = None,
    ) -> list[VersionView]:
        """Every version matching a filter string (MLflow's search_model_versions)."""
        ...

    def history(self, name: str) -> list[Event]:
        """Registrations, promotions and deprecations of model `name`, oldest first."""
        ...

    def close(self) -> None: ...

    @staticmethod
    def open(path: str | Path = ".", ref: str = "HEAD") -> LocalRegistry | RemoteRegistry:
        """A local registry (read at `ref`) for a path, a released-state one for a URL."""
        return open_registry(path, ref)


def open_registry(path: str | Path = ".", ref: str = "HEAD") -> LocalRegistry | RemoteRegistry:
    if isinstance(path, str):
        check_repo(path)  # a URL gitreg accepts, or a directory that exists
    if isinstance(path, str) and is_url(path):
        return RemoteRegistry(path)
    from gitreg.registry.reader import Registry as Reader

    return LocalRegistry(Reader.open(path, ref))


def _resolve(ref: str, repo: str, verify: bool) -> ModelVersion:
    from gitreg.ops.resolve import resolve

    return resolve(ref, repo, verify=verify)


def _pull(
    repo: str, mv: str | ModelVersion, dest: str | Path, force: bool, allow_deprecated: bool
) -> PullResult:
    from gitreg.ops.pull import pull

    rv = _resolve(mv, repo, verify=True) if isinstance(mv, str) else mv
    return pull(rv, Path(dest), force=force, allow_deprecated=allow_deprecated)


def load(
    ref: str,
    repo: str = ".",
    *,
    allow_deprecated: bool = False,
    extra_allowed: Iterable[str] = (),
) -> Any:
    """The model `ref` names (`churn@production`, `churn@latest`, `churn@1.3.0`) in `repo`
    (a path or a git URL), in one call, like MLflow's `load_model("models:/churn@champion")`.

    The ref is resolved from release tags and its tag verified (`resolve --verify`); the
    artifacts are pulled once into a content-addressed cache (`gitreg.store.modelcache`,
    under GITREG_CACHE_DIR or ~/.cache/gitreg) and checked by md5 on every use; the file is
    loaded by the evaluation's safe loader (pickles and joblib files under the import
    allow-list, `extra_allowed` widening it; skops; ONNX). A deprecated version is refused
    unless `allow_deprecated`.
    """
    from gitreg.ops.pull import pull, refuse_deprecated
    from gitreg.store import modelcache

    rv = _resolve(ref, repo, verify=True)
    refuse_deprecated(rv, allow_deprecated)
    entries = [modelcache.Entry(a.path.rsplit("/", 1)[-1], a.md5, a.size) for a in rv.artifacts]
    where = modelcache.lookup(entries)
    if where is None:
        filled = modelcache.staging(entries)
        pull(rv, filled, allow_deprecated=allow_deprecated)
        where = modelcache.publish(filled, entries)
    return _load_file(where, [e.name for e in entries], f"{rv.name}@{rv.version}", extra_allowed)


def _load_file(where: Path, names: list[str], shown: str, extra_allowed: Iterable[str]) -> Any:
    """Load the one model file among a version's artifacts."""
    from gitreg.errors import ArtifactError
    from gitreg.evaluation.artifacts import LOADABLE
    from gitreg.evaluation.loading import load_model
    from gitreg.store.formats import file_format

    files = [n for n in names if file_format(where / n) in LOADABLE]
    if len(files) != 1:
        found = ", ".join(names)
        raise ArtifactError(
            f"{shown}: {'no' if not files else 'more than one'} model file to load among {found}",
            "load needs exactly one .pkl/.pickle/.joblib/.skops/.onnx artifact; "
            "otherwise Registry.pull the version and load the file you mean",
        )
    return load_model(where / files[0], extra_allowed)


def _read(repo: str, tags_of: str | None = None) -> Reader:
    from gitreg.registry.opening import open_for_reading

    return open_for_reading(repo, "HEAD", tags_of)


class RemoteRegistry:
    """A registry known by URL: `resolve` and `pull` of the released state, no clone."""

    open = staticmethod(open_registry)

    def __init__(self, url: str) -> None:
        self.url = url

    def resolve(self, ref: str, verify: bool = False) -> ModelVersion:
        return _resolve(ref, self.url, verify)

    def pull(
        self,
        ref: str | ModelVersion,
        dest: str | Path,
        force: bool = False,
        allow_deprecated: bool = False,
    ) -> PullResult:
        return _pull(self.url, ref, dest, force, allow_deprecated)

    def load(self, ref: str, extra_allowed: Iterable[str] = ()) -> Any:
        return load(ref, self.url, extra_allowed=extra_allowed)

    def find(
        self,
        expr: str | None = None,
        stage: str | None = None,
        order_by: Sequence[str] = (),
        max_results: int | None = None,
    ) -> list[ModelSummary]:
        from gitreg.ops.listing import search_models

        with _read(self.url) as reader:
            return search_models(reader, expr, order_by, max_results, stage)

    def find_versions(
        self,
        expr: str | None = None,
        stage: str | None = None,
        order_by: Sequence[str] = (),
        max_results: int | None = None,
    ) -> list[VersionView]:
        from gitreg.ops.listing import search_versions

        with _read(self.url) as reader:
            return search_versions(reader, expr, order_by, max_results, stage)

    def history(self, name: str) -> list[Event]:
        from gitreg.ops.history import history

        with _read(self.url, tags_of=name) as reader:
            return history(reader, name)

    def close(self) -> None:
        return None

    def __enter__(self) -> RemoteRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LocalRegistry:
    """A registry repository on disk: the released state, and its manifests at a ref."""

    open = staticmethod(open_registry)

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.root = reader.root

    def resolve(self, ref: str, verify: bool = False) -> ModelVersion:
        return _resolve(ref, str(self.root), verify)

    def pull(
        self,
        ref: str | ModelVersion,
        dest: str | Path,
        force: bool = False,
        allow_deprecated: bool = False,
    ) -> PullResult:
        return _pull(str(self.root), ref, dest, force, allow_deprecated)

    def load(self, ref: str, extra_allowed: Iterable[str] = ()) -> Any:
        return load(ref, str(self.root), extra_allowed=extra_allowed)

    def history(self, name: str) -> list[Event]:
        from gitreg.ops.history import history

        return history(self.reader, name)

    def model_names(self) -> list[str]:
        return self.reader.model_names()

    def model(self, name: str) -> ModelSpec:
        return self.reader.model(name)

    def versions(self, name: str) -> list[str]:
        return self.reader.versions(name)

    def version(self, name: str, version: str) -> VersionManifest:
        return self.reader.version(name, version)

    def stages(self, name: str) -> dict[str, str]:
        return self.reader.stages(name)

    def summaries(self) -> list[ModelSummary]:
        return self.reader.summaries()

    def find(
        self,
        expr: str | None = None,
        stage: str | None = None,
        order_by: Sequence[str] = (),
        max_results: int | None = None,
    ) -> list[ModelSummary]:
        """Models matching a filter string (MLflow search syntax; docs/search.md) and
        holding `stage`: `reg.find("metrics.f1 > 0.9", order_by=["metrics.f1 DESC"])`."""
        from gitreg.ops.listing import search_models

        return search_models(self.reader, expr, order_by, max_results, stage)

    def find_versions(
        self,
        expr: str | None = None,
        stage: str | None = None,
        order_by: Sequence[str] = (),
        max_results: int | None = None,
    ) -> list[VersionView]:
        """Every version matching a filter string (MLflow's search_model_versions)."""
        from gitreg.ops.listing import search_versions

        return search_versions(self.reader, expr, order_by, max_results, stage)

    def close(self) -> None:
        self.reader.close()

    def __enter__(self) -> LocalRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
