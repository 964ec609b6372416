"""`gitreg pull`: download a resolved version's artifacts through DVC, verified, atomically.

The pointers and the DVC config are taken from the tagged commit into a temporary DVC
project (no git checkout); DVC downloads into it; every file is checked against the
manifest's md5 and size; only then is the result renamed into place. On any failure the
destination is as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import artifacts, dvcconfig
from .errors import ArtifactError, RegistryError
from .gitops import Git, Snapshot
from .resolve import ResolvedVersion, cache_root


@dataclass(frozen=True)
class PullResult:
    resolved: ResolvedVersion
    dest: Path
    files: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {**self.resolved.to_dict(), "dest": str(self.dest), "files": self.files}


def _md5(path: Path) -> str:
    h = hashlib.md5()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_output(project: Path, rel: str, md5: str, size: int) -> None:
    """Check a file (or directory) DVC produced in `project` against its md5 and size."""
    path = project / rel
    if md5.endswith(".dir"):
        listing = artifacts.cache_dir(project) / "files" / "md5" / md5[:2] / md5[2:]
        try:
            entries = json.loads(listing.read_text())
        except (OSError, ValueError) as e:
            raise ArtifactError(f"{rel}: directory listing {md5} missing or unreadable") from e
        total = 0
        for entry in entries:
            f = path / entry["relpath"]
            if not f.is_file() or _md5(f) != entry["md5"]:
                raise ArtifactError(f"{rel}/{entry['relpath']}: md5 does not match {entry['md5']}")
            total += f.stat().st_size
        if total != size:
            raise ArtifactError(f"{rel}: {total} bytes downloaded, the manifest says {size}")
        return
    if not path.is_file():
        raise ArtifactError(f"{rel}: DVC did not produce the file")
    got = _md5(path)
    if got != md5 or path.stat().st_size != size:
        raise ArtifactError(
            f"{rel}: downloaded md5 {got} ({path.stat().st_size} bytes) does not match "
            f"the manifest's {md5} ({size} bytes)",
            "the remote holds a different object; do not deploy it, run `gitreg doctor`",
        )


def dvc_project(
    git: Git,
    where: Path,
    config_commit: str,
    pointers: Sequence[tuple[str, str, str]],
    local_root: Path | None,
    link_type: str | None = None,
    cache: Path | None = None,
) -> list[str]:
    """A scm-less DVC project in `where`, read from git objects, not from a checkout.

    `.dvc/config` comes from `config_commit`; each `(commit, label, path)` names a `.dvc`
    pointer to copy from that commit (`label` says where, in errors). The cache is the
    local registry's (`local_root`) or gitreg's own; `link_type` sets DVC's cache.type.
    Returns the pointer paths.
    """
    (where / ".dvc").mkdir(parents=True)
    snaps: dict[str, Snapshot] = {}
    written: list[str] = []
    try:
        snaps[config_commit] = Snapshot(git, config_commit, config_commit)
        config = snaps[config_commit].read(".dvc/config") or b""
        for commit, label, pointer in pointers:
            if commit not in snaps:
                snaps[commit] = Snapshot(git, commit, label)
            snap = snaps[commit]
            data = snap.read(pointer)
            if data is None:
                raise RegistryError(f"{pointer}: missing at {label}", "run `gitreg doctor`")
            if pointer in written:
                continue
            (where / pointer).parent.mkdir(parents=True, exist_ok=True)
            (where / pointer).write_bytes(data)
            written.append(pointer)
    finally:
        for snap in snaps.values():
            snap.close()
    if cache is None:
        cache = artifacts.cache_dir(local_root) if local_root else cache_root() / "dvc-cache"
    if local_root is not None:
        config = dvcconfig.absolutize(config.decode(), local_root / ".dvc").encode()
    (where / ".dvc" / "config").write_bytes(config)
    local = (local_root / ".dvc" / "config.local") if local_root else None
    extra = local.read_text() if local and local.is_file() else ""
    link = f"    type = {link_type}\n" if link_type else ""
    (where / ".dvc" / "config.local").write_text(
        extra + f"\n[core]\n    no_scm = true\n[cache]\n    dir = {cache}\n{link}"
    )
    return written


def _project(git: Git, rv: ResolvedVersion, where: Path, local_root: Path | None) -> list[str]:
    """A scm-less DVC project holding the tagged commit's config and pointers."""
    pointers = [(rv.commit, rv.tag, a.path + ".dvc") for a in rv.artifacts]
    return dvc_project(git, where, rv.commit, pointers, local_root)


def pull(rv: ResolvedVersion, dest: Path, force: bool = False) -> PullResult:
    """Download `rv`'s artifacts into `dest` (a directory), verified; atomic."""
    dest = dest.absolute()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())) and not force:
        raise RegistryError(
            f"{dest} exists and is not empty",
            "choose another -o directory, or pass --force to replace it",
        )
    local_root = None if "://" in rv.repo else Path(rv.repo)
    git = Git(rv.repo) if local_root else None
    if git is None:
        from .resolve import fetch_tag

        git = fetch_tag(rv.repo, rv.tag)
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".gitreg-pull-", dir=dest.parent))
    try:
        project = work / "project"
        pointers = _project(git, rv, project, local_root)
        artifacts.fetch_outputs(project, pointers)
        out = work / "out"
        out.mkdir()
        files = []
        for a in rv.artifacts:
            verify_output(project, a.path, a.md5, a.size)
            name = a.path.rsplit("/", 1)[-1]
            os.replace(project / a.path, out / name)
            files.append(name)
        if dest.exists():
            old = work / "old"
            os.replace(dest, old)
            try:
                os.replace(out, dest)
            except OSError:
                os.replace(old, dest)
                raise
        else:
            os.replace(out, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return PullResult(rv, dest, sorted(files))
