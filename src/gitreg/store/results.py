"""Reused evaluation results: one JSON file per result under the git directory.

    <git common dir>/gitreg/evaluations/<key>.json

The key (`gitreg.model.measurement.cache_key`) is a hash of everything the result depends
on. Writes are atomic (a temporary file renamed into place); an entry that cannot be read,
is not JSON or names another key is ignored, and the next run measures and overwrites it.
Which runs may fill a cache that others trust is the workflow's business
(docs/security.md): this module only keeps files.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from gitreg.store.files import write_atomic
from gitreg.store.git import Git

MAX_ENTRY_BYTES = 64 << 20


def cache_dir(git: Git) -> Path | None:
    """The cache's folder (shared by a repository's worktrees), or None outside git."""
    common = git.common_dir()
    return common / "gitreg" / "evaluations" if common else None


def load(folder: Path | None, key: str) -> dict[str, Any] | None:
    """The stored result of `key`, or None (absent, unreadable or corrupt)."""
    if folder is None:
        return None
    path = folder / f"{key}.json"
    try:
        if path.stat().st_size > MAX_ENTRY_BYTES:
            return None
        data = json.loads(path.read_bytes())
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or data.get("key") != key:
        return None
    return data


def save(folder: Path | None, key: str, record: dict[str, Any]) -> bool:
    """Store `record` as the result of `key`, atomically; False if it could not be written."""
    if folder is None:
        return False
    try:
        write_atomic(folder / f"{key}.json", json.dumps({**record, "key": key}).encode())
    except OSError:
        return False
    return True


# a result names its model first (`gitreg.evaluation.reuse.store`), so its head says it
_MODEL = re.compile(rb'^\{"model": "([A-Za-z0-9][A-Za-z0-9_.-]*)"')


def models(folder: Path | None) -> set[str] | None:
    """The models the stored results name (`"model"`, written first in each result since
    the site shows them; read from the first bytes of each file, never the measurement),
    or None when one does not say (stored before) or cannot be read: a reader then has to
    look every model up by its key."""
    found: set[str] = set()
    if folder is None or not folder.is_dir():
        return found
    for path in folder.glob("*.json"):
        try:
            with path.open("rb") as fh:
                head = fh.read(256)
        except OSError:
            return None
        match = _MODEL.match(head)
        if match is None:
            return None
        found.add(match.group(1).decode())
    return found
