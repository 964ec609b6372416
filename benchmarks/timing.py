"""Timing whole processes: wall time, exit code, output and peak RSS of each run.

Each run is one `Popen` whose output goes to temporary files (no pipe to drain), waited for
with a blocking `os.wait4` (a timer thread kills the process group past the timeout). The
clock is `time.perf_counter` around spawn and reap.

Peak RSS comes from `/usr/bin/time -f %M` wrapped around the command (about 1 ms more per
run): the largest resident set of any one process in the command's tree, in KiB. Without
/usr/bin/time it falls back to wait4's `ru_maxrss` for the child, which on Linux never reads
below the runner's own RSS (the forked child starts as a copy of the runner).
"""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Run:
    seconds: float
    code: int
    rss_kib: int
    out: str
    err: str


@dataclass
class Case:
    """One command to time. `setup` runs before each run and `teardown` after (untimed)."""

    op: str  # the operation (table group)
    tool: str  # who answers it: gitreg, gto, mlflow, git (floor), python
    argv: list[str]
    cwd: Path
    env: dict[str, str] | None = None
    setup: Callable[[], dict[str, str] | None] | None = None  # may return extra env
    teardown: Callable[[Run], None] | None = None
    ok_codes: tuple[int, ...] = (0,)
    shown: str = ""  # the command as printed in the report (default: argv joined)
    check: Callable[[Run], str | None] | None = None  # on the first run: None or what's wrong


@dataclass
class Result:
    case: Case
    runs: list[Run] = field(default_factory=list)
    error: str | None = None
    timed_out: float | None = None
    wrong: str | None = None  # the first run's answer was not the expected one

    @property
    def samples(self) -> list[float]:
        return [r.seconds for r in self.runs]

    def to_dict(self) -> dict[str, Any]:
        s = self.samples
        return {
            "op": self.case.op,
            "tool": self.case.tool,
            "command": self.case.shown or " ".join(self.case.argv),
            "runs": len(s),
            "median_s": statistics.median(s) if s else None,
            "min_s": min(s) if s else None,
            "max_s": max(s) if s else None,
            "samples_s": [round(x, 4) for x in s],
            "peak_rss_mib": round(max(r.rss_kib for r in self.runs) / 1024, 1)
            if self.runs
            else None,
            "error": self.error,
            "answer_ok": None if self.case.check is None or not self.runs else not self.wrong,
            "wrong_answer": self.wrong,
            "timed_out_s": self.timed_out,
            "first_output": self.runs[0].out[:4000] if self.runs else None,
        }


TIME = Path("/usr/bin/time")


def run_once(argv: list[str], cwd: Path, env: dict[str, str], timeout: float) -> Run:
    """One timed run. Raises TimeoutError (after killing the process group) past `timeout`."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r") as rss,
    ):
        if TIME.exists():
            argv = [str(TIME), "-f", "%M", "-o", rss.name, *argv]
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill)
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)  # blocking: no polling steals a core
        seconds = time.perf_counter() - t0
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        if killed.is_set():
            raise TimeoutError(timeout)
        out.seek(0)
        err.seek(0)
        peak = rss.read().strip().splitlines() if TIME.exists() else []
        return Run(
            seconds,
            proc.returncode,
            int(peak[-1]) if peak and peak[-1].isdigit() else usage.ru_maxrss,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
        )


def measure(
    case: Case, runs: int, budget: float, timeout: float, base_env: dict[str, str]
) -> Result:
    """Up to `runs` runs; fewer once `budget` seconds are spent (always at least one)."""
    result = Result(case)
    spent = 0.0
    for _ in range(runs):
        extra = case.setup() if case.setup else None
        env = {**base_env, **(case.env or {}), **(extra or {})}
        try:
            r = run_once(case.argv, case.cwd, env, timeout)
        except TimeoutError:
            result.timed_out = timeout
            break
        try:
            if case.check and not result.runs and r.code in case.ok_codes:
                result.wrong = case.check(r)
        finally:
            if case.teardown:
                case.teardown(r)
        if r.code not in case.ok_codes:
            result.error = f"exit {r.code}: {(r.err or r.out).strip()[-600:]}"
            result.runs.append(r)
            break
        result.runs.append(r)
        spent += r.seconds
        if spent > budget:
            break
    return result


def fmt_seconds(s: float | None) -> str:
    if s is None:
        return "\u2013"
    if s < 1:
        return f"{s * 1000:.0f} ms"
    return f"{s:.2f} s"
