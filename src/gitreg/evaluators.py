"""Measuring one model version: the model's own command, or the built-in evaluator.

The contract of a command (`evaluation.command` in model.yaml): an argv list, run without
a shell, with `{model}`, `{dataset}` and `{output}` replaced by paths; it must exit 0 within
`evaluation.timeout` seconds and write to `{output}` a JSON object of metric name -> finite
number, optionally with `"by_slice": {slice: {metric: number}}`. Anything else (a timeout,
a non-zero exit, no output, invalid JSON, a value that is not a number) becomes a
`Measurement` with an `error` that says which, never an exception.

The built-in evaluator (classification, scikit-learn) runs as the same kind of process,
`python -m gitreg.evaluators`, so the candidate is loaded outside the process that holds
the registry and any token, under the same timeout. Commands get the environment without
variables that look like secrets.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
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

from .errors import GitregError
from .gates import CommandLog, Measurement

TAIL_CHARS = 4000
MAX_OUTPUT_BYTES = 1 << 20
BUILTIN_METRICS = ("accuracy", "precision", "recall", "f1")
_SECRET = re.compile(r"TOKEN|SECRET|PASSW|CREDENTIAL|PRIVATE_KEY|ACCESS_KEY", re.IGNORECASE)


class EvaluatorUnavailable(GitregError):
    """The built-in evaluator cannot run here (scikit-learn missing)."""


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
    argv = [sys.executable, "-m", "gitreg.evaluators", "--model", str(model)]
    argv += ["--dataset", str(dataset), "--output", str(output), "--target", target]
    for s in slices:
        argv += ["--slice", s]
    for a in allowed:
        argv += ["--allow", a]
    return argv


# --- the built-in evaluator (runs in the child process) ------------------------------------


def _label(value: Any) -> str:
    """A class label as text, so that 1, 1.0, "1" and numpy's 1 compare equal."""
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else repr(number)


def _scores(truth: list[str], pred: list[str]) -> dict[str, float]:
    from sklearn.metrics import (  # type: ignore[import-untyped,unused-ignore]
        accuracy_score,
        precision_recall_fscore_support,
    )

    p, r, f, _ = precision_recall_fscore_support(truth, pred, average="macro", zero_division=0)
    return {
        "accuracy": float(accuracy_score(truth, pred)),
        "precision": float(p),
        "recall": float(r),
        "f1": float(f),
    }


def _features(model: Any, header: list[str], target: str, slices: list[str]) -> list[str]:
    names = getattr(model, "feature_names_in_", None)
    columns = (
        [str(n) for n in names]
        if names is not None
        else [c for c in header if c != target and c not in slices]
    )
    missing = [c for c in columns if c not in header]
    if missing:
        raise ValueError(f"the data set lacks the model's feature columns {missing}")
    expected = getattr(model, "n_features_in_", None)
    if isinstance(expected, int) and expected != len(columns):
        raise ValueError(
            f"the model expects {expected} features; the data set has {len(columns)} columns "
            f"besides the target and the slices: {', '.join(columns)}"
        )
    return columns


def builtin_metrics(
    model_path: Path, dataset: Path, target: str, slices: list[str], allowed: list[str]
) -> dict[str, Any]:
    """Accuracy and macro precision, recall and F1 of a classifier on a CSV, and by slice."""
    import numpy as np

    from .modelload import load_model

    with dataset.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header, rows = list(reader.fieldnames or []), list(reader)
    for column in [target, *slices]:
        if column not in header:
            raise ValueError(f"{dataset.name} has no column {column!r} (columns: {header})")
    if not rows:
        raise ValueError(f"{dataset.name} has no rows")
    model = load_model(model_path, allowed)
    if not callable(getattr(model, "predict", None)):
        raise ValueError(
            f"{model_path.name} holds a {type(model).__name__}, which has no predict()"
        )
    columns = _features(model, header, target, slices)
    try:
        features = np.array([[float(row[c]) for c in columns] for row in rows])
    except (TypeError, ValueError) as e:
        raise ValueError(f"a feature is not numeric ({e}); use evaluation.command") from None
    pred = [_label(p) for p in model.predict(features)]
    truth = [_label(row[target]) for row in rows]
    result: dict[str, Any] = _scores(truth, pred)
    by_slice: dict[str, dict[str, float]] = {}
    for column in slices:
        for value in sorted({row[column] for row in rows}):
            idx = [i for i, row in enumerate(rows) if row[column] == value]
            by_slice[f"{column}={value}"] = _scores([truth[i] for i in idx], [pred[i] for i in idx])
    if by_slice:
        result["by_slice"] = by_slice
    return result


def main(argv: list[str] | None = None) -> int:
    """`python -m gitreg.evaluators`: the built-in evaluator's process."""
    parser = argparse.ArgumentParser(prog="python -m gitreg.evaluators")
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--target", default="target")
    parser.add_argument("--slice", dest="slices", action="append", default=[])
    parser.add_argument("--allow", action="append", default=[])
    args = parser.parse_args(argv)
    try:
        require_builtin()
        result = builtin_metrics(args.model, args.dataset, args.target, args.slices, args.allow)
    except GitregError as e:
        hint = f" ({e.hint})" if e.hint else ""
        sys.stderr.write(f"error: {e.message}{hint}\n")
        return 2
    except (ValueError, OSError, UnicodeDecodeError) as e:
        sys.stderr.write(f"error: {e}\n")
        return 2
    args.output.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
