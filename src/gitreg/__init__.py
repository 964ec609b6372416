"""gitreg: a GitOps model registry in a plain Git repository.

```python
import gitreg
model = gitreg.load("churn@production", repo="https://github.com/acme/models.git")

from gitreg import Registry
reg = Registry.open("path/to/registry")
reg.version("churn", "1.0.0").metrics
```
"""

from __future__ import annotations

from gitreg.version import __version__

TYPE_CHECKING = False  # not typing's: resolve does not import typing (docs/performance.md)
if TYPE_CHECKING:
    from typing import Any

    from gitreg.api import ModelVersion, Registry, load

__all__ = ["ModelVersion", "Registry", "__version__", "load"]


def __getattr__(name: str) -> Any:
    # Imported on first use, so `gitreg --help` does not pay for the core.
    if name in ("Registry", "ModelVersion", "load"):
        from gitreg import api

        return getattr(api, name)
    raise AttributeError(name)
