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


def test_names_by_suffix_are_parse_tree_names_that_end_with_it(tmp_path: Path) -> None:
    """`tree_names(data, ".yaml")` (the version files of a versions/ tree) keeps what ends
    with the suffix, without it, once: on names that hold it twice, nothing else, a near
    miss, bytes that are not UTF-8; and on entries whose ids hold NULs and spaces."""
    repo = tmp_path / "r"
    repo.mkdir()
    git(repo, "init", "-q")
    blob = subprocess.run(
        ["git", "-C", str(repo), "hash-object", "-w", "--stdin"],
        input=b"x", capture_output=True, check=True,
    ).stdout.strip()  # fmt: skip
    names = [b"1.0.0.yaml", b".yaml", b"a.yaml.yaml", b"b.yml", b"README", b"c.YAML",
             "zoë.yaml".encode(), b"\xff\xfe.yaml", b"yaml", b"d.yaml~", b"e yaml"]  # fmt: skip
    listing = b"".join(b"100644 blob " + blob + b"\t" + n + b"\0" for n in names)
    tree = subprocess.run(
        ["git", "-C", str(repo), "mktree", "-z"], input=listing, capture_output=True, check=True
    ).stdout.strip()
    cmd = ["git", "-C", str(repo), "cat-file", "tree", tree.decode()]
    data = subprocess.run(cmd, capture_output=True, check=True).stdout
    every = [e.name for e in parse_tree(data)]
    expected = [n[: -len(".yaml")] for n in every if n.endswith(".yaml")]
    assert tree_names(data, ".yaml") == expected
    assert sorted(expected) == sorted(["1.0.0", "", "a.yaml", "zoë", "\udcff\udcfe"])
    assert tree_names(data, "") == tree_names(data) == every
    assert tree_names(b"") == [] and tree_names(b"", ".yaml") == []
    odd = b"100644 a.yaml\0" + b"\0" * 20 + b"40000 b\0" + b" " * 20
    assert tree_names(odd, ".yaml") == ["a"]
