"""What `register` reads from the user's machine: metrics and params files, lineage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gitreg.errors import ManifestError, UsageError
from gitreg.model import yamlio
from gitreg.model.dvcfile import dvc_pointer
from gitreg.model.manifest import CodeLineage, DataLineage, Metrics
from gitreg.model.schema import validation_problems
from gitreg.store.files import md5_file
from gitreg.store.git import Git


def load_data_file(path: Path, what: str) -> dict[str, Any]:
    if not path.is_file():
        raise UsageError(
            f"{what} file {path}: not found", f"give an existing JSON or YAML {what} file"
        )
    raw = path.read_bytes()
    if path.suffix.lower() == ".json":
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as e:
            raise ManifestError.single(
                str(path), "", f"invalid JSON: line {e.lineno}: {e.msg}"
            ) from None
    else:
        obj = yamlio.load(raw, str(path))
    if not isinstance(obj, dict):
        raise ManifestError.single(str(path), "", f"{what} must be a mapping of name -> value")
    return obj


def metrics_file(path: Path | None) -> Metrics:
    if path is None:
        return Metrics()
    obj = load_data_file(path, "metrics")
    try:
        return Metrics.model_validate(obj)
    except ValidationError as e:
        raise ManifestError(validation_problems(str(path), e)) from None


def code_lineage(
    artifacts: list[Path], code_repo: str | None, code_commit: str | None
) -> CodeLineage | None:
    """--code-repo/--code-commit, else the git repository the first artifact lives in."""
    if code_repo or code_commit:
        return CodeLineage(repo=code_repo, commit=code_commit)
    first = artifacts[0].resolve()
    git = Git(first.parent if first.is_file() else first)
    top = git.toplevel()
    if top is None:
        return None
    repo = git.config_get("remote.origin.url") or str(top)
    return CodeLineage(repo=repo, commit=git.rev_parse("HEAD"))


def data_lineage(spec: str) -> DataLineage:
    path, _, rev = spec.partition("@")
    name = Path(path).name or path
    if rev:
        return DataLineage(name=name, path=path, rev=rev)
    local = Path(path)
    pointer = Path(path + ".dvc")
    if pointer.is_file():
        md5, _ = dvc_pointer(pointer.read_bytes(), str(pointer))
        return DataLineage(name=name, path=path, md5=md5)
    if local.is_file():
        return DataLineage(name=name, path=path, md5=md5_file(local))
    raise UsageError(
        f"--dataset {spec}: not a local file and no @REV given",
        "give PATH@REV (a git revision or data version) or a path to a local file",
    )
