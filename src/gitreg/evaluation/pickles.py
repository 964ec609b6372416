"""The globals a pickle file names, read from its opcodes (nothing is loaded or imported).

picklescan reads the same opcodes, but keeps one memo for the whole file. A joblib file is
not one pickle: an object array (a `feature_names_in_` of column names, a `categories_`
of strings) is written as a *nested* pickle, with a memo of its own, in the middle of the
outer one. picklescan numbers the nested pickle's memo entries after the outer ones, so
every later memo reference of the outer pickle points at the wrong entry: a
`STACK_GLOBAL` whose module comes from the memo (`numpy`, memoized once, fetched again for
`numpy.dtype`) is named after whatever sits there, often an opcode without argument
(`None`), hence the refusal "it imports None.dtype". Here each pickle that starts inside
another (a `PROTO` opcode after the first) gets its own memo until its `STOP`.

Like picklescan, it walks on past bytes it cannot parse (the raw array data of a joblib
file), where it can meet a byte that reads as a STACK_GLOBAL with no strings before it:
that is `(UNKNOWN, UNKNOWN)`, which picklescan (run first) rates for itself. It stops after
`MAX_RUNS` restarts, so that a file of junk bytes cannot keep it busy. What it reads is
best effort either way: the restricted unpickler (`loading`) checks every global again,
by its real name, before it is called.
"""

from __future__ import annotations

import contextlib
import pickletools
from typing import IO, Any

UNKNOWN = "unknown"  # picklescan's word for a name it cannot read (it rates it dangerous)
_PUT = ("MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT")
_GET = ("GET", "BINGET", "LONG_BINGET")
_STRINGS = (
    "SHORT_BINUNICODE",
    "UNICODE",
    "BINUNICODE",
    "BINUNICODE8",
    "STRING",
    "BINSTRING",
    "SHORT_BINSTRING",
)
_Op = tuple[Any, Any, Any]
# A file of bytes that are no opcode restarts the walk at every byte (about 20 us each):
# past this many runs it stops, and the unpickler alone checks the rest. A joblib file of
# a 100-tree forest has about 1700 runs.
MAX_RUNS = 100_000


def _segments(fh: IO[bytes]) -> list[list[_Op]]:
    """The opcode runs of the file: genops until it stops (a STOP or a byte it cannot
    read), again from there, to the end, or for at most `MAX_RUNS` runs."""
    runs: list[list[_Op]] = []
    while len(runs) < MAX_RUNS:
        ops: list[_Op] = []
        with contextlib.suppress(Exception):  # raw bytes: go on from where it stopped
            ops.extend(pickletools.genops(fh))
        runs.append(ops)
        if fh.read(1) == b"":
            break
        fh.seek(-1, 1)
    return runs


def _stack_global(ops: list[_Op], n: int, memo: dict[Any, Any]) -> tuple[str, str]:
    """The module and name a STACK_GLOBAL at `n` takes: the two strings pushed before it."""
    values: list[str] = []
    for k in range(n - 1, -1, -1):
        op, arg, _ = ops[k]
        if op.name in _PUT:
            continue
        value = memo.get(arg) if op.name in _GET else (arg if op.name in _STRINGS else None)
        if not isinstance(value, str):
            return UNKNOWN, UNKNOWN
        values.append(value)
        if len(values) == 2:
            return values[1], values[0]
    return UNKNOWN, UNKNOWN


def globals_in(fh: IO[bytes]) -> set[tuple[str, str]]:
    """Every (module, name) the pickles in `fh` import, with a memo per (nested) pickle."""
    found: set[tuple[str, str]] = set()
    memos: list[dict[Any, Any]] = [{}]
    for ops in _segments(fh):
        if ops and ops[0][0].name == "PROTO" and len(memos) == 1:
            memos = [{}]  # the next pickle of a file of several
        for n, (op, arg, _) in enumerate(ops):
            if op.name == "PROTO" and n > 0:
                memos.append({})
            memo = memos[-1]
            if op.name == "MEMOIZE" and n > 0:
                memo[len(memo)] = ops[n - 1][1]
            elif op.name in _PUT and n > 0:
                memo[arg] = ops[n - 1][1]
            elif op.name in ("GLOBAL", "INST") and isinstance(arg, str):
                module, _, name = arg.partition(" ")
                found.add((module, name))
            elif op.name == "STACK_GLOBAL":
                found.add(_stack_global(ops, n, memo))
            elif op.name == "STOP" and len(memos) > 1:
                memos.pop()
    return found
