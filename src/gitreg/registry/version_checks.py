"""The checks of one model's `versions/` folder, for `gitreg validate`: each entry is a
`<version>.yaml` file, each file a valid version manifest that names its model and version
and lists artifacts under its own folder, each artifact's DVC pointer agrees with it.

A model's manifests are read in one batch and parsed together (`schema.parse_many`: one
pydantic call for the model), then its pointers in one batch; the problems come out in the
order one file at a time would give: each manifest's own, then its pointers'.
"""

from __future__ import annotations

from gitreg.errors import ManifestError, Problem
from gitreg.model import layout, yamlio
from gitreg.model.manifest import VersionManifest
from gitreg.model.schema import parse_many, pointer_problems, version_path_problems
from gitreg.store.snapshot import Snapshot, TreeEntry

UNEXPECTED = "unexpected entry: versions/ holds only <version>.yaml files"


def _named(entry: TreeEntry) -> bool:
    """A file that should hold a version manifest (`versions/<version>.yaml`)."""
    return not entry.is_tree and entry.name.endswith(".yaml")


def check_versions(
    snap: Snapshot, name: str, problems: list[Problem]
) -> tuple[dict[str, VersionManifest], int]:
    """The valid manifests of model `name` (version -> manifest) and how many files were
    parsed; every problem found is appended to `problems`."""
    vdir = layout.versions_dir(name)
    entries = snap.listdir(vdir)
    named = {e.name: layout.version_problem(e.name[:-5]) for e in entries if _named(e)}
    files = [e for e in entries if e.name in named and not named[e.name]]
    paths = [f"{vdir}/{e.name}" for e in files]
    parsed = dict(
        zip(paths, parse_many(VersionManifest, snap.read_objects([e.sha for e in files]), paths))
    )
    found: dict[str, VersionManifest] = {}
    pending = []
    for entry in entries:
        path = f"{vdir}/{entry.name}"
        if not _named(entry):
            problems.append(Problem(path, "", UNEXPECTED))
            continue
        stem, problem = entry.name[: -len(".yaml")], named[entry.name]
        if problem:
            problems.append(Problem(path, "", f"file name: {problem}"))
            continue
        vm = parsed[path]
        if isinstance(vm, ManifestError):
            problems.extend(vm.problems)
            continue
        location = version_path_problems(vm, path)
        problems.extend(location)
        if not location:  # its pointers' problems go right after its own
            pending.append((vm, path, len(problems)))
        found[stem] = vm
    pointers = snap.read_paths([a.path + ".dvc" for v, _, _ in pending for a in v.artifacts])
    yamlio.expect(list(pointers.values()))
    for vm, path, at in reversed(pending):  # in reverse, so `at` stays where it was
        problems[at:at] = _artifact_problems(snap, vm, path, pointers)
    return found, len(files)


def _artifact_problems(
    snap: Snapshot, vm: VersionManifest, path: str, pointers: dict[str, bytes]
) -> list[Problem]:
    out = []
    for i, art in enumerate(vm.artifacts):
        pointer = art.path + ".dvc"
        data = pointers.pop(pointer, None) or snap.read(pointer)
        if data is None:
            out.append(
                Problem(path, f"artifacts[{i}].path", f"no DVC pointer {pointer} in the repo")
            )
            continue
        out.extend(pointer_problems(path, i, art, pointer, data))
    return out
