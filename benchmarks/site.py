"""Time `gitreg site` on a generated registry: a cold build with no cache at all, a cold
build (an empty folder; the object-id cache of earlier runs under .git/gitreg/cache), a
rebuild with nothing changed, and a rebuild after one version's manifest changed.

    python benchmarks/site.py [--size 1000x10] [--out benchmarks/out] [--runs 3]

The registry is the one benchmarks/run.py generates (OUT/repos/MxV, reused when there, made
with benchmarks/generate.py otherwise); this script works on a copy, so the cached registry
is never changed. Each run is a fresh process; the median of --runs is reported (wall
time, and the CPU time of gitreg and its git children, which a busy machine does not
inflate), with the files each build wrote. Target: the cold build at 1000x10 in at most 10 s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import Size, generate  # noqa: E402

GITREG = [sys.executable, "-m", "gitreg"]


def registry(size: str, out: Path) -> Path:
    repo = out / "repos" / size
    if not (repo / ".git").exists():
        generate(Size.parse(size), repo)
    return repo


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def site(repo: Path, dest: Path) -> tuple[float, float, dict[str, object]]:
    """(wall seconds, CPU seconds of gitreg and its git processes, --json output)."""
    cpu, start = _children_cpu(), time.perf_counter()
    proc = subprocess.run(
        [*GITREG, "site", "-C", str(repo), "-o", str(dest), "--json"],
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"gitreg site failed: {proc.stderr}")
    return seconds, _children_cpu() - cpu, json.loads(proc.stdout)


def change_one_version(repo: Path, n: int) -> None:
    """Commit a new description in one version's manifest, from git objects (the cached
    registry may have no checkout)."""

    def git(*args: str, data: bytes | None = None) -> bytes:
        return subprocess.run(
            ["git", *args], cwd=repo, input=data, capture_output=True, check=True
        ).stdout

    names = git("ls-tree", "-r", "--name-only", "HEAD", "models").decode().splitlines()
    rel = next(p for p in names if "/versions/" in p)
    text = re.sub(
        r"(?m)^description: .*$", f"description: changed {n}", git("show", f"HEAD:{rel}").decode()
    )
    sha = git("hash-object", "-w", "--stdin", data=text.encode()).decode().strip()
    git("update-index", "--add", "--cacheinfo", f"100644,{sha},{rel}")
    git("commit", "-qm", f"change {rel}")


def main(argv: list[str] | None = None) -> dict[str, object]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="1000x10")
    ap.add_argument("--out", type=Path, default=HERE / "out")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    cached = registry(args.size, args.out)
    results: dict[str, list[float]] = {
        "cold, no cache": [],
        "cold": [],
        "unchanged": [],
        "one version changed": [],
    }
    cpu: dict[str, list[float]] = {k: [] for k in results}
    written: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="gitreg-site-bench-") as tmp:
        repo = Path(tmp) / "repo"
        shutil.copytree(cached, repo, symlinks=True)
        for n in range(args.runs):
            for case in results:
                dest = Path(tmp) / f"site-{n}{'-nocache' if case == 'cold, no cache' else ''}"
                if case == "cold, no cache":
                    shutil.rmtree(repo / ".git" / "gitreg" / "cache", ignore_errors=True)
                if case == "one version changed":
                    change_one_version(repo, n)
                seconds, used, out = site(repo, dest)
                results[case].append(seconds)
                cpu[case].append(used)
                written[case] = len(out["written"])  # type: ignore[arg-type]
    report = {
        "size": args.size,
        "runs": args.runs,
        "median_seconds": {k: round(statistics.median(v), 2) for k, v in results.items()},
        "median_cpu_seconds": {k: round(statistics.median(v), 2) for k, v in cpu.items()},
        "all_seconds": {k: [round(x, 2) for x in v] for k, v in results.items()},
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "files_written": written,
    }
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
