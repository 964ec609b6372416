"""`gitreg pull` against `dvc pull` of the same bytes from the same local-folder remote.

    python benchmarks/pull.py     (GITREG_BENCH_MB, default 500; GITREG_BENCH_RUNS, default 5)
    GITREG_BENCH_BEFORE=/copy/of/old/src python benchmarks/pull.py   (also that gitreg)

One registry with one released version whose artifact is N MB of random bytes, pushed to a
local DVC remote; a plain DVC project (`dvc init --no-scm`) holding the same `.dvc` pointer
and the same remote. Each case is a whole process into a fresh output folder:

- first: the DVC cache and gitreg's own cache (its stat records, store/verified.py)
  emptied before each run: gitreg hashes every byte, as on a machine's first pull;
- cold: the DVC cache emptied (DVC copies every byte from the remote); gitreg's records
  kept, so the remote object it hashed in an earlier run is copied unhashed;
- warm: the object the last cold run fetched still in the DVC cache.

For `dvc pull`, first and cold are the same thing. gitreg pulls by the registry's path with
its release checks on (the default), so its cache is the registry's own `.dvc/cache`. The
tools alternate run by run, so a busy machine weighs on both alike; medians of wall and CPU
time (user + system of the process tree) and the ratios are printed.
Nothing here is a test.
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

BIN = Path(sys.executable).parent
# this interpreter, so the gitreg timed is the one it imports (a venv's console script may
# name another venv's python in its #! line, when the venv was copied)
GITREG = [sys.executable, "-m", "gitreg"]
DVC = [str(BIN / "dvc")]
QUIET = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}


def _run(cmd: list[str], cwd: Path) -> None:
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True)


def setup(where: Path, mb: int) -> tuple[Path, Path]:
    """The registry and the plain DVC project; both share the remote `where/remote`."""
    reg, remote = where / "reg", where / "remote"
    _run([*GITREG, "init", str(reg), "--remote", str(remote)], where)
    model = where / "model.bin"
    with open(model, "wb") as fh:
        for _ in range(mb):
            fh.write(os.urandom(1 << 20))
    args = ["register", "churn", "--version", "1.0.0", "--artifact", str(model), "--here"]
    _run([*GITREG, *args], reg)
    _run([*GITREG, "release"], reg)
    plain = where / "plain"
    plain.mkdir()
    _run([*DVC, "init", "--no-scm", "-q"], plain)
    _run([*DVC, "remote", "add", "-d", "store", str(remote)], plain)
    pointer = next(reg.glob("models/churn/artifacts/1.0.0/*.dvc"))
    shutil.copy(pointer, plain / pointer.name)
    model.unlink()
    return reg, plain


def _time(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system of the whole process tree, which a
    busy machine disturbs less than the wall clock)."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, **QUIET)  # type: ignore[call-overload]
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(cmd)}: exit {code}")
    return elapsed, usage.ru_utime + usage.ru_stime


def _line(label: str, samples: dict[str, list[float]], runs: int) -> str:
    d = samples["dvc"]
    md = statistics.median(d)
    parts = [f"dvc pull {md:.2f} s ({min(d):.2f}-{max(d):.2f})"]
    for tool in ("gitreg", "before"):
        if g := samples.get(tool):
            mg = statistics.median(g)
            parts.append(f"{tool} {mg:.2f} s ({min(g):.2f}-{max(g):.2f}), ratio {mg / md:.2f}x")
    return f"{label}: {'; '.join(parts)}  (medians of {runs})"


def main() -> None:
    mb = int(os.environ.get("GITREG_BENCH_MB", "500"))
    runs = int(os.environ.get("GITREG_BENCH_RUNS", "5"))
    with tempfile.TemporaryDirectory(prefix="gitreg-bench-pull-", dir="/var/tmp") as tmp:
        where = Path(tmp)
        reg, plain = setup(where, mb)
        env = dict(os.environ, GITREG_PROGRESS="0", GITREG_CACHE_DIR=str(where / "gcache"))
        out = where / "out"
        times: dict[tuple[str, str], list[tuple[float, float]]] = {}
        tools = ["gitreg", "dvc"]
        if before := os.environ.get("GITREG_BENCH_BEFORE"):  # another gitreg's src/, same run
            tools.append("before")
            env_before = dict(env, PYTHONPATH=before)
        temps = ("first", "cold", "warm")  # warm: the objects the last cold runs fetched
        for temp in temps:
            for _ in range(runs):
                for tool in tools:
                    cache = (plain if tool == "dvc" else reg) / ".dvc" / "cache"
                    if temp != "warm":
                        shutil.rmtree(cache, ignore_errors=True)
                    if temp == "first":
                        shutil.rmtree(where / "gcache", ignore_errors=True)
                    shutil.rmtree(out, ignore_errors=True)
                    for f in plain.glob("*.bin"):
                        f.unlink()
                    if tool != "dvc":
                        cmd = [*GITREG, "pull", "churn@1.0.0", "-o", str(out)]
                        took = _time(cmd, reg, env if tool == "gitreg" else env_before)
                    else:
                        took = _time([*DVC, "pull", "-q"], plain, env)
                    times.setdefault((temp, tool), []).append(took)
        for temp in temps:
            for i, what in enumerate(("wall", "CPU")):
                got = {t: [s[i] for s in times[(temp, t)]] for t in tools}
                print(_line(f"pull {mb} MB, {temp}, {what}", got, runs), flush=True)


if __name__ == "__main__":
    main()
