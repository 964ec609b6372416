"""Local files: content hashes as DVC computes them."""

from __future__ import annotations

import hashlib
from pathlib import Path

CHUNK = 1 << 20


def md5_file(path: Path) -> str:
    """The md5 of a file's bytes, read in chunks."""
    h = hashlib.md5()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()
