"""Cache objects gitreg has hashed itself, so a warm pull need not hash them again.

When `pull` copies a DVC cache object and the bytes it wrote match the manifest's md5, it
records the object's identity: device, inode, size, mtime and ctime (ns), taken before and
after the read and equal in both. A later pull of the same md5 that finds the object with
that identity copies it by the kernel (`files.copy_kernel`: a reflink where the file
system has them, else `copy_file_range`) without hashing, and checks the
identity again after the copy. Any write to the object changes its mtime and ctime (and a
replaced file has another inode); ctime cannot be set back without root changing the
clock. This is the trust DVC's own state database and git's index give a stat: it guards
against edits and corruption after the check, not against someone who can rewrite both the
cache and gitreg's records. A record that does not match is ignored (the object is hashed
again); a corrupt one likewise. As git does for "racily clean" index entries, an object
whose ctime is less than `RACY_NS` before the moment it was hashed is not recorded:
file-system timestamps tick coarsely (a jiffy on ext4, 2 s on FAT), so a write in that
same tick would leave the identity unchanged. Such an object is hashed again next time.

The same rule vouches for an object of a local-folder DVC remote (store/localpull.py), which
is a local file like a cache object: gitreg records it when it hashed what it copied from it,
and a later pull that finds it unchanged copies it by the kernel, even into an empty cache.

Records live in gitreg's cache (`verified/MD5`), one small file per md5 with up to `KEEP`
identities (one line each: the md5's objects in a cache or two and in a remote), written
atomically.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from gitreg.store.files import copy_hashed, copy_kernel, write_atomic
from gitreg.store.remote import cache_root

RACY_NS = 3 * 10**9


KEEP = 4  # identities remembered per md5: its objects in a cache or two and a remote


def identity(path: Path) -> str:
    """What a write or a replacement of the file at `path` would change."""
    st = os.stat(path)
    return f"{st.st_dev} {st.st_ino} {st.st_size} {st.st_mtime_ns} {st.st_ctime_ns}"


def _record(md5: str) -> Path:
    return cache_root() / "verified" / md5


def _recorded(md5: str) -> list[str]:
    if len(md5) != 32 or not set(md5) <= set("0123456789abcdef"):
        return []
    try:
        return _record(md5).read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        return []


def known(md5: str, ident: str) -> bool:
    """Whether gitreg hashed a file of this identity and found `md5`."""
    return ident in _recorded(md5)


def vouched(path: Path, md5: str) -> bool:
    """Whether the file at `path` is one gitreg hashed to `md5` and unchanged since."""
    try:
        return known(md5, identity(path))
    except OSError:
        return False


def settled(ident: str) -> bool:
    """Whether a file of identity `ident` last changed long enough ago (`RACY_NS`) that a
    later write would show in its timestamps."""
    return time.time_ns() - int(ident.rsplit(" ", 1)[1]) >= RACY_NS


def remember(md5: str, ident: str) -> None:
    """Record that the file of identity `ident` (taken before it was read, and equal after)
    hashed to `md5`, unless it changed too recently for its timestamps to show a later
    write (`settled`)."""
    if not settled(ident):
        return
    kept = [line for line in _recorded(md5) if line != ident]
    lines = [*kept[-(KEEP - 1) :], ident]
    with contextlib.suppress(OSError):  # a read-only cache: the next pull hashes again
        write_atomic(_record(md5), "\n".join(lines).encode())


def copy_checked(src: Path, dst: Path, md5: str) -> tuple[str, int]:
    """Copy `src` (a cache object named by `md5`) to a new file `dst`; the md5 and size of
    what was written: hashed while written, or, for an object gitreg already hashed and
    that has not changed since (nor during this copy), taken from the record."""
    before = identity(src)
    if known(md5, before):
        size = copy_kernel(src, dst)
        if identity(src) == before:
            return md5, size
        os.unlink(dst)  # changed while copied: hash it
        before = identity(src)
    got, size = copy_hashed(src, dst)
    if got == md5 and identity(src) == before:
        remember(md5, before)
    return got, size
