"""Progress on artifact transfers, and output that stays clean where no one watches.

A bar is drawn only when stderr is a terminal (a real pty here, of 24x100); with stderr a
pipe or a file, register and pull print their result and nothing else: no bar, no blank
line, no escape code (DVC's colorama used to append ESC[0m to a terminal stdout on exit).
The manifest's author is chosen the way git chooses a commit's author.
"""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from conftest import Registry, make_artifact
from gitreg.ops.pull import pull_ref
from gitreg.ops.register import RegisterRequest, register

MODEL = os.urandom(300_000)


def _terminal() -> tuple[int, int]:
    """A pty (master, slave) the size of a small terminal."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    return master, slave


def _drain(fd: int, into: bytearray) -> None:
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed its end of the pty
            return
        if not chunk:
            return
        into += chunk


def gitreg(*args: str, cwd: Path, tty_out: bool, tty_err: bool) -> tuple[int, str, str]:
    """Run gitreg as a process with stdout and/or stderr on a terminal; (code, out, err)."""
    streams: list[tuple[int, int] | None] = [
        _terminal() if tty else None for tty in (tty_out, tty_err)
    ]
    targets = [s[1] if s else subprocess.PIPE for s in streams]
    proc = subprocess.Popen(
        [sys.executable, "-m", "gitreg", *args], cwd=cwd, stdout=targets[0], stderr=targets[1]
    )
    got = [bytearray(), bytearray()]
    readers = []
    for i, s in enumerate(streams):
        if s is not None:
            os.close(s[1])
            fd = s[0]
        else:
            pipe = proc.stdout if i == 0 else proc.stderr
            assert pipe is not None
            fd = pipe.fileno()
        t = threading.Thread(target=_drain, args=(fd, got[i]))
        t.start()
        readers.append(t)
    code = proc.wait(timeout=120)
    for t in readers:
        t.join(timeout=30)
    for s in streams:
        if s is not None:
            os.close(s[0])
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()
    return code, got[0].decode(), got[1].decode()


@pytest.fixture
def released(registry: Registry, tmp_path: Path) -> Registry:
    registry.register("1.0.0", make_artifact(tmp_path / "train" / "model.pkl", MODEL))
    assert registry.run("release").code == 0
    registry.git("push", "-q", "origin", "main", "--tags")
    return registry


def _pull_args(reg: Registry, out: Path) -> tuple[str, ...]:
    # by URL, into an empty cache: DVC really copies the bytes from the remote
    return ("pull", "churn@1.0.0", "--repo", reg.origin.as_uri(), "-o", str(out))


def test_pull_draws_a_bar_on_a_terminal(
    released: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITREG_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "out"
    code, stdout, stderr = gitreg(
        *_pull_args(released, out), cwd=tmp_path, tty_out=False, tty_err=True
    )
    assert code == 0, stderr
    assert "downloading:" in stderr and "293k" in stderr.lower()  # 300000 B in KiB
    assert stdout == f"Pulled churn@1.0.0 (churn@v1.0.0) into {out}: model.pkl (md5 verified)\n"
    assert (out / "model.pkl").read_bytes() == MODEL


def test_register_draws_caching_and_uploading(registry: Registry, tmp_path: Path) -> None:
    model = make_artifact(tmp_path / "train" / "model.pkl", MODEL)
    args = ("register", "churn", "--version", "1.0.0", "--artifact", str(model), "--here")
    code, stdout, stderr = gitreg(*args, cwd=registry.path, tty_out=False, tty_err=True)
    assert code == 0, stderr
    assert "caching:" in stderr
    assert "uploading to /" in stderr and "dvc-remote:" in stderr  # a long path is cut
    assert "Checking graph" not in stderr  # DVC's own spinner stays off
    assert "\x1b" not in stdout and stdout.startswith("Registered churn@1.0.0")


def test_pull_is_clean_when_stderr_is_not_a_terminal(
    released: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """stdout a terminal, stderr a pipe (`gitreg pull ... 2>log`): the case that printed
    blank lines and a stray ESC[0m."""
    monkeypatch.setenv("GITREG_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "out"
    code, stdout, stderr = gitreg(
        *_pull_args(released, out), cwd=tmp_path, tty_out=True, tty_err=False
    )
    assert code == 0, stderr
    assert stderr == ""
    assert "\x1b" not in stdout
    assert stdout.splitlines() == [
        f"Pulled churn@1.0.0 (churn@v1.0.0) into {out}: model.pkl (md5 verified)"
    ]


def test_register_and_pull_are_silent_in_pipes(released: Registry, tmp_path: Path) -> None:
    model = make_artifact(tmp_path / "m2" / "model.pkl", MODEL + b"2")
    args = ("register", "churn", "--version", "1.1.0", "--artifact", str(model), "--here")
    code, stdout, stderr = gitreg(*args, cwd=released.path, tty_out=False, tty_err=False)
    assert code == 0, stderr
    assert stderr == "" and "\x1b" not in stdout and "" not in stdout.splitlines()
    out = tmp_path / "out"
    code, stdout, stderr = gitreg(
        *_pull_args(released, out), cwd=tmp_path, tty_out=False, tty_err=False
    )
    assert code == 0, stderr
    assert stderr == "" and stdout.count("\n") == 1 and "\x1b" not in stdout


@dataclass
class Recorder:
    """A `Progress` that remembers what it heard."""

    events: list[tuple[str, ...]] = field(default_factory=list)
    last: int = 0

    def start(self, label: str, total: int) -> None:
        self.events.append(("start", label, str(total)))

    def update(self, done: int) -> None:
        assert done >= 0
        self.last = done

    def done(self) -> None:
        self.events.append(("done", str(self.last)))


def test_register_and_pull_report_their_phases(registry: Registry, tmp_path: Path) -> None:
    model = make_artifact(tmp_path / "train" / "model.pkl", MODEL)
    heard = Recorder()
    req = RegisterRequest("churn", "1.0.0", [model], here=True)
    register(registry.path, req, progress=heard)
    size = str(len(MODEL))
    assert heard.events == [
        ("start", "caching", size),
        ("done", size),
        ("start", f"uploading to {registry.remote}", size),
        ("done", size),
    ]
    assert registry.run("release").code == 0
    heard = Recorder()
    pull_ref("churn@1.0.0", str(registry.path), tmp_path / "out", progress=heard)
    assert heard.events == [("start", "downloading", size), ("done", size)]


def _author(reg: Registry, version: str) -> str:
    manifest = yaml.safe_load((reg.path / f"models/churn/versions/{version}.yaml").read_text())
    author: str = manifest["author"]
    return author


def test_author_comes_from_git_author_env_then_config(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As git: GIT_AUTHOR_NAME/EMAIL win over user.name/user.email, field by field."""
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Grace Hopper")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "grace@example.com")
    registry.register("1.0.0", make_artifact(tmp_path / "a" / "model.pkl", b"1"))
    assert _author(registry, "1.0.0") == "Grace Hopper <grace@example.com>"
    monkeypatch.delenv("GIT_AUTHOR_EMAIL")
    registry.register("1.1.0", make_artifact(tmp_path / "b" / "model.pkl", b"2"))
    assert _author(registry, "1.1.0") == "Grace Hopper <ada@example.com>"
    monkeypatch.delenv("GIT_AUTHOR_NAME")
    registry.register("1.2.0", make_artifact(tmp_path / "c" / "model.pkl", b"3"))
    assert _author(registry, "1.2.0") == "Ada Tester <ada@example.com>"


def test_object_bytes_counts_what_dvc_has_written_so_far(tmp_path: Path) -> None:
    """A download in flight is DVC's `.TOKEN.tmp` beside the object; then the object."""
    import json

    from gitreg.store.progress import object_bytes

    md5 = "ab" + "c" * 30
    shard = tmp_path / "files/md5/ab"
    shard.mkdir(parents=True)
    assert object_bytes(tmp_path, [md5]) == 0
    (shard / ".Zq3x_token.tmp").write_bytes(b"x" * 10)
    assert object_bytes(tmp_path, [md5]) == 10
    (shard / ("c" * 30)).write_bytes(b"x" * 25)
    (shard / ".Zq3x_token.tmp").unlink()
    assert object_bytes(tmp_path, [md5]) == 25
    # a directory counts the files its listing names, once the listing is there
    listing = "de" + "f" * 30
    assert object_bytes(tmp_path, [listing + ".dir"]) == 0
    (tmp_path / "files/md5/de").mkdir()
    entries = [{"relpath": "a.bin", "md5": md5}, {"relpath": "b.bin", "md5": "12" + "3" * 30}]
    (tmp_path / "files/md5/de" / ("f" * 30 + ".dir")).write_text(json.dumps(entries))
    assert object_bytes(tmp_path, [listing + ".dir"]) == 25
