"""Loading manifests: YAML bytes in, a validated model out, or problems naming file and field.

One loader (`parse`) for every kind: YAML through `yamlio.load`, then the pydantic model;
every error is a `ManifestError` whose problems name the file and the field path. Also the
cross-checks of a version manifest against where it lives and against its `.dvc` pointers,
and the JSON Schemas.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from gitreg.errors import ManifestError, Problem
from gitreg.model import layout, yamlio
from gitreg.model.dvcfile import pointer_output
from gitreg.model.manifest import Artifact, ModelSpec, RegistryConfig, Stages, VersionManifest

KINDS: dict[str, type[BaseModel]] = {
    "gitreg.yaml": RegistryConfig,
    "model.yaml": ModelSpec,
    "stages.yaml": Stages,
    "version.yaml": VersionManifest,
}

M = TypeVar("M", bound=BaseModel)


def _field_path(loc: tuple[int | str, ...], data: Any = None) -> str:
    """`a.b[0].c` from a pydantic location, walking the input to tell list indexes from keys."""
    out = ""
    cur = data
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(part, int) and (isinstance(cur, list) or cur is None):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
        if isinstance(cur, list) and isinstance(part, int) and part < len(cur):
            cur = cur[part]
        elif isinstance(cur, dict):
            cur = cur.get(part)
        else:
            cur = None
    return out


def _message(err: dict[str, Any]) -> str:
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if err["type"] == "extra_forbidden":
        msg = "unknown field (check the spelling; `gitreg schema` lists the fields)"
    elif err["type"] == "missing":
        msg = "field required"
    return msg[:1].lower() + msg[1:]


def validation_problems(path: str, error: ValidationError, data: Any = None) -> list[Problem]:
    return [
        Problem(path, _field_path(tuple(err["loc"]), data), _message(dict(err)))
        for err in error.errors()
    ]


def parse(cls: type[M], data: bytes | str, path: str) -> M:
    """Load one manifest file of kind `cls`; raise ManifestError naming file and fields."""
    return from_data(cls, yamlio.load(data, path), path)


def from_data(cls: type[M], obj: Any, path: str) -> M:
    """The manifest of kind `cls` from what `yamlio.load` returned for the file at `path`
    (as `parse` does after loading: a cached load skips only the YAML)."""
    if not isinstance(obj, dict):
        found = "an empty file" if obj is None else f"a {type(obj).__name__}"
        raise ManifestError.single(path, "", f"expected a YAML mapping, found {found}")
    bad_keys = [k for k in obj if not isinstance(k, str)]
    if bad_keys:
        raise ManifestError.single(path, str(bad_keys[0]), "keys must be strings")
    if cls is Stages:
        bad = [(k, layout.name_problem(k)) for k in obj if k != "schema"]
        problems = [Problem(path, k, f"stage {p}") for k, p in bad if p]
        if problems:
            raise ManifestError(problems)
    try:
        return cls.model_validate(obj)
    except ValidationError as e:
        raise ManifestError(validation_problems(path, e, obj)) from None


_LISTS: dict[type[BaseModel], TypeAdapter[Any]] = {}  # kind -> validator of a list of it


def parse_many(cls: type[M], datas: list[bytes], paths: list[str]) -> list[M | ManifestError]:
    """`parse` of each file (a model's version manifests): its manifest, or the error
    `parse` raises for it. Every mapping that loads is validated in one pydantic call (a
    list's items are validated one by one by the same validator, so each is what
    `model_validate` gives: a call per file cost twice as much); if any of
    them fails, each is validated alone, so every error reads exactly as `parse`'s."""
    objs = yamlio.load_many(datas, paths)
    out: list[M | ManifestError | None] = [
        obj if isinstance(obj, ManifestError) else _error_or_none(cls, obj, path)
        for obj, path in zip(objs, paths)
    ]
    ok = [i for i, got in enumerate(out) if got is None]
    adapter = _LISTS.get(cls) or _list_adapter(cls)
    try:
        for i, got in zip(ok, adapter.validate_python([objs[i] for i in ok])):
            out[i] = got
    except ValidationError:
        for i in ok:
            try:
                out[i] = from_data(cls, objs[i], paths[i])
            except ManifestError as e:
                out[i] = yamlio.kept(e)
    return [got for got in out if got is not None]  # all of them: none is left None


def _list_adapter(cls: type[BaseModel]) -> TypeAdapter[Any]:
    # the model's own validator first (it is built on first use): the list's then reuses
    # it, where built first the list's costs 26 ms and the model's is built again later
    cls.model_rebuild()
    return _LISTS.setdefault(cls, TypeAdapter(list[cls]))  # type: ignore[valid-type]


def _error_or_none(cls: type[BaseModel], obj: Any, path: str) -> ManifestError | None:
    """The error of `from_data` before pydantic (not a mapping, a key that is no string;
    `Stages`' own checks), or None for a mapping pydantic may judge."""
    if isinstance(obj, dict) and cls is not Stages and all(type(k) is str for k in obj):
        return None
    try:
        from_data(cls, obj, path)
    except ManifestError as e:
        return yamlio.kept(e)
    return None  # valid stages (checked twice), or keys of a subclass of str


def version_path_problems(m: VersionManifest, path: str) -> list[Problem]:
    """Cross-checks a version manifest against where it lives."""
    problems = []
    kind = layout.classify(path)
    if kind is not None:
        _, model, version = kind
        if m.name != model:
            problems.append(
                Problem(path, "name", f"{m.name!r} does not match the model directory {model!r}")
            )
        if version is not None and m.version != version:
            problems.append(
                Problem(path, "version", f"{m.version!r} does not match the file name {version!r}")
            )
    root = layout.artifacts_dir(m.name, m.version)
    seen: dict[str, str] = {}
    for i, art in enumerate(m.artifacts):
        where = f"artifacts[{i}].path"
        if not layout.is_inside(art.path, root):
            problems.append(Problem(path, where, f"{art.path!r} must lie under {root}/"))
        if art.path in seen.values():
            problems.append(Problem(path, where, f"{art.path!r} is listed twice"))
        elif art.path.casefold() in seen:
            other = seen[art.path.casefold()]
            msg = f"{art.path!r} and {other!r} differ only in case: one would overwrite the "
            problems.append(Problem(path, where, msg + "other on macOS and Windows"))
        for other in seen.values():
            if art.path.startswith(other + "/") or other.startswith(art.path + "/"):
                problems.append(Problem(path, where, f"{art.path!r} overlaps {other!r}"))
        seen.setdefault(art.path.casefold(), art.path)
    return problems


def pointer_problems(path: str, i: int, art: Artifact, pointer: str, data: bytes) -> list[Problem]:
    """Cross-checks of artifact `i` of the version manifest at `path` against its `.dvc`
    pointer: the pointer tracks the file it sits beside (no `..`, no absolute path, no
    `wdir`), with the manifest's md5 and size."""
    try:
        obj = yamlio.load(data, pointer)  # once: a pointer is half of what validate parses
        md5, size = pointer_output(obj, pointer)
    except ManifestError as e:
        return e.problems
    beside = art.path.rsplit("/", 1)[-1]
    named = obj["outs"][0].get("path")
    problems = []
    if named != beside:
        msg = f"{named!r} must be {beside!r}: a pointer tracks the file it sits beside"
        problems.append(Problem(pointer, "outs[0].path", msg + " (no '..', no absolute path)"))
    if obj.get("wdir", ".") != ".":
        msg = f"{obj['wdir']!r}: a pointer's paths are relative to its own folder; remove wdir"
        problems.append(Problem(pointer, "wdir", msg))
    if md5 != art.md5:
        problems.append(Problem(path, f"artifacts[{i}].md5", f"{art.md5} but {pointer} says {md5}"))
    if size is not None and size != art.size:
        problems.append(
            Problem(path, f"artifacts[{i}].size", f"{art.size} but {pointer} says {size}")
        )
    return problems


def schema_file_name(kind: str) -> str:
    """`model.yaml` -> `model.schema.json`: the file of a kind's JSON Schema, and its `$id`."""
    return kind.removesuffix(".yaml") + ".schema.json"


def json_schemas() -> dict[str, Any]:
    """The JSON Schema of every manifest kind, keyed by file name."""
    out: dict[str, Any] = {}
    for kind, cls in KINDS.items():
        schema = cls.model_json_schema(by_alias=True)
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        # the file `gitreg schema -o DIR` writes, relative: see gitreg.model.editors
        schema["$id"] = schema_file_name(kind)
        out[kind] = schema
    return out


def schema_json(kind: str | None = None) -> str:
    schemas = json_schemas()
    return json.dumps(schemas[kind] if kind else schemas, indent=2)
