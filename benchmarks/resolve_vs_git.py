"""`gitreg resolve` (local, and --repo file:// warm and cold) beside `git ls-remote` + `git show`.

    python benchmarks/resolve_vs_git.py REPO NAME@STAGE TAG MANIFEST_PATH

e.g. `python benchmarks/resolve_vs_git.py out/repos/1000x10 m7@production
'm7#production#6' models/m7/versions/1.8.0.yaml`. Medians over 11 runs (7 for cold).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def _fmt(samples: list[float]) -> str:
    med, lo, hi = statistics.median(samples), min(samples), max(samples)
    return f"{med * 1000:7.1f} ms (min {lo * 1000:.1f}, max {hi * 1000:.1f})"


def timed(cmd: list[str] | str, cwd: str, env: dict[str, str] | None = None, n: int = 11) -> str:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        proc = subprocess.run(
            cmd, cwd=cwd, env=env, capture_output=True, shell=isinstance(cmd, str)
        )
        samples.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"{cmd} failed: {proc.stderr.decode()[-300:]}")
    return _fmt(samples)


def main() -> None:
    repo, ref, tag, manifest = sys.argv[1:5]
    gitreg = os.path.join(os.path.dirname(sys.executable), "gitreg")
    url = "file://" + os.path.abspath(repo)
    model = ref.split("@")[0]
    warm = tempfile.mkdtemp(prefix="gitreg-cache-")
    env = dict(os.environ, GITREG_CACHE_DIR=warm)
    tmp = tempfile.gettempdir()
    print("python -c pass                     ", timed([sys.executable, "-c", "pass"], repo))
    print("gitreg resolve (local)             ", timed([gitreg, "resolve", ref, "--json"], repo))
    print(
        "gitreg resolve --repo file:// warm ",
        timed([gitreg, "resolve", ref, "--json", "--repo", url], tmp, env),
    )
    cold = []
    for _ in range(7):
        cache = tempfile.mkdtemp(prefix="gitreg-cache-")
        start = time.perf_counter()
        subprocess.run(
            [gitreg, "resolve", ref, "--json", "--repo", url],
            cwd=tmp,
            check=True,
            capture_output=True,
            env=dict(os.environ, GITREG_CACHE_DIR=cache),
        )
        cold.append(time.perf_counter() - start)
        shutil.rmtree(cache, ignore_errors=True)
    print("gitreg resolve --repo file:// cold ", _fmt(cold))
    floor = (
        f"git ls-remote --tags {url} 'refs/tags/{model}#*' >/dev/null && "
        f"git show '{tag}:{manifest}' >/dev/null"
    )
    print("git ls-remote + git show           ", timed(floor, repo))
    shutil.rmtree(warm, ignore_errors=True)


if __name__ == "__main__":
    main()
