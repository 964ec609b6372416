"""Whole-tree reads from git objects: every blob id under a path, and many blobs at once.

One `git ls-tree -r` lists a tree; one `git cat-file --batch` fed every id at once reads
the blobs (requests are written while answers are read, so the pipe never stalls). The
cost is two processes whatever the number of files. `start_reads` reads in the background:
git works on one core while the caller imports or parses on the other.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import IO, NamedTuple

from gitreg.errors import GitError
from gitreg.store.git import Git, spawn

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
    # a record starts with a token no commit message can hold in advance, fields are split
    # by NUL (which git's ident and date cannot hold) and the subject, which may hold
    # anything else, comes last: one commit's message cannot forge another's record
    start = f"\x1e{os.urandom(16).hex()}\x1e"
    fmt = f"--format={start}%H%x00%an%x00%ae%x00%aI%x00%s"
    request = "".join(f"{c}\n" for c in wanted).encode()
    proc_out = git.run(
        ["log", "--no-walk=unsorted", "--ignore-missing", fmt, "--stdin"],
        input=request,
        check=False,
    )
    asked = set(wanted)
    found: dict[str, CommitInfo] = {}
    for record in proc_out.split(start)[1:]:
        parts = record.rstrip("\n").split("\x00", 4)
        if len(parts) == 5 and parts[0] in asked and parts[0] not in found:
            found[parts[0]] = CommitInfo(*parts[1:])
    return found


def _scratch() -> IO[bytes]:
    """An unnamed file: in memory where the OS has `memfd_create`, else a temporary file."""
    if hasattr(os, "memfd_create"):
        try:
            return os.fdopen(os.memfd_create("gitreg-batch", os.MFD_CLOEXEC), "w+b")
        except OSError:  # refused (a sandbox's seccomp filter): a temporary file will do
            pass
    import tempfile

    return tempfile.TemporaryFile()


class PendingReads:
    """A `git cat-file --batch` answering a list of requests while the caller goes on: its
    requests and its answers are unnamed files, not pipes, so nobody has to drain it. Use
    it as a context manager: leaving before `result` (an error) stops the process."""

    def __init__(self, git: Git, specs: list[str]) -> None:
        self.specs = specs
        self._asked = [s for s in specs if "\n" not in s]  # a newline would split a request
        self._out, self._err = _scratch(), _scratch()
        try:
            with _scratch() as requests:
                requests.write("".join(f"{s}\n" for s in self._asked).encode())
                requests.seek(0)
                self._proc = spawn(
                    git.cwd,
                    ["cat-file", "--batch"],
                    stdin=requests,
                    stdout=self._out,
                    stderr=self._err,
                )
        except BaseException:
            self._out.close()
            self._err.close()
            raise

    def result(self) -> list[tuple[str, bytes] | None]:
        """(type, content) of the object each request names, in order; None where cat-file
        answers `missing` (absent, or unreadable: the caller tells which)."""
        code = self._proc.wait()
        with self._out, self._err:
            self._out.seek(0)
            out = self._out.read()
            self._err.seek(0)
            said = self._err.read().decode("utf-8", "replace").strip()
        if code != 0:
            raise GitError(["cat-file", "--batch"], said or f"cat-file failed (exit {code})")
        answers = iter(_answers(out, len(self._asked)))
        return [next(answers) if "\n" not in s else None for s in self.specs]

    def __enter__(self) -> PendingReads:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        self._out.close()
        self._err.close()


def start_reads(git: Git, specs: list[str]) -> PendingReads:
    """Start reading the objects `specs` name (`<id>`, `<tree id>:<path>`) in the
    background; `.result()` waits for them."""
    return PendingReads(git, specs)


def _answers(out: bytes, count: int) -> list[tuple[str, bytes] | None]:
    """The `count` answers in the output of `cat-file --batch`."""
    answers: list[tuple[str, bytes] | None] = []
    pos = 0
    for _ in range(count):
        end = out.find(b"\n", pos)
        if end < 0:
            raise GitError(["cat-file", "--batch"], "truncated output: an object is corrupt")
        header = out[pos:end].rsplit(b" ", 2)
        pos = end + 1
        if header[-1] in (b"missing", b"ambiguous"):
            answers.append(None)
            continue
        size = int(header[2]) if len(header) == 3 and header[2].isdigit() else -1
        if size < 0 or out[pos + size : pos + size + 1] != b"\n":
            raise GitError(["cat-file", "--batch"], "truncated output: an object is corrupt")
        answers.append((header[1].decode(), out[pos : pos + size]))
        pos += size + 1
    return answers
