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

Records live in gitreg's cache (`verified/MD5`), one small file each, written atomically.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from gitreg.store.files import copy_hashed, copy_kernel, write_atomic
from gitreg.store.remote import cache_root

RACY_NS = 3 * 10**9


def _identity(path: Path) -> str:
    st = os.stat(path)
    return f"{st.st_dev} {st.st_ino} {st.st_size} {st.st_mtime_ns} {st.st_ctime_ns}"


def _record(md5: str) -> Path:
    return cache_root() / "verified" / md5


def _known(md5: str, identity: str) -> bool:
    if len(md5) != 32 or not set(md5) <= set("0123456789abcdef"):
        return False
    try:
        return _record(md5).read_text() == identity
    except (OSError, UnicodeDecodeError):
        return False


def copy_checked(src: Path, dst: Path, md5: str) -> tuple[str, int]:
    """Copy `src` (a cache object named by `md5`) to a new file `dst`; the md5 and size of
    what was written: hashed while written, or, for an object gitreg already hashed and
    that has not changed since (nor during this copy), taken from the record."""
    before = _identity(src)
    if _known(md5, before):
        size = copy_kernel(src, dst)
        if _identity(src) == before:
            return md5, size
        os.unlink(dst)  # changed while copied: hash it
        before = _identity(src)
    got, size = copy_hashed(src, dst)
    racy = time.time_ns() - int(before.rsplit(" ", 1)[1]) < RACY_NS
    if got == md5 and _identity(src) == before and not racy:
        with contextlib.suppress(OSError):  # a read-only cache: the next pull hashes again
            write_atomic(_record(md5), before.encode())
    return got, size
