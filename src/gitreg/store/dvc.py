"""The DVC boundary. DVC is imported here, lazily, and nowhere else.

The one code that calls DVC's Python API (`dvc.repo.Repo`).

Only commands that move artifacts (init, register, pull, evaluate) pay DVC's import time.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitreg.errors import ArtifactError, ManifestError
from gitreg.model.dvcfile import dvc_pointer
from gitreg.store import dvcconfig

DEFAULT_REMOTE = "default"


@dataclass(frozen=True)
class TrackedFile:
    path: str  # repo-relative POSIX path of the tracked output
    md5: str
    size: int


@contextlib.contextmanager
def _quiet_dvc() -> Iterator[None]:
    """Silence DVC's hints ("To track the changes with git...") on stdout."""
    import logging

    from dvc.ui import ui

    logger = logging.getLogger("dvc")
    level, enabled = logger.level, ui._enabled
    ui._enabled = False
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        ui._enabled = enabled
        logger.setLevel(level)


def _repo(root: Path) -> Any:
    from dvc.repo import Repo

    return Repo(str(root))


def init_dvc(root: Path, remote_url: str, remote_name: str = DEFAULT_REMOTE) -> None:
    """`dvc init` in a git repo, with `remote_url` as the default remote."""
    from dvc.config import ConfigError
    from dvc.repo import Repo

    with _quiet_dvc():
        try:
            repo = Repo.init(str(root))
        except Exception as e:
            raise ArtifactError(f"{root}: dvc init failed: {e}") from e
        try:
            with repo.config.edit() as conf:
                conf["remote"][remote_name] = {"url": remote_url}
                conf["core"]["remote"] = remote_name
        except ConfigError as e:
            raise ArtifactError(
                f"--remote {remote_url!r}: DVC does not accept this remote: {e}",
                "give a local folder or a URL DVC supports (s3://, gs://, azure://, ...); "
                "cloud remotes need the matching plugin (pip install 'dvc[s3]')",
            ) from e
        finally:
            repo.close()


def add_and_push(root: Path, paths: list[str], remote: str | None = None) -> list[TrackedFile]:
    """Track `paths` (repo-relative) with DVC, push them to the remote, return their hashes."""
    from dvc.exceptions import DvcException

    with _quiet_dvc():
        repo = _repo(root)
        try:
            absolute = [str(root / p) for p in paths]
            repo.add(absolute)
            repo.push(targets=[p + ".dvc" for p in absolute], remote=remote)
        except (DvcException, OSError) as e:
            raise ArtifactError(
                f"DVC could not store the artifacts: {e}",
                "check that the DVC remote is reachable and writable (`dvc remote list`)",
            ) from e
        finally:
            repo.close()
    tracked = []
    for p in paths:
        pointer = root / (p + ".dvc")
        try:
            md5, size = dvc_pointer(pointer.read_bytes(), p + ".dvc")
        except ManifestError as e:
            raise ArtifactError(f"DVC wrote an unexpected pointer: {e}") from e
        tracked.append(TrackedFile(p, md5, size if size is not None else 0))
    return tracked


def cache_dir(root: Path) -> Path:
    """The local DVC cache of the repo at `root` (honouring cache.dir in config[.local])."""
    configured: str | None = None
    for name in ("config", "config.local"):
        f = root / ".dvc" / name
        if f.is_file():
            configured = dvcconfig.cache_dir(f.read_text()) or configured
    if configured:
        return (root / ".dvc" / configured).resolve()
    return root / ".dvc" / "cache"


def copy_cache(src_root: Path, dst_root: Path) -> int:
    """Link (or copy) every cache object of one repo into another's cache. Returns the count."""
    src, dst = cache_dir(src_root), cache_dir(dst_root)
    count = 0
    for dirpath, _, files in os.walk(src):
        for f in files:
            source = Path(dirpath) / f
            target = dst / source.relative_to(src)
            if target.exists():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(target.name + ".gitreg-tmp")
            try:
                os.link(source, tmp)
            except OSError:
                shutil.copy2(source, tmp)
            os.replace(tmp, target)
            count += 1
    return count


def fetch_outputs(project: Path, pointers: list[str], remote: str | None = None) -> None:
    """`dvc fetch` then `dvc checkout` of the pointer files in a (scm-less) DVC project.

    Between the two, every directory listing (`.dir` object) DVC fetched is checked: an
    entry whose path would climb out of its directory refuses the whole download before
    anything is written outside the project's cache.
    """
    from dvc.exceptions import DvcException

    targets = [str(project / p) for p in pointers]
    with _quiet_dvc():
        repo = _repo(project)
        try:
            repo.fetch(targets=targets, remote=remote)
            for pointer in pointers:
                check_listing(project, pointer)
            repo.checkout(targets=targets)
        except (DvcException, OSError) as e:
            raise ArtifactError(
                f"DVC could not download the artifacts: {e}",
                "check that the DVC remote is reachable and that you have read access "
                "(credentials go in .dvc/config.local or the environment); if it is, the "
                "remote's object does not match the md5 the manifest names (it was changed "
                "after release): do not deploy it, run `gitreg doctor`",
            ) from e
        finally:
            repo.close()


def check_listing(project: Path, pointer: str) -> None:
    """Refuse a directory artifact whose listing names a path outside the directory."""
    import json
    import posixpath

    md5, _ = dvc_pointer((project / pointer).read_bytes(), pointer)
    if not md5.endswith(".dir"):
        return
    listing = cache_dir(project) / "files" / "md5" / md5[:2] / md5[2:]
    try:
        entries = json.loads(listing.read_text())
    except (OSError, ValueError):
        return  # not fetched: DVC's own error follows
    for entry in entries if isinstance(entries, list) else []:
        rel = entry.get("relpath") if isinstance(entry, dict) else None
        ok = (
            isinstance(rel, str)
            and rel
            and not rel.startswith("/")
            and "\\" not in rel
            and posixpath.normpath(rel) == rel
            and rel.split("/")[0] != ".."
        )
        if not ok:
            raise ArtifactError(
                f"{pointer}: the directory listing {md5} names {str(rel)[:80]!r}, a path "
                "outside the artifact's directory: refused, nothing was written",
                "the DVC remote holds a hostile or corrupt listing; do not deploy it",
            )
