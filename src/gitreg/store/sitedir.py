"""A generated site's folder, written incrementally: a page whose key is unchanged is kept.

The folder holds `.gitreg-site.json`, the key of every page written there. A build renders
and writes only the pages whose key differs (or whose file is gone), removes the pages
the previous build wrote that this one no longer has, and leaves every other file alone.
Each file is written to a temporary name and renamed, so a reader never sees half a page;
the list of keys is written last, so an interrupted build is finished by the next one.
"""

from __future__ import annotations

import itertools
import json
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from gitreg.errors import UsageError
from gitreg.store import parallel

MANIFEST = ".gitreg-site.json"
_FORMAT = "gitreg-site/1"
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_counter = itertools.count()


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


def atomic_write(path: Path, data: bytes, made: set[Path] | None = None) -> None:
    """Write `data` to a temporary name beside `path` and rename it over `path`. `made`
    holds the folders this build has created already (one `mkdir` per folder, not per
    page); the temporary name is unique to this process and call (`O_EXCL` refuses any
    file already there, as `mkstemp` would, which is the fallback)."""
    if made is None or path.parent not in made:
        path.parent.mkdir(parents=True, exist_ok=True)
        if made is not None:
            made.add(path.parent)
    tmp = str(path.parent / f".tmp-{os.getpid()}-{next(_counter)}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _CLOEXEC, 0o600)
    except FileExistsError:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fchmod(fd, 0o644)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write(
    out: Path,
    pages: Mapping[str, tuple[str, Callable[[], bytes]]],
    prepare: Callable[[list[str]], None] | None = None,
) -> Written:
    """Bring `out` to `pages` (relative path -> (key, render)); render only what changed.
    `prepare(todo)` runs first, in this process, with the pages to render: what it reads
    once is there for every worker."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: not a directory", "pass -o a folder for the site")
    bad = next((p for p in pages if not _safe(p)), None)
    if bad is not None:
        raise UsageError(f"page path {bad!r} leaves the site folder")
    out.mkdir(parents=True, exist_ok=True)
    before = _previous(out)
    todo = [rel for rel, (key, _) in sorted(pages.items()) if not _kept(out, rel, key, before)]
    if prepare is not None and todo:
        prepare(todo)
    written = _write_pages(out, pages, todo)
    removed = []
    for rel in sorted(set(before) - set(pages)):
        if _safe(rel) and (out / rel).is_file():
            (out / rel).unlink()
            removed.append(rel)
    keys = {rel: key for rel, (key, _) in sorted(pages.items())}
    if keys != before or not (out / MANIFEST).is_file():
        atomic_write(out / MANIFEST, json.dumps({"format": _FORMAT, "pages": keys}).encode())
    return Written(written, len(pages) - len(written), removed)


def _kept(out: Path, rel: str, key: str, before: Mapping[str, str]) -> bool:
    return before.get(rel) == key and (out / rel).is_file()


# what the forked workers of `_write_pages` write: set before they start, read by them
_JOB: list[tuple[Path, Mapping[str, tuple[str, Callable[[], bytes]]]]] = []


def _write_pages(
    out: Path, pages: Mapping[str, tuple[str, Callable[[], bytes]]], todo: list[str]
) -> list[str]:
    """Render and write the pages `todo`. The pages at the top of the folder (the index)
    come first, in this process, so what they parsed is there for the rest; the rest are
    shared out among the cores (`parallel.map_chunks`: forked workers that render and
    write their share, so no page crosses between processes). A page that failed in a
    worker is rendered again here, which raises its error as a serial build would."""
    made = {out}
    first = [rel for rel in todo if "/" not in rel]
    for rel in first:
        atomic_write(out / rel, pages[rel][1](), made)
    rest = [rel for rel in todo if "/" in rel]
    _JOB[:] = [(out, pages)]
    try:
        done = parallel.map_chunks(_write_chunk, rest)
    finally:
        _JOB.clear()
    for rel, ok in done:
        if not ok:
            atomic_write(out / rel, pages[rel][1](), made)
    return sorted([*first, *(rel for rel, _ in done)])


def _write_chunk(rels: Sequence[str]) -> list[tuple[str, bool]]:
    """(page, written) for each page of `rels`; a page whose rendering failed is False."""
    out, pages = _JOB[0]
    made = {out}
    done = []
    for rel in rels:
        try:
            atomic_write(out / rel, pages[rel][1](), made)
            done.append((rel, True))
        except Exception:
            done.append((rel, False))
    return done
