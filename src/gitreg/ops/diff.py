"""`gitreg diff NAME V1 V2`: two versions of a model, compared."""

from __future__ import annotations

from gitreg.model.diff import VersionDiff, diff_manifests
from gitreg.registry.reader import Registry


def diff(reg: Registry, name: str, a: str, b: str) -> VersionDiff:
    """What differs from `name@a` to `name@b` at the registry's ref."""
    return diff_manifests(reg.version(name, a), reg.version(name, b))
