"""`Snapshot.read_paths` finds plain paths through trees read by id and answers exactly what
git's own `<commit>:<path>` lookup answers; `links_below` lists links and submodules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import git
from gitreg.store import snapshot
from gitreg.store.git import Git
from gitreg.store.snapshot import Snapshot, parse_tree, tree_index

SUBMODULE_ID = "1234567890abcdef1234567890abcdef12345678"


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    for rel in ("a.txt", "d/b.txt", "d/e/c.dvc", "d/e/f/g.txt", "x y/ü.txt", "d/e/.hidden"):
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(f"content of {rel}\n")
    os.symlink("b.txt", repo / "d" / "link")
    git(repo.parent, "init", "-q", str(repo))
    git(repo, "add", "-A")
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{SUBMODULE_ID},d/sub")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "files")
    return repo


PATHS = [
    "a.txt",
    "d/b.txt",
    "d/e/c.dvc",
    "d/e/f/g.txt",
    "x y/ü.txt",
    "d/e/.hidden",
    "d/link",
    "d/sub",
    "d/sub/x",
    "d",
    "d/e",
    "missing",
    "d/missing",
    "d/b.txt/x",
    "d/link/x",
    "./a.txt",
    "d/./b.txt",
    "d//b.txt",
    "d/e/../b.txt",
    "d/b.txt/",
    "/a.txt",
    "",
    "a.txt\n",
    "D/b.txt",
    "d/e/f",
    "nope/deeper/still.txt",
]


def test_read_paths_answers_what_git_answers_for_every_spelling(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    with Snapshot.at(Git(repo)) as snap:
        by_git = {}
        for p in PATHS:
            got = snap._reader.read(f"{snap.commit}:{p}")
            if got is not None and got[0] == "blob":
                by_git[p] = got[1]
        assert snap.read_paths(PATHS) == by_git
        assert list(snap.read_paths(PATHS)) == list(by_git)  # in the order asked
        assert by_git["d/link"] == b"b.txt"  # a symbolic link reads as its target's name
        assert "d/sub" not in by_git and "d" not in by_git
    with Snapshot.at(Git(repo)) as snap:  # fresh: one call, in reverse, the same answer
        assert snap.read_paths(PATHS[::-1]) == {p: by_git[p] for p in PATHS[::-1] if p in by_git}


def test_read_paths_keeps_the_trees_it_read(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    with Snapshot.at(Git(repo)) as snap:
        assert snap.read_paths(["d/e/f/g.txt"]) == {"d/e/f/g.txt": b"content of d/e/f/g.txt\n"}
        assert snap.reads == 4  # the root, d, d/e (whose listing names d/e/f), the blob
        snap.read_paths(["d/e/c.dvc", "d/e/f/g.txt", "d/b.txt"])
        assert snap.reads == 7  # the three blobs: the trees were kept


def test_tree_index_is_parse_tree_by_name(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    for spec in ("HEAD^{tree}", "HEAD:d", "HEAD:d/e", "HEAD:x y"):
        raw = git_bytes(repo, "cat-file", "tree", spec)
        assert tree_index(raw) == {e.name: (e.mode, e.sha) for e in parse_tree(raw)}


def test_links_below_lists_links_and_submodules(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    with Snapshot.at(Git(repo)) as snap:
        assert snap.links_below(["d"]) == [("120000", "d/link"), ("160000", "d/sub")]
        assert snap.links_below(["d/e", "a.txt"]) == []
        assert snap.links_below([]) == []


def git_bytes(cwd: Path, *args: str) -> bytes:
    import subprocess

    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=True).stdout


def test_read_paths_answers_the_same_once_its_kept_trees_are_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repo(tmp_path)
    monkeypatch.setattr(snapshot, "_TREES_KEPT", 1)  # start again on every call
    with Snapshot.at(Git(repo)) as snap:
        first = snap.read_paths(PATHS)
        for path in PATHS:
            assert snap.read_paths([path]) == {p: first[p] for p in [path] if p in first}
        assert snap.read_paths(PATHS) == first
