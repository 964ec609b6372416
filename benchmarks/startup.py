"""Start-up and read-path times of whole processes, beside `python -c pass` and plain git.

    python benchmarks/startup.py [REGISTRY]      (default: makes a small registry in a temp dir)

Prints median and spread over N runs (GITREG_BENCH_RUNS, default 15) for each command.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(cmd: list[str], cwd: Path, runs: int) -> tuple[float, float, float]:
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True)
        samples.append(time.perf_counter() - t)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.decode()[-400:]}")
    return statistics.median(samples), min(samples), max(samples)


def make_registry(where: Path) -> Path:
    gitreg = [sys.executable, "-m", "gitreg"]
    subprocess.run([*gitreg, "init", str(where / "reg")], check=True, capture_output=True)
    art = where / "model.bin"
    art.write_bytes(os.urandom(1024))
    for v in ("1.0.0", "1.1.0"):
        subprocess.run(
            [
                *gitreg,
                "register",
                "churn",
                "--version",
                v,
                "--artifact",
                str(art),
                "--here",
                "-C",
                str(where / "reg"),
            ],
            check=True,
            capture_output=True,
        )
    stages = where / "reg/models/churn/stages.yaml"
    stages.write_text("schema: gitreg/v1\nstaging: 1.1.0\nproduction: 1.0.0\n")
    subprocess.run(["git", "commit", "-qam", "stages"], cwd=where / "reg", check=True)
    subprocess.run([*gitreg, "release", "-C", str(where / "reg")], check=True, capture_output=True)
    return where / "reg"


def main() -> None:
    runs = int(os.environ.get("GITREG_BENCH_RUNS", "15"))
    tmp = Path(tempfile.mkdtemp(prefix="gitreg-bench-"))
    try:
        reg = Path(sys.argv[1]) if len(sys.argv) > 1 else make_registry(tmp)
        gitreg = str(Path(sys.executable).parent / "gitreg")  # the script itself, not a shim
        cases = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "git for-each-ref + cat-file (floor)": [
                "sh",
                "-c",
                "git for-each-ref 'refs/tags/churn#production#*' >/dev/null && "
                "git cat-file -p 'churn@v1.0.0:models/churn/versions/1.0.0.yaml' >/dev/null",
            ],
            "gitreg --help": [gitreg, "--help"],
            "gitreg list": [gitreg, "list"],
            "gitreg show churn": [gitreg, "show", "churn"],
            "gitreg validate": [gitreg, "validate"],
            "gitreg resolve churn@production": [gitreg, "resolve", "churn@production"],
        }
        print(f"{'command':40} {'median':>8} {'min':>8} {'max':>8}   ({runs} runs)")
        for label, cmd in cases.items():
            med, lo, hi = timed(cmd, reg, runs)
            print(f"{label:40} {med * 1000:7.1f}ms {lo * 1000:7.1f}ms {hi * 1000:7.1f}ms")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
