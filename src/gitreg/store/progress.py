"""Progress of artifact transfers: the callback the DVC boundary reports to, and how it
measures bytes without reaching into DVC.

DVC's Python API takes no progress callback for `push` or `fetch` (its own bars are built
inside), so the store watches what it can see on the local side: the bytes of the objects
arriving in a DVC cache or a local remote, polled by a background thread while DVC works.
A remote it cannot see (S3, GCS, ...) reports the phase's start and end only.

Whoever draws (render/progress.py, only when stderr is a terminal) implements `Progress`;
without one nothing is measured and nothing is printed.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Protocol

from gitreg.store.files import dvc_object

POLL_SECONDS = 0.1


class Progress(Protocol):
    """One bar per phase: `start`, any number of `update`s, then `done`."""

    def start(self, label: str, total: int) -> None: ...

    def update(self, done: int) -> None: ...

    def done(self) -> None: ...


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _partial(name: str, final: str) -> bool:
    """A file DVC is still writing beside object `final`: `.TOKEN.tmp` (dvc-objects' local
    writes, in the object's own folder) or `FINAL.TOKEN.tmp`."""
    return name.endswith(".tmp") and (name.startswith(".") or name.startswith(final + "."))


def _arrived(store: Path, md5: str) -> int:
    """Bytes of object `md5` in `store`: the finished file, else what DVC has written of it
    so far (its folder is shared only by objects whose md5 starts alike, rarely in flight
    at the same time)."""
    final = dvc_object(store, md5)
    done = _size(final)
    if done:
        return done
    try:
        partial = [p for p in final.parent.iterdir() if _partial(p.name, final.name)]
    except OSError:
        return 0
    return sum(_size(p) for p in partial)


def object_bytes(store: Path, md5s: Sequence[str]) -> int:
    """Bytes of the objects `md5s` present in `store`; a directory (`.dir`) counts the files
    its listing names, once the listing has arrived."""
    total = 0
    for md5 in md5s:
        if not md5.endswith(".dir"):
            total += _arrived(store, md5)
            continue
        try:
            entries = json.loads(dvc_object(store, md5).read_text())
        except (OSError, ValueError):
            continue
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict) and isinstance(entry.get("md5"), str):
                total += _arrived(store, entry["md5"])
    return total


def file_bytes(paths: Sequence[Path]) -> int:
    """Bytes written so far into `paths` (files being copied; a missing one counts 0)."""
    return sum(_size(p) for p in paths)


def tree_bytes(root: Path) -> int:
    """Bytes of every file under `root` (a cache of this transfer's own)."""
    total = 0
    for dirpath, _, files in os.walk(root):
        total += sum(_size(Path(dirpath) / f) for f in files)
    return total


@contextlib.contextmanager
def watch(
    progress: Progress | None, label: str, total: int, measure: Callable[[], int] | None
) -> Iterator[None]:
    """Report phase `label` of `total` bytes to `progress` while the body runs, polling
    `measure` (None: start and end only). Without `progress`, nothing happens."""
    if progress is None:
        yield
        return
    progress.start(label, total)
    stop = threading.Event()

    def poll() -> None:
        while not stop.wait(POLL_SECONDS):
            with contextlib.suppress(OSError):
                progress.update(min(measure(), total) if measure else 0)

    thread = threading.Thread(target=poll, name="gitreg-progress", daemon=True)
    thread.start()
    finished = False
    try:
        yield
        finished = True
    finally:
        stop.set()
        thread.join()
        if finished:
            progress.update(total)
        progress.done()
