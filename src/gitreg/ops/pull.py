"""`gitreg pull`: download a resolved version's artifacts through DVC, verified, atomically.

The pointers and the DVC config are taken from the tagged commit into a temporary DVC
project (no git checkout). File artifacts already in the DVC cache or in a local-folder
remote are copied by gitreg itself, without DVC (store/localpull.py: a remote object is
read once, hashed as it is written into the work folder and a new cache entry); anything
else DVC fetches into its cache first. Either way every file is copied into a work folder
beside the destination, hashed as it is written and checked against the manifest's md5 and
size (one read, no DVC checkout); only then is the result renamed into place. Never a
hardlink or symlink to the cache: an edit of the pulled file would change DVC's cached
object (a reflink, where the file system has them, is a copy-on-write copy). On any
failure the destination is as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitreg.errors import CheckFailed, Conflict
from gitreg.registry.audit import resolve_verified
from gitreg.registry.released import ResolvedVersion, resolve_release
from gitreg.store import dvc
from gitreg.store.dvcproject import dvc_project, place_output
from gitreg.store.git import Git
from gitreg.store.localpull import Wanted, place_local
from gitreg.store.progress import Progress
from gitreg.store.remote import fetch_tag, is_url


@dataclass(frozen=True)
class PullResult:
    resolved: ResolvedVersion
    dest: Path
    files: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {**self.resolved.to_dict(), "dest": str(self.dest), "files": self.files}


def _project(git: Git, rv: ResolvedVersion, where: Path, local_root: Path | None) -> list[str]:
    """A scm-less DVC project holding the tagged commit's config and pointers."""
    pointers = [(rv.commit, rv.tag, a.path + ".dvc") for a in rv.artifacts]
    return dvc_project(git, where, rv.commit, pointers, local_root)


def _sweep(parent: Path) -> None:
    """Remove the work folders of earlier pulls whose process is gone (a kill -9 leaves one
    beside the destination); a pull still running keeps its own."""
    for work in parent.glob(".gitreg-pull-*"):
        try:
            pid = int((work / "pid").read_text())
        except (OSError, ValueError):
            continue  # not ours, or too new to say
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(work, ignore_errors=True)
        except PermissionError:
            continue  # another user's live process


def _check_destination(dest: Path, force: bool, registry: Path | None) -> None:
    """Refuse a destination whose replacement would lose work: a non-empty folder (unless
    `force`), and never, even with `force`, a git working tree or a folder that holds the
    registry or lies inside it."""
    if registry is not None:
        root = registry.resolve()
        there = dest.resolve()
        if there == root or root.is_relative_to(there) or there.is_relative_to(root):
            raise Conflict(
                f"{dest}: refusing to write into the registry's own working tree ({root})",
                "choose an -o directory outside the registry",
                ref=str(dest),
            )
    if dest.is_dir() and (dest / ".git").exists():
        raise Conflict(
            f"{dest} holds a git repository (.git): refusing to replace it, even with --force",
            "choose another -o directory",
            ref=str(dest),
        )
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())) and not force:
        raise Conflict(
            f"{dest} exists and is not empty",
            "choose another -o directory, or pass --force to replace it",
            ref=str(dest),
        )


def refuse_deprecated(rv: ResolvedVersion, allow_deprecated: bool = False) -> None:
    """CheckFailed for a deprecated version, unless `allow_deprecated`."""
    if rv.status == "deprecated" and not allow_deprecated:
        raise CheckFailed(
            f"{rv.name}@{rv.version} is deprecated ({rv.tag}; deprecated in "
            f"{(rv.deprecated_by or '?')[:12]}): refusing to pull it",
            "pull another version, or pass --allow-deprecated if you really mean this one",
        )


def pull(
    rv: ResolvedVersion,
    dest: Path,
    force: bool = False,
    allow_deprecated: bool = False,
    progress: Progress | None = None,
) -> PullResult:
    """Download `rv`'s artifacts into `dest` (a directory), md5-verified; atomic.

    A deprecated version is refused (CheckFailed) unless `allow_deprecated`.
    """
    refuse_deprecated(rv, allow_deprecated)
    dest = dest.absolute()
    local_root = None if is_url(rv.repo) else Path(rv.repo)
    _check_destination(dest, force, local_root)
    git = Git(rv.repo) if local_root is not None else fetch_tag(rv.repo, rv.tag)
    dest.parent.mkdir(parents=True, exist_ok=True)
    _sweep(dest.parent)
    work = Path(tempfile.mkdtemp(prefix=".gitreg-pull-", dir=dest.parent))
    (work / "pid").write_text(str(os.getpid()))
    try:
        project = work / "project"
        pointers = _project(git, rv, project, local_root)
        out = work / "out"
        out.mkdir()
        wanted = [
            Wanted(a.path, a.md5, a.size, out / a.path.rsplit("/", 1)[-1]) for a in rv.artifacts
        ]
        if not place_local(project, wanted, progress):
            dvc.fetch_outputs(project, pointers, progress=progress, checkout=False)
            for w in wanted:
                place_output(project, w.rel, w.md5, w.size, w.dst)
        files = [w.dst.name for w in wanted]
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


def pull_ref(
    ref: str,
    repo: str,
    dest: Path,
    force: bool = False,
    verify: bool = True,
    allow_deprecated: bool = False,
    progress: Progress | None = None,
) -> PullResult:
    """Resolve `ref` in `repo` (a path or URL), check its tag (unless not `verify`) and pull
    it into `dest`."""
    rv = resolve_verified(ref, repo) if verify else resolve_release(ref, repo)
    return pull(rv, dest, force=force, allow_deprecated=allow_deprecated, progress=progress)
