"""Manifest cases from tests/data/manifests (format: tests/data/manifests/README.md).

Each case is written into a copy of one real registry (churn@1.0.0 registered through the
CLI, with a real DVC pointer), committed, and checked through the CLI:

- invalid cases: `validate` exits 1 and names `<file>: <field>`; `show` (where the case says
  so) exits 3 and names the file on stderr; never a traceback;
- valid cases: `validate` exits 0;
- `gitreg schema` (JSON Schema, Draft 2020-12) accepts every valid manifest and rejects, at
  the same field, the invalid cases marked `# jsonschema: reject`; every other invalid
  single-file case is listed in BEYOND_SCHEMA with the reason, and the JSON Schema must not
  catch it, so no case goes unchecked; the real check-jsonschema CLI agrees.

The base registry is built once per module (with its own HOME, git config and dates, as the
autouse `isolated` fixture does per test), then copied per case.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from jsonschema import Draft202012Validator, ValidationError

from conftest import Registry, Result, git, isolate, make_artifact, run, run_process, tool_path
from gitreg.errors import ManifestError
from gitreg.model import layout, yamlio
from gitreg.model.schema import schema_file_name

CASES_DIR = Path(__file__).parent / "data" / "manifests"
HEADER_RE = re.compile(rb"^# ([a-z][a-z-]*):(?: (.*))?$")
FILE_KEYS = {"target", "expect", "message", "show", "show-via", "jsonschema"}
CHURN_MD5 = "35a5b1d85b7654229dfe85526c3f385f"  # md5 of the model file registered as churn@1.0.0
MODEL_BYTES = b"\x80\x04K\x01."  # the same bytes as conftest's `train` fixture


# --- the case files ------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseFile:
    source: Path
    target: str
    body: bytes


@dataclass(frozen=True)
class Case:
    name: str
    valid: bool
    files: tuple[CaseFile, ...]
    target: str  # the file the problem is reported for (invalid cases)
    expect: str  # the field path, "" for file-level problems
    message: str | None
    show: str | None  # NAME[@VERSION] for `gitreg show`, expected to exit 3
    show_via: str  # "in-process" or "process"
    jsonschema: str | None  # "reject": `gitreg schema` must reject the target file


def split_header(data: bytes, source: Path) -> tuple[dict[str, str], bytes]:
    """The leading `# key: value` lines, and the rest of the file (written as is)."""
    header: dict[str, str] = {}
    lines = data.splitlines(keepends=True)
    n = 0
    for line in lines:
        m = HEADER_RE.match(line.rstrip(b"\r\n"))
        if not m:
            break
        key = m.group(1).decode("ascii")
        if key not in FILE_KEYS:
            raise ValueError(f"{source}: unknown header key {key!r} (known: {sorted(FILE_KEYS)})")
        if key in header:
            raise ValueError(f"{source}: header {key!r} given twice")
        header[key] = (m.group(2) or b"").decode("utf-8").strip()
        n += 1
    return header, b"".join(lines[n:])


def _check_target(target: str, source: Path) -> str:
    p = PurePosixPath(target)
    if not target or p.is_absolute() or ".." in p.parts or p.parts[0] in (".git", ".dvc"):
        raise ValueError(f"{source}: bad target {target!r}")
    return target


def load_case(path: Path, valid: bool) -> Case:
    name = path.stem if path.is_file() else path.name
    if path.is_file():
        header, body = split_header(path.read_bytes(), path)
        files = (CaseFile(path, _check_target(header.get("target", ""), path), body),)
        meta, meta_source = header, path
    else:
        items = []
        for f in sorted(path.iterdir()):
            if f.name == "expect.txt":
                continue
            header, body = split_header(f.read_bytes(), f)
            extra = set(header) - {"target"}
            if extra:
                raise ValueError(
                    f"{f}: only `target` belongs here; put {sorted(extra)} in expect.txt"
                )
            items.append(CaseFile(f, _check_target(header.get("target", ""), f), body))
        if not items:
            raise ValueError(f"{path}: no files")
        targets = [i.target for i in items]
        if len(set(targets)) != len(targets):
            raise ValueError(f"{path}: two files write the same target")
        files = tuple(items)
        meta_source = path / "expect.txt"
        if valid:
            if meta_source.exists():
                raise ValueError(f"{meta_source}: valid cases have no expect.txt")
            meta = {}
        else:
            meta, rest = split_header(meta_source.read_bytes(), meta_source)
            if rest.strip():
                raise ValueError(f"{meta_source}: only header lines belong here")
            _check_target(meta.get("target", ""), meta_source)
    if valid:
        if set(meta) - {"target"}:
            raise ValueError(f"{meta_source}: a valid case has only `# target:` lines")
        return Case(name, True, files, "", "", None, None, "in-process", None)
    if "expect" not in meta:
        raise ValueError(f"{meta_source}: an invalid case needs `# expect:`")
    if not meta["expect"] and not meta.get("message"):
        raise ValueError(f"{meta_source}: a file-level case (empty expect) needs `# message:`")
    via = meta.get("show-via", "in-process")
    if via not in ("in-process", "process") or (via == "process" and not meta.get("show")):
        raise ValueError(f"{meta_source}: bad show-via {via!r}")
    if meta.get("jsonschema") not in (None, "reject"):
        raise ValueError(f"{meta_source}: jsonschema may only be `reject`")
    return Case(
        name=name,
        valid=False,
        files=files,
        target=meta["target"],
        expect=meta["expect"],
        message=meta.get("message") or None,
        show=meta.get("show") or None,
        show_via=via,
        jsonschema=meta.get("jsonschema"),
    )


def load_cases(kind: str) -> list[Case]:
    root = CASES_DIR / kind
    entries = sorted(p for p in root.iterdir() if p.is_dir() or p.suffix == ".yaml")
    return [load_case(p, kind == "valid") for p in entries]


INVALID = load_cases("invalid")
VALID = load_cases("valid")


def params(cases: list[Case]) -> list[Any]:
    return [pytest.param(c, id=c.name) for c in cases]


# --- the registry ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    """Like conftest's `registered` (without the origin): churn@1.0.0 committed on main."""
    root = tmp_path_factory.mktemp("manifest-cases")
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, root / "home")
        remote = root / "dvc-remote"
        res = run("init", str(root / "reg"), "--remote", str(remote))
        assert res.code == 0, res.err
        reg = Registry(root / "reg", remote, root / "no-origin.git")
        train = root / "train"
        make_artifact(train / "model.pkl", MODEL_BYTES)
        (train / "metrics.json").write_text(json.dumps({"f1": 0.91, "accuracy": 0.93}))
        (train / "params.yaml").write_text("C: 1.0\nsolver: lbfgs\n")
        res = reg.run(
            "register", "churn", "--version", "1.0.0",
            "--artifact", str(train / "model.pkl"),
            "--metrics", str(train / "metrics.json"),
            "--params", str(train / "params.yaml"),
            "--here",
        )  # fmt: skip
        assert res.code == 0, res.err
        res = reg.run("validate")
        assert res.code == 0, res.out + res.err
    pointer = (reg.path / "models/churn/artifacts/1.0.0/model.pkl.dvc").read_text()
    assert CHURN_MD5 in pointer, "the cases reuse churn@1.0.0's md5; update CHURN_MD5"
    return reg


def _skip_hooks(directory: str, names: list[str]) -> list[str]:
    """copytree filter: git's sample hooks are most of a fresh repo's files."""
    return ["hooks"] if directory.endswith(".git") else []


def write_target(root: Path, f: CaseFile) -> None:
    """Write one case file; an existing file where a directory must go is replaced."""
    out = root / f.target
    for parent in reversed(out.relative_to(root).parents):
        if (root / parent).is_file():
            (root / parent).unlink()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(f.body)


@pytest.fixture(scope="module")
def prepared(
    base: Registry, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[Case], Registry]:
    """A registry per case (base + the case's files, committed), shared by the case's tests.

    The tests only read it (validate, show read git objects at HEAD, never the worktree).
    """
    cache: dict[str, Registry] = {}
    root = tmp_path_factory.mktemp("cases")

    def get(case: Case) -> Registry:
        key = f"{'valid' if case.valid else 'invalid'}-{case.name}"
        if key not in cache:
            dest = root / key / "reg"
            shutil.copytree(base.path, dest, symlinks=True, ignore=_skip_hooks)
            reg = Registry(dest, base.remote, base.origin)
            for f in case.files:
                write_target(dest, f)
            reg.commit_all(f"case {case.name}")  # fails if the case changes nothing
            cache[key] = reg
        return cache[key]

    return get


def no_traceback(*texts: str) -> None:
    for text in texts:
        assert "Traceback" not in text, text
        assert "unexpected error" not in text, text


def problem_lines(out: str, target: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(f"{target}: ")]


def expected_prefix(case: Case) -> str:
    return f"{case.target}: {case.expect}: " if case.expect else f"{case.target}: "


def assert_named(case: Case, text: str, prefix: str = "") -> None:
    """`text` has a line `<prefix><target>: <expect>: ...<message>...`."""
    want = prefix + expected_prefix(case)
    hits = [line for line in text.splitlines() if line.startswith(want)]
    if case.message:
        hits = [line for line in hits if case.message in line]
    assert hits, (
        f"expected a line starting with {want!r}"
        + (f" containing {case.message!r}" if case.message else "")
        + f"; got:\n{text}"
    )


# --- invalid cases ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", params(INVALID))
def test_invalid_case_fails_validate(case: Case, prepared: Callable[[Case], Registry]) -> None:
    reg = prepared(case)
    res = reg.run("validate")
    assert res.code == 1, f"exit {res.code}\n{res.out}{res.err}"
    no_traceback(res.out, res.err)
    assert_named(case, res.out)

    res = reg.run("validate", "--json")
    assert res.code == 1, f"exit {res.code}\n{res.out}{res.err}"
    no_traceback(res.out, res.err)
    report = res.json()
    assert isinstance(report, dict)
    assert report["ok"] is False
    matching = [
        p
        for p in report["problems"]
        if p["path"] == case.target
        and p["field"] == case.expect
        and (case.message is None or case.message in p["message"])
    ]
    assert matching, json.dumps(report["problems"], indent=2)


SHOWN = [c for c in INVALID if c.show]


@pytest.mark.parametrize("case", params(SHOWN))
def test_invalid_case_fails_show(case: Case, prepared: Callable[[Case], Registry]) -> None:
    reg = prepared(case)
    assert case.show is not None
    if case.show_via == "process":
        proc = run_process("show", case.show, "-C", str(reg.path), cwd=reg.path)
        res = Result(proc.returncode, proc.stdout, proc.stderr)
    else:
        res = reg.run("show", case.show)
    assert res.code == 3, f"exit {res.code}\n{res.out}{res.err}"
    no_traceback(res.out, res.err)
    assert_named(case, res.err, prefix="error: ")


def test_python_tag_executes_nothing(prepared: Callable[[Case], Registry], tmp_path: Path) -> None:
    """`!!python/object/apply:os.system ["touch pwned-by-gitreg"]` stays text in a safe load."""
    case = next(c for c in INVALID if c.name == "model-python-os-system")
    reg = prepared(case)
    res = run("validate", "-C", str(reg.path), cwd=tmp_path)
    assert res.code == 1, res.out + res.err
    proc = run_process("show", "churn", "-C", str(reg.path), cwd=tmp_path)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    for where in (tmp_path, reg.path, Path.cwd()):
        assert not (where / "pwned-by-gitreg").exists(), where


def test_show_runs_as_a_process_for_some_cases() -> None:
    assert len([c for c in SHOWN if c.show_via == "process"]) >= 3


def test_enough_cases() -> None:
    assert len(INVALID) >= 30
    assert len(VALID) >= 6
    names = [c.name for c in INVALID + VALID]
    assert len(names) == len(set(names)), "case names must be unique across valid/ and invalid/"


# --- valid cases -----------------------------------------------------------------------------


@pytest.mark.parametrize("case", params(VALID))
def test_valid_case_passes_validate(case: Case, prepared: Callable[[Case], Registry]) -> None:
    reg = prepared(case)
    res = reg.run("validate")
    no_traceback(res.out, res.err)
    assert res.code == 0, f"exit {res.code}\n{res.out}{res.err}"
    assert res.out.startswith("ok: "), res.out


# --- file size limit (generated, not committed) --------------------------------------------


def _model_yaml_of_size(size: int) -> bytes:
    head = b"schema: gitreg/v1\nname: churn\ndescription: "
    data = head + b"x" * (size - len(head) - 1) + b"\n"
    assert len(data) == size
    return data


def _commit_file(base: Registry, tmp_path: Path, target: str, data: bytes) -> Registry:
    dest = tmp_path / "reg"
    shutil.copytree(base.path, dest, symlinks=True)
    reg = Registry(dest, base.remote, base.origin)
    (dest / target).write_bytes(data)
    reg.commit_all(f"write {target}")
    return reg


def test_oversize_manifest_is_refused(base: Registry, tmp_path: Path) -> None:
    size = yamlio.MAX_BYTES + 1
    reg = _commit_file(base, tmp_path, "models/churn/model.yaml", _model_yaml_of_size(size))
    res = reg.run("validate")
    no_traceback(res.out, res.err)
    assert res.code == 1, res.out + res.err
    want = f"models/churn/model.yaml: file is {size} bytes; manifests may be at most"
    assert want in res.out, res.out
    res = reg.run("show", "churn")
    no_traceback(res.out, res.err)
    assert res.code == 3, res.out + res.err
    assert "error: models/churn/model.yaml: file is" in res.err, res.err


def test_manifest_of_exactly_the_limit_is_read(base: Registry, tmp_path: Path) -> None:
    data = _model_yaml_of_size(yamlio.MAX_BYTES)
    reg = _commit_file(base, tmp_path, "models/churn/model.yaml", data)
    res = reg.run("validate")
    no_traceback(res.out, res.err)
    assert res.code == 0, res.out + res.err


# --- JSON Schema ---------------------------------------------------------------------------


def manifest_kind(target: str) -> str | None:
    """The `gitreg schema` key of a target path, or None for files that are no manifest."""
    if target == layout.CONFIG_FILE:
        return "gitreg.yaml"
    kind = layout.classify(target)
    if kind is None:
        return None
    return {"model": "model.yaml", "stages": "stages.yaml", "version": "version.yaml"}[kind[0]]


def jsonable(value: Any) -> Any:
    """YAML data as JSON data: timestamps become RFC 3339 strings, as an editor would see them."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def all_errors(errors: Iterator[ValidationError]) -> Iterator[ValidationError]:
    for err in errors:
        yield err
        yield from all_errors(iter(err.context or []))


def field_path(expect: str) -> list[str | int]:
    """`artifacts[0].size` -> ["artifacts", 0, "size"]."""
    out: list[str | int] = []
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", expect):
        out.append(int(part[1:-1]) if part.startswith("[") else part)
    return out


@pytest.fixture(scope="module")
def validators() -> dict[str, Draft202012Validator]:
    res = run("schema")
    assert res.code == 0, res.err
    schemas = json.loads(res.out)
    assert set(schemas) == {"gitreg.yaml", "model.yaml", "stages.yaml", "version.yaml"}
    out = {}
    for kind, schema in schemas.items():
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        # formats asserted, as check-jsonschema and editors do (date-time: rfc3339-validator)
        out[kind] = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return out


@pytest.mark.parametrize("case", params(VALID))
def test_json_schema_accepts_valid_case(
    case: Case, validators: dict[str, Draft202012Validator]
) -> None:
    checked = 0
    for f in case.files:
        kind = manifest_kind(f.target)
        if kind is None:  # a .dvc pointer: not a gitreg manifest, no schema
            assert f.target.endswith(".dvc"), f.target
            continue
        data = jsonable(yamlio.load(f.body, f.target))
        errors = [e.message for e in validators[kind].iter_errors(data)]
        assert not errors, f"{f.target}: {errors}"
        checked += 1
    assert checked, f"case {case.name} holds no manifest"


def _schema_target(case: Case) -> tuple[str, Any] | None:
    """(kind, JSON data) of the file an invalid case is about; None if no schema can apply."""
    kind = manifest_kind(case.target)
    body = next((f.body for f in case.files if f.target == case.target), None)
    if kind is None or body is None:
        return None
    try:
        data = yamlio.load(body, case.target)
    except ManifestError:
        return None  # not loadable YAML: below what a JSON Schema sees
    except Exception:  # a loader bug: test_invalid_case_fails_validate reports it
        return None
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        return None if data is None else (kind, jsonable(data))
    return kind, jsonable(data)


REJECTED = [c for c in INVALID if c.jsonschema == "reject"]


@pytest.mark.parametrize("case", params(REJECTED))
def test_json_schema_rejects_schema_error_case(
    case: Case, validators: dict[str, Draft202012Validator]
) -> None:
    got = _schema_target(case)
    assert got is not None, f"{case.name}: marked `jsonschema: reject` but no schema applies"
    kind, data = got
    errors = list(all_errors(validators[kind].iter_errors(data)))
    assert errors, f"{case.target}: JSON Schema accepts what gitreg refuses"
    # at the same field: the field itself, or its parent for unknown/missing fields and
    # bad keys (propertyNames); anywhere for a problem of the whole file
    want = field_path(case.expect)
    paths = {tuple(e.absolute_path) for e in errors}
    at_parent = [e for e in errors if tuple(e.absolute_path) == tuple(want[:-1])]
    assert (
        not want
        or tuple(want) in paths
        or any(e.validator in ("additionalProperties", "required") for e in at_parent)
        # the key itself (propertyNames), compared whole: field_path splits `../x` at dots
        or any(e.instance in (want[-1], case.expect) for e in at_parent)
    ), f"wanted an error at {want}, got {sorted(map(str, paths))}"


# Invalid single-file cases that no JSON Schema can reject, each with the reason: they need
# other files or the file's place, span items of a list, or are below or beside what JSON
# holds. Every other single-file case is marked `# jsonschema: reject`. The schema must
# accept each listed case that loads, so a mark cannot go stale when the schema improves.
OTHER_FILES = "needs other files of the registry"
PLACE = "needs the file's place in the repository (a schema sees the content, not the path)"
ACROSS = "a rule between items of a list (JSON Schema has no unique-by-field or order)"
JSON_KEYS = "an int YAML key: JSON keys are strings, the schema sees '1'"
NON_FINITE = "NaN or infinity: JSON has neither, a validator sees a float"
INT_FLOAT = "5.0 is an integer to JSON Schema; gitreg wants a YAML int"
RESERVED = "a reserved stage name, refused by gitreg.yaml's own stage rules"
NOT_LOADED = "not YAML a schema validator can read: gitreg's safe loader refuses it first"
NOT_MANIFEST = "not a manifest: no schema describes it (a .dvc pointer, a stray file, a folder)"
BEYOND_SCHEMA: dict[str, str] = {
    "model-dataset-not-in-repo": OTHER_FILES,
    "stages-unknown-stage": OTHER_FILES,
    "stages-unregistered-version": OTHER_FILES,
    "version-artifact-md5-mismatch": OTHER_FILES,
    "version-artifact-no-pointer": OTHER_FILES,
    "version-artifact-size-mismatch": OTHER_FILES,
    "model-name-mismatch": PLACE,
    "version-name-mismatch": PLACE,
    "version-version-mismatch": PLACE,
    "version-artifact-other-model": PLACE,
    "version-artifact-other-version": PLACE,
    "version-artifact-outside-models": PLACE,
    "version-artifact-prefix-sibling": PLACE,
    "version-artifact-dot-segment": PLACE,
    "config-duplicate-stage": ACROSS,
    "config-requires-later-stage": ACROSS,
    "config-requires-unknown-stage": ACROSS,
    "version-artifact-listed-twice": ACROSS,
    "config-stage-named-schema": RESERVED,
    "model-labels-int-key": JSON_KEYS,
    "stages-name-int": JSON_KEYS,
    "model-metric-min-nan": NON_FINITE,
    "version-by-slice-nan": NON_FINITE,
    "version-metric-inf": NON_FINITE,
    "version-metric-nan": NON_FINITE,
    "version-artifact-size-float": INT_FLOAT,
    **dict.fromkeys(
        [
            "config-empty", "config-invalid-syntax", "config-not-utf8", "model-alias-bomb",
            "model-alias-recursive", "model-bad-base64", "model-bad-int-tag",
            "model-deep-nesting", "model-multiple-documents", "model-not-utf8",
            "model-nul-byte", "model-python-name", "model-python-object",
            "model-python-os-system", "model-yaml-directive", "stages-comments-only",
            "stages-duplicate-key", "stages-empty", "stages-invalid-syntax",
            "stages-tab-indent", "stages-unhashable-key", "version-created-bad-day",
            "version-created-bad-month", "version-duplicate-key", "version-invalid-syntax",
        ],
        NOT_LOADED,
    ),
    **dict.fromkeys(
        [
            "models-stray-file", "version-stray-file", "pointer-bad-md5",
            "pointer-duplicate-key", "pointer-size-string", "pointer-two-outs",
        ],
        NOT_MANIFEST,
    ),
}  # fmt: skip
SINGLE_FILE = [c for c in INVALID if c.files[0].source.parent == CASES_DIR / "invalid"]


def test_json_schema_verdicts_are_declared(validators: dict[str, Draft202012Validator]) -> None:
    """Every invalid single-file case is marked `reject` or listed in BEYOND_SCHEMA with its
    reason, not both; the listed ones that load are accepted by the schema (else mark them)."""
    unexplained = [c.name for c in SINGLE_FILE if c.jsonschema != "reject"]
    unexplained = [n for n in unexplained if n not in BEYOND_SCHEMA]
    assert not unexplained, f"mark these `# jsonschema: reject` or list them: {unexplained}"
    both = [c.name for c in INVALID if c.jsonschema == "reject" and c.name in BEYOND_SCHEMA]
    assert not both, f"marked `reject` and listed in BEYOND_SCHEMA: {both}"
    stale = [n for n in BEYOND_SCHEMA if n not in {c.name for c in SINGLE_FILE}]
    assert not stale, f"no such single-file case: {stale}"
    caught = []
    for case in INVALID:
        got = _schema_target(case)
        if got is None:
            if case.name in BEYOND_SCHEMA:
                assert BEYOND_SCHEMA[case.name] in (NOT_LOADED, NOT_MANIFEST), case.name
            continue
        kind, data = got
        if case.jsonschema != "reject" and not validators[kind].is_valid(data):
            caught.append(case.name)
    assert not caught, f"the schema rejects these now: mark them `# jsonschema: reject`: {caught}"
    assert len(REJECTED) >= 60


@pytest.fixture(scope="module")
def schema_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files `gitreg schema -o DIR` writes, one per kind."""
    out = tmp_path_factory.mktemp("schemas")
    res = run("schema", "-o", str(out))
    assert res.code == 0, res.err
    return out


def _check_jsonschema(schema: Path, files: list[Path]) -> dict[str, list[str]]:
    """The real check-jsonschema CLI over `files`: file name -> its error paths."""
    exe = tool_path("check-jsonschema")
    args = [exe, "--schemafile", str(schema), "-o", "json", *map(str, files)]
    proc = subprocess.run(args, capture_output=True, text=True, cwd=files[0].parent)
    report = json.loads(proc.stdout)
    assert not report.get("parse_errors"), report["parse_errors"]
    assert proc.returncode == (1 if report["errors"] else 0), proc.stdout + proc.stderr
    found: dict[str, list[str]] = {}
    for err in report["errors"]:
        found.setdefault(Path(err["filename"]).name, []).append(err["path"])
    return found


def _by_kind(cases: list[Case], where: Path) -> dict[str, list[Path]]:
    """Each case's manifest written to `where` as `<case>.yaml`, grouped by kind."""
    files: dict[str, list[Path]] = {}
    for case in cases:
        for f in case.files:
            kind = manifest_kind(f.target)
            if kind is None or (not case.valid and f.target != case.target):
                continue
            out = where / f"{case.name}-{f.source.stem}.yaml"
            out.write_bytes(f.body)
            files.setdefault(kind, []).append(out)
    return files


def test_check_jsonschema_cli_agrees(schema_dir: Path, tmp_path: Path) -> None:
    """check-jsonschema, given the files of `gitreg schema -o`, rejects every case marked
    `reject` (at some field) and accepts every manifest of the valid cases."""
    for kind, files in _by_kind(REJECTED, _mkdir(tmp_path / "invalid")).items():
        found = _check_jsonschema(schema_dir / schema_file_name(kind), files)
        missed = [f.name for f in files if f.name not in found]
        assert not missed, f"check-jsonschema accepts what gitreg refuses: {missed}"
    for kind, files in _by_kind(VALID, _mkdir(tmp_path / "valid")).items():
        found = _check_jsonschema(schema_dir / schema_file_name(kind), files)
        assert not found, f"check-jsonschema rejects valid manifests: {found}"


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def test_case_registry_is_deterministic(base: Registry) -> None:
    """The base the cases are written into: churn@1.0.0 only, committed with fixed dates."""
    files = git(base.path, "ls-files", "models").splitlines()
    assert "models/churn/versions/1.0.0.yaml" in files
    assert "models/churn/artifacts/1.0.0/model.pkl.dvc" in files
    assert git(base.path, "log", "-1", "--format=%aI") == "2026-01-02T03:04:05+00:00"
