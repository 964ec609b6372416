"""Placing artifacts without DVC where DVC would only copy files: from the DVC cache, or
from a local-folder remote, hashed as they are written.

`dvc pull` from a local-folder remote copies each object remote -> cache (unhashed unless
the remote says `verify = true`) and cache -> workspace. gitreg must hash every byte it
places (the manifest's md5 is the release's word for them), and at about 500 MB/s the md5
alone takes as long as DVC's two copies; importing DVC takes another 0.5-0.7 s. So for
file artifacts whose objects are in the project's DVC cache or in a local-folder remote,
gitreg copies them itself and never imports DVC:

- a source gitreg hashed before and that has not changed since (store/verified.py's stat
  record: the cache object, else the remote's) is copied by the kernel, unhashed
  (`files.copy_kernel`: a reflink where the file system has them, else
  `copy_file_range`), and its identity checked again after the copy; from a trusted
  remote object, the cache entry too;
- else an object in the cache is copied by `dvcproject.place_file`, hashed as it is
  written (exactly as after a DVC fetch);
- else the remote object is copied by the kernel into a new cache entry (a temporary file
  in the object's cache folder, read-only as DVC leaves its objects) while, side by side on
  the other core, it is copied into the destination, each chunk hashed and written from the
  same buffer (`files.copy_hashed`); its identity, settled before and equal after both
  copies, proves both read the same bytes (store/verified.py's stat rule). An object
  changed within the racy window, or during the copies, is instead copied into the entry
  first and hashed from there into the destination. Either way the bytes hashed are the
  entry's and the destination's; only when their md5 and size match the manifest is the
  entry renamed into place (and the remote object recorded as hashed). A wrong or
  tampered object is refused and leaves the cache as it was; so does an interrupted copy
  (the temporary file is removed on the way out; one left by a `kill -9` is swept by the
  next copy into that folder, as `ops/pull.py` sweeps its work folders);
- a cache object that does not match its md5 is fetched again from the remote (replacing
  it, as DVC does with an object it finds corrupt).

So only the first pull of an object on a machine pays the md5 (about 1 s per 500 MB);
later ones, even into an empty DVC cache, copy at the kernel's speed.

Anything else (a directory artifact, a cloud remote, an object in neither place, DVC 2's
layout) is DVC's: `place_local` answers False, leaving nothing behind, and the caller
fetches through DVC.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from gitreg.errors import ArtifactError
from gitreg.store import dvcconfig, verified
from gitreg.store.dvc import cache_dir
from gitreg.store.dvcproject import place_file, refuse_mismatch
from gitreg.store.files import copy_hashed, copy_kernel, dvc_object
from gitreg.store.progress import Progress, file_bytes, watch

PARTIAL = ".gitreg-{pid}.tmp"  # the suffix of a cache entry being written
STALE_S = 600  # a partial entry not written for this long, of a process gone, is swept


@dataclass(frozen=True)
class Wanted:
    rel: str  # the artifact's path in the registry (named in errors)
    md5: str
    size: int
    dst: Path  # the file to create; must not exist


def _sources(project: Path, wanted: Sequence[Wanted]) -> tuple[Path, Path | None] | None:
    """The project's cache and its local-folder remote (or None), if every wanted object is
    a file in one of them; else None (DVC's work)."""
    cache = cache_dir(project)
    remote = dvcconfig.local_folder(dvcconfig.project_remote(project, None))
    for w in wanted:
        if w.md5.endswith(".dir"):
            return None
        here = dvc_object(cache, w.md5).is_file()
        if not here and not (remote is not None and dvc_object(remote, w.md5).is_file()):
            return None
    return cache, remote


def place_local(project: Path, wanted: Sequence[Wanted], progress: Progress | None) -> bool:
    """Place every wanted file from the DVC cache or the local-folder remote of `project`
    (a temporary DVC project: `dvcproject.dvc_project`), md5-verified; False, with nothing
    written, when DVC has to fetch them. `progress` hears one phase, "downloading"."""
    found = _sources(project, wanted)
    if found is None:
        return False
    cache, remote = found
    total = sum(w.size for w in wanted)
    placed: list[Path] = []
    with watch(progress, "downloading", total, lambda: file_bytes([w.dst for w in wanted])):
        for w in wanted:
            if not _place(cache, remote, w):
                for dst in placed:
                    dst.unlink(missing_ok=True)
                return False
            placed.append(w.dst)
    return True


def _place(cache: Path, remote: Path | None, w: Wanted) -> bool:
    """One file: from a source store/verified.py vouches for (the cache object, else the
    remote's), else hashed from the cache, else hashed from the remote; False if DVC
    should fetch it (a cache object that does not match, and no local remote object)."""
    cached = dvc_object(cache, w.md5)
    fresh = dvc_object(remote, w.md5) if remote is not None else None
    here, there = cached.is_file(), fresh is not None and fresh.is_file()
    if here and verified.vouched(cached, w.md5):
        place_file(cached, w.dst, w.rel, w.md5, w.size)
        return True
    if fresh is not None and there and verified.vouched(fresh, w.md5):
        _from_remote(fresh, None if here else cached, w, trust=True)
        return True
    if here:
        try:
            place_file(cached, w.dst, w.rel, w.md5, w.size)
            return True
        except ArtifactError:
            if not there:
                return False  # DVC re-fetches an object it finds corrupt, or refuses
    if fresh is None or not there:
        return False
    _from_remote(fresh, cached, w, trust=False)
    return True


def _sweep(folder: Path) -> None:
    """Remove cache entries a killed copy left half-written in `folder`: its process is
    gone, and the file has not been written for `STALE_S` (a cache shared over NFS or
    between containers holds entries of live processes this machine cannot see)."""
    with contextlib.suppress(OSError):
        for p in folder.iterdir():
            pid = p.name.rsplit(".gitreg-", 1)[-1].removesuffix(".tmp")
            if p.name.endswith(".tmp") and ".gitreg-" in p.name and pid.isdigit():
                with contextlib.suppress(OSError):
                    if time.time() - p.stat().st_mtime < STALE_S:
                        continue
                try:
                    os.kill(int(pid), 0)
                except ProcessLookupError:
                    p.unlink(missing_ok=True)
                except OSError:
                    continue  # another user's live process


def _copy_hashing(src: Path, tmp: Path | None, dst: Path, before: str) -> tuple[str, int]:
    """Copy `src` into `dst` hashed, and into the new cache entry `tmp` (if not None) by the
    kernel; the md5 and size of what `dst` got, which is also what `tmp` got. When `src`
    is settled (its identity `before` is older than the racy window) the two copies run
    side by side, on two cores, and an identity equal before and after proves both read the
    same bytes (the stat rule of store/verified.py) when the entry got as many bytes as
    `dst`; else, or if it changed, `dst` is hashed from the entry itself, after it."""
    if tmp is None:
        return copy_hashed(src, dst)
    if verified.settled(before):
        with ThreadPoolExecutor(1) as kernel:
            job = kernel.submit(copy_kernel, src, tmp, 0o444)
            got, n = copy_hashed(src, dst)
            entry = job.result()
        if verified.identity(src) == before and entry == n:
            return got, n
        dst.unlink()
        tmp.unlink()
    copy_kernel(src, tmp, 0o444)
    return copy_hashed(tmp, dst)


def _from_remote(src: Path, cached: Path | None, w: Wanted, trust: bool) -> None:
    """Copy a remote object into the cache entry `cached` (unless None: the cache already
    holds the object) and into `w.dst`: by the kernel alone if `trust` (store/verified.py
    vouched for `src`, and it stays unchanged through the copies), else by the kernel into
    the entry and on from there, hashed. The entry is renamed into place only if the bytes
    match the manifest; a new match is recorded for `src`."""
    tmp = None
    if cached is not None:
        tmp = cached.parent / f".{secrets.token_hex(8)}{PARTIAL.format(pid=os.getpid())}"
    try:
        before = verified.identity(src)
        # the identity copied must be the one vouched for: a file swapped in after the
        # caller's check has another
        trust = trust and verified.known(w.md5, before)
        if tmp is not None and cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            _sweep(cached.parent)
        if trust:
            entry = w.size if tmp is None else copy_kernel(src, tmp, 0o444)
            got, n = w.md5, copy_kernel(src, w.dst)
            if verified.identity(src) != before or entry != n:  # changed, or short: hash it
                w.dst.unlink()
                got, n = copy_hashed(src if tmp is None else tmp, w.dst)
                trust = False
        else:
            got, n = _copy_hashing(src, tmp, w.dst, before)
        refuse_mismatch(w.dst, w.rel, w.md5, w.size, got, n)
        if not trust and verified.identity(src) == before:
            verified.remember(w.md5, before)
        if tmp is not None and cached is not None:
            os.replace(tmp, cached)
    except OSError as e:
        w.dst.unlink(missing_ok=True)
        raise ArtifactError(
            f"{w.rel}: could not copy object {w.md5} from the DVC remote into {w.dst} and "
            f"the DVC cache: {e}",
            "check that the DVC remote is readable and the DVC cache writable",
        ) from e
    except BaseException:
        w.dst.unlink(missing_ok=True)
        raise
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
