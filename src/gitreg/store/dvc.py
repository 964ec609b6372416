"""The DVC boundary. DVC is imported here, lazily, and nowhere else.

The one code that calls DVC's Python API (`dvc.repo.Repo`).

Only commands that move artifacts (init, register, pull, evaluate) pay DVC's import time.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitreg.errors import ArtifactError, ManifestError, UsageError
from gitreg.model.dvcfile import dvc_pointer
from gitreg.store import dvcconfig
from gitreg.store.files import dvc_object, write_atomic
from gitreg.store.progress import Progress, object_bytes, tree_bytes, watch

DEFAULT_REMOTE = dvcconfig.DEFAULT_REMOTE_NAME
# DVC's own bars (tqdm, drawn only on a terminal) leave blank lines behind; gitreg draws its
# own (store/progress.py), so these loggers are raised above the level that enables them
_DVC_BARS = ("dvc.progress", "dvc_data.callbacks")


@dataclass(frozen=True)
class TrackedFile:
    path: str  # repo-relative POSIX path of the tracked output
    md5: str
    size: int


@contextlib.contextmanager
def _quiet_dvc() -> Iterator[None]:
    """Silence DVC's hints ("To track the changes with git...") on stdout, and its spinners
    and bars on stderr (gitreg draws its own progress)."""
    import logging

    from dvc.ui import ui

    _undo_colorama()
    loggers = [logging.getLogger(name) for name in ("dvc", *_DVC_BARS)]
    levels, enabled = [lg.level for lg in loggers], ui._enabled
    console = ui.error_console  # DVC's spinners ("Checking graph") draw on it
    quiet, console.quiet = console.quiet, True
    ui._enabled = False
    for lg, level in zip(loggers, (logging.ERROR, logging.CRITICAL, logging.CRITICAL)):
        lg.setLevel(level)
    try:
        yield
    finally:
        ui._enabled = enabled
        console.quiet = quiet
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def _undo_colorama() -> None:
    """`import dvc` runs `colorama.init()`, which wraps sys.stdout/stderr and registers an
    exit hook that writes ESC[0m to a terminal stdout when gitreg exits (a stray escape
    code after `pull`). Put the streams back and drop the hook; harmless if already done."""
    colorama: Any = importlib.import_module("colorama.initialise")
    atexit.unregister(colorama.reset_all)
    if colorama.wrapped_stdout is not None and sys.stdout is colorama.wrapped_stdout:
        sys.stdout = colorama.orig_stdout
    if colorama.wrapped_stderr is not None and sys.stderr is colorama.wrapped_stderr:
        sys.stderr = colorama.orig_stderr


def _repo(root: Path) -> Any:
    from dvc.repo import Repo

    return Repo(str(root))


def check_remote_options(url: str, options: dict[str, str]) -> None:
    """Refuse options DVC would not accept for a remote at `url` (DVC's own config schema,
    the one `dvc remote modify` checks against)."""
    if not options:
        return
    from dvc.config_schema import REMOTE_SCHEMAS, ByUrl
    from voluptuous import Invalid

    try:
        ByUrl(REMOTE_SCHEMAS)({"url": url, **options})
    except Invalid as e:
        known = REMOTE_SCHEMAS.get(dvcconfig.scheme(url), REMOTE_SCHEMAS[""])
        keys = sorted(str(k) for k in known if str(k) not in {"url", *dvcconfig.SECRET_OPTIONS})
        where = f" ({'.'.join(str(p) for p in e.path)})" if e.path else ""
        raise UsageError(
            f"--remote-opt: DVC does not accept this for {url}: {e.msg}{where}",
            f"options DVC knows for this remote: {', '.join(keys)}",
        ) from None


def init_dvc(
    root: Path,
    remote_url: str,
    remote_name: str = DEFAULT_REMOTE,
    options: dict[str, str] | None = None,
) -> None:
    """`dvc init` in a git repo, with `remote_url` as the default remote and `options`
    (checked with `check_remote_options`) set on it in `.dvc/config`."""
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
    if options:
        config = root / ".dvc" / "config"
        section = {f'remote "{remote_name}"': options}
        text = dvcconfig.with_settings(config.read_text(), section, str(config))
        write_atomic(config, text.encode())


def _sizes(root: Path, paths: list[str]) -> int:
    total = 0
    for p in paths:
        f = root / p
        total += tree_bytes(f) if f.is_dir() else f.stat().st_size
    return total


def add_and_push(
    root: Path, paths: list[str], remote: str | None = None, progress: Progress | None = None
) -> list[TrackedFile]:
    """Track `paths` (repo-relative) with DVC, push them to the remote, return their hashes.

    `progress` hears of two phases: caching (bytes in the project's cache) and uploading
    (bytes arrived in a local remote; a cloud remote reports only start and end)."""
    from dvc.exceptions import DvcException

    url = dvcconfig.project_remote(root, remote)
    dvcconfig.require_plugin(url)
    total = _sizes(root, paths) if progress else 0
    store = dvcconfig.local_folder(url)
    with _quiet_dvc():
        repo = _repo(root)
        try:
            absolute = [str(root / p) for p in paths]
            with watch(progress, "caching", total, lambda: tree_bytes(cache_dir(root))):
                repo.add(absolute)
            md5s = [_pointer_md5(root, p + ".dvc") for p in paths] if progress else []
            measure = (lambda: object_bytes(store, md5s)) if store else None
            with watch(progress, f"uploading to {url}", total, measure):
                repo.push(targets=[p + ".dvc" for p in absolute], remote=remote)
        except ImportError as e:
            raise dvcconfig.plugin_error(e, url) from None
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


def _pointer_md5(project: Path, pointer: str) -> str:
    return dvc_pointer((project / pointer).read_bytes(), pointer)[0]


def fetch_outputs(
    project: Path,
    pointers: list[str],
    remote: str | None = None,
    progress: Progress | None = None,
    checkout: bool = True,
) -> None:
    """`dvc fetch` then (if `checkout`) `dvc checkout` of the pointer files in a (scm-less)
    DVC project; without `checkout` the objects are left in the project's cache (for
    `dvcproject.place_output`, which copies and verifies them in one read).

    Between the two, every directory listing (`.dir` object) DVC fetched is checked: an
    entry whose path would climb out of its directory refuses the whole download before
    anything is written outside the project's cache. `progress` hears of the download
    (bytes arrived in the project's cache).
    """
    from dvc.exceptions import DvcException

    url = dvcconfig.project_remote(project, remote)
    dvcconfig.require_plugin(url)
    targets = [str(project / p) for p in pointers]
    heads = [dvc_pointer((project / p).read_bytes(), p) for p in pointers] if progress else []
    total, md5s = sum(size or 0 for _, size in heads), [md5 for md5, _ in heads]
    cache = cache_dir(project)
    with _quiet_dvc():
        repo = _repo(project)
        try:
            with watch(progress, "downloading", total, lambda: object_bytes(cache, md5s)):
                repo.fetch(targets=targets, remote=remote)
            for pointer in pointers:
                check_listing(project, pointer)
            if checkout:
                repo.checkout(targets=targets)
        except ImportError as e:
            raise dvcconfig.plugin_error(e, url) from None
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
    listing = dvc_object(cache_dir(project), md5)
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
