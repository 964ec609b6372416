"""Local files: content hashes as DVC computes them, DVC's object layout, copies, and
atomic writes."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

CHUNK = 1 << 20
COPY_CHUNK = 4 << 20
FICLONE = 0x40049409  # linux/fs.h: _IOW(0x94, 9, int), a copy-on-write clone of a whole file
# a kernel copy that cannot work here (another file system, none of the syscall): copy by hand
_NO_KERNEL_COPY = {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EBADF}


def dvc_object(store: Path, md5: str) -> Path:
    """Where DVC 3 keeps object `md5` in a cache or a local-folder remote."""
    return store / "files" / "md5" / md5[:2] / md5[2:]


def md5_file(path: Path) -> str:
    """The md5 of a file's bytes, read in chunks."""
    h = hashlib.md5()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def write_atomic(path: Path, data: bytes) -> None:
    """Write `path` whole or not at all: a temporary file beside it, then one rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def copy_hashed(src: Path, dst: Path) -> tuple[str, int]:
    """Copy `src` to a new file `dst` (mode 0o666 less the umask, never the source's
    read-only mode) and return the md5 and size of the bytes written, read once: each chunk
    is read into one buffer, then hashed and written from it, so what is hashed is what
    lands in `dst`. A worker thread writes the chunk while this one hashes it (both release
    the GIL); the next chunk is read only once both are done. The caller removes `dst` on
    failure."""
    h = hashlib.md5()
    size = 0
    buf = bytearray(COPY_CHUNK)
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with src.open("rb", buffering=0) as fh, ThreadPoolExecutor(1) as writer:
            while n := fh.readinto(buf):
                view = memoryview(buf)[:n]
                job = writer.submit(_write_all, fd, view)
                h.update(view)
                job.result()
                size += n
    finally:
        os.close(fd)
    return h.hexdigest(), size


def _copy_range(src_fd: int, dst_fd: int) -> bool:
    """`copy_file_range` until the end of `src_fd`; False if the kernel cannot here (before
    any byte was copied)."""
    if not hasattr(os, "copy_file_range"):
        return False
    copied = 0
    while True:
        try:
            n = os.copy_file_range(src_fd, dst_fd, 1 << 30)
        except OSError as e:
            if copied == 0 and e.errno in _NO_KERNEL_COPY:
                return False
            raise
        if n == 0:
            return True
        copied += n


def copy_kernel(src: Path, dst: Path, mode: int = 0o666) -> int:
    """Copy `src` to a new file `dst` (`mode` less the umask) without passing the bytes
    through Python: a reflink (`FICLONE`, copy-on-write: later writes to either file do
    not reach the other) where the file system has them (btrfs, XFS), else
    `copy_file_range` in the kernel, else a plain copy. Returns the size written. Nothing
    is hashed: the caller trusts the bytes (store/verified.py) or hashes the copy. The
    caller removes `dst` on failure."""
    with src.open("rb", buffering=0) as fh:
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            try:
                import fcntl  # POSIX only; elsewhere the copies below

                fcntl.ioctl(fd, FICLONE, fh.fileno())
            except (ImportError, OSError):
                if not _copy_range(fh.fileno(), fd):
                    with open(fd, "wb", closefd=False) as out:
                        shutil.copyfileobj(fh, out, COPY_CHUNK)
            return os.fstat(fd).st_size
        finally:
            os.close(fd)
