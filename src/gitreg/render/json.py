"""Results as JSON: one encoder for every result type.

Dataclasses become objects of their public fields (recursively); a result whose JSON shape
is a contract (`resolve --json`, DESIGN §5) says so with a `to_dict` of its own, and
pydantic manifests use theirs (aliases, no nulls).
"""

from __future__ import annotations

import json

TYPE_CHECKING = False  # not typing's: resolve does not import typing (docs/performance.md)
if TYPE_CHECKING:
    from typing import Any


def data(obj: Any) -> Any:
    """Plain JSON data for a result object."""
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        return data(to_dict())
    if isinstance(obj, dict):
        return {str(k): data(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [data(v) for v in obj]
    if obj is None or isinstance(obj, (str, int, float)):
        return obj
    import dataclasses  # here: `resolve --json` has none (its results are gitreg.record's)
    from pathlib import Path

    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {
            f.name: data(getattr(obj, f.name))
            for f in dataclasses.fields(obj)
            if not f.name.startswith("_")
        }
    if isinstance(obj, Path):
        return str(obj)
    return obj


def to_json(obj: Any) -> str:
    return json.dumps(data(obj), indent=2, default=str)
