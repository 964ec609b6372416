"""Inside the sandbox's namespaces: make the filesystem read-only, hide folders, then exec.

`gitreg.evaluation.sandbox` runs this file as `python -I -S jail.py SPEC -- ARGV...` under
`unshare --user --map-root-user --net --mount --pid --fork --mount-proc`, so it is the
first process of a new user, network, mount and process namespace, as that namespace's
root. SPEC is a JSON object:

- `writable`: folders that stay writable (the run's own folder);
- `keep`: folders that stay visible even inside a hidden one (the work folder, the
  interpreter and its packages);
- `hide`: folders replaced by an empty tmpfs (homes, temporary folders, /run, the
  registry's checkout);
- `cwd`: the folder to run ARGV in.

Then everything is made read-only except `writable`, every capability is dropped for good,
and ARGV is executed. Any failure exits 125 with a `gitreg sandbox:` line on stderr.

Standard library only, and no `site` (-S): nothing outside the interpreter runs here.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
from typing import Any

MS_NOSUID, MS_NODEV, MS_BIND, MS_REC = 0x2, 0x4, 0x1000, 0x4000
MOUNT_ATTR_RDONLY, AT_FDCWD, AT_RECURSIVE = 0x1, -100, 0x8000
SYS_MOUNT_SETATTR = 442  # the same number on every architecture (Linux >= 5.12)
PR_CAPBSET_DROP, PR_SET_SECUREBITS, PR_SET_NO_NEW_PRIVS = 24, 28, 38
# NOROOT, NO_SETUID_FIXUP and KEEP_CAPS, each with its lock: uid 0 gets no capabilities back
SECURE_BITS = 0x1 | 0x2 | 0x4 | 0x8 | 0x20
FAILED = 125

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


class _MountAttr(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint64) for name in ("set", "clr", "propagation", "userns")]


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    encoded = [s.encode() if s is not None else None for s in (source, target, fstype, data)]
    _check(_libc.mount(encoded[0], encoded[1], encoded[2], flags, encoded[3]), f"mount {target}")


def _read_only(path: str, read_only: bool) -> None:
    """Set (or clear) the read-only flag of the mount at `path` and every mount below it."""
    attr = _MountAttr(MOUNT_ATTR_RDONLY if read_only else 0, 0 if read_only else MOUNT_ATTR_RDONLY)
    result = _libc.syscall(
        ctypes.c_long(SYS_MOUNT_SETATTR),
        ctypes.c_int(AT_FDCWD),
        path.encode(),
        ctypes.c_uint(AT_RECURSIVE),
        ctypes.byref(attr),
        ctypes.c_size_t(ctypes.sizeof(attr)),
    )
    _check(int(result), f"mount_setattr {path}")


def _inside(path: str, folder: str) -> bool:
    return path.startswith(folder.rstrip("/") + "/")


def _hide(folders: list[str], kept: dict[str, int]) -> None:
    """An empty tmpfs over each folder, with the kept folders inside it bound back."""
    for folder in sorted(folders, key=len):
        if not os.path.isdir(folder):  # absent, or already under a hidden folder
            continue
        _mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=0755")
        for path, fd in kept.items():
            if _inside(path, folder):
                os.makedirs(path, exist_ok=True)
                _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC, None)


def _drop_privileges() -> None:
    cap = 0
    while _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0:
        cap += 1
    _check(_libc.prctl(PR_SET_SECUREBITS, SECURE_BITS, 0, 0, 0), "securebits")
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def confine(spec: dict[str, Any]) -> None:
    """The filesystem as SPEC says, and no capabilities left (see the module docstring)."""
    writable = [w for w in spec["writable"] if os.path.isdir(w)]
    for path in writable:  # its own mount, so that it can stay writable below
        _mount(path, path, None, MS_BIND | MS_REC, None)
    keep = [k for k in {*spec["keep"], *writable} if os.path.isdir(k)]
    kept = {k: os.open(k, os.O_PATH | os.O_DIRECTORY) for k in keep}
    _hide(spec["hide"], kept)
    for fd in kept.values():
        os.close(fd)
    _read_only("/", True)
    for path in writable:
        _read_only(path, False)
    _drop_privileges()
    os.chdir(spec["cwd"])


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        sys.stderr.write("gitreg sandbox: usage: jail.py SPEC -- ARGV...\n")
        return FAILED
    try:
        confine(json.loads(argv[0]))
    except (OSError, ValueError, KeyError, TypeError) as e:
        sys.stderr.write(f"gitreg sandbox: {e}\n")
        return FAILED
    command = argv[2:]
    try:
        os.execvp(command[0], command)
    except OSError as e:
        sys.stderr.write(f"gitreg sandbox: could not start {command[0]!r}: {e.strerror}\n")
    return 127


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
