"""Which file the built-in evaluator loads from a version's artifacts.

A version with one artifact file is that file; a directory artifact (a model beside its
preprocessing files) is searched for `evaluation.entrypoint`, else its one loadable file.
A string instead of a path says why there is none, to be shown in the report.
"""

from __future__ import annotations

from pathlib import Path

from gitreg.model import layout
from gitreg.model.manifest import VersionManifest
from gitreg.store import formats

LOADABLE = ("pickle", "joblib", "skops", "onnx")
KINDS = ".pkl, .pickle, .joblib, .skops, .onnx files"


def model_path(
    project: Path, vm: VersionManifest, builtin: bool, entrypoint: str | None = None
) -> Path | str:
    """What {model} means: the one artifact, else the version's artifact directory.

    For the built-in evaluator, the file to load: {model} if it is a loadable file, else
    `entrypoint` inside it, else the one loadable file inside it; a string says why there
    is none.
    """
    files = [project / a.path for a in vm.artifacts]
    place = files[0] if len(files) == 1 else project / layout.artifacts_dir(vm.name, vm.version)
    if not builtin:
        return place
    if place.is_file():
        if entrypoint not in (None, place.name):
            return (
                f"evaluation.entrypoint {entrypoint!r}: the version's one artifact is the file "
                f"{place.name}, not a directory; remove entrypoint"
            )
        if formats.file_format(place) in LOADABLE:
            return place
        return f"the built-in evaluator cannot load {place.name} (it loads {KINDS})"
    return _entrypoint(place, entrypoint)


def _entrypoint(folder: Path, entrypoint: str | None) -> Path | str:
    """The file to load inside a directory artifact (see `_model_path`)."""
    found = sorted(p for p in folder.rglob("*") if p.is_file() and _loadable(p))
    names = ", ".join(p.relative_to(folder).as_posix() for p in found) or "none"
    if entrypoint is not None:
        path = folder / entrypoint
        inside = path.resolve().is_relative_to(folder.resolve())
        if not inside or not path.is_file() or not _loadable(path):
            return (
                f"evaluation.entrypoint {entrypoint!r} is not a loadable file inside the "
                f"version's artifacts ({KINDS}); found: {names}"
            )
        return path
    if len(found) == 1:
        return found[0]
    return (
        f"the built-in evaluator needs one loadable file in the version's artifacts ({KINDS}), "
        f"found {names}; set evaluation.entrypoint in model.yaml to the one to load (a path "
        "inside the artifact directory)"
    )


def _loadable(path: Path) -> bool:
    return formats.file_format(path) in LOADABLE
