"""Measuring one model version: the model's own command, or the built-in evaluator.

The contract of a command (`evaluation.command` in model.yaml): an argv list, run without
a shell, with `{model}`, `{dataset}` and `{output}` replaced by paths; it must exit 0 within
`evaluation.timeout` seconds and write to `{output}` a JSON object of metric name -> finite
number, optionally with `"by_slice": {slice: {metric: number}}`. Anything else (a timeout,
a non-zero exit, no output, invalid JSON, a value that is not a number) becomes a
`Measurement` with an `error` that says which, never an exception.

The built-in evaluator (classification, scikit-learn) runs as the same kind of process,
`python -m gitreg.evaluation.builtin`, so the candidate is loaded outside the process that holds
the registry and any token, under the same timeout. Commands get the environment without
variables that look like secrets.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from gitreg.errors import EvaluatorUnavailable
from gitreg.model.gate import CommandLog, Measurement

TAIL_CHARS = 4000
MAX_OUTPUT_BYTES = 1 << 20
_SECRET = re.compile(r"TOKEN|SECRET|PASSW|CREDENTIAL|PRIVATE_KEY|ACCESS_KEY", re.IGNORECASE)


def require_builtin() -> None:
    if importlib.util.find_spec("sklearn") is None:
        raise EvaluatorUnavailable(
            "the built-in evaluator needs scikit-learn, which is not installed",
            "pip install 'gitreg[sklearn]', or set evaluation.command in model.yaml",
        )


def command_env() -> dict[str, str]:
    """This process's environment minus anything that looks like a secret."""
    return {k: v for k, v in os.environ.items() if not _SECRET.search(k)}


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
    slices = data.pop("by_slice", {})
    metrics = {str(k): _number(v, f"metric {k!r}") for k, v in data.items()}
    if not isinstance(slices, dict) or not all(isinstance(v, dict) for v in slices.values()):
        raise ValueError('"by_slice" is not an object of slice -> {metric: number}')
    by_slice = {
        str(s): {str(k): _number(v, f"metric {k!r} of slice {s!r}") for k, v in values.items()}
        for s, values in slices.items()
    }
    return metrics, by_slice


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def run(
    argv: list[str], role: str, version: str, output: Path, timeout: int, cwd: Path
) -> Measurement:
    """Run one evaluator process and read what it measured (see the module docstring)."""
    out_log, err_log = output.with_suffix(".stdout"), output.with_suffix(".stderr")
    output.unlink(missing_ok=True)
    start = time.monotonic()
    with out_log.open("wb") as out_fh, err_log.open("wb") as err_fh:
        try:
            proc = subprocess.Popen(
                argv,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out_fh,
                stderr=err_fh,
                env=command_env(),
                start_new_session=True,
            )
        except OSError as e:
            error = f"could not start {argv[0]!r}: {e.strerror or e}"
            log = CommandLog(role, version, argv, None, 0.0, "", "")
            return Measurement(version, error=error, log=log)
        code: int | None
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)  # the command and anything it started
            proc.wait()
    seconds = round(time.monotonic() - start, 3)
    stdout, stderr = _tail(out_log), _tail(err_log)
    log = CommandLog(role, version, argv, code, seconds, stdout, stderr)
    if code is None:
        return Measurement(version, error=f"timed out after {timeout} s", log=log)
    if code != 0:
        last = _last_line(stderr)
        error = f"exited with code {code}" + (f": {last}" if last else "")
        return Measurement(version, error=error, log=log)
    try:
        metrics, by_slice = parse_output(output)
    except ValueError as e:
        return Measurement(version, error=f"the evaluation {e}", log=log)
    return Measurement(version, metrics, by_slice, log=log)


def builtin_argv(
    model: Path,
    dataset: Path,
    output: Path,
    target: str,
    slices: Iterable[str],
    allowed: Iterable[str],
) -> list[str]:
    """The argv that runs the built-in evaluator in its own process."""
    argv = [sys.executable, "-m", "gitreg.evaluation.builtin", "--model", str(model)]
    argv += ["--dataset", str(dataset), "--output", str(output), "--target", target]
    for s in slices:
        argv += ["--slice", s]
    for a in allowed:
        argv += ["--allow", a]
    return argv
