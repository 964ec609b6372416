"""The local cache of pulled model versions that `gitreg.load` reads from, keyed by content.

    <cache>/models/<key>/<artifact file names>

`<cache>` is gitreg's cache (`GITREG_CACHE_DIR`, else `$XDG_CACHE_HOME/gitreg`, else
`~/.cache/gitreg`; `store.remote.cache_root`). `<key>` is the md5 of the version's sorted
`file-name md5` lines (the file name matters: it decides how the file is loaded): two
versions, or two registries, with the same files share one entry, and an entry never
changes once written.

Safe under concurrency without locks: each loader pulls into a folder of its own beside
the entries and renames it into place; the rename is atomic, so a reader sees a whole entry
or none, and when two loaders race the second finds the first's entry and drops its own.
A hit is checked again (every file's size and md5) before it is used: a cache is a place
anyone with the account can write to, and a record of an earlier hash kept in that same
cache (as store/verified.py keeps for `pull`) would vouch for nothing against that. A
folder `pull` has just filled is not hashed again when it is published: pull hashed every
byte it wrote into it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gitreg.errors import ArtifactError
from gitreg.store.files import md5_file
from gitreg.store.remote import cache_root


@dataclass(frozen=True)
class Entry:
    """One artifact as the cache knows it: its file name in the entry, md5 and size."""

    name: str
    md5: str
    size: int


def models_root() -> Path:
    return cache_root() / "models"


def key(entries: Sequence[Entry]) -> str:
    """The md5 of the sorted `file-name md5` lines: the same files under the same names."""
    lines = sorted(f"{e.name} {e.md5}\n" for e in entries)
    return hashlib.md5("".join(lines).encode()).hexdigest()


def _intact(where: Path, entries: Sequence[Entry], hashed: bool = False) -> bool:
    """Every file there with its size and md5 (unless `hashed`: pull has just hashed what
    it wrote); a directory artifact: present (DVC's listing that would check its files is
    not kept in the cache)."""
    for e in entries:
        path = where / e.name
        if e.md5.endswith(".dir"):
            if not path.is_dir():
                return False
            continue
        if not path.is_file() or path.stat().st_size != e.size:
            return False
        if not hashed and md5_file(path) != e.md5:
            return False
    return True


def lookup(entries: Sequence[Entry]) -> Path | None:
    """The cache entry holding `entries`, checked; None if absent. A damaged entry is
    moved aside and removed, so the next fill writes a good one."""
    where = models_root() / key(entries)
    if not where.is_dir():
        return None
    if _intact(where, entries):
        return where
    _discard(where)
    return None


def staging(entries: Sequence[Entry]) -> Path:
    """A fresh path (not created) beside the entry for a loader to pull into."""
    root = models_root()
    root.mkdir(parents=True, exist_ok=True)
    return root / f".fill-{key(entries)}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def publish(filled: Path, entries: Sequence[Entry]) -> Path:
    """Move a folder `pull` filled (and verified) into place, or drop it if another loader
    won."""
    where = models_root() / key(entries)
    if not _intact(filled, entries, hashed=True):
        shutil.rmtree(filled, ignore_errors=True)
        raise ArtifactError(f"{filled}: the pulled files do not match their manifest")
    try:
        os.rename(filled, where)
    except OSError:
        shutil.rmtree(filled, ignore_errors=True)
        if lookup(entries) is None:
            raise ArtifactError(
                f"{where}: could not place the pulled model in the cache",
                "check the cache folder's permissions (GITREG_CACHE_DIR moves it)",
            ) from None
    return where


def _discard(where: Path) -> None:
    aside = where.with_name(f".bad-{where.name}-{uuid.uuid4().hex[:8]}")
    try:
        os.rename(where, aside)
    except OSError:
        return
    shutil.rmtree(aside, ignore_errors=True)
