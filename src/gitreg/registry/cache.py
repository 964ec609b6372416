"""What gitreg parsed from git objects, kept under `.git/gitreg/cache/`, keyed by object id.

A git object never changes, so a result computed from one model's tree (its summary, its
validation problems, its versions' manifests) holds for as long as that tree id exists:
a whole-registry read parses only the models whose tree changed since the last run. Each
kind of result is one JSON file, `{"format", "code", "entries": {key: value}}`:

- keys are object ids (with the id of every other object the value depends on, such as
  gitreg.yaml's blob), so an entry is never used for a different object;
- `code` fingerprints the gitreg installation (its version and the size and mtime of its
  source files): another gitreg, or an edited one, starts from an empty cache;
- a file that does not parse, or has the wrong shape, is ignored and rewritten;
- a write is a new file renamed over the old one (atomic), holding only the entries that
  run used, so concurrent runs never read a torn file and stale entries do not pile up;
  the last writer wins, and a lost entry only costs a re-parse;
- a repository where the cache cannot be written (read-only) still reads, uncached.

`version_records(git, commit)` gives every version manifest's data at a commit (model ->
version -> the YAML mapping, as parsed and checked by `yamlio`), for readers that need them
all: the site, version search.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from gitreg.errors import ManifestError, Problem
from gitreg.model import layout, yamlio
from gitreg.store import parallel
from gitreg.store.git import Git
from gitreg.store.snapshot import Snapshot, TreeEntry
from gitreg.version import __version__

FORMAT = 2  # 2: checks replay their warnings too
_CODE: list[str] = []


def code_key() -> str:
    """The fingerprint of this gitreg installation (version, source sizes and mtimes)."""
    if not _CODE:
        h = hashlib.sha256(f"{FORMAT}:{__version__}".encode())
        pkg = Path(__file__).resolve().parent.parent
        for path in sorted(pkg.rglob("*.py")):
            st = path.stat()
            h.update(f"{path.relative_to(pkg)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
        _CODE.append(h.hexdigest()[:32])
    return _CODE[0]


class ObjectCache:
    """One kind of cached result (`kind`: a file name) for the repository of `git`."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.old: dict[str, Any] = self._load() if path is not None else {}
        self.used: dict[str, Any] = {}
        self.hits = 0
        self.misses = 0

    @classmethod
    def open(cls, git: Git, kind: str) -> ObjectCache:
        git_dir = git.git_dir()
        return cls(git_dir / "gitreg" / "cache" / f"{kind}.json" if git_dir else None)

    def _load(self) -> dict[str, Any]:
        assert self.path is not None
        try:
            doc = json.loads(self.path.read_bytes())
        except (OSError, ValueError):
            return {}
        ok = isinstance(doc, dict) and doc.get("format") == FORMAT
        ok = ok and doc.get("code") == code_key() and isinstance(doc.get("entries"), dict)
        return doc["entries"] if ok else {}

    def get(self, key: str) -> Any:
        """The value cached under `key`, or None."""
        value = self.old.get(key)
        if value is None:
            self.misses += 1
            return None
        self.hits += 1
        self.used[key] = value
        return value

    def put(self, key: str, value: Any) -> None:
        self.used[key] = value

    def save(self) -> None:
        """Write the entries used in this run, if they differ from what was read."""
        if self.path is None or self.used == self.old:
            return
        import tempfile  # only when writing: a warm read never pays for importing it

        doc = {"format": FORMAT, "code": code_key(), "entries": self.used}
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(json.dumps(doc, separators=(",", ":")).encode())
                os.replace(tmp, self.path)
            except OSError:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)


# models computed per worker at the least: below that a worker's start costs more
SPREAD_MIN = 32


def per_tree(
    git: Git,
    kind: str,
    entries: list[TreeEntry],
    compute: Callable[[str], Any],
    salt: str = "",
    spread: bool = False,
) -> dict[str, Any]:
    """name -> `compute(name)` for each tree entry, from the cache where the entry's object
    id (with `salt`: the ids of anything else the result depends on) is there. `spread`:
    the misses are computed on every core (`parallel.map_local`, the collector paused), so
    `compute` must return plain data, have no side effect the caller needs and make no
    reference cycle worth collecting."""
    cache = ObjectCache.open(git, kind)
    keys = {e.name: f"{e.sha}:{salt}" for e in entries}
    out = {name: cache.get(key) for name, key in keys.items()}
    missing = [name for name, hit in out.items() if hit is None]
    if spread:
        got = parallel.map_local(_each(compute), missing, min_items=2 * SPREAD_MIN, calm=True)
    else:
        got = [compute(name) for name in missing]
    for name, value in zip(missing, got):
        cache.put(keys[name], value)
        out[name] = value
    cache.save()
    return out


def missing(git: Git, kind: str, entries: list[TreeEntry], salt: str = "") -> bool:
    """Whether `per_tree(git, kind, entries, ..., salt)` would compute any entry (one
    whose result is not cached): a caller may start the work before it is asked for."""
    cache = ObjectCache.open(git, kind)
    return any(cache.old.get(f"{e.sha}:{salt}") is None for e in entries)


def _each(compute: Callable[[str], Any]) -> Callable[[Sequence[str]], list[Any]]:
    return lambda names: [compute(name) for name in names]


def cached_checks(
    git: Git,
    kind: str,
    entries: list[TreeEntry],
    report: Any,
    check: Callable[[str], Any],
    salt: str = "",
    spread: bool = False,
) -> dict[str, Any]:
    """Run `check(name)` for each tree entry, which appends `Problem`s to `report.problems`,
    `ReviewWarning`s to `report.warnings` and counts `report.files`; for an entry whose id
    is cached, replay what it appended instead. Returns name -> what `check` returned."""

    def compute(name: str) -> dict[str, Any]:
        start, warned, files = len(report.problems), len(report.warnings), report.files
        value = check(name)
        counted, report.files = report.files - files, files
        found = [[p.path, p.field, p.message] for p in report.problems[start:]]
        warnings = [asdict(w) for w in report.warnings[warned:]]
        del report.problems[start:], report.warnings[warned:]
        return {"problems": found, "warnings": warnings, "files": counted, "value": value}

    out = {}
    for name, got in per_tree(git, kind, entries, compute, salt, spread).items():
        report.problems.extend(Problem(*p) for p in got["problems"])
        if got.get("warnings"):  # model.rules loads pydantic: only when there is one
            from gitreg.model.rules import ReviewWarning

            for w in got["warnings"]:
                report.warnings.append(ReviewWarning(**{**w, "owners": tuple(w["owners"])}))
        report.files += got["files"]
        out[name] = got["value"]
    return out


def _model_records(snap: Snapshot, models: list[TreeEntry]) -> list[dict[str, Any]]:
    """Every version manifest of each model (a tree entry of models/): version -> data
    (None when a file does not parse as YAML; `gitreg validate` says why). The trees and
    blobs are read in pipelined batches; the YAML is parsed on every core."""
    trees = snap.read_trees([m.sha for m in models])
    vdirs = [next((e for e in t if e.name == "versions" and e.is_tree), None) for t in trees]
    vtrees = iter(snap.read_trees([v.sha for v in vdirs if v is not None]))
    files = [
        [e for e in next(vtrees) if not e.is_tree and e.name.endswith(".yaml")] if v else []
        for v in vdirs
    ]
    paths = [f"{layout.versions_dir(m.name)}/{e.name}" for m, fs in zip(models, files) for e in fs]
    blobs = snap.read_objects([e.sha for fs in files for e in fs])
    texts = iter(parallel.map_chunks(_load_json, list(zip(blobs, paths))))
    return [{e.name[: -len(".yaml")]: json.loads(next(texts)) for e in fs} for fs in files]


def _load_json(items: Sequence[tuple[bytes, str]]) -> list[str]:
    """Each (YAML text, path) loaded by `yamlio.load` and written as JSON (dates as ISO
    text), "null" for one that does not load. Runs in worker processes: text crosses
    between processes more cheaply than the objects would."""
    out = []
    for data, path in items:
        try:
            out.append(json.dumps(yamlio.load(data, path), default=_text))
        except ManifestError:
            out.append("null")
    return out


# what `_text` makes of a date or a time: ISO text, which YAML would have read as one
_DATELIKE = re.compile(r'"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}')
_AWARE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9]{2}:[0-9]{2})")


def exact_record(data: Any) -> bool:
    """Whether a record of `version_records` is what `yamlio.load` gave for its file, for a
    version manifest's schema: a mapping with no text that may have been a YAML date (a
    date in a text field is an error the JSON form would hide), except `created` as an
    aware ISO time (the schema reads that text and the datetime alike). Otherwise the
    caller parses the blob. (Text that merely holds a quoted date is refused too: safe.)"""
    if not isinstance(data, dict):
        return False
    created = data.get("created")
    if created is not None and not (isinstance(created, str) and _AWARE.fullmatch(created)):
        return False
    found = len(_DATELIKE.findall(json.dumps(data)))  # every key and text, quoted
    return found == (0 if created is None else 1)


def _text(value: object) -> str:
    iso = getattr(value, "isoformat", None)
    return str(iso() if callable(iso) else value)


def version_records(git: Git, commit: str) -> dict[str, dict[str, Any]]:
    """model -> version -> manifest data at `commit` (JSON data: dates as ISO text; None
    for a file that is not YAML), parsed only for models whose tree is not cached yet."""
    with Snapshot(git, commit, commit) as snap:
        entries = [e for e in snap.listdir(layout.MODELS_DIR) if e.is_tree]
        cache = ObjectCache.open(git, "version-records")
        out = {e.name: cache.get(f"{e.sha}:") for e in entries}  # per_tree's keys
        missing = [e for e in entries if out[e.name] is None]
        for entry, got in zip(missing, _model_records(snap, missing)):
            cache.put(f"{entry.sha}:", got)
            out[entry.name] = got
        cache.save()
        return out
