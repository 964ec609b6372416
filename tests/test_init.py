"""`gitreg init`: a ready registry, or a clear refusal that leaves nothing behind."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from conftest import git, run, tool_path


def test_init_new_directory(tmp_path: Path) -> None:
    res = run(
        "init",
        str(tmp_path / "reg"),
        "--owner",
        "@acme/ml",
        "--github-repo",
        "acme/models",
        "--json",
    )
    assert res.code == 0, res.err
    reg = tmp_path / "reg"
    data = res.json()
    assert isinstance(data, dict)
    assert data["remote"] == str(tmp_path / "reg-dvc-remote")
    assert (tmp_path / "reg-dvc-remote").is_dir()
    assert git(reg, "log", "--format=%s") == "Initialize gitreg registry"
    assert git(reg, "status", "--porcelain") == ""
    assert git(reg, "branch", "--show-current") == "main"
    tracked = git(reg, "ls-files").splitlines()
    for f in (
        "gitreg.yaml",
        ".dvc/config",
        ".dvcignore",
        ".github/CODEOWNERS",
        "README.md",
        ".github/workflows/validate.yml",
        ".github/workflows/evaluate.yml",
        ".github/workflows/release.yml",
        "models/.gitkeep",
        "data/.gitkeep",
    ):
        assert f in tracked, f
    cfg = yaml.safe_load((reg / "gitreg.yaml").read_text())
    assert [s["name"] for s in cfg["stages"]] == ["staging", "production"]
    assert cfg["stages"][1]["requires"] == "staging"
    assert cfg["github"] == {"repo": "acme/models"}
    assert "@acme/ml" in (reg / ".github/CODEOWNERS").read_text()
    assert f"url = {tmp_path / 'reg-dvc-remote'}" in (reg / ".dvc/config").read_text()
    for wf in ("validate", "evaluate", "release"):
        doc = yaml.safe_load((reg / f".github/workflows/{wf}.yml").read_text())
        steps = doc["jobs"][wf]["steps"]
        assert steps[0]["with"]["fetch-depth"] == 0
    assert run("validate", "-C", str(reg)).code == 0
    assert run("list", "-C", str(reg), "--json").json() == []


def test_init_refuses_non_empty_directory(tmp_path: Path) -> None:
    target = tmp_path / "stuff"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    res = run("init", str(target))
    assert res.code == 3
    assert "is not empty and not the top of a git repository" in res.err
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]
    assert not (tmp_path / "stuff-dvc-remote").exists()


def test_init_adds_to_existing_repo_and_keeps_staged_work(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "train.py").write_text("print('hi')\n")
    git(repo, "add", "train.py")
    git(repo, "commit", "-qm", "code")
    (repo / "wip.py").write_text("staged\n")
    git(repo, "add", "wip.py")
    res = run("init", str(repo))
    assert res.code == 0, res.err
    assert git(repo, "log", "-1", "--format=%s") == "Initialize gitreg registry"
    assert "wip.py" not in git(repo, "show", "--name-only", "--format=", "HEAD")
    assert git(repo, "status", "--porcelain") == "A  wip.py"
    res = run("init", str(repo))
    assert res.code == 3 and "already holds a registry" in res.err


def test_init_bad_remote_leaves_nothing(tmp_path: Path) -> None:
    res = run("init", str(tmp_path / "reg"), "--remote", "nosuchscheme://bucket/x")
    assert res.code == 3, res.err
    assert "--remote 'nosuchscheme://bucket/x'" in res.err
    assert "Traceback" not in res.err
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("home")) == []


def test_init_accepts_cloud_urls(tmp_path: Path) -> None:
    res = run("init", str(tmp_path / "reg"), "--remote", "s3://acme-models/registry")
    assert res.code == 0, res.err
    assert "url = s3://acme-models/registry" in (tmp_path / "reg/.dvc/config").read_text()


def test_dvc_itself_reads_the_registry(tmp_path: Path) -> None:
    run("init", str(tmp_path / "reg"))
    out = subprocess.run(
        [tool_path("dvc"), "remote", "list"], cwd=tmp_path / "reg", capture_output=True, text=True
    )
    assert out.returncode == 0 and str(tmp_path / "reg-dvc-remote") in out.stdout
