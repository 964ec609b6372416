"""Whole-tree reads from git objects: every blob id under a path, and many blobs at once.

One `git ls-tree -r` lists a tree; one `git cat-file --batch` fed every id at once reads
the blobs (requests are written while answers are read, so the pipe never stalls). The
cost is two processes whatever the number of files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

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


class CommitInfo(NamedTuple):
    name: str  # the author's
    email: str
    date: str  # author date, ISO 8601
    subject: str


def commit_info(git: Git, commits: Iterable[str]) -> dict[str, CommitInfo]:
    """Commit -> its author, date and subject, for each commit that exists (one `git log`
    fed the ids on stdin, so any number fits; a commit that is missing is left out)."""
    wanted = sorted({c for c in commits if _SHA.fullmatch(c)})
    if not wanted:
        return {}
    fmt = "--format=%x1e%H%x1f%an%x1f%ae%x1f%aI%x1f%s"
    request = "".join(f"{c}\n" for c in wanted).encode()
    proc_out = git.run(
        ["log", "--no-walk=unsorted", "--ignore-missing", fmt, "--stdin"],
        input=request,
        check=False,
    )
    found: dict[str, CommitInfo] = {}
    for record in proc_out.split("\x1e")[1:]:
        parts = record.rstrip("\n").split("\x1f")
        if len(parts) == 5:
            found[parts[0]] = CommitInfo(*parts[1:])
    return found
