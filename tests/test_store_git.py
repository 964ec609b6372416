"""gitreg.store.git: the one module that spawns git; its environment, errors and guards."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Registry, git, run
from gitreg.errors import GitError, NotFound, ToolMissing
from gitreg.store.git import Git, spawn


def _other_repo(tmp_path: Path) -> Path:
    """A second, unrelated repository with one commit (not a registry)."""
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q")
    (other / "readme.txt").write_text("not a registry\n")
    git(other, "add", "readme.txt")
    git(other, "commit", "-q", "-m", "other")
    return other


# --- a missing directory is not a missing git ----------------------------------------------


def test_missing_directory_is_not_found(tmp_path: Path) -> None:
    gone = tmp_path / "no" / "such" / "dir"
    with pytest.raises(NotFound) as info:
        Git(gone).run(["status"])
    assert info.value.kind == "directory"
    assert info.value.name == str(gone)
    assert "not installed" not in str(info.value)
    with pytest.raises(NotFound) as spawned:
        spawn(str(gone), ["cat-file", "--batch"])
    assert spawned.value.kind == "directory"


def test_cli_missing_directory_exits_3(tmp_path: Path) -> None:
    gone = tmp_path / "no" / "such" / "dir"
    res = run("list", "-C", str(gone))
    assert res.code == 3
    assert str(gone) in res.err and "no such directory" in res.err
    assert "Traceback" not in res.err + res.out
    assert "not installed" not in res.err


def test_git_not_on_path_is_tool_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(ToolMissing) as info:
        Git(tmp_path).run(["status"])
    assert info.value.tool == "git"
    assert "git is not installed" in str(info.value)


# --- run from a git hook: inherited GIT_DIR / GIT_INDEX_FILE are ignored ------------------


def test_inherited_repo_variables_are_ignored(
    registered: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = _other_repo(tmp_path)
    head = registered.git("rev-parse", "HEAD")  # before the variables: conftest's git obeys them
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    monkeypatch.setenv("GIT_INDEX_FILE", str(other / ".git" / "index"))
    res = run("list", "-C", str(registered.path), "--json")
    assert res.code == 0, res.err
    data = res.json()
    assert isinstance(data, list) and [m["name"] for m in data] == ["churn"]
    res = run("validate", "-C", str(registered.path))
    assert res.code == 0, res.err + res.out
    # the low-level wrapper, too, reads the repository it was given
    assert Git(registered.path).toplevel() == registered.path.resolve()
    assert Git(registered.path).rev_parse("HEAD") == head


def test_pre_commit_hook_validates_another_registry(registered: Registry, tmp_path: Path) -> None:
    other = _other_repo(tmp_path)
    log = tmp_path / "hook.log"
    hook = other / ".git" / "hooks" / "pre-commit"
    hook.write_text(
        "#!/bin/sh\n"
        f"env | grep '^GIT_' > '{log}'\n"
        f"exec '{sys.executable}' -m gitreg validate -C '{registered.path}'\n"
    )
    hook.chmod(0o755)
    (other / "readme.txt").write_text("changed\n")
    # --git-dir/--work-tree make git export GIT_DIR and GIT_WORK_TREE to the hook; `-a`
    # makes GIT_INDEX_FILE the other repository's index.lock
    proc = subprocess.run(
        [
            "git",
            f"--git-dir={other / '.git'}",
            f"--work-tree={other}",
            "commit",
            "-q",
            "-a",
            "-m",
            "through the hook",
        ],
        cwd=other,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    seen = log.read_text()
    assert "GIT_DIR=" in seen and "GIT_INDEX_FILE=" in seen  # the hook really inherited them
    assert git(other, "log", "-1", "--format=%s") == "through the hook"
    # and a failing registry makes the hook refuse the commit
    bad = registered.path / "models" / "churn" / "versions" / "1.0.0.yaml"
    bad.write_text(bad.read_text().replace("version: 1.0.0", "version: not-semver"))
    registered.commit_all("break the manifest")
    (other / "readme.txt").write_text("changed again\n")
    proc = subprocess.run(
        ["git", "commit", "-q", "-a", "-m", "refused"], cwd=other, capture_output=True, text=True
    )
    assert proc.returncode != 0
    assert git(other, "log", "-1", "--format=%s") == "through the hook"


# --- commits from objects alone -------------------------------------------------------------


def _snapshot_state(reg: Registry) -> tuple[str, str, str, str]:
    index = hashlib.sha256((reg.path / ".git" / "index").read_bytes()).hexdigest()
    return (
        reg.git("status", "--porcelain", "--untracked-files=all"),
        reg.git("for-each-ref"),
        reg.git("rev-parse", "HEAD"),
        index,
    )


def test_commit_files_touches_nothing_until_update_ref(registry: Registry) -> None:
    g = Git(registry.path)
    base = registry.git("rev-parse", "HEAD")
    before = _snapshot_state(registry)
    commit = g.commit_files(base, {"notes/new.txt": b"hello\n", "README.md": b"replaced\n"}, "m")
    assert _snapshot_state(registry) == before
    assert not (registry.path / "notes").exists()
    assert registry.git("cat-file", "-p", f"{commit}:notes/new.txt") == "hello"
    assert registry.git("cat-file", "-p", f"{commit}:README.md") == "replaced"
    assert registry.git("rev-parse", f"{commit}^") == base
    assert registry.git("log", "-1", "--format=%B", commit) == "m"
    # files of the base the commit did not name are kept
    kept = registry.git("ls-tree", "-r", "--name-only", base).splitlines()
    now = registry.git("ls-tree", "-r", "--name-only", commit).splitlines()
    assert set(kept) | {"notes/new.txt"} == set(now)

    g.update_ref("refs/heads/side", commit, "", "test: create")
    assert registry.git("rev-parse", "refs/heads/side") == commit
    status, _, head, index = _snapshot_state(registry)
    assert (status, head, index) == (before[0], before[2], before[3])
    with pytest.raises(GitError) as info:
        g.update_ref("refs/heads/side", base, "", "test: must not exist")
    assert info.value.argv[0] == "update-ref"
    assert registry.git("rev-parse", "refs/heads/side") == commit
    # moving from the wrong old value is refused too; from the right one it works
    with pytest.raises(GitError):
        g.update_ref("refs/heads/side", base, base, "test: wrong old")
    g.update_ref("refs/heads/side", base, commit, "test: right old")
    assert registry.git("rev-parse", "refs/heads/side") == base


# --- refs and paths after --end-of-options ---------------------------------------------------


@pytest.mark.parametrize("kind", ["rev_parse", "blob_at", "config_get"])
def test_option_like_values_are_not_options(
    registered: Registry, tmp_path: Path, kind: str
) -> None:
    g = Git(registered.path)
    target = tmp_path / "x"
    values = [f"--output={target}", "--all", "-h", "--git-dir", "--show-toplevel"]
    for value in values:
        if kind == "rev_parse":
            got = g.rev_parse(value)
        elif kind == "blob_at":
            got = g.blob_at(value, "gitreg.yaml")
        else:
            got = g.config_get(value)
        assert got is None, (kind, value, got)
    assert not target.exists()
    # the same calls answer for real values
    head = registered.git("rev-parse", "HEAD")
    assert g.rev_parse("HEAD") == head
    assert g.blob_at(head, "gitreg.yaml") == registered.git("rev-parse", "HEAD:gitreg.yaml")
    assert g.blob_at(head, "no/such/file") is None
    assert g.config_get("remote.origin.url") == registered.origin.as_uri()
