"""Faults: release and pull killed (SIGKILL) or interrupted (Ctrl-C) at chosen moments, an
origin that refuses tag pushes, bytes changed in the DVC remote, tags tampered with on origin.

Real git, real DVC, a bare file:// origin, gitreg as a real process. A release is stopped
by a `git` shim first on its PATH: it forwards to the real git and, at the chosen git
subcommand, signals gitreg right before, during or after running it. A pull is stopped when
a chosen file appears (DVC writing the object; the download done, not yet verified).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import Registry, copy_registry, git, make_artifact
from conftest import set_stages as _stages

TIMEOUT = 120
V1 = b"\x80\x04K\x01."  # conftest's `train` model: churn@1.0.0
V11 = b"model one-one"
SHIM = """#!/bin/sh
sub=; skip=
for a in "$@"; do
  if [ -n "$skip" ]; then skip=; continue; fi
  case "$a" in -c|-C) skip=1 ;; -*) ;; *) sub=$a; break ;; esac
done
if [ "$sub" = "$FAULT_CMD" ] && mkdir "$FAULT_MARK" 2>/dev/null; then
  trap '' INT
  case "$FAULT_WHEN" in after) REAL "$@" ;; during) REAL "$@" & sleep 0.05 ;; esac
  if [ "$FAULT_SIG" = KILL ]; then kill -KILL "$PPID"; else kill -INT 0; fi
  sleep 30; exit 1
fi
exec REAL "$@"
"""


def _cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "gitreg", *args]
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT)


def _spawn(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """gitreg in a session of its own: Ctrl-C reaches its process group, as in a terminal."""
    cmd = [sys.executable, "-m", "gitreg", *args]
    return subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip


def _end(proc: subprocess.Popen[str]) -> str:
    """Kill what is left of the process group (the shim's sleep, a pushing git), then wait."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    _, err = proc.communicate(timeout=TIMEOUT)
    return err


def _url(tmp: Path) -> dict[str, str]:
    return {**os.environ, "GITREG_CACHE_DIR": str(tmp / "cache")}


def _tags(url: str) -> list[str]:
    """Every tag of `url`: object id, name, peeled commit (`^{}`), as ls-remote says."""
    return sorted(git(Path.cwd(), "ls-remote", "--tags", url).splitlines())


def _tree(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in path.rglob("*") if p.is_file()}


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


KILLED = {"KILL": -signal.SIGKILL, "INT": 130}  # Ctrl-C: gitreg's exit code 130

# -- release --push interrupted, or refused -------------------------------------------------


@pytest.fixture
def pending(registered: Registry, train: Path) -> Registry:
    """churn 1.0.0 released and pushed; then on main, pushed, not released: a stage change,
    a new registration (1.1.0) and a promotion, so the release writes several tags."""
    assert _cli("release", "--push", cwd=registered.path).returncode == 0
    _stages(registered, {"staging": "1.0.0"}, "stage 1.0.0")
    registered.register("1.1.0", make_artifact(train.parent / "v11" / "model.pkl", V11))
    _stages(registered, {"staging": "1.1.0", "production": "1.0.0"}, "promote")
    registered.git("push", "-q", "origin", "main")
    return registered


def _reference(reg: Registry, tmp: Path) -> list[str]:
    """The origin's tags after an undisturbed `release --push` of the same state."""
    origin = tmp / "ref-origin.git"
    shutil.copytree(reg.origin, origin)
    res = _cli("release", "--push", "--remote", origin.as_uri(), cwd=copy_registry(reg, tmp).path)
    assert res.returncode == 0, res.stderr
    return _tags(origin.as_uri())


MOMENTS = [
    ("ls-remote", "before"),
    ("update-ref", "after"),  # the local tags written, not pushed
    ("push", "before"),
    ("push", "during"),  # gitreg stopped while git push runs; _end then kills the push
    ("push", "after"),  # published; gitreg stopped before it could say so
]


@pytest.mark.parametrize("sig", ["KILL", "INT"], ids=["kill-9", "ctrl-c"])
@pytest.mark.parametrize(("cmd", "when"), MOMENTS, ids=[f"{w}-{c}" for c, w in MOMENTS])
def test_release_push_interrupted_publishes_all_or_none(
    pending: Registry, tmp_path: Path, cmd: str, when: str, sig: str
) -> None:
    url = pending.origin.as_uri()
    before, expected = _tags(url), _reference(pending, tmp_path / "ref")
    assert len(expected) == len(before) + 6  # three new annotated tags: "part" would show
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "git").write_text(SHIM.replace("REAL", shutil.which("git") or "git"))
    (shim / "git").chmod(0o755)
    env = {**os.environ, "PATH": f"{shim}{os.pathsep}{os.environ['PATH']}", "FAULT_SIG": sig}
    env |= {"FAULT_CMD": cmd, "FAULT_WHEN": when, "FAULT_MARK": str(shim / "fired")}
    proc = _spawn(["release", "--push"], pending.path, env)
    proc.wait(timeout=TIMEOUT)
    err = _end(proc)
    assert (shim / "fired").is_dir(), f"the shim never saw `git {cmd}`: {err}"
    assert proc.returncode == KILLED[sig], err
    published = _tags(url)
    assert published in (before, expected)  # never a part
    if when != "during":
        assert published == (expected if (cmd, when) == ("push", "after") else before)
    retry = _cli("release", "--push", cwd=pending.path)
    assert retry.returncode == 0, retry.stderr
    assert _tags(url) == expected
    names = sorted({line.split("refs/tags/")[1].removesuffix("^{}") for line in expected})
    assert pending.git("tag", "--list").splitlines() == names
    git(tmp_path, "clone", "-q", url, str(tmp_path / "clone"))
    doctor = _cli("doctor", cwd=tmp_path / "clone")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr


def _update_hook(reg: Registry, once: bool) -> None:
    """An `update` hook in the bare origin refusing refs/tags/* (with `once`: the first time
    only, keyed on a marker file)."""
    marker = reg.origin / "refused-once"
    gate = f"[ -e '{marker}' ] && exit 0; touch '{marker}'; " if once else ""
    hook = reg.origin / "hooks" / "update"
    hook.write_text(
        f'#!/bin/sh\ncase "$1" in refs/tags/*) {gate}echo "no: $1" >&2; exit 1;; esac\n'
    )
    hook.chmod(0o755)


def test_push_refused_once_is_retried(pending: Registry, tmp_path: Path) -> None:
    expected = _reference(pending, tmp_path / "ref")
    _update_hook(pending, once=True)
    res = _cli("release", "--push", "--json", cwd=pending.path)
    assert res.returncode == 0, res.stderr
    assert (pending.origin / "refused-once").exists() and '"attempts": 2' in res.stdout
    assert _tags(pending.origin.as_uri()) == expected


def test_push_always_refused_leaves_no_local_tags(pending: Registry) -> None:
    before_local, before_origin = pending.git("tag", "--list"), _tags(pending.origin.as_uri())
    _update_hook(pending, once=False)
    res = _cli("release", "--push", cwd=pending.path)
    assert res.returncode == 3, res.stderr
    assert "could not push the release tags" in res.stderr and "no: refs/tags/" in res.stderr
    assert pending.git("tag", "--list") == before_local == "churn@v1.0.0"
    assert _tags(pending.origin.as_uri()) == before_origin


# -- pull interrupted ------------------------------------------------------------------------


@pytest.fixture
def big(registered: Registry, tmp_path: Path) -> Registry:
    """churn 1.0.0 (production) and 2.0.0, 50 MB of random bytes (staging); released."""
    registered.register(
        "2.0.0", make_artifact(tmp_path / "big" / "model.pkl", os.urandom(50 * 2**20))
    )
    _stages(registered, {"production": "1.0.0", "staging": "2.0.0"}, "stage 2.0.0")
    registered.git("push", "-q", "origin", "main")
    assert _cli("release", "--push", cwd=registered.path).returncode == 0
    return registered


MOMENT_FILES = {
    "download": "cache/gitreg/dvc-cache/files/md5/*/*.tmp",  # DVC writing the object
    # copied from the cache and hashed as it is written (ops/pull.py, store/dvcproject.py)
    "verify": "deploy/.gitreg-pull-*/out/model.pkl",
}


def _pull_stopped(reg: Registry, tmp: Path, moment: str, sig: str, *extra: str) -> int:
    """`gitreg pull churn@staging -o deploy/model` by URL, signalled at `moment`."""
    args = ["pull", "churn@staging", "-o", "deploy/model", "--repo", reg.origin.as_uri()]
    proc = _spawn([*args, *extra], tmp, _url(tmp))
    try:
        deadline = time.monotonic() + TIMEOUT
        while proc.poll() is None and not any(tmp.glob(MOMENT_FILES[moment])):
            assert time.monotonic() < deadline
            time.sleep(0.001)
        assert proc.poll() is None, f"the pull ended before {moment}"
        os.killpg(proc.pid, signal.SIGKILL if sig == "KILL" else signal.SIGINT)
        proc.wait(timeout=TIMEOUT)
    finally:
        _end(proc)
    return proc.returncode


def _pull(reg: Registry, tmp: Path, *extra: str) -> list[str]:
    """The same pull, undisturbed (asserted to succeed); what deploy/ then holds."""
    args = ["pull", "churn@staging", "-o", "deploy/model", "--repo", reg.origin.as_uri()]
    res = _cli(*args, *extra, cwd=tmp, env=_url(tmp))
    assert res.returncode == 0, res.stderr
    assert _tree(tmp / "deploy/model") == {"model.pkl": (tmp / "big" / "model.pkl").read_bytes()}
    return sorted(p.name for p in (tmp / "deploy").iterdir())


@pytest.mark.parametrize("force", [False, True], ids=["new-dest", "force"])
@pytest.mark.parametrize("sig", ["KILL", "INT"], ids=["kill-9", "ctrl-c"])
@pytest.mark.parametrize("moment", ["download", "verify"])
def test_pull_interrupted_leaves_dest_as_it_was(
    big: Registry, tmp_path: Path, moment: str, sig: str, force: bool
) -> None:
    dest = tmp_path / "deploy" / "model"
    if force:  # what runs now: churn@1.0.0
        assert _cli("pull", "churn@production", "-o", str(dest), cwd=big.path).returncode == 0
    extra = ["--force"] if force else []
    assert _pull_stopped(big, tmp_path, moment, sig, *extra) == KILLED[sig]
    if force:
        assert _tree(dest) == {"model.pkl": V1}
    else:
        assert not dest.exists()
    if sig == "INT":  # cleaned up on the way out
        assert sorted(p.name for p in dest.parent.iterdir()) == (["model"] if force else [])
    _pull(big, tmp_path, *extra)  # the retry, with the same gitreg cache


def test_pull_killed_leaves_no_temp_folder_after_the_next_pull(
    big: Registry, tmp_path: Path
) -> None:
    assert _pull_stopped(big, tmp_path, "verify", "KILL") == -signal.SIGKILL
    assert _pull(big, tmp_path) == ["model"]


# -- the DVC remote and the tags tampered with ----------------------------------------------


@pytest.fixture
def released(registered: Registry, train: Path) -> Registry:
    """churn 1.0.0, then 1.1.0, in staging, each released and pushed: churn@v1.0.0,
    churn#staging#1, churn@v1.1.0, churn#staging!#2, churn#staging#3."""
    _stages(registered, {"staging": "1.0.0"}, "stage 1.0.0")
    assert _cli("release", "--push", cwd=registered.path).returncode == 0
    registered.register("1.1.0", make_artifact(train.parent / "v11" / "model.pkl", V11))
    _stages(registered, {"staging": "1.1.0"}, "promote 1.1.0")
    registered.git("push", "-q", "origin", "main")
    assert _cli("release", "--push", cwd=registered.path).returncode == 0
    return registered


def test_bytes_changed_in_dvc_remote_refused(released: Registry, tmp_path: Path) -> None:
    obj = released.remote / "files/md5" / _md5(V1)[:2] / _md5(V1)[2:]
    cache = released.path / ".dvc/cache/files/md5" / _md5(V1)[:2] / _md5(V1)[2:]
    obj.chmod(0o644)
    with open(obj, "r+b") as fh:  # in place: a cache object linked to it would change too
        fh.write(b"X")
    url, env = released.origin.as_uri(), _url(tmp_path)
    old = make_artifact(tmp_path / "deploy" / "old" / "model.pkl", b"what runs now").parent
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", url, str(clone))  # a checkout with an empty DVC cache
    for dest, extra in (("new", ["--repo", url]), ("old", ["--repo", url, "--force"]), ("new", [])):
        out = str(tmp_path / "deploy" / dest)
        res = _cli("pull", "churn@1.0.0", "-o", out, *extra, cwd=clone, env=env)
        assert res.returncode == 3, res.stdout + res.stderr
        assert "does not match" in res.stderr and "Traceback" not in res.stderr
        assert [p.name for p in old.parent.iterdir()] == ["old"]
        assert _tree(old) == {"model.pkl": b"what runs now"}
    assert _md5(cache.read_bytes()) == _md5(V1)  # the user's cache keeps the good object
    res = _cli("pull", "churn@1.0.0", "-o", str(tmp_path / "ok"), cwd=released.path)
    assert res.returncode == 0 and _tree(tmp_path / "ok") == {"model.pkl": V1}, res.stderr
    obj.write_bytes(V1)  # the remote repaired: no cache kept the bad bytes
    for where, cwd in ((["--repo", url], tmp_path), ([], clone)):
        fixed = tmp_path / f"fixed-{cwd.name}"
        res = _cli("pull", "churn@1.0.0", "-o", str(fixed), *where, cwd=cwd, env=env)
        assert res.returncode == 0 and _tree(fixed) == {"model.pkl": V1}, res.stderr


def _retag(evil: Path, tag: str, commit: str, message_of: str) -> None:
    """Force-push `tag` to origin, annotated, on `commit`, with `message_of`'s message."""
    msg = evil.parent / "msg"
    msg.write_text(git(evil, "for-each-ref", "--format=%(contents)", f"refs/tags/{message_of}"))
    git(evil, "tag", "-f", "-a", "--cleanup=verbatim", "-F", str(msg), tag, commit)
    git(evil, "push", "-q", "-f", "origin", f"refs/tags/{tag}")


def _tamper(reg: Registry, tmp: Path, how: str) -> None:
    """From a clone of origin, as someone with push access (not through `gitreg release`)."""
    evil, v1 = tmp / "evil", "churn@v1.0.0^{commit}"
    git(tmp, "clone", "-q", reg.origin.as_uri(), str(evil))
    if how.startswith("deleted"):
        doomed = ["churn#staging#3"] + (["churn#staging!#2"] if how == "deleted-both" else [])
        git(evil, "push", "-q", "origin", *[f":refs/tags/{t}" for t in doomed])
    elif how == "moved":
        _retag(evil, "churn#staging#3", v1, "churn#staging#3")
    elif how == "replayed":  # moved, with the message of the tag that put 1.0.0 there
        _retag(evil, "churn#staging#3", v1, "churn#staging#1")
    else:  # 1.1.0's manifest and .dvc pointer made to name 1.0.0's object, off main
        git(evil, "checkout", "-q", "--detach", "churn@v1.1.0^{commit}")
        for rel in ("versions/1.1.0.yaml", "artifacts/1.1.0/model.pkl.dvc"):
            path = evil / "models/churn" / rel
            text = path.read_text().replace(_md5(V11), _md5(V1))
            path.write_text(text.replace(f"size: {len(V11)}", f"size: {len(V1)}"))
        git(evil, "commit", "-q", "-am", "1.1.0 is other bytes")
        _retag(evil, "churn@v1.1.0", "HEAD", "churn@v1.1.0")
        if how == "repointed-with-stage":
            _retag(evil, "churn#staging#3", "HEAD", "churn#staging#3")


TAMPERED = [
    ("deleted", "churn@staging", "churn#staging"),
    ("deleted-both", "churn@staging", "churn#staging"),
    ("moved", "churn@staging", "churn#staging#3"),
    ("replayed", "churn@staging", "churn#staging#3"),
    ("repointed", "churn@1.1.0", "churn@v1.1.0"),
    ("repointed-with-stage", "churn@staging", "churn#staging#3"),
]  # fmt: skip


@pytest.mark.parametrize(("how", "ref", "tag"), TAMPERED)
def test_tampered_tags_on_origin_refused(
    released: Registry, tmp_path: Path, how: str, ref: str, tag: str
) -> None:
    url, env = released.origin.as_uri(), _url(tmp_path)
    warm = _cli("resolve", ref, "--verify", "--repo", url, cwd=tmp_path, env=env)
    assert warm.returncode == 0, warm.stderr  # the cache holds the good tags now
    _tamper(released, tmp_path, how)
    res = _cli("resolve", ref, "--verify", "--repo", url, cwd=tmp_path, env=env)
    assert res.returncode == 1, res.stdout + res.stderr
    assert f"error: {tag}" in res.stderr and "refused by --verify" in res.stderr
    dest = tmp_path / "deploy" / "model"
    res = _cli("pull", ref, "-o", str(dest), "--repo", url, cwd=tmp_path, env=env)
    assert res.returncode == 1, res.stdout + res.stderr
    assert f"error: {tag}" in res.stderr and "refused by --verify" in res.stderr
    assert not dest.parent.exists()
    if how == "repointed":  # the tampering matters: unverified, 1.0.0's bytes come as 1.1.0
        res = _cli(
            "pull", ref, "-o", str(dest), "--repo", url, "--no-verify", cwd=tmp_path, env=env
        )
        assert res.returncode == 0 and _tree(dest) == {"model.pkl": V1}, res.stderr
