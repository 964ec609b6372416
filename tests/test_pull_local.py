"""gitreg pull without DVC from the DVC cache or a local-folder remote (store/localpull.py):
the bytes placed are the manifest's, a wrong remote object is refused, an interrupted or
killed copy leaves neither the destination nor the DVC cache changed, and a cache hit is
hashed unless store/verified.py's stat record vouches for it.

Real registries, a real local-folder DVC remote, DVC itself where the pull falls back to it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import Registry, make_artifact
from conftest import set_stages as _stages
from gitreg.errors import ArtifactError
from gitreg.ops.pull import pull_ref
from gitreg.store import files, localpull, verified
from gitreg.store.files import copy_hashed, copy_kernel, dvc_object

V1 = b"\x80\x04K\x01."  # conftest's `train` model: churn@1.0.0
BIG = os.urandom(9 * 2**20 + 123)  # more than two copy chunks, not a multiple of one


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@pytest.fixture
def released(registered: Registry, tmp_path: Path) -> Registry:
    """churn 1.0.0 (5 bytes, production) and 2.0.0 (9 MB, staging), released."""
    registered.register("2.0.0", make_artifact(tmp_path / "big" / "model.pkl", BIG))
    _stages(registered, {"production": "1.0.0", "staging": "2.0.0"}, "stage 2.0.0")
    assert registered.run("release").code == 0
    return registered


def _cache(reg: Registry) -> Path:
    return reg.path / ".dvc" / "cache"


def _drop_cache(reg: Registry, data: bytes) -> Path:
    obj = dvc_object(_cache(reg), _md5(data))
    obj.unlink()
    return obj


def _leftovers(reg: Registry, data: bytes) -> list[str]:
    """What sits in the object's cache folder beside the object itself."""
    folder = dvc_object(_cache(reg), _md5(data)).parent
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_cold_pull_fills_the_cache_with_the_verified_object(
    released: Registry, tmp_path: Path
) -> None:
    obj = _drop_cache(released, BIG)
    dest = tmp_path / "deploy" / "model"
    res = released.run("pull", "churn@staging", "-o", str(dest))
    assert res.code == 0, res.err
    pulled = dest / "model.pkl"
    assert pulled.read_bytes() == BIG
    assert pulled.stat().st_nlink == 1 and pulled.stat().st_mode & 0o200  # a writable copy
    assert obj.read_bytes() == BIG and stat.S_IMODE(obj.stat().st_mode) == 0o444  # as DVC's
    assert obj.stat().st_ino != pulled.stat().st_ino
    assert _leftovers(released, BIG) == [obj.name]
    assert sorted(p.name for p in dest.parent.iterdir()) == ["model"]


def test_a_local_remote_pull_never_imports_dvc(released: Registry, tmp_path: Path) -> None:
    """DVC's import alone (0.5-0.7 s) is most of `dvc pull`'s own time."""
    _drop_cache(released, BIG)
    code = (
        "import sys; from pathlib import Path; from gitreg.ops.pull import pull_ref; "
        f"pull_ref('churn@staging', {str(released.path)!r}, Path({str(tmp_path / 'o')!r})); "
        "print(sorted(m for m in sys.modules if m == 'dvc' or m.startswith('dvc.')))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
    assert (tmp_path / "o" / "model.pkl").read_bytes() == BIG


def test_tampered_remote_object_refused_and_the_cache_left_as_it_was(
    released: Registry, tmp_path: Path
) -> None:
    _drop_cache(released, BIG)
    remote_obj = dvc_object(released.remote, _md5(BIG))
    remote_obj.chmod(0o644)
    remote_obj.write_bytes(BIG[:-1] + b"X")  # same size, one byte changed
    dest = tmp_path / "deploy" / "model"
    res = released.run("pull", "churn@staging", "-o", str(dest))
    assert res.code == 3, res.err
    assert f"does not match the manifest's {_md5(BIG)} ({len(BIG)} bytes)" in res.err
    assert "Traceback" not in res.err
    assert not dest.exists() and list(dest.parent.iterdir()) == []
    assert _leftovers(released, BIG) == []  # no object, no partial entry


def test_interrupted_copy_leaves_nothing(
    released: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C in the middle of the copy (after some bytes reached the destination)."""
    _drop_cache(released, BIG)
    real, calls = files._write_all, []

    def interrupted(fd: int, data: bytes | memoryview) -> None:
        calls.append(fd)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real(fd, data)

    monkeypatch.setattr(files, "_write_all", interrupted)
    dest = tmp_path / "deploy" / "model"
    with pytest.raises(KeyboardInterrupt):
        pull_ref("churn@staging", str(released.path), dest)
    assert len(calls) == 2
    assert not dest.exists() and list(dest.parent.iterdir()) == []
    assert _leftovers(released, BIG) == []
    monkeypatch.setattr(files, "_write_all", real)
    pull_ref("churn@staging", str(released.path), dest)  # and a retry works
    assert (dest / "model.pkl").read_bytes() == BIG


def test_a_partial_cache_entry_of_a_killed_pull_is_swept(
    released: Registry, tmp_path: Path
) -> None:
    obj = _drop_cache(released, BIG)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], text=True,
                          capture_output=True, check=True).stdout.strip()  # fmt: skip
    dead = obj.parent / f".0123abcd.gitreg-{gone}.tmp"
    live = obj.parent / f".4567cdef.gitreg-{os.getpid()}.tmp"  # a pull still running
    dvcs = obj.parent / ".SomeDvcToken.tmp"  # DVC's own: not gitreg's to remove
    # a dead pid's entry written just now may be a live pull on another machine sharing
    # the cache (NFS, containers): kept until it has not been written for STALE_S
    recent = obj.parent / f".89abcdef.gitreg-{gone}.tmp"
    for p in (dead, live, dvcs, recent):
        p.write_bytes(b"half")
    old = time.time() - localpull.STALE_S - 5
    for p in (dead, live, dvcs):
        os.utime(p, (old, old))
    assert released.run("pull", "churn@staging", "-o", str(tmp_path / "m")).code == 0
    assert _leftovers(released, BIG) == sorted([obj.name, live.name, dvcs.name, recent.name])


def test_corrupt_cache_object_is_fetched_again_from_the_local_remote(
    released: Registry, tmp_path: Path
) -> None:
    obj = dvc_object(_cache(released), _md5(BIG))
    obj.chmod(0o644)
    obj.write_bytes(b"Y" + BIG[1:])
    res = released.run("pull", "churn@staging", "-o", str(tmp_path / "m"))
    assert res.code == 0, res.err
    assert (tmp_path / "m" / "model.pkl").read_bytes() == BIG
    assert obj.read_bytes() == BIG  # replaced by the verified bytes, as DVC would
    assert _leftovers(released, BIG) == [obj.name]


def test_cache_hit_is_hashed_unless_the_stat_record_vouches_for_it(
    released: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a local remote to fall back on: the cache object is the only source."""
    monkeypatch.setenv("GITREG_CACHE_DIR", str(tmp_path / "gcache"))
    record = tmp_path / "gcache" / "gitreg" / "verified" / _md5(BIG)
    obj = dvc_object(_cache(released), _md5(BIG))
    dvc_object(released.remote, _md5(BIG)).unlink()
    assert released.run("pull", "churn@staging", "-o", str(tmp_path / "a")).code == 0
    assert not record.exists()  # hashed, but too fresh to record (racy)
    monkeypatch.setattr(verified, "RACY_NS", 0)
    assert released.run("pull", "churn@staging", "-o", str(tmp_path / "b")).code == 0
    assert record.is_file()  # hashed and recorded
    assert released.run("pull", "churn@staging", "-o", str(tmp_path / "c")).code == 0
    assert (tmp_path / "c" / "model.pkl").read_bytes() == BIG  # trusted: a kernel copy
    obj.chmod(0o644)
    with obj.open("r+b") as fh:  # changed in place, same size: the record no longer matches
        fh.write(b"Z")
    res = released.run("pull", "churn@staging", "-o", str(tmp_path / "d"))
    # no local remote object to fetch again: DVC is asked, finds none, and the pull refuses
    assert res.code == 3, res.err
    assert not (tmp_path / "d").exists()


def test_directory_artifact_still_pulls_through_dvc(registry: Registry, tmp_path: Path) -> None:
    model = tmp_path / "dirmodel"
    make_artifact(model / "weights.bin", b"w" * 1000)
    make_artifact(model / "sub" / "config.json", b"{}")
    registry.register("1.0.0", model)
    _stages(registry, {"production": "1.0.0"}, "stage it")
    assert registry.run("release").code == 0
    shutil.rmtree(_cache(registry))  # an empty cache: DVC fetches
    dest = tmp_path / "out"
    res = registry.run("pull", "churn@production", "-o", str(dest))
    assert res.code == 0, res.err
    tree = {str(p.relative_to(dest)): p.read_bytes() for p in dest.rglob("*") if p.is_file()}
    assert tree == {"dirmodel/weights.bin": b"w" * 1000, "dirmodel/sub/config.json": b"{}"}


# --- the copies themselves -----------------------------------------------------------------


def test_copy_kernel_makes_an_independent_new_file(tmp_path: Path) -> None:
    src = make_artifact(tmp_path / "src", BIG)
    assert copy_kernel(src, tmp_path / "dst") == len(BIG)
    dst = tmp_path / "dst"
    assert dst.read_bytes() == BIG and dst.stat().st_ino != src.stat().st_ino
    with dst.open("r+b") as fh:  # a reflink is copy-on-write; a copy is a copy
        fh.write(b"changed")
    assert src.read_bytes() == BIG
    assert copy_kernel(src, tmp_path / "ro", 0o444) == len(BIG)
    assert stat.S_IMODE((tmp_path / "ro").stat().st_mode) == 0o444
    with pytest.raises(FileExistsError):
        copy_kernel(src, dst)  # never over an existing file
    assert copy_kernel(make_artifact(tmp_path / "empty", b""), tmp_path / "e2") == 0


def test_copy_hashed_hashes_what_it_writes(tmp_path: Path) -> None:
    src = make_artifact(tmp_path / "src", BIG)
    assert copy_hashed(src, tmp_path / "dst") == (_md5(BIG), len(BIG))
    assert (tmp_path / "dst").read_bytes() == BIG
    assert copy_hashed(make_artifact(tmp_path / "e", b""), tmp_path / "e2") == (_md5(b""), 0)
    with pytest.raises(FileExistsError):
        copy_hashed(src, tmp_path / "dst")


def test_refused_object_error_is_typed(released: Registry, tmp_path: Path) -> None:
    _drop_cache(released, V1)
    remote_obj = dvc_object(released.remote, _md5(V1))
    remote_obj.chmod(0o644)
    remote_obj.write_bytes(b"other")
    with pytest.raises(ArtifactError, match="does not match"):
        pull_ref("churn@production", str(released.path), tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_remote_object_hashed_once_then_trusted_until_it_changes(
    released: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A local remote's object is a local file: store/verified.py's stat record vouches
    for it as for a cache object, so a pull into an empty cache need not hash it again;
    a change in place (same size, mtime put back) shows in its ctime and is refused."""
    monkeypatch.setenv("GITREG_CACHE_DIR", str(tmp_path / "gcache"))
    monkeypatch.setattr(verified, "RACY_NS", 0)  # the object was written just now
    record = tmp_path / "gcache" / "gitreg" / "verified" / _md5(BIG)
    remote_obj = dvc_object(released.remote, _md5(BIG))
    obj = _drop_cache(released, BIG)
    assert released.run("pull", "churn@staging", "-o", str(tmp_path / "a")).code == 0
    assert verified.identity(remote_obj) in record.read_text().splitlines()
    obj.unlink()  # cold again: the trusted remote object is copied by the kernel
    assert released.run("pull", "churn@staging", "-o", str(tmp_path / "b")).code == 0
    assert (tmp_path / "b" / "model.pkl").read_bytes() == BIG == obj.read_bytes()
    obj.unlink()
    time.sleep(0.05)  # past the file system's timestamp tick
    st = remote_obj.stat()
    remote_obj.chmod(0o644)
    with remote_obj.open("r+b") as fh:
        fh.write(b"X")
    os.utime(remote_obj, ns=(st.st_atime_ns, st.st_mtime_ns))
    res = released.run("pull", "churn@staging", "-o", str(tmp_path / "c"))
    assert res.code == 3 and "does not match" in res.err, res.err
    assert not (tmp_path / "c").exists() and _leftovers(released, BIG) == []


def test_settled_remote_object_copied_into_cache_and_destination_side_by_side(
    released: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A remote object older than the racy window is copied into the cache entry and the
    destination at once; both hold the manifest's bytes, and the remote object is recorded."""
    monkeypatch.setenv("GITREG_CACHE_DIR", str(tmp_path / "gcache"))
    monkeypatch.setattr(verified, "RACY_NS", 0)
    side_by_side: list[Path] = []
    real = localpull._copy_hashing

    def spy(src: Path, tmp: Path | None, dst: Path, before: str) -> tuple[str, int]:
        side_by_side.append(src)
        return real(src, tmp, dst, before)

    monkeypatch.setattr(localpull, "_copy_hashing", spy)
    obj = _drop_cache(released, BIG)
    dest = tmp_path / "deploy" / "model"
    assert released.run("pull", "churn@staging", "-o", str(dest)).code == 0
    remote_obj = dvc_object(released.remote, _md5(BIG))
    assert side_by_side == [remote_obj]
    assert (dest / "model.pkl").read_bytes() == BIG
    assert obj.read_bytes() == BIG and stat.S_IMODE(obj.stat().st_mode) == 0o444
    assert _leftovers(released, BIG) == [obj.name]
    assert verified.vouched(remote_obj, _md5(BIG))


def test_remote_object_changed_during_the_side_by_side_copies_is_hashed_from_the_entry(
    released: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The remote object is rewritten (same size) while copied: the identity check after the
    copies sees it, the entry is made again and hashed itself, and the tampered bytes are
    refused with nothing left in the cache or the destination."""
    monkeypatch.setenv("GITREG_CACHE_DIR", str(tmp_path / "gcache"))
    monkeypatch.setattr(verified, "RACY_NS", 0)
    remote_obj = dvc_object(released.remote, _md5(BIG))
    remote_obj.chmod(0o644)
    real = localpull.copy_hashed

    def rewritten_after(src: Path, dst: Path) -> tuple[str, int]:
        got = real(src, dst)
        if src == remote_obj:
            time.sleep(0.01)  # a later mtime and ctime
            src.write_bytes(BIG[:-1] + b"X")
        return got

    monkeypatch.setattr(localpull, "copy_hashed", rewritten_after)
    _drop_cache(released, BIG)
    dest = tmp_path / "deploy" / "model"
    res = released.run("pull", "churn@staging", "-o", str(dest))
    assert res.code == 3, res.err
    assert f"does not match the manifest's {_md5(BIG)}" in res.err
    assert not dest.exists()
    assert _leftovers(released, BIG) == []
    assert not verified.vouched(remote_obj, _md5(BIG))


def test_a_remote_object_swapped_after_it_was_vouched_for_is_hashed(
    released: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The identity copied must be the one vouched for: a tampered file renamed over the
    remote object between the check and the copy is hashed, and refused."""
    monkeypatch.setenv("GITREG_CACHE_DIR", str(tmp_path / "gcache"))
    monkeypatch.setattr(verified, "RACY_NS", 0)
    _drop_cache(released, BIG)
    assert released.run("pull", "churn@staging", "-o", str(tmp_path / "first")).code == 0
    remote_obj = dvc_object(released.remote, _md5(BIG))
    assert verified.vouched(remote_obj, _md5(BIG))
    _drop_cache(released, BIG)
    real = verified.vouched

    def then_swapped(path: Path, md5: str) -> bool:
        answer = real(path, md5)
        if answer and path == remote_obj:
            evil = path.with_name("evil")
            evil.write_bytes(BIG[:-1] + b"X")
            os.replace(evil, path)
        return answer

    monkeypatch.setattr(verified, "vouched", then_swapped)
    dest = tmp_path / "deploy" / "model"
    res = released.run("pull", "churn@staging", "-o", str(dest))
    assert res.code == 3, res.err
    assert f"does not match the manifest's {_md5(BIG)}" in res.err
    assert not dest.exists() and _leftovers(released, BIG) == []


@pytest.mark.parametrize("racy", [False, True])
def test_a_short_kernel_copy_into_the_cache_entry_never_lands(
    released: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, racy: bool
) -> None:
    """The entry copied by the kernel must hold as many bytes as the hashed copy, or it is
    made again and hashed itself: a cut copy never becomes a DVC cache object."""
    monkeypatch.setenv("GITREG_CACHE_DIR", str(tmp_path / "gcache"))
    if not racy:
        monkeypatch.setattr(verified, "RACY_NS", 0)
    obj = _drop_cache(released, BIG)
    real, cut = localpull.copy_kernel, []

    def short_once(src: Path, dst: Path, mode: int = 0o666) -> int:
        if dst.parent == obj.parent and not cut:
            cut.append(dst)
            dst.write_bytes(src.read_bytes()[:100])
            dst.chmod(mode)
            return 100
        return real(src, dst, mode)

    monkeypatch.setattr(localpull, "copy_kernel", short_once)
    dest = tmp_path / "deploy" / "model"
    res = released.run("pull", "churn@staging", "-o", str(dest))
    assert cut, "the cache entry was not copied by the kernel"
    if res.code == 0:
        assert (dest / "model.pkl").read_bytes() == BIG
    else:
        assert f"does not match the manifest's {_md5(BIG)}" in res.err
    assert not obj.exists() or obj.read_bytes() == BIG
