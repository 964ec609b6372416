"""The rows of a paired bootstrap: one home for how resamples are drawn.

A paired bootstrap scores the candidate and the baseline on the *same* resampled rows.
The two models are scored in different processes (each in its own sandbox), so both must
draw the same resamples from nothing but `(seed, samples, rows)`: this function is the
only place that draws them.

Each resample is given as multiplicities: `counts[i]` is how many times row `i` was drawn
(n draws with replacement out of n rows), so a metric is computed as a weighted one in
O(rows), without copying the data set.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def counts(seed: int, samples: int, rows: int) -> Iterator[Any]:
    """`samples` arrays of `rows` ints (numpy), each the multiplicities of one resample."""
    import numpy as np

    rng = np.random.default_rng(seed)
    for _ in range(samples):
        yield np.bincount(rng.integers(0, rows, size=rows), minlength=rows)
