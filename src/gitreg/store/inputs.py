"""What `register` reads from the user's machine: artifacts, metrics and params files, lineage.

gitreg reads only what lies inside what the user named: a path given on the command line
may not be a symbolic link, and the links inside a directory artifact must resolve inside
it (a training folder with `model.pkl -> ~/.aws/credentials` must not get pushed).
"""

from __future__ import annotations

import json
import os
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


def _resolve(link: Path, flag: str) -> Path:
    """Where a symbolic link ends, or a UsageError for a dangling link or a loop."""
    try:
        return link.resolve(strict=True)
    except FileNotFoundError:
        raise UsageError(
            f"{flag}: {link} links to {os.readlink(link)}, which does not exist",
            "remove the link, or copy the file it should point to in its place",
        ) from None
    except (RuntimeError, OSError):  # a loop: RuntimeError up to Python 3.12, OSError after
        raise UsageError(
            f"{flag}: {link} is a symbolic link loop", "remove the link or point it at a file"
        ) from None


def refuse_link(path: Path, flag: str) -> None:
    """A path named on the command line is read as itself, never through a link."""
    if path.is_symlink():
        target = _resolve(path, flag)
        raise UsageError(
            f"{flag}: {path} is a symbolic link (to {target}); gitreg does not follow links "
            "out of what you name",
            f"name the file itself ({target}), or copy it in place of the link (cp -L)",
        )


def _check_tree(folder: Path, root: Path, flag: str, chain: tuple[Path, ...]) -> None:
    """Every entry below `folder` is a file, a folder, or a link that resolves inside
    `root` and does not lead back to a folder on the way down to it (`chain`)."""
    try:
        entries = sorted(folder.iterdir())
    except OSError as e:
        raise UsageError(f"{flag}: cannot read {folder}: {e.strerror}") from None
    for entry in entries:
        real = _resolve(entry, flag) if entry.is_symlink() else entry.resolve()
        if not real.is_relative_to(root):
            raise UsageError(
                f"{flag}: {entry} links to {real}, outside {root}",
                "copy the file into the artifact directory, or remove the link",
            )
        if real.is_dir():
            if any(seen.is_relative_to(real) for seen in chain):
                raise UsageError(
                    f"{flag}: {entry} links back to {real}: a symbolic link loop",
                    "remove the link",
                )
            _check_tree(entry, root, flag, (*chain, real))
        elif not real.is_file():
            raise UsageError(f"{flag}: {entry} is not a regular file (a pipe, socket or device)")


def check_artifact(path: Path) -> None:
    """Refuse an --artifact that would make `register` read what the user did not name."""
    flag = f"--artifact {path}"
    refuse_link(path, flag)
    if not path.exists():
        raise UsageError(f"{flag}: no such file or directory")
    if path.is_dir():
        root = path.resolve()
        _check_tree(path, root, flag, (root,))
    elif not path.is_file():
        raise UsageError(f"{flag}: not a regular file or directory (a pipe, socket or device)")


def load_data_file(path: Path, what: str) -> dict[str, Any]:
    refuse_link(path, f"--{what} {path}")
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
