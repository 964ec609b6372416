"""What the progress bar costs: the import time of tqdm and rich.progress, and a pull of a
large artifact with the bar on (stderr a pty) and off (stderr a pipe).

    python benchmarks/progress.py            (GITREG_BENCH_MB, default 200; GITREG_BENCH_RUNS, 3)

Each pull goes by the origin's file:// URL into an empty gitreg cache, so DVC copies every
byte from the (local folder) remote; medians over the runs, as wall time and as the pull's
own CPU time (user + system, which a busy machine disturbs less). The pty modes are read by
this process, as a terminal would be. Nothing here is a test.
"""

from __future__ import annotations

import os
import pty
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GITREG = [sys.executable, "-m", "gitreg"]


def _import_ms(module: str, runs: int, after: str = "pass") -> float:
    """Median time of `import MODULE` in a fresh process that already ran AFTER, timed
    inside the process (the whole process's start-up varies more than the import)."""
    code = (
        f"{after}\nimport time\nt = time.perf_counter()\nimport {module}\n"
        "print(time.perf_counter() - t)"
    )
    samples = [
        float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                             text=True).stdout)
        for _ in range(runs)
    ]  # fmt: skip
    return statistics.median(samples) * 1000


def _registry(where: Path, mb: int) -> Path:
    origin = where / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    reg = where / "reg"
    subprocess.run([*GITREG, "init", str(reg)], check=True, capture_output=True)
    model = where / "model.bin"
    with open(model, "wb") as fh:
        for _ in range(mb):
            fh.write(os.urandom(1024 * 1024))
    args = ["register", "churn", "--version", "1.0.0", "--artifact", str(model), "--here"]
    subprocess.run([*GITREG, *args], cwd=reg, check=True, capture_output=True)
    subprocess.run([*GITREG, "release"], cwd=reg, check=True, capture_output=True)
    subprocess.run(["git", "remote", "add", "origin", origin.as_uri()], cwd=reg, check=True)
    subprocess.run(["git", "push", "-q", "origin", "main", "--tags"], cwd=reg, check=True)
    return origin


def _pull(origin: Path, where: Path, tty: bool, bar: bool = True) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, the process's own) of one pull."""
    cache, out = where / "cache", where / "out"
    shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    env = dict(os.environ, GITREG_CACHE_DIR=str(cache), GITREG_PROGRESS="1" if bar else "0")
    cmd = [*GITREG, "pull", "churn@1.0.0", "--repo", origin.as_uri(), "-o", str(out)]
    master, slave = pty.openpty() if tty else (None, None)
    t = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=slave if tty else subprocess.DEVNULL
    )
    if slave is not None and master is not None:
        os.close(slave)
        while True:
            try:
                if not os.read(master, 65536):
                    break
            except OSError:
                break
        os.close(master)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"pull failed with exit {code}")
    return elapsed, usage.ru_utime + usage.ru_stime


def main() -> None:
    mb = int(os.environ.get("GITREG_BENCH_MB", "200"))
    runs = int(os.environ.get("GITREG_BENCH_RUNS", "3"))
    for module in ("tqdm", "rich.progress"):
        alone = _import_ms(module, max(runs, 9))
        # register and pull import DVC before the first bar is drawn
        after = _import_ms(module, max(runs, 9), after="import dvc.repo")
        print(f"import {module}: {alone:.0f} ms alone, {after:.0f} ms after dvc.repo (median)")
    with tempfile.TemporaryDirectory(prefix="gitreg-bench-progress-") as tmp:
        where = Path(tmp)
        origin = _registry(where, mb)
        modes = {
            "off (stderr /dev/null)        ": {"tty": False},
            "off (stderr a pty, PROGRESS=0)": {"tty": True, "bar": False},
            "on  (stderr a pty)            ": {"tty": True},
        }
        times: dict[str, list[tuple[float, float]]] = {label: [] for label in modes}
        for _ in range(runs):  # alternated, so a busy machine weighs on each alike
            for label, how in modes.items():
                times[label].append(_pull(origin, where, **how))
        for label, got in times.items():
            wall, cpu = [w for w, _ in got], [c for _, c in got]
            print(
                f"pull {mb} MB, progress {label}: {statistics.median(wall):.2f} s wall "
                f"({min(wall):.2f}-{max(wall):.2f}), {statistics.median(cpu):.2f} s CPU "
                f"({min(cpu):.2f}-{max(cpu):.2f})"
            )


if __name__ == "__main__":
    main()
