"""Whole-tree reads from git objects: every blob id under a path, and many blobs at once.

One `git ls-tree -r` lists a tree; one `git cat-file --batch` fed every id at once reads
the blobs (requests are written while answers are read, so the pipe never stalls). The
cost is two processes whatever the number of files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from gitreg.errors import GitError
from gitreg.store.git import Git

_SHA = re.compile(r"^[0-9a-f]{40,64}$")


def tree_blobs(git: Git, commit: str) -> dict[str, str]:
    """Path -> blob id of every file at `commit` (no submodules, no trees)."""
    # ls-tree takes no `--`: it would read it as a path
    out = git.run_bytes(["ls-tree", "-r", "-z", "--end-of-options", commit])
    found: dict[str, str] = {}
    for entry in out.split(b"\0"):
        if not entry:
            continue
        meta, _, path = entry.partition(b"\t")
        _mode, kind, sha = meta.decode().split(" ")
        if kind == "blob":
            found[path.decode("utf-8", "surrogateescape")] = sha
    return found


def read_blobs(git: Git, ids: Iterable[str]) -> dict[str, bytes]:
    """Blob id -> content for every id (an id that is not a blob is left out)."""
    wanted = list(dict.fromkeys(i for i in ids if _SHA.fullmatch(i)))
    if not wanted:
        return {}
    request = "".join(f"{i}\n" for i in wanted).encode()
    out = git.run_bytes(["cat-file", "--batch"], input=request)
    blobs: dict[str, bytes] = {}
    pos = 0
    for sha in wanted:
        end = out.find(b"\n", pos)
        if end < 0:
            raise GitError(["cat-file", "--batch"], f"could not read {sha}: truncated output")
        header = out[pos:end].decode("utf-8", "replace").split(" ")
        pos = end + 1
        if len(header) != 3:  # "<id> missing"
            continue
        size = int(header[2])
        if header[1] == "blob":
            blobs[sha] = out[pos : pos + size]
        pos += size + 1
    return blobs


def commit_authors(git: Git, commits: Iterable[str]) -> dict[str, tuple[str, str]]:
    """Commit -> (author name, author date ISO 8601) for each commit that exists."""
    wanted = sorted({c for c in commits if _SHA.fullmatch(c)})
    if not wanted:
        return {}
    fmt = "--format=%H%x1f%an%x1f%aI"
    request = "".join(f"{c}\n" for c in wanted).encode()
    proc_out = git.run(
        ["log", "--no-walk=unsorted", "--ignore-missing", fmt, "--stdin"],
        input=request,
        check=False,
    )
    found: dict[str, tuple[str, str]] = {}
    for line in proc_out.splitlines():
        parts = line.split("\x1f")
        if len(parts) == 3:
            found[parts[0]] = (parts[1], parts[2])
    return found
