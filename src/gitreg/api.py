"""The deploy-side Python API (DESIGN §8).

```python
from gitreg import Registry
reg = Registry.open("https://github.com/acme/models.git")   # or a local path
mv = reg.resolve("churn@production")      # ModelVersion: .version .metrics .artifacts .manifest
reg.pull(mv, "./model")                   # downloads through DVC, verifies md5
```
Both answer from release tags only; a URL needs no clone.
"""

from __future__ import annotations

from pathlib import Path

from .errors import RegistryError
from .gitops import Snapshot
from .registry import Registry
from .resolve import ResolvedVersion, resolve

ModelVersion = ResolvedVersion


class RemoteRegistry(Registry):
    """A registry known by URL: `resolve` and `pull` work without a clone.

    Reading models, versions and stages of the unreleased state needs a clone; those
    methods raise a RegistryError that says so.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.root = Path(url)
        self._cache = {}

    @property
    def snapshot(self) -> Snapshot:  # type: ignore[override]
        raise RegistryError(
            f"{self.url}: models, versions and stages of a URL need a local clone; "
            "a URL gives resolve() and pull() (released state) only",
            "git clone it and use Registry.open(path)",
        )

    def resolve(self, ref: str) -> ModelVersion:
        """`name@1.3.0`, `name@latest` or `name@<stage>`, from the remote's tags."""
        return resolve(ref, self.url)

    def close(self) -> None:
        return None
