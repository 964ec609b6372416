"""Local files: content hashes as DVC computes them, and atomic writes."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

CHUNK = 1 << 20


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


def copy_hashed(src: Path, dst: Path) -> tuple[str, int]:
    """Copy `src` to a new file `dst` (mode 0o666 less the umask, never the source's
    read-only mode) and return the md5 and size of the bytes written, read once: each chunk
    is hashed and written from the same buffer, so what is hashed is what lands in `dst`."""
    h = hashlib.md5()
    size = 0
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with src.open("rb", buffering=0) as fh:
            while n := fh.readinto(buf):
                chunk = view[:n]
                h.update(chunk)
                done = 0
                while done < n:
                    done += os.write(fd, chunk[done:])
                size += n
    finally:
        os.close(fd)
    return h.hexdigest(), size
