"""The Python API (DESIGN §8): one `Registry.open(path | url)`, two kinds of registry.

```python
from gitreg import Registry
reg = Registry.open("https://github.com/acme/models.git")   # or a local path
mv = reg.resolve("churn@production")      # ModelVersion: .version .metrics .artifacts .manifest
reg.pull(mv, "./model")                   # downloads through DVC, verifies md5
```

Both kinds answer `resolve` and `pull` from release tags only (a URL needs no clone) and
share the `Registry` protocol; a local registry also reads its models, versions and stages
at a ref (`model`, `versions`, `version`, `stages`, `summaries`, `find`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from gitreg.registry.released import ResolvedVersion
from gitreg.store.remote import check_repo, is_url

if TYPE_CHECKING:
    from gitreg.model.manifest import ModelSpec, VersionManifest
    from gitreg.model.records import ModelSummary
    from gitreg.ops.pull import PullResult
    from gitreg.registry.reader import Registry as Reader

ModelVersion = ResolvedVersion


class Registry(Protocol):
    """What every registry gives a deploy tool: the released state, by tags."""

    def resolve(self, ref: str, verify: bool = False) -> ModelVersion:
        """`name@1.3.0`, `name@latest` or `name@<stage>`, from release tags."""
        ...

    def pull(self, mv: ModelVersion, dest: str | Path, force: bool = False) -> PullResult:
        """Download `mv`'s artifacts into `dest` through DVC, md5-verified, atomically."""
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


def _pull(mv: ModelVersion, dest: str | Path, force: bool) -> PullResult:
    from gitreg.ops.pull import pull

    return pull(mv, Path(dest), force=force)


class RemoteRegistry:
    """A registry known by URL: `resolve` and `pull` of the released state, no clone."""

    open = staticmethod(open_registry)

    def __init__(self, url: str) -> None:
        self.url = url

    def resolve(self, ref: str, verify: bool = False) -> ModelVersion:
        return _resolve(ref, self.url, verify)

    def pull(self, mv: ModelVersion, dest: str | Path, force: bool = False) -> PullResult:
        return _pull(mv, dest, force)

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

    def pull(self, mv: ModelVersion, dest: str | Path, force: bool = False) -> PullResult:
        return _pull(mv, dest, force)

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

    def find(self, expr: str | None = None, stage: str | None = None) -> list[ModelSummary]:
        """Models matching a `--filter` expression (MLflow search syntax) and holding `stage`."""
        from gitreg.ops.listing import list_models

        return list_models(self.reader, stage, expr)

    def close(self) -> None:
        self.reader.close()

    def __enter__(self) -> LocalRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
