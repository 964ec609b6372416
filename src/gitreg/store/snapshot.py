"""The files of a repository at one commit, read from git objects only.

One long-lived `git cat-file --batch` process serves every read, so a dirty working tree
never changes what a read command answers and reading many files costs one process.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import weakref
from collections.abc import Iterable

from gitreg.errors import GitError
from gitreg.record import Record
from gitreg.store.git import Git, spawn


class TreeEntry(Record):
    __slots__ = ("mode", "name", "sha")  # the fields in order
    mode: str
    name: str
    sha: str

    def __init__(self, mode: str, name: str, sha: str) -> None:
        self.mode, self.name, self.sha = mode, name, sha

    @property
    def is_tree(self) -> bool:
        return self.mode == "40000"


# requests per pipelined write: well under a pipe's buffer (64 KiB on Linux, 4 KiB minimum
# by POSIX would be too small to matter), so the write never blocks
_CHUNK_BYTES = 16 * 1024


# every reader alive, so a forked child (parallel.map_local) starts its own cat-file: the
# parent's pipes are the parent's, one stream cannot serve two processes
_READERS: weakref.WeakSet[BlobReader] = weakref.WeakSet()


def _forget_in_child() -> None:
    for reader in list(_READERS):
        reader._proc = None  # not closed: the parent still reads through it


os.register_at_fork(after_in_child=_forget_in_child)


class BlobReader:
    """One `git cat-file --batch` process answering many object requests."""

    def __init__(self, git: Git) -> None:
        self._git = git
        self._proc: subprocess.Popen[bytes] | None = None
        self.reads = 0  # objects asked for, over this reader's life
        _READERS.add(self)

    def _process(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            self._proc = spawn(
                self._git.cwd,
                ["cat-file", "--batch"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        return self._proc

    def read(self, spec: str) -> tuple[str, bytes] | None:
        """(type, content) of the object `spec` names (e.g. `<commit>:path`), or None."""
        if "\n" in spec:
            return None
        proc = self._process()
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(spec.encode() + b"\n")
        proc.stdin.flush()
        return self._answer(proc, spec)

    def _answer(self, proc: subprocess.Popen[bytes], spec: str) -> tuple[str, bytes] | None:
        """The next answer on cat-file's output: to the request `spec`."""
        assert proc.stdout is not None
        self.reads += 1
        header = proc.stdout.readline().rstrip(b"\n")
        if header.endswith((b" missing", b" ambiguous")):
            return None
        if not header:  # cat-file died: a corrupt object, never "no such file"
            self.close_broken()
            raise GitError(
                ["cat-file", "--batch"],
                f"could not read {spec}: the object is corrupt or unreadable",
                "run `git fsck` in the registry; restore the object from a good clone",
            )
        _, otype, size = header.rsplit(b" ", 2)
        n = int(size)
        data = proc.stdout.read(n + 1)  # and the line break after it: one call
        if len(data) != n + 1 or data[n:] != b"\n":
            self.close_broken()
            raise GitError(["cat-file", "--batch"], f"could not read {spec}: truncated object")
        return otype.decode(), data[:n]

    def read_many(self, specs: list[str]) -> list[tuple[str, bytes] | None]:
        """`read` of each spec, pipelined: requests go out in chunks that fit a pipe's
        buffer, so cat-file never waits for us to read while we write, and one round trip
        serves a chunk instead of one object."""
        out: list[tuple[str, bytes] | None] = []
        i = 0
        while i < len(specs):
            chunk: list[str] = []
            size = 0
            while i < len(specs) and size < _CHUNK_BYTES:
                chunk.append(specs[i])
                size += len(specs[i]) + 1
                i += 1
            out += self._read_chunk(chunk)
        return out

    def _read_chunk(self, specs: list[str]) -> list[tuple[str, bytes] | None]:
        if any("\n" in s for s in specs):
            return [self.read(s) for s in specs]
        proc = self._process()
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write("".join(f"{s}\n" for s in specs).encode())
        proc.stdin.flush()
        return [self._answer(proc, s) for s in specs]

    def close_broken(self) -> None:
        """Forget a cat-file process that died; the next read starts a new one."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # at interpreter shutdown, nothing to do
            self.close()

    def close(self) -> None:
        if self._proc is not None:
            assert self._proc.stdin is not None and self._proc.stdout is not None
            self._proc.stdin.close()
            self._proc.stdout.close()
            self._proc.wait()
            self._proc = None


# one entry of a raw tree: `<mode> <name>\0<20-byte id>` (SHA-1 repositories)
_TREE_ENTRY = re.compile(rb"([0-7]+) ([^\0]*)\0(.{20})", re.DOTALL)


# a whole raw tree, entry after entry back to back, and the name of each entry: scanned in C
_WHOLE_TREE = re.compile(rb"(?:[0-7]+ [^\0]*\0.{20})*", re.DOTALL)
_ENTRY_NAME = re.compile(rb"[0-7]+ ([^\0]*)\0.{20}", re.DOTALL)


def tree_names(data: bytes, suffix: str = "") -> list[str]:
    """The names in a raw tree object that end with `suffix`, without it: not building its
    entries (a versions/ tree of 100 versions, for each of 1000 models, in `list`). When
    the entries lie back to back (`_WHOLE_TREE`), `findall` splits them at the same places;
    the names, each ended by a NUL (no part of a name or of a UTF-8 sequence), are picked
    by suffix and decoded in one call, as each name alone would be."""
    if _WHOLE_TREE.fullmatch(data) is None:  # not back to back: let the exact parser decide
        named = [e.name for e in parse_tree(data)]
        return [n[: len(n) - len(suffix)] for n in named if n.endswith(suffix)]
    names = _ENTRY_NAME.findall(data)
    if suffix:  # a match starts only at a name's start: no part of a name ends with NUL
        ended = b"\0".join(names) + b"\0"
        names = re.findall(b"([^\0]*)" + re.escape(suffix.encode()) + b"\0", ended)
    return b"\0".join(names).decode("utf-8", "surrogateescape").split("\0") if names else []


def tree_index(data: bytes) -> dict[str, tuple[str, str]]:
    """name -> (mode, hex id) of a raw tree object (the first entry of a name, as git
    finds it), without building `TreeEntry`s: `read_paths` reads 100,000 small trees."""
    out: dict[str, tuple[str, str]] = {}
    end = 0
    for m in _TREE_ENTRY.finditer(data):
        if m.start() != end:  # not back to back: let the exact parser decide
            return {e.name: (e.mode, e.sha) for e in reversed(parse_tree(data))}
        name = m[2].decode("utf-8", "surrogateescape")
        out.setdefault(name, (m[1].decode(), m[3].hex()))
        end = m.end()
    if end != len(data):
        return {e.name: (e.mode, e.sha) for e in reversed(parse_tree(data))}
    return out


def parse_tree(data: bytes) -> list[TreeEntry]:
    """Entries of a raw tree object (SHA-1 repositories)."""
    entries = []
    i = 0
    n = len(data)
    while i < n:
        sp = data.index(b" ", i)
        nul = data.index(b"\0", sp)
        mode = data[i:sp].decode()
        name = data[sp + 1 : nul].decode("utf-8", "surrogateescape")
        sha = data[nul + 1 : nul + 21].hex()
        entries.append(TreeEntry(mode, name, sha))
        i = nul + 21
    return entries


# a path `read_paths` finds through the trees: no empty, `.` or `..` segment, no newline
_PLAIN_PATH = re.compile(r"(?!\.\.?(?:/|\Z))[^/\n]+(?:/(?!\.\.?(?:/|\Z))[^/\n]+)*")
# a record of `ls-tree -r -z` for a symbolic link or a submodule: `<mode> <type> <id>\t<path>`
# (searched after a NUL put in front: a pattern that starts with a literal is scanned fast)
_LINK_RECORD = re.compile(rb"\0(1[26]0000) [^\t\0]*\t([^\0]*)")
_TREES_KEPT = 512  # trees `read_paths` keeps before it starts again


def links_in(listing: bytes) -> list[tuple[str, str]]:
    """(mode, path) of the links and submodules in the output of `ls-tree -r -z`."""
    found = _LINK_RECORD.findall(b"\0" + listing)
    return [(m.decode(), n.decode("utf-8", "surrogateescape")) for m, n in found]


def _base(path: str) -> str | None:
    """The folder of a plain path below the top, else None."""
    if "/" not in path or not _PLAIN_PATH.fullmatch(path):
        return None
    return path.rpartition("/")[0]


def lists_object(entries: list[TreeEntry], name: str) -> bool:
    """Whether a tree lists `name` as an object of this repository (a submodule's commit is
    not one): then cat-file's `missing` for it means a corrupt object, not an absent file."""
    return any(e.name == name and e.mode != "160000" for e in entries)


def corrupt(path: str, commit: str) -> GitError:
    """The error for a file a tree lists whose object cannot be read."""
    return GitError(
        ["cat-file", "--batch"],
        f"could not read {path} at {commit[:12]}: the object is corrupt or unreadable",
        "run `git fsck` in the registry; restore the object from a good clone",
    )


class Snapshot:
    """The files of a repository at one commit, read from git objects only."""

    def __init__(self, git: Git, commit: str, ref: str) -> None:
        self.git = git
        self.commit = commit
        self.ref = ref
        self._reader = BlobReader(git)
        self._trees: dict[str, dict[str, tuple[str, str]]] = {}  # read_paths: dir -> entries

    @classmethod
    def at(cls, git: Git, ref: str = "HEAD") -> Snapshot:
        return cls(git, git.commit_of(ref), ref)

    def _get(self, commit: str, path: str) -> tuple[str, bytes] | None:
        """The object at `commit:path`, None if the tree has no such entry. An entry the
        tree lists but whose object cannot be read is corrupt: an error, never "absent"
        (cat-file says "missing" for both)."""
        got = self._reader.read(f"{commit}:{path}")
        if got is not None or not path:
            return got
        parent, _, name = path.rpartition("/")
        tree = self._reader.read(f"{commit}:{parent}" if parent else f"{commit}^{{tree}}")
        listed = parse_tree(tree[1]) if tree is not None and tree[0] == "tree" else []
        if lists_object(listed, name):
            raise corrupt(path, commit)
        return None

    def read(self, path: str) -> bytes | None:
        got = self._get(self.commit, path)
        if got is None or got[0] != "blob":
            return None
        return got[1]

    def listdir(self, path: str) -> list[TreeEntry]:
        """Entries of a directory at this commit; empty if it does not exist."""
        spec = f"{self.commit}:{path}" if path else f"{self.commit}^{{tree}}"
        got = self._reader.read(spec)
        if got is None or got[0] != "tree":
            return []
        return parse_tree(got[1])

    def read_at(self, commit: str, path: str) -> bytes | None:
        """A blob at another commit, through the same cat-file process."""
        got = self._get(commit, path)
        if got is None or got[0] != "blob":
            return None
        return got[1]

    def exists(self, path: str) -> bool:
        return self._get(self.commit, path) is not None

    def read_many(self, paths: Iterable[str]) -> dict[str, bytes | None]:
        return {p: self.read(p) for p in paths}

    def read_objects(self, shas: list[str]) -> list[bytes]:
        """The blobs with these ids (taken from a tree, so they must exist), in one
        pipelined batch."""
        return list(self.read_raw(shas))

    def read_raw(self, shas: list[str]) -> list[bytes]:
        """The raw content of objects (blobs or trees) with these ids, taken from trees
        (so they must exist), in one pipelined batch."""
        got = self._reader.read_many(shas)
        for sha, g in zip(shas, got):
            if g is None:
                raise GitError(
                    ["cat-file", "--batch"],
                    f"could not read object {sha} at {self.commit[:12]}: the object is "
                    "corrupt or unreadable",
                    "run `git fsck` in the registry; restore the object from a good clone",
                )
        return [g[1] for g in got if g is not None]

    def read_paths(self, paths: list[str]) -> dict[str, bytes]:
        """The blobs at `paths` that are there, in pipelined batches (a path missing from
        the answer may be absent or unreadable: `read` it to know which). A plain path
        below the top is asked of its folder's tree (`<tree id>:<name>`), the trees above
        it read by id once and kept: git resolves each `<commit>:<path>` from the root
        again (at 1000x100 the 1000 entries of models/ for each of 100,000 pointers: 4.4 s
        of cat-file, 2.5 s from each model's artifacts/ tree, 1.3 s this way)."""
        self._load_trees({b.rpartition("/")[0] for b in map(_base, paths) if b is not None})
        asked = [(p, s) for p in paths for s in [self._near(p)] if s is not None]
        got = self._reader.read_many([s for _, s in asked])
        return {p: g[1] for (p, _), g in zip(asked, got) if g is not None and g[0] == "blob"}

    def _near(self, path: str) -> str | None:
        """The request for `path` from the nearest kept tree (None: its folder is absent)."""
        base = _base(path)
        if base is None:
            return f"{self.commit}:{path}"
        tree = self._tree_id(base)
        return None if tree is None else f"{tree}:{path[len(base) + 1 :]}"

    def _entry(self, path: str) -> tuple[str, str] | None:
        parent, _, name = path.rpartition("/")
        return self._trees.get(parent, {}).get(name)

    def _load_trees(self, dirs: set[str]) -> None:
        """Keep the entries of the trees at `dirs` and of their parents (absent: none)."""
        if len(self._trees) > _TREES_KEPT:
            self._trees.clear()
        todo: set[str] = set()
        for d in dirs:
            while d not in self._trees and d not in todo:
                todo.add(d)
                if not d:
                    break
                d = d.rpartition("/")[0]
        for depth in sorted({d.count("/") + 1 if d else 0 for d in todo}):
            level = [d for d in todo if (d.count("/") + 1 if d else 0) == depth]
            specs = [f"{self.commit}^{{tree}}" if not d else self._tree_id(d) for d in level]
            asked = [(d, s) for d, s in zip(level, specs) if s is not None]
            for d in level:
                self._trees[d] = {}
            for (d, _), g in zip(asked, self._reader.read_many([s for _, s in asked])):
                if g is not None and g[0] == "tree":
                    self._trees[d] = tree_index(g[1])

    def _tree_id(self, path: str) -> str | None:
        entry = self._entry(path)
        is_dir = entry is not None and int(entry[0], 8) & 0o170000 == 0o040000  # as git reads
        return entry[1] if entry is not None and is_dir else None

    def links_below(self, paths: list[str]) -> list[tuple[str, str]]:
        """(mode, path) of each symbolic link (120000) and submodule (160000) below `paths`,
        in tree order: one `git ls-tree -r`, scanned in C (300,000 records at 1000x100:
        30 ms, against 0.9 s for a pattern starting with a lookbehind)."""
        return links_in(self.git.run_bytes(self.links_command(paths))) if paths else []

    def links_command(self, paths: list[str]) -> list[str]:
        """The git command whose output `links_in` reads (`store.pending` runs it early)."""
        literal = [f":(literal){p}" for p in paths]
        return ["ls-tree", "-r", "-z", "--end-of-options", self.commit, "--", *literal]

    def read_trees(self, shas: list[str]) -> list[list[TreeEntry]]:
        """The entries of the trees with these ids, in one pipelined batch."""
        return [parse_tree(data) for data in self.read_raw(shas)]

    @property
    def reads(self) -> int:
        """How many objects this snapshot has read (for tests of proportionality)."""
        return self._reader.reads

    def close(self) -> None:
        self._reader.close()

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
