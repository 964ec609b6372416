"""Local files: content hashes as DVC computes them, and atomic writes."""

from __future__ import annotations

import hashlib
import os
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

CHUNK = 1 << 20
COPY_CHUNK = 4 << 20


def md5_file(path: Path) -> str:
    """The md5 of a file's bytes, read in chunks."""
    h = hashlib.md5()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def write_atomic(path: Path, data: bytes) -> None:
    """Write `path` whole or not at all: a temporary file beside it, then one rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def copy_hashed(src: Path, dst: Path) -> tuple[str, int]:
    """Copy `src` to a new file `dst` (mode 0o666 less the umask, never the source's
    read-only mode) and return the md5 and size of the bytes written, read once: each chunk
    is hashed and written from the same bytes object, so what is hashed is what lands in
    `dst`. A worker thread writes chunk N while this one hashes it (both release the GIL),
    and chunk N+1 is not handed over before chunk N is written."""
    h = hashlib.md5()
    size = 0
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with src.open("rb", buffering=0) as fh, ThreadPoolExecutor(1) as writer:
            pending: Future[None] | None = None
            while chunk := fh.read(COPY_CHUNK):
                if pending is not None:
                    pending.result()
                pending = writer.submit(_write_all, fd, chunk)
                h.update(chunk)
                size += len(chunk)
            if pending is not None:
                pending.result()
    finally:
        os.close(fd)
    return h.hexdigest(), size
