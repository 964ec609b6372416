"""`tree_names` (the names of a raw tree, for `list`) agrees with `parse_tree`, on a real
tree with names of every kind and on bytes it cannot split back to back."""

from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import git
from gitreg.store.snapshot import parse_tree, tree_names


def test_tree_names_are_parse_tree_names(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    git(repo, "init", "-q")
    names = ["1.0.0.yaml", "2.0.0-rc.1.yaml", "a b.yaml", "zoë.yaml", "sub"]
    for name in names[:-1]:
        (repo / name).write_text(name)
    (repo / "sub").mkdir()
    (repo / "sub" / "x").write_text("x")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "tree")
    raw = git(repo, "rev-parse", "HEAD^{tree}").strip()
    cmd = ["git", "-C", str(repo), "cat-file", "tree", raw]
    data = subprocess.run(cmd, capture_output=True, check=True).stdout
    assert tree_names(data) == [e.name for e in parse_tree(data)]
    assert sorted(tree_names(data)) == sorted(names)


def test_bytes_that_do_not_split_back_to_back_go_to_the_exact_parser() -> None:
    entry = b"100644 a\0" + b"\x01" * 20
    assert tree_names(entry + entry) == ["a", "a"]
    odd = b"100644 a\0" + b"\0" * 20 + b"40000 b\0" + b" " * 20
    assert tree_names(odd) == [e.name for e in parse_tree(odd)] == ["a", "b"]
