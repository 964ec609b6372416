"""Measuring one model version: the model's own command, or the built-in evaluator.

The contract of a command (`evaluation.command` in model.yaml): an argv list, run without
a shell, with `{model}`, `{dataset}` and `{output}` replaced by paths; it must exit 0 within
`evaluation.timeout` seconds and write to `{output}` a JSON object of metric name -> finite
number, optionally with `"by_slice": {slice: {metric: number}}`. Anything else (a timeout,
a non-zero exit, a limit hit, no output, invalid JSON, a value that is not a number)
becomes a `Measurement` with an `error` that says which, never an exception.

The built-in evaluator (classification or regression: `model.metrics`) runs as the same
kind of process, `python -I -m gitreg.evaluation.builtin`, so the candidate is loaded
outside the process that holds the registry and any token, under the same timeout. Every
run is sandboxed (`gitreg.evaluation.sandbox`: an allow-list environment, no network, a
read-only filesystem, resource limits), and every text of its result is redacted
(`gitreg.evaluation.disclosure`) before it reaches the report.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from gitreg.errors import EvaluatorUnavailable
from gitreg.evaluation import result_blocks, sandbox
from gitreg.evaluation.disclosure import Redactor
from gitreg.model.gate import CommandLog, Measurement

TAIL_CHARS = 4000
MAX_OUTPUT_BYTES = 64 << 20  # per-row scores of a large held-out set fit
_OUT_OF_MEMORY = re.compile(r"MemoryError|Cannot allocate memory|bad_alloc|out of memory")


def require_builtin() -> None:
    if importlib.util.find_spec("sklearn") is None:
        raise EvaluatorUnavailable(
            "the built-in evaluator needs scikit-learn, which is not installed",
            "pip install 'gitreg[sklearn]', or set evaluation.command in model.yaml",
        )


def fill(argv: Sequence[str], model: Path, dataset: Path, output: Path) -> list[str]:
    """The argv with its placeholders replaced (plain text replacement, no format spec)."""
    values = {"{model}": str(model), "{dataset}": str(dataset), "{output}": str(output)}
    out = []
    for arg in argv:
        for key, value in values.items():
            arg = arg.replace(key, value)
        out.append(arg)
    return out


def _tail(path: Path) -> str:
    with path.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        fh.seek(max(0, fh.tell() - TAIL_CHARS))
        return fh.read().decode("utf-8", "replace")


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{where} is {json.dumps(value)[:60]}, not a finite number")
    return float(value)


def parse_output(path: Path) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Metrics and by-slice metrics from a command's output; ValueError says what is wrong."""
    metrics, by_slice, _ = read_output(path)
    return metrics, by_slice


def read_output(
    path: Path, known: Collection[str] = ()
) -> tuple[dict[str, float], dict[str, dict[str, float]], dict[str, Any]]:
    """`parse_output`, and the Measurement fields of the optional blocks
    (`result_blocks`: bootstrap, per_row and environment, for the `known` metrics)."""
    if not path.is_file():
        raise ValueError("wrote no output (the JSON file at {output})")
    if path.stat().st_size > MAX_OUTPUT_BYTES:
        raise ValueError(f"wrote more than {MAX_OUTPUT_BYTES} bytes of output")
    try:
        data = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as e:
        raise ValueError(f"wrote invalid JSON ({e})") from None
    if not isinstance(data, dict):
        raise ValueError(f"wrote a JSON {type(data).__name__}, not an object of metric -> number")
    blocks = result_blocks.split(data, known)
    slices = data.pop("by_slice", {})
    metrics = {str(k): _number(v, f"metric {k!r}") for k, v in data.items()}
    if not isinstance(slices, dict) or not all(isinstance(v, dict) for v in slices.values()):
        raise ValueError('"by_slice" is not an object of slice -> {metric: number}')
    by_slice = {
        str(s): {str(k): _number(v, f"metric {k!r} of slice {s!r}") for k, v in values.items()}
        for s, values in slices.items()
    }
    return metrics, by_slice, blocks


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def _limit_hit(number: int, timeout: int) -> str:
    hits = {
        signal.SIGXCPU: f": it used more than its {timeout} s of CPU time",
        signal.SIGKILL: f" (most likely for using more than {timeout} s of CPU time)",
        signal.SIGXFSZ: f": it wrote a file larger than {sandbox.FILE_LIMIT >> 30} GiB",
    }
    try:
        sig = signal.Signals(number)
    except ValueError:
        return f"signal {number}"
    return sig.name + hits.get(sig, "")


def exit_reason(code: int, stderr: str, timeout: int) -> str:
    """Why a run that ended with `code` failed, naming the limit it hit if it hit one."""
    last = _last_line(stderr)
    if code == sandbox.SANDBOX_FAILED and last.startswith("gitreg sandbox:"):
        return f"the sandbox could not start it ({last})"
    if code < 0:
        return f"was killed by {_limit_hit(-code, timeout)}"
    error = f"exited with code {code}" + (f": {last}" if last else "")
    if _OUT_OF_MEMORY.search(stderr):
        error += f" (evaluators may use at most {sandbox.MEMORY_LIMIT >> 30} GiB of memory)"
    elif "File too large" in stderr:
        error += f" (evaluators may write files of at most {sandbox.FILE_LIMIT >> 30} GiB)"
    return error


def _executable(argv0: str, path: str, cwd: Path) -> str | None:
    if "/" in argv0:
        found = cwd / argv0
        return str(found) if found.is_file() and os.access(found, os.X_OK) else None
    return shutil.which(argv0, path=path)


def _spawn(
    argv: list[str], cwd: Path, box: sandbox.Sandbox, env: dict[str, str], timeout: int, logs: Path
) -> int | None:
    """Run `argv` in the sandbox; its exit code, or None if it timed out."""
    level = sandbox.isolation().level
    out_log, err_log = logs.with_suffix(".stdout"), logs.with_suffix(".stderr")
    with out_log.open("wb") as out, err_log.open("wb") as err:
        proc = subprocess.Popen(
            box.wrap(argv, cwd, level),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=env,
            start_new_session=True,
            preexec_fn=sandbox.limits(timeout),  # setrlimit only
        )
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        finally:
            kill_tree(proc.pid)
            proc.wait()


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for task in Path(f"/proc/{todo.pop()}/task").glob("*/children"):
            with contextlib.suppress(OSError, ValueError):
                kids = [int(k) for k in task.read_text().split()]
                found += kids
                todo += kids
    return found


def kill_tree(pid: int) -> None:
    """SIGKILL the process `pid`, its descendants (also those that left its process group,
    such as the sandbox's namespace) and its process group."""
    for child in _descendants(pid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(child, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _redacted(measured: Measurement, shown: Redactor, known: Collection[str]) -> Measurement:
    log = measured.log
    if log is not None:
        argv = [shown(a) for a in log.argv]
        log = replace(log, argv=argv, stdout=shown(log.stdout), stderr=shown(log.stderr))
    return replace(
        measured,
        metrics=shown.keys(measured.metrics, known),
        by_slice={shown(s): shown.keys(v, known) for s, v in measured.by_slice.items()},
        error=shown(measured.error) if measured.error else None,
        log=log,
        environment={shown(k): _shown_value(shown, v) for k, v in measured.environment.items()},
    )


def _shown_value(shown: Redactor, value: Any) -> Any:
    if isinstance(value, dict):
        return {shown(k): _shown_value(shown, v) for k, v in value.items()}
    return shown(value) if isinstance(value, str) else value


def run(
    argv: list[str],
    role: str,
    version: str,
    output: Path,
    timeout: int,
    cwd: Path,
    box: sandbox.Sandbox,
    known: Collection[str] = (),
) -> Measurement:
    """Run one evaluator process in `box` and read what it measured (see the module
    docstring); every text of the result is redacted (`disclosure.Redactor`), but for the
    metric names in `known` (the policy's)."""
    box.prepare()
    env = box.env()
    shown = Redactor(os.environ, env, box.work)
    output.unlink(missing_ok=True)
    sandbox.isolation()  # probed once per process, not counted in the run's seconds
    start = time.monotonic()
    try:
        if _executable(argv[0], env["PATH"], cwd) is None:
            raise FileNotFoundError(2, "not found on the evaluator's PATH, or not executable")
        code = _spawn(argv, cwd, box, env, timeout, output)
    except OSError as e:
        error = f"could not start {argv[0]!r}: {e.strerror or e}"
        log = CommandLog(role, version, argv, None, 0.0, "", "")
        return _redacted(Measurement(version, error=error, log=log), shown, known)
    seconds = round(time.monotonic() - start, 3)
    stdout, stderr = _tail(output.with_suffix(".stdout")), _tail(output.with_suffix(".stderr"))
    log = CommandLog(role, version, argv, code, seconds, stdout, stderr)
    if code is None:
        measured = Measurement(version, error=f"timed out after {timeout} s", log=log)
    elif code != 0:
        measured = Measurement(version, error=exit_reason(code, stderr, timeout), log=log)
    else:
        try:
            metrics, by_slice, blocks = read_output(output, known)
            measured = Measurement(version, metrics, by_slice, log=log, **blocks)
        except ValueError as e:
            measured = Measurement(version, error=f"the evaluation {e}", log=log)
    return _redacted(measured, shown, known)


def builtin_argv(
    model: Path,
    dataset: Path,
    output: Path,
    target: str,
    slices: Iterable[str],
    allowed: Iterable[str],
    *,
    task: str = "classification",
    bootstrap: tuple[int, int] | None = None,
) -> list[str]:
    """The argv that runs the built-in evaluator in its own process: isolated mode (-I), so
    that nothing in the exported tree (its cwd) or the environment shadows a package.
    `bootstrap`: (samples, seed) of the policy's significance, for its "bootstrap" block."""
    argv = [sys.executable, "-I", "-m", "gitreg.evaluation.builtin", "--model", str(model)]
    argv += ["--dataset", str(dataset), "--output", str(output), "--target", target]
    argv += ["--task", task]
    for s in slices:
        argv += ["--slice", s]
    for a in allowed:
        argv += ["--allow", a]
    if bootstrap is not None:
        argv += ["--bootstrap-samples", str(bootstrap[0]), "--bootstrap-seed", str(bootstrap[1])]
    return argv
