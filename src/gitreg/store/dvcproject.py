"""Temporary scm-less DVC projects built from git objects, and checking what DVC produced.

register, pull and evaluate never run DVC in the user's checkout: they build a small DVC
project in a temporary folder from `.dvc/config` and the `.dvc` pointers at a commit, let
DVC work there, and verify every file against its md5 and size before using it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from gitreg.errors import ArtifactError, NotFound
from gitreg.model import layout, yamlio
from gitreg.store import dvcconfig
from gitreg.store.dvc import cache_dir
from gitreg.store.files import dvc_object, md5_file
from gitreg.store.git import Git
from gitreg.store.remote import cache_root
from gitreg.store.snapshot import Snapshot
from gitreg.store.verified import copy_checked


def verify_output(project: Path, rel: str, md5: str, size: int) -> None:
    """Check a file (or directory) DVC produced in `project` against its md5 and size."""
    path = project / rel
    if md5.endswith(".dir"):
        listing = _object(project, md5)
        try:
            entries = json.loads(listing.read_text())
        except (OSError, ValueError) as e:
            raise ArtifactError(f"{rel}: directory listing {md5} missing or unreadable") from e
        total = 0
        for entry in entries:
            f = path / entry["relpath"]
            if not f.is_file() or md5_file(f) != entry["md5"]:
                raise ArtifactError(f"{rel}/{entry['relpath']}: md5 does not match {entry['md5']}")
            total += f.stat().st_size
        if total != size:
            raise ArtifactError(f"{rel}: {total} bytes downloaded, the manifest says {size}")
        return
    if not path.is_file():
        raise ArtifactError(f"{rel}: DVC did not produce the file")
    got = md5_file(path)
    if got != md5 or path.stat().st_size != size:
        raise ArtifactError(
            f"{rel}: downloaded md5 {got} ({path.stat().st_size} bytes) does not match "
            f"the manifest's {md5} ({size} bytes)",
            "the remote holds a different object; do not deploy it, run `gitreg doctor`",
        )


def _object(project: Path, md5: str) -> Path:
    return dvc_object(cache_dir(project), md5)


def refuse_mismatch(dst: Path, rel: str, md5: str, size: int | None, got: str, n: int) -> None:
    """Remove `dst` and refuse (ArtifactError) unless the bytes copied into it, of md5
    `got` and `n` bytes, are `md5` (and `size`, when given)."""
    if got != md5 or (size is not None and n != size):
        dst.unlink(missing_ok=True)
        want = f"{md5} ({size} bytes)" if size is not None else md5
        raise ArtifactError(
            f"{rel}: downloaded md5 {got} ({n} bytes) does not match the manifest's {want}",
            "the remote holds a different object; do not deploy it, run `gitreg doctor`",
        )


def place_file(src: Path, dst: Path, rel: str, md5: str, size: int | None) -> int:
    """Copy one cache object to `dst`, hashing the bytes as they are written (or trusting
    an unchanged object gitreg hashed before: store/verified.py); refuse (and remove `dst`)
    unless they match `md5` (and `size`, when given)."""
    if not src.is_file():
        raise ArtifactError(
            f"{rel}: DVC fetched no object with md5 {md5}: the remote lacks it, or its "
            "object's md5 does not match (changed after release)",
            "check the DVC remote; do not deploy it, run `gitreg doctor`",
        )
    try:
        got, n = copy_checked(src, dst, md5)
    except OSError as e:
        dst.unlink(missing_ok=True)
        raise ArtifactError(f"{rel}: could not copy object {md5} from the DVC cache: {e}") from e
    except BaseException:
        dst.unlink(missing_ok=True)
        raise
    refuse_mismatch(dst, rel, md5, size, got, n)
    return n


def place_output(project: Path, rel: str, md5: str, size: int, dst: Path) -> None:
    """Copy the artifact `rel` (a file, or a directory listing's files) from the project's
    DVC cache to `dst`, which must not exist, verifying every byte against its md5 in the
    same read (no DVC checkout, no second read of what was written). The listing's paths
    were checked by `dvc.check_listing` when it was fetched."""
    if not md5.endswith(".dir"):
        place_file(_object(project, md5), dst, rel, md5, size)
        return
    try:
        entries = json.loads(_object(project, md5).read_text())
    except (OSError, ValueError) as e:
        raise ArtifactError(f"{rel}: directory listing {md5} missing or unreadable") from e
    dst.mkdir()
    total = 0
    for entry in entries:
        f = dst / entry["relpath"]
        f.parent.mkdir(parents=True, exist_ok=True)
        where = f"{rel}/{entry['relpath']}"
        total += place_file(_object(project, entry["md5"]), f, where, entry["md5"], None)
    if total != size:
        raise ArtifactError(f"{rel}: {total} bytes downloaded, the manifest says {size}")


def _check_pointer(data: bytes, pointer: str, label: str) -> None:
    """A `.dvc` pointer must name the artifact it sits beside (`model.pkl.dvc` -> outs
    path `model.pkl`): any other path would make DVC write somewhere else, even outside."""
    obj = yamlio.load(data, f"{pointer}@{label}")
    outs = obj.get("outs") if isinstance(obj, dict) else None
    path = (
        outs[0].get("path")
        if isinstance(outs, list) and outs and isinstance(outs[0], dict)
        else None
    )
    expected = pointer.rsplit("/", 1)[-1].removesuffix(".dvc")
    if path != expected:
        raise ArtifactError(
            f"{pointer} at {label}: its output path is {str(path)[:80]!r}, not {expected!r}, "
            "the artifact it sits beside: refused, nothing was written",
            "a .dvc pointer must name the file next to it; run `gitreg validate`",
        )


def _copy_pointers(
    git: Git, where: Path, config_commit: str, pointers: Sequence[tuple[str, str, str]]
) -> tuple[bytes, list[str]]:
    snaps: dict[str, Snapshot] = {}
    written: list[str] = []
    try:
        snaps[config_commit] = Snapshot(git, config_commit, config_commit)
        config = snaps[config_commit].read(layout.DVC_CONFIG) or b""
        for commit, label, pointer in pointers:
            if commit not in snaps:
                snaps[commit] = Snapshot(git, commit, label)
            data = snaps[commit].read(pointer)
            if data is not None:
                _check_pointer(data, pointer, label)
            if data is None:
                raise NotFound(
                    f"{pointer}: missing at {label}",
                    "run `gitreg doctor`",
                    kind="file",
                    name=pointer,
                    where=label,
                )
            if pointer in written:
                continue
            (where / pointer).parent.mkdir(parents=True, exist_ok=True)
            (where / pointer).write_bytes(data)
            written.append(pointer)
    finally:
        for snap in snaps.values():
            snap.close()
    return config, written


def dvc_project(
    git: Git,
    where: Path,
    config_commit: str,
    pointers: Sequence[tuple[str, str, str]],
    local_root: Path | None,
    link_type: str | None = None,
    cache: Path | None = None,
) -> list[str]:
    """A scm-less DVC project in `where`, read from git objects, not from a checkout.

    `.dvc/config` comes from `config_commit`; each `(commit, label, path)` names a `.dvc`
    pointer to copy from that commit (`label` says where, in errors). The cache is the
    local registry's (`local_root`) or gitreg's own; `link_type` sets DVC's cache.type.
    Returns the pointer paths.
    """
    (where / ".dvc").mkdir(parents=True)
    config, written = _copy_pointers(git, where, config_commit, pointers)
    if cache is None:
        cache = cache_dir(local_root) if local_root else cache_root() / "dvc-cache"
    if local_root is not None:
        config = dvcconfig.absolutize(config.decode(), local_root / ".dvc").encode()
    (where / ".dvc" / "config").write_bytes(config)
    local = (local_root / ".dvc" / "config.local") if local_root else None
    extra = local.read_text() if local and local.is_file() else ""
    ours = {"core": {"no_scm": "true"}, "cache": {"dir": str(cache)}}
    if link_type:
        ours["cache"]["type"] = link_type
    merged = dvcconfig.with_settings(extra, ours, str(local or ".dvc/config.local"))
    (where / ".dvc" / "config.local").write_text(merged)
    return written
