"""gitreg.ops.pull: verified, atomic downloads of released versions, from a path or a URL."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from conftest import Registry, git, make_artifact, run
from conftest import set_stages as _stages
from gitreg.errors import ArtifactError
from gitreg.store import verified
from gitreg.store.dvcproject import verify_output
from gitreg.store.verified import copy_checked

V1_BYTES = b"\x80\x04K\x01."  # conftest's `train` model: churn@1.0.0
V11_BYTES = b"model one-one"
SCP_URL = "git@github.com:acme/models.git"


@pytest.fixture
def released(registered: Registry, tmp_path: Path) -> Registry:
    """churn 1.0.0 (production) and 1.1.0 (staging); released and pushed to origin."""
    registered.register("1.1.0", make_artifact(tmp_path / "v11" / "model.pkl", V11_BYTES))
    _stages(registered, {"staging": "1.0.0"}, "stage 1.0.0")
    _stages(registered, {"staging": "1.1.0", "production": "1.0.0"}, "promote")
    registered.git("push", "-q", "origin", "main")
    assert registered.run("release", "--push").code == 0
    git(registered.origin, "symbolic-ref", "HEAD", "refs/heads/main")
    return registered


def _remote_object(reg: Registry, content: bytes) -> Path:
    digest = hashlib.md5(content).hexdigest()
    return reg.remote / "files" / "md5" / digest[:2] / digest[2:]


def _drop_local_cache(reg: Registry, content: bytes) -> None:
    digest = hashlib.md5(content).hexdigest()
    (reg.path / ".dvc" / "cache" / "files" / "md5" / digest[:2] / digest[2:]).unlink()


def _tamper(reg: Registry, content: bytes) -> None:
    obj = _remote_object(reg, content)
    obj.chmod(0o644)
    obj.write_bytes(b"tampered bytes")


def _tree(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in path.rglob("*") if p.is_file()}


# --- scp-like URLs are URLs ----------------------------------------------------------------


def test_scp_like_url_resolves_and_pulls(
    released: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: pull took a repo without '://' for a local path."""
    monkeypatch.setenv("GITREG_CACHE_DIR", str(tmp_path / "cache"))
    git(tmp_path, "config", "--global", f"url.{released.origin.as_uri()}.insteadOf", SCP_URL)
    monkeypatch.setenv("GIT_SSH_COMMAND", "false")  # were the URL not rewritten: no network
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    res = run("resolve", "churn@production", "-C", SCP_URL, "--json", cwd=elsewhere)
    assert res.code == 0, res.err
    data = res.json()
    assert isinstance(data, dict)
    assert (data["version"], data["tag"]) == ("1.0.0", "churn#production#2")
    assert data["commit"] == released.git("rev-parse", "churn@v1.0.0^{commit}")

    out = tmp_path / "out"
    res = run("pull", "churn@production", "-C", SCP_URL, "-o", str(out), "--json", cwd=elsewhere)
    assert res.code == 0, res.err
    assert _tree(out) == {"model.pkl": V1_BYTES}
    pulled = res.json()
    assert isinstance(pulled, dict) and pulled["files"] == ["model.pkl"]
    # through gitreg's cache of the URL, not through a directory named like the URL
    assert not (elsewhere / SCP_URL).exists()
    assert list((tmp_path / "cache" / "gitreg" / "repos").iterdir())


def test_file_url_pull_without_local_cache(
    released: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITREG_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "out"
    res = run("pull", "churn@staging", "-C", released.origin.as_uri(), "-o", str(out))
    assert res.code == 0, res.err
    assert _tree(out) == {"model.pkl": V11_BYTES}


# --- the destination ------------------------------------------------------------------------


def test_non_empty_destination_refused_then_forced(released: Registry, tmp_path: Path) -> None:
    dest = tmp_path / "deploy"
    make_artifact(dest / "old.txt", b"old")
    make_artifact(dest / "sub" / "keep.bin", b"nested")
    before = _tree(dest)
    res = released.run("pull", "churn@staging", "-o", str(dest))
    assert res.code == 3
    assert f"{dest} exists and is not empty" in res.err and "--force" in res.err
    assert _tree(dest) == before
    res = released.run("pull", "churn@staging", "-o", str(dest), "--force")
    assert res.code == 0, res.err
    assert _tree(dest) == {"model.pkl": V11_BYTES}  # replaced, not merged
    assert sorted(p.name for p in dest.parent.iterdir() if p.name.startswith(".gitreg")) == []


def test_empty_destination_and_a_file_in_the_way(released: Registry, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert released.run("pull", "churn@production", "-o", str(empty)).code == 0
    assert _tree(empty) == {"model.pkl": V1_BYTES}
    a_file = tmp_path / "a-file"
    a_file.write_bytes(b"not a dir")
    res = released.run("pull", "churn@production", "-o", str(a_file))
    assert res.code == 3 and "exists and is not empty" in res.err
    assert a_file.read_bytes() == b"not a dir"


# --- bytes changed in the DVC remote after release -----------------------------------------


def test_tampered_remote_refused_new_destination(released: Registry, tmp_path: Path) -> None:
    _tamper(released, V11_BYTES)
    _drop_local_cache(released, V11_BYTES)
    parent = tmp_path / "deploy"
    dest = parent / "model"
    res = released.run("pull", "churn@staging", "-o", str(dest))
    assert res.code == 3, res.err
    assert res.err.startswith("error: ") and "Traceback" not in res.err
    assert not dest.exists()
    assert list(parent.iterdir()) == []  # no temporary folders left behind


def test_tampered_remote_refused_forced_destination(released: Registry, tmp_path: Path) -> None:
    dest = tmp_path / "model"
    assert released.run("pull", "churn@staging", "-o", str(dest)).code == 0
    _tamper(released, V1_BYTES)
    _drop_local_cache(released, V1_BYTES)
    res = released.run("pull", "churn@production", "-o", str(dest), "--force")
    assert res.code == 3, res.err
    assert _tree(dest) == {"model.pkl": V11_BYTES}
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".gitreg")) == []


def test_tampered_remote_refused_by_url(
    released: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITREG_CACHE_DIR", str(tmp_path / "cache"))
    _tamper(released, V1_BYTES)
    dest = tmp_path / "model"
    res = run("pull", "churn@production", "-C", released.origin.as_uri(), "-o", str(dest))
    assert res.code == 3, res.err
    assert not dest.exists()


def test_tampered_remote_error_names_the_md5(released: Registry, tmp_path: Path) -> None:
    _tamper(released, V1_BYTES)
    _drop_local_cache(released, V1_BYTES)
    res = released.run("pull", "churn@production", "-o", str(tmp_path / "model"))
    assert res.code == 3
    assert "md5" in res.err


def test_downloaded_bytes_checked_against_the_manifest(tmp_path: Path) -> None:
    """The check pull runs on what DVC produced, before anything is moved into place."""
    project = tmp_path / "project"
    rel = "models/churn/artifacts/1.0.0/model.pkl"
    make_artifact(project / rel, b"tampered")
    good, bad = hashlib.md5(V1_BYTES).hexdigest(), hashlib.md5(b"tampered").hexdigest()
    with pytest.raises(ArtifactError) as info:
        verify_output(project, rel, good, len(V1_BYTES))
    assert f"downloaded md5 {bad} (8 bytes) does not match the manifest's {good} (5 bytes)" in str(
        info.value
    )
    with pytest.raises(ArtifactError, match="does not match"):
        verify_output(project, rel, bad, 9)  # right md5, wrong size
    verify_output(project, rel, bad, 8)
    with pytest.raises(ArtifactError, match="DVC did not produce the file"):
        verify_output(project, rel + ".missing", good, 5)


def test_config_local_with_core_section(released: Registry, tmp_path: Path) -> None:
    # what `dvc config --local core.autostage true` writes
    (released.path / ".dvc" / "config.local").write_text("[core]\n    autostage = true\n")
    dest = tmp_path / "model"
    res = released.run("pull", "churn@production", "-o", str(dest))
    assert res.code == 0, res.err
    assert _tree(dest) == {"model.pkl": V1_BYTES}


def test_pulled_file_is_a_writable_copy_not_a_link_to_the_cache(
    released: Registry, tmp_path: Path
) -> None:
    dest = tmp_path / "model"
    assert released.run("pull", "churn@production", "-o", str(dest)).code == 0
    pulled = dest / "model.pkl"
    assert pulled.stat().st_nlink == 1 and pulled.stat().st_mode & 0o200
    pulled.write_bytes(b"edited by the deploy")  # must not reach DVC's cache
    digest = hashlib.md5(V1_BYTES).hexdigest()
    obj = released.path / ".dvc" / "cache" / "files" / "md5" / digest[:2] / digest[2:]
    assert obj.read_bytes() == V1_BYTES


def test_cache_object_changed_after_it_was_verified_is_hashed_again(
    released: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pull records the object it hashed (store/verified.py) and the next pull copies it
    unhashed; rewritten in place afterwards (same size, same inode, mtime put back), the
    tampered bytes never reach the destination."""
    monkeypatch.setenv("GITREG_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(verified, "RACY_NS", 0)  # the object was written just now
    digest = hashlib.md5(V1_BYTES).hexdigest()
    assert released.run("pull", "churn@production", "-o", str(tmp_path / "a")).code == 0
    assert (tmp_path / "cache" / "gitreg" / "verified" / digest).is_file()
    assert released.run("pull", "churn@production", "-o", str(tmp_path / "b")).code == 0
    assert _tree(tmp_path / "b") == {"model.pkl": V1_BYTES}
    obj = released.path / ".dvc" / "cache" / "files" / "md5" / digest[:2] / digest[2:]
    _rewrite_in_place(obj)
    res = released.run("pull", "churn@production", "-o", str(tmp_path / "c"))
    # DVC's fetch sees the changed object and downloads it again, or gitreg refuses it
    if res.code == 0:
        assert _tree(tmp_path / "c") == {"model.pkl": V1_BYTES}
    else:
        assert res.code == 3 and "does not match" in res.err
        assert not (tmp_path / "c").exists()


def _rewrite_in_place(obj: Path) -> None:
    """One byte changed: same inode and size, the old mtime put back (ctime moves: past the
    file system's timestamp tick, which `RACY_NS` covers in real use)."""
    time.sleep(0.05)
    st = obj.stat()
    obj.chmod(0o644)
    with obj.open("r+b") as fh:
        fh.write(b"X")
    os.utime(obj, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_copy_checked_trusts_only_an_unchanged_object(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITREG_CACHE_DIR", str(tmp_path / "cache"))
    obj = make_artifact(tmp_path / "obj", V11_BYTES)
    assert copy_checked(obj, tmp_path / "0", hashlib.md5(V11_BYTES).hexdigest())[1] == len(
        V11_BYTES
    )
    assert not (tmp_path / "cache" / "gitreg" / "verified").exists()  # racy: not recorded
    monkeypatch.setattr(verified, "RACY_NS", 0)
    good = hashlib.md5(V11_BYTES).hexdigest()
    assert copy_checked(obj, tmp_path / "1", good) == (good, len(V11_BYTES))
    record = tmp_path / "cache" / "gitreg" / "verified" / good
    assert record.is_file()  # hashed and matched: recorded
    assert copy_checked(obj, tmp_path / "2", good) == (good, len(V11_BYTES))  # trusted copy
    _rewrite_in_place(obj)
    got, _ = copy_checked(obj, tmp_path / "3", good)  # hashed again: the change is seen
    assert got == hashlib.md5(b"X" + V11_BYTES[1:]).hexdigest() != good
    assert (tmp_path / "3").read_bytes() == b"X" + V11_BYTES[1:]
    wrong = tmp_path / "cache" / "gitreg" / "verified" / ("0" * 32)
    assert copy_checked(obj, tmp_path / "4", "0" * 32)[0] == got  # a mismatch: no record
    assert not wrong.exists()
