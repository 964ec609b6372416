"""Where an evaluator runs: an allow-list environment, no network, a read-only filesystem,
and resource limits.

Every evaluator process (the built-in one and `evaluation.command`) gets:

- an environment built from nothing (`Sandbox.env`): a minimal PATH that finds this
  interpreter, HOME and TMPDIR inside its own folder, a fixed locale, TZ and hash seed,
  the BLAS/OpenMP tuning variables if set; never the parent's variables;
- limits set in the child before it starts (`limits`): CPU seconds about the timeout,
  `MEMORY_LIMIT` bytes of address space, `FILE_LIMIT` bytes per file, no core files;
- where the system allows it (`isolation`, probed once per process), new user, network,
  mount and PID namespaces through util-linux `unshare`, and `jail.py` inside them: no
  network (its own loopback, with nothing listening), everything read-only except its own
  folder, home and temporary folders and the registry's checkout hidden, its own /proc
  (so no other process's environment), and no capabilities. If only the network can be
  isolated, or nothing, the run goes ahead with what is available and the report says so.
"""

from __future__ import annotations

import functools
import json
import os
import resource
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

UNSHARE = "/usr/bin/unshare"
JAIL = Path(__file__).with_name("jail.py")
MEMORY_LIMIT = 4 << 30  # RLIMIT_AS: address space, bytes
FILE_LIMIT = 1 << 30  # RLIMIT_FSIZE: the largest file it may write, bytes
CPU_GRACE = 5  # RLIMIT_CPU: the soft limit is the timeout; SIGKILL this much later
SANDBOX_FAILED = 125  # jail.py's exit code when it could not set the sandbox up
# Passed on when set (tuning, not secrets); the thread counts default to 1, for
# reproducible numbers and to keep BLAS thread buffers inside the memory limit.
PASSTHROUGH = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_VERBOSE")
THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# Hidden behind an empty tmpfs (besides the parent's HOME, temporary folder and cwd):
HIDDEN = ("/home", "/root", "/tmp", "/var/tmp", "/run", "/dev/shm", "/mnt", "/media", "/srv")
_SYSTEM = ("/", "/usr", "/bin", "/sbin", "/lib", "/lib64", "/etc", "/opt", "/proc", "/dev")
NAMESPACES = ["--user", "--map-root-user", "--net"]
FULL = [*NAMESPACES, "--mount", "--pid", "--fork", "--mount-proc", "--kill-child"]

Level = Literal["full", "network", "none"]


@dataclass(frozen=True)
class Isolation:
    """What this machine allows: `level`, and why the next level up is unavailable."""

    level: Level
    reason: str | None = None


@dataclass(frozen=True)
class Sandbox:
    """One evaluator run's places: `work` is readable (the exported tree, the artifacts,
    the data set; shown as $TMP in the report), `writable` is its own folder (HOME, TMPDIR,
    the output), `hidden` are more folders to hide (the registry's checkout)."""

    work: Path
    writable: Path
    hidden: tuple[Path, ...] = ()

    @property
    def home(self) -> Path:
        return self.writable / "home"

    @property
    def tmp(self) -> Path:
        return self.writable / "tmp"

    def prepare(self) -> None:
        for folder in (self.home, self.tmp):
            folder.mkdir(parents=True, exist_ok=True)

    def env(self) -> dict[str, str]:
        """The evaluator's whole environment: an allow-list, nothing from the parent but
        the tuning variables of `PASSTHROUGH` and `THREADS`."""
        env = {
            "PATH": minimal_path(),
            "HOME": str(self.home),
            "TMPDIR": str(self.tmp),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "TZ": "UTC",
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONNOUSERSITE": "1",
        }
        env.update({k: os.environ[k] for k in PASSTHROUGH if k in os.environ})
        env.update({k: os.environ.get(k, "1") for k in THREADS})
        return env

    def wrap(self, argv: list[str], cwd: Path, level: Level) -> list[str]:
        """`argv` wrapped in the namespaces `level` allows."""
        if level == "none":
            return argv
        if level == "network":
            return [UNSHARE, *NAMESPACES, "--", *argv]
        spec = {
            "writable": [_real(self.writable), *_existing(["/dev/shm"])],
            "keep": sorted({_real(self.work), *interpreter_paths()}),
            "hide": hidden_paths(self.hidden),
            "cwd": str(cwd),
        }
        jail = [sys.executable, "-I", "-S", str(JAIL), json.dumps(spec), "--"]
        return [UNSHARE, *FULL, "--", *jail, *argv]


def minimal_path() -> str:
    """This interpreter's folder, then the system's."""
    here = str(Path(sys.executable).parent)
    folders = [here, *(d for d in ("/usr/local/bin", "/usr/bin", "/bin") if d != here)]
    return ":".join(folders)


def _real(path: str | Path) -> str:
    return os.path.realpath(path)


def _existing(paths: Iterable[str]) -> list[str]:
    return [_real(p) for p in paths if os.path.isdir(p)]


def interpreter_paths() -> list[str]:
    """What the evaluator's Python needs to see: its prefixes and its import path."""
    places = [sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix]
    places += [str(Path(sys.executable).parent), str(Path(_real(sys.executable)).parent)]
    places += [p for p in sys.path if p]
    return sorted(set(_existing(places)))


def hidden_paths(extra: Iterable[Path] = ()) -> list[str]:
    """Folders to hide: `HIDDEN`, the parent's HOME, temporary folder and cwd, and `extra`;
    never a system folder or one holding it."""
    try:
        cwd = os.getcwd()
    except OSError:  # it was deleted
        cwd = ""
    places = [*HIDDEN, os.environ.get("HOME", ""), tempfile.gettempdir(), cwd, *extra]
    out = set()
    for place in _existing(str(p) for p in places if str(p)):
        if not any(s == place or s.startswith(place.rstrip("/") + "/") for s in _SYSTEM):
            out.add(place)
    return sorted(out)


def _lower(which: int, soft: int, hard: int) -> None:
    """Set a limit to (soft, hard), never above the hard limit the process already has."""
    _, current = resource.getrlimit(which)
    if current != resource.RLIM_INFINITY:
        soft, hard = min(soft, current), min(hard, current)
    resource.setrlimit(which, (soft, hard))


def limits(timeout: int) -> Callable[[], None]:
    """A `preexec_fn` that sets the child's resource limits before it starts."""

    def apply() -> None:
        _lower(resource.RLIMIT_CPU, timeout, timeout + CPU_GRACE)
        _lower(resource.RLIMIT_AS, MEMORY_LIMIT, MEMORY_LIMIT)
        _lower(resource.RLIMIT_FSIZE, FILE_LIMIT, FILE_LIMIT)
        _lower(resource.RLIMIT_CORE, 0, 0)

    return apply


def _try(argv: list[str], timeout: int = 20) -> str | None:
    """None if `argv` ran and exited 0, else why not (its last line of stderr)."""
    try:
        proc = subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return str(e)
    if proc.returncode == 0:
        return None
    lines = [line.strip() for line in proc.stderr.splitlines() if line.strip()]
    return (lines[-1] if lines else f"exit code {proc.returncode}")[:200]


@functools.cache
def isolation() -> Isolation:
    """What the sandbox can do here: probed once per process, by running it."""
    if not os.access(UNSHARE, os.X_OK):
        return Isolation("none", f"{UNSHARE} not found (install util-linux)")
    trivial = [sys.executable, "-I", "-S", "-c", ""]
    with tempfile.TemporaryDirectory(prefix="gitreg-probe-") as tmp:
        box = Sandbox(Path(tmp), Path(tmp) / "run")
        box.prepare()
        full = _try(box.wrap(trivial, Path(tmp), "full"))
        if full is None:
            return Isolation("full")
    network = _try([UNSHARE, *NAMESPACES, "--", *trivial])
    if network is None:
        return Isolation("network", full)
    return Isolation("none", network)


def _size(n: int) -> str:
    return f"{n >> 30} GiB"


def note(timeout: int) -> str:
    """What the report says about the sandbox the evaluators ran in."""
    how = isolation()
    limited = (
        f"limits: {timeout} s of CPU time, {_size(MEMORY_LIMIT)} of memory, "
        f"{_size(FILE_LIMIT)} per file"
    )
    if how.level == "full":
        return (
            "sandbox: no network, a read-only filesystem (writable: the run's own folder), "
            f"home and temporary folders hidden, its own process table; {limited}"
        )
    if how.level == "network":
        return f"sandbox: no network; filesystem isolation unavailable: {how.reason}; {limited}"
    return f"sandbox: network isolation unavailable: {how.reason}; {limited}"
