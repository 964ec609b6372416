"""A generated site's folder, written incrementally: a page whose key is unchanged is kept.

The folder holds `.gitreg-site.json`, the key of every page written there. A build renders
and writes only the pages whose key differs (or whose file is gone), removes the pages
the previous build wrote that this one no longer has, and leaves every other file alone.
Each file is written to a temporary name and renamed, so a reader never sees half a page;
the list of keys is written last, so an interrupted build is finished by the next one.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from gitreg.errors import UsageError

MANIFEST = ".gitreg-site.json"
_FORMAT = "gitreg-site/1"


@dataclass(frozen=True)
class Written:
    written: list[str]
    unchanged: int
    removed: list[str]


def _previous(out: Path) -> dict[str, str]:
    try:
        data = json.loads((out / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != _FORMAT:
        return {}
    pages = data.get("pages")
    if not isinstance(pages, dict):
        return {}
    return {k: v for k, v in pages.items() if isinstance(k, str) and isinstance(v, str)}


def _safe(rel: str) -> bool:
    p = PurePosixPath(rel)
    return not p.is_absolute() and ".." not in p.parts and rel == p.as_posix()


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write(out: Path, pages: Mapping[str, tuple[str, Callable[[], bytes]]]) -> Written:
    """Bring `out` to `pages` (relative path -> (key, render)); render only what changed."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: not a directory", "pass -o a folder for the site")
    bad = next((p for p in pages if not _safe(p)), None)
    if bad is not None:
        raise UsageError(f"page path {bad!r} leaves the site folder")
    out.mkdir(parents=True, exist_ok=True)
    before = _previous(out)
    written = []
    for rel, (key, render) in sorted(pages.items()):
        target = out / rel
        if before.get(rel) == key and target.is_file():
            continue
        atomic_write(target, render())
        written.append(rel)
    removed = []
    for rel in sorted(set(before) - set(pages)):
        if _safe(rel) and (out / rel).is_file():
            (out / rel).unlink()
            removed.append(rel)
    keys = {rel: key for rel, (key, _) in sorted(pages.items())}
    if keys != before or not (out / MANIFEST).is_file():
        atomic_write(out / MANIFEST, json.dumps({"format": _FORMAT, "pages": keys}).encode())
    return Written(written, len(pages) - len(written), removed)
