"""Shared fixtures: isolated git/DVC environment and real registries with a bare origin.

Nothing here mocks git or DVC: every registry is a real repository with a real DVC
project whose remote is a local folder, and a bare `file://` origin.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from gitreg.cli import cli, main

ENV = {
    "GIT_AUTHOR_NAME": "Ada Tester",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada Tester",
    "GIT_COMMITTER_EMAIL": "ada@example.com",
    "GIT_AUTHOR_DATE": "2026-01-02T03:04:05Z",
    "GIT_COMMITTER_DATE": "2026-01-02T03:04:05Z",
    "GIT_CONFIG_NOSYSTEM": "1",
    "DVC_NO_ANALYTICS": "1",
    "SOURCE_DATE_EPOCH": "1767323045",
    "GITHUB_TOKEN": "",
    "GH_TOKEN": "",
}


def isolate(mp: pytest.MonkeyPatch, home: Path) -> None:
    """A HOME and global git config of the test's own; fixed identities and dates; no
    GitHub or Actions variables from the machine. Module-scoped fixtures call it too."""
    home.mkdir(parents=True, exist_ok=True)
    gitconfig = home / ".gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Ada Tester\n\temail = ada@example.com\n"
        '[init]\n\tdefaultBranch = main\n[protocol "file"]\n\tallow = always\n'
    )
    mp.setenv("HOME", str(home))
    mp.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    mp.setenv("DVC_SITE_CACHE_DIR", str(home / "dvc-site-cache"))
    mp.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    for k, v in ENV.items():
        mp.setenv(k, v)
    for var in (
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "GITHUB_ACTIONS",
        "GITHUB_STEP_SUMMARY",
        "GITHUB_EVENT_PATH",
        "GITHUB_REPOSITORY",
        "GITHUB_API_URL",
        "GITHUB_SERVER_URL",
        "GITREG_CACHE_DIR",
    ):
        mp.delenv(var, raising=False)
    # urllib honours *_proxy variables: keep the fake GitHub on 127.0.0.1 reached directly
    for name in ("http_proxy", "https_proxy", "all_proxy"):
        mp.delenv(name, raising=False)
        mp.delenv(name.upper(), raising=False)
    mp.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture(autouse=True)
def isolated(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test runs isolated (see `isolate`)."""
    home = tmp_path_factory.mktemp("home")
    isolate(monkeypatch, home)
    return home


def git(cwd: Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    assert out.returncode == 0, f"git {' '.join(args)}: {out.stderr}"
    return out.stdout.strip()


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> object:
        return json.loads(self.out)


def run(*args: str, cwd: Path | None = None) -> Result:
    """Run the CLI in-process through `main` (the real exit-code handler)."""
    runner = CliRunner()
    old = os.getcwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        # CliRunner captures click.echo; main() maps exceptions to codes like the console script
        holder: dict[str, int] = {}

        def entry() -> None:
            holder["code"] = main(list(args))

        import click

        cmd = click.Command("gitreg", callback=entry)
        res = runner.invoke(cmd, [], catch_exceptions=False)
        return Result(holder.get("code", res.exit_code), res.stdout, res.stderr)
    finally:
        os.chdir(old)


def run_process(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a real process, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "gitreg", *args], cwd=cwd, capture_output=True, text=True
    )


@dataclass
class Registry:
    path: Path
    remote: Path  # DVC remote folder
    origin: Path  # bare git origin

    def git(self, *args: str) -> str:
        return git(self.path, *args)

    def run(self, *args: str) -> Result:
        return run(*args, "-C", str(self.path)) if _takes_repo(args) else run(*args, cwd=self.path)

    def register(self, version: str, artifact: Path, *extra: str, name: str = "churn") -> Result:
        """`gitreg register NAME --version V --artifact A --here ...`, asserted to succeed."""
        res = self.run(
            "register", name, "--version", version, "--artifact", str(artifact), "--here", *extra
        )
        assert res.code == 0, res.err
        return res

    def commit_all(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD")


def _takes_repo(args: tuple[str, ...]) -> bool:
    return bool(args) and args[0] not in ("init", "schema")


def make_artifact(path: Path, content: bytes = b"model-bytes") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    """A fresh registry with a local DVC remote and a bare file:// origin."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    remote = tmp_path / "dvc-remote"
    res = run("init", str(tmp_path / "reg"), "--remote", str(remote))
    assert res.code == 0, res.err
    reg = Registry(tmp_path / "reg", remote, origin)
    reg.git("remote", "add", "origin", origin.as_uri())
    reg.git("push", "-q", "origin", "main")
    yield reg


@pytest.fixture
def train(tmp_path: Path) -> Path:
    """A training output folder: model file, metrics, params."""
    d = tmp_path / "train"
    make_artifact(d / "model.pkl", b"\x80\x04K\x01.")
    (d / "metrics.json").write_text(json.dumps({"f1": 0.91, "accuracy": 0.93}))
    (d / "params.yaml").write_text("C: 1.0\nsolver: lbfgs\n")
    return d


@pytest.fixture
def registered(registry: Registry, train: Path) -> Registry:
    """A registry holding churn@1.0.0 on main, pushed to origin."""
    registry.register(
        "1.0.0",
        train / "model.pkl",
        "--metrics",
        str(train / "metrics.json"),
        "--params",
        str(train / "params.yaml"),
    )
    registry.git("push", "-q", "origin", "main")
    return registry


def copy_registry(src: Registry, dest: Path) -> Registry:
    shutil.copytree(src.path, dest / "reg", symlinks=True)
    return Registry(dest / "reg", src.remote, src.origin)


__all__ = [
    "ENV",
    "Registry",
    "Result",
    "cli",
    "git",
    "isolate",
    "make_artifact",
    "run",
    "run_process",
]
