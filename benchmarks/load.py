"""The cost of `import gitreg` and of `gitreg.load`: import time and whole-process time.

    python benchmarks/load.py      (needs scikit-learn: the [sklearn] extra)

Makes a registry in a temp dir with one released scikit-learn model (iris, pickled), then
measures, each in a fresh process: `import gitreg`; touching `gitreg.load` (imports the
API); `gitreg.load("iris@production")` with an empty cache (resolve, verify, DVC pull,
safe load) and with a warm one (resolve, verify, md5 check of the entry, safe load). Import
times are `python -X importtime`'s, summed over top-level modules; GITREG_BENCH_RUNS (default
5) runs each, the median is printed.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASES = {
    "import gitreg": "import gitreg",
    "import gitreg; gitreg.load (the API)": "import gitreg; gitreg.load",
    "import sklearn.linear_model (reference)": "import sklearn.linear_model",
    "gitreg.load, warm cache": "import gitreg; gitreg.load('iris@production', repo='{reg}')",
}
COLD = "gitreg.load, empty cache"


def make_registry(where: Path) -> Path:
    gitreg = [sys.executable, "-m", "gitreg"]
    reg = where / "reg"
    subprocess.run([*gitreg, "init", str(reg)], check=True, capture_output=True)
    code = (
        "import pickle, sys; from sklearn.datasets import load_iris; "
        "from sklearn.linear_model import LogisticRegression; x, y = load_iris(return_X_y=True); "
        "open(sys.argv[1], 'wb').write(pickle.dumps(LogisticRegression(max_iter=500).fit(x, y)))"
    )
    subprocess.run([sys.executable, "-c", code, str(where / "model.pkl")], check=True)
    register = ["register", "iris", "--version", "1.0.0", "--artifact", str(where / "model.pkl")]
    subprocess.run([*gitreg, *register, "--here", "-C", str(reg)], check=True, capture_output=True)
    (reg / "models/iris/stages.yaml").write_text("schema: gitreg/v1\nstaging: 1.0.0\n")
    subprocess.run(["git", "commit", "-qam", "staging"], cwd=reg, check=True)
    (reg / "models/iris/stages.yaml").write_text(
        "schema: gitreg/v1\nstaging: 1.0.0\nproduction: 1.0.0\n"
    )
    subprocess.run(["git", "commit", "-qam", "production"], cwd=reg, check=True)
    subprocess.run([*gitreg, "release", "-C", str(reg)], check=True, capture_output=True)
    return reg


def once(code: str, cache: Path) -> tuple[float, float]:
    """(wall seconds, import seconds summed over top-level modules) of one process."""
    env = {**os.environ, "GITREG_CACHE_DIR": str(cache)}
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, env=env
    )
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{code} failed: {proc.stderr[-600:]}")
    top = re.findall(r"^import time:\s+\d+ \|\s+(\d+) \| \S", proc.stderr, re.MULTILINE)
    return wall, sum(int(us) for us in top) / 1e6


def main() -> None:
    runs = int(os.environ.get("GITREG_BENCH_RUNS", "5"))
    tmp = Path(tempfile.mkdtemp(prefix="gitreg-bench-load-"))
    try:
        reg = make_registry(tmp)
        print(f"{'case':40} {'wall':>8} {'imports':>8}   (median of {runs})")
        rows = {name: [once(code.format(reg=reg), tmp / "cache") for _ in range(runs)]
                for name, code in CASES.items()}  # fmt: skip
        cold = []
        for i in range(runs):
            cold.append(once(CASES["gitreg.load, warm cache"].format(reg=reg), tmp / f"cold{i}"))
        rows[COLD] = cold
        for name, samples in rows.items():
            wall = statistics.median(s[0] for s in samples)
            imports = statistics.median(s[1] for s in samples)
            print(f"{name:40} {wall:8.3f} {imports:8.3f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
