"""`gitreg validate --staged` and the `gitreg-validate` hook of .pre-commit-hooks.yaml.

`--staged` checks the index (what `git commit` would record), not HEAD and not the working
tree: a staged bad edit fails while HEAD is fine, an unstaged one does not count, and the
index, the working tree and the refs stay as they were. The hook is run by the real
pre-commit (`pre-commit try-repo` of this repository) inside a real registry, offline.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import Registry, git, tool_path

PROJECT = Path(__file__).resolve().parents[1]
VERSION_FILE = "models/churn/versions/1.0.0.yaml"


def _bad_version(reg: Registry) -> None:
    """Edit churn@1.0.0's manifest in the working tree: `version: v1.1.0`."""
    path = reg.path / VERSION_FILE
    text = path.read_text()
    assert "version: 1.0.0\n" in text
    path.write_text(text.replace("version: 1.0.0\n", "version: v1.1.0\n"))


def _state(reg: Registry) -> tuple[str, str, str]:
    """The index, the working tree and every ref: what --staged must leave alone."""
    index = git(reg.path, "ls-files", "--stage")
    return index, git(reg.path, "status", "--porcelain"), git(reg.path, "for-each-ref")


def test_staged_bad_version_fails_while_head_is_fine(registered: Registry) -> None:
    _bad_version(registered)
    registered.git("add", VERSION_FILE)
    before = _state(registered)
    res = registered.run("validate", "--staged")
    assert res.code == 1, res.out + res.err
    assert f"{VERSION_FILE}: version: 'v1.1.0' is not a SemVer 2.0 version" in res.out, res.out
    assert res.out.rstrip().endswith("at the index"), res.out
    assert _state(registered) == before  # no index, worktree or ref change
    res = registered.run("validate")
    assert res.code == 0, res.out  # HEAD itself is fine


def test_unstaged_bad_edit_does_not_count(registered: Registry) -> None:
    _bad_version(registered)
    res = registered.run("validate", "--staged", "--json")
    assert res.code == 0, res.out + res.err
    data = res.json()
    assert isinstance(data, dict) and data["ok"] is True and data["ref"] == "the index"
    assert git(registered.path, "diff", "--name-only") == VERSION_FILE  # still unstaged
    assert git(registered.path, "diff", "--cached", "--name-only") == ""


def test_staged_new_file_counts_and_base_rules_apply(registered: Registry) -> None:
    """A staged, never committed file is read; with --base, the rules between commits see
    the staged change (a version manifest is immutable once on the base)."""
    (registered.path / "models/churn/model.yaml").write_text(
        "schema: gitreg/v1\nname: churn\nlabels: {team: 7}\n"
    )
    registered.git("add", "models/churn/model.yaml")
    res = registered.run("validate", "--staged")
    assert res.code == 1 and "models/churn/model.yaml: labels.team:" in res.out, res.out
    registered.git("reset", "-q", "--hard")
    (registered.path / VERSION_FILE).write_text(
        (registered.path / VERSION_FILE).read_text().replace("author: ", "author: x")
    )
    registered.git("add", VERSION_FILE)
    assert registered.run("validate", "--staged").code == 0
    res = registered.run("validate", "--staged", "--base", "HEAD")
    assert res.code == 1 and f"{VERSION_FILE}: " in res.out, res.out


def test_hook_index_from_git_index_file(
    registered: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`git commit -a` stages into a temporary index named by GIT_INDEX_FILE: that index is
    the one checked, not .git/index."""
    _bad_version(registered)
    index = tmp_path / "commit-a-index"
    env = {**os.environ, "GIT_INDEX_FILE": str(index)}
    for args in (["read-tree", "HEAD"], ["add", VERSION_FILE]):
        subprocess.run(["git", *args], cwd=registered.path, env=env, check=True)
    assert registered.run("validate", "--staged").code == 0  # .git/index is still fine
    monkeypatch.setenv("GIT_INDEX_FILE", str(index))
    res = registered.run("validate", "--staged")
    assert res.code == 1 and f"{VERSION_FILE}: version:" in res.out, res.out


def test_staged_refuses_ref(registered: Registry) -> None:
    res = registered.run("validate", "--staged", "--ref", "main")
    assert res.code == 2 and "--staged" in res.err, res.err


def test_hooks_file_declares_the_hook() -> None:
    hooks = yaml.safe_load((PROJECT / ".pre-commit-hooks.yaml").read_text())
    (hook,) = (h for h in hooks if h["id"] == "gitreg-validate")
    assert hook["entry"] == "gitreg validate --staged"
    assert hook["pass_filenames"] is False
    assert hook["language"] == "system"  # why: docs/editors.md


def _try_repo(reg: Registry, home: Path) -> subprocess.CompletedProcess[str]:
    """The real `pre-commit try-repo <this repository> gitreg-validate` in the registry, with
    this venv's `gitreg` first on PATH (the hook is `language: system`)."""
    exe = tool_path("pre-commit")
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PATH": bin_dir + os.pathsep}
    env["PATH"] += os.environ.get("PATH", "")
    return subprocess.run(
        [exe, "try-repo", str(PROJECT), "gitreg-validate", "--color", "never"],
        cwd=reg.path,
        env=env,
        capture_output=True,
        text=True,
    )


def test_pre_commit_try_repo(registered: Registry, tmp_path: Path) -> None:
    if not (PROJECT / ".git").exists():
        pytest.skip(f"{PROJECT} is not a git checkout: pre-commit try-repo clones it")
    home = tmp_path / "pre-commit-home"
    _bad_version(registered)
    registered.git("add", VERSION_FILE)
    proc = _try_repo(registered, home)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "gitreg validate (staged)" in out and "Failed" in out, out
    assert f"{VERSION_FILE}: version: 'v1.1.0' is not a SemVer" in out, out

    # a good staged change and a bad unstaged one: the hook passes
    registered.git("reset", "-q", "--hard")
    spec = registered.path / "models/churn/model.yaml"
    spec.write_text(spec.read_text().replace("description: ", "description: x", 1))
    registered.git("add", "models/churn/model.yaml")
    _bad_version(registered)
    proc = _try_repo(registered, home)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "gitreg validate (staged)" in out and "Passed" in out, out
    assert "version: v1.1.0" in (registered.path / VERSION_FILE).read_text()  # restored


def test_installed_hook_refuses_git_commit_a(registered: Registry, tmp_path: Path) -> None:
    """The hook installed by `pre-commit install` from this repository (at its HEAD), run
    by a real `git commit -a`: git stages into a temporary index (GIT_INDEX_FILE), and that
    is the one checked; a commit of a good staged change beside a bad unstaged one passes."""
    if not (PROJECT / ".git").exists():
        pytest.skip(f"{PROJECT} is not a git checkout: pre-commit clones it")
    exe = tool_path("pre-commit")
    rev = git(PROJECT, "rev-parse", "HEAD")
    config = {"repos": [{"repo": str(PROJECT), "rev": rev, "hooks": [{"id": "gitreg-validate"}]}]}
    (registered.path / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    registered.commit_all("pre-commit config")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
    subprocess.run([exe, "install"], cwd=registered.path, env=env, check=True, capture_output=True)

    def commit(*args: str) -> subprocess.CompletedProcess[str]:
        argv = ["git", "commit", "-m", "change", *args]
        return subprocess.run(argv, cwd=registered.path, env=env, capture_output=True, text=True)

    head = git(registered.path, "rev-parse", "HEAD")
    _bad_version(registered)
    proc = commit("-a")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"{VERSION_FILE}: version: 'v1.1.0'" in proc.stdout + proc.stderr
    assert git(registered.path, "rev-parse", "HEAD") == head  # nothing was committed

    spec = registered.path / "models/churn/model.yaml"
    spec.write_text(spec.read_text().replace("description: ", "description: x", 1))
    registered.git("add", "models/churn/model.yaml")
    proc = commit()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert git(registered.path, "diff", "--name-only") == VERSION_FILE  # still unstaged
