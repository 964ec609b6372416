"""What the progress bar costs: the import time of tqdm and rich.progress, and a pull of a
large artifact with the bar on (stderr a pty) and off (stderr a pipe).

    python benchmarks/progress.py            (GITREG_BENCH_MB, default 200; GITREG_BENCH_RUNS, 3)

Each pull goes by the origin's file:// URL into an empty gitreg cache, so DVC copies every
byte from the (local folder) remote; medians over the runs. Nothing here is a test.
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
    """Median wall time of `python -c "AFTER; import MODULE"` minus that of `AFTER` alone:
    what importing MODULE adds to a process that already ran AFTER."""

    def median(code: str) -> float:
        samples = []
        for _ in range(runs):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            samples.append(time.perf_counter() - t)
        return statistics.median(samples)

    return (median(f"{after}; import {module}") - median(after)) * 1000


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


def _pull(origin: Path, where: Path, bar: bool) -> float:
    cache, out = where / "cache", where / "out"
    shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    env = dict(os.environ, GITREG_CACHE_DIR=str(cache))
    cmd = [*GITREG, "pull", "churn@1.0.0", "--repo", origin.as_uri(), "-o", str(out)]
    master, slave = pty.openpty() if bar else (None, None)
    t = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=slave if bar else subprocess.DEVNULL
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
    code = proc.wait()
    elapsed = time.perf_counter() - t
    if code != 0:
        raise SystemExit(f"pull failed with exit {code}")
    return elapsed


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
        off, on = [], []
        for _ in range(runs):  # alternated, so a busy machine weighs on both alike
            off.append(_pull(origin, where, bar=False))
            on.append(_pull(origin, where, bar=True))
        for label, got in (("off (stderr a pipe)", off), ("on (stderr a pty)  ", on)):
            spread = f"{min(got):.2f}-{max(got):.2f}"
            print(f"pull {mb} MB, progress {label}: {statistics.median(got):.2f} s ({spread})")


if __name__ == "__main__":
    main()
