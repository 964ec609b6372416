"""Pure work on every core: a function over chunks of items, in worker processes.

For CPU-bound work on data already read (parsing thousands of YAML documents). Workers are
forked, so they start in milliseconds with gitreg already imported; what crosses between
processes is pickled, so a caller sends bytes and gets back plain data (text is cheapest).
Small inputs, one core, or a call from a worker run in this process: the answer is the
same either way.
"""

from __future__ import annotations

import functools
import gc
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# below this many items a worker's start and the pickling cost more than they save
MIN_ITEMS = 500


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def map_chunks(
    fn: Callable[[Sequence[T]], list[R]],
    items: Sequence[T],
    min_items: int | None = None,
    calm: bool = False,
) -> list[R]:
    """`fn` over `items` in one chunk per core, concatenated in order: the same as
    `fn(items)`. `fn` must be a module-level function (it is pickled by name). `calm`:
    `fn` makes no reference cycle worth collecting, so it runs with the collector paused
    (`_calm`)."""
    if calm:
        fn = functools.partial(_calm, fn)
    if len(items) < max(2, MIN_ITEMS if min_items is None else min_items):
        return fn(items)
    import multiprocessing  # here: a command that shares nothing out never imports them
    from concurrent.futures import ProcessPoolExecutor

    # a worker of another map_chunks shares nothing out: its cores are taken already
    workers = min(cores(), 8) if multiprocessing.parent_process() is None else 1
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():  # Windows
        return fn(items)
    size = -(-len(items) // workers)
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    context = multiprocessing.get_context("fork")
    gc.freeze()  # what the workers inherit is never scanned (nor copied on write) by theirs
    try:
        with ProcessPoolExecutor(max_workers=len(chunks) - 1, mp_context=context) as pool:
            rest = pool.map(fn, chunks[1:])
            first = fn(chunks[0])  # this process takes a chunk too
            return [*first, *(r for got in rest for r in got)]
    finally:
        gc.unfreeze()


def _calm(fn: Callable[[Sequence[T]], list[R]], items: Sequence[T]) -> list[R]:
    """`fn(items)` with the cyclic garbage collector paused: a `calm` caller's work (a
    cold validate's) allocates millions of objects (parsed YAML, manifests) and no cycle
    worth collecting, and the collections would scan the objects alive again and again
    (a quarter of a cold validate's CPU at 1000x100). What it drops is freed by reference
    counting as ever; a cycle waits for the next collection after it."""
    if not gc.isenabled():
        return fn(items)
    gc.disable()
    try:
        return fn(items)
    finally:
        gc.enable()


# the function of the running `map_local`: forked workers inherit it instead of unpickling it
_LOCAL: list[Callable[[Sequence[Any]], list[Any]]] = []


def _run_local(items: Sequence[Any]) -> list[Any]:
    return _LOCAL[-1](items)


def map_local(
    fn: Callable[[Sequence[T]], list[R]],
    items: Sequence[T],
    min_items: int | None = None,
    calm: bool = False,
) -> list[R]:
    """`map_chunks` for a function that cannot be pickled (a closure over a reader, a
    bound method): the workers are forked while it is set, so each inherits it, with the
    parent's state as it was at the call. It may read git (each worker's `Snapshot` starts
    its own cat-file) but its side effects stay in the worker: only what it returns
    comes back."""
    _LOCAL.append(fn)
    try:
        return map_chunks(_run_local, items, min_items, calm)
    finally:
        _LOCAL.pop()
