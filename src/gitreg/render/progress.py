"""Progress bars for artifact transfers, drawn on stderr only when it is a terminal.

tqdm, not rich: DVC imports tqdm anyway (`dvc.repo` pulls it in), so a bar costs a command
that already moves artifacts no import time; rich.progress would add its own (see
docs/cli.md). Not a terminal (a pipe, a file, CI logs): no bar, no escape code, no blank
line, nothing at all.
"""

from __future__ import annotations

import os
import sys
from typing import IO, Any

from gitreg.store.progress import Progress


class TerminalBar:
    """One tqdm bar per phase, in bytes, cleared when the phase ends."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.bar: Any = None

    def start(self, label: str, total: int) -> None:
        from tqdm import tqdm  # type: ignore[import-untyped]

        self.done()
        size = _size(self.stream)
        self.bar = tqdm(
            total=total,
            desc=label if len(label) <= 40 else f"{label[:22]}...{label[-15:]}",
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            leave=False,
            file=self.stream,
            ncols=size[0],
            nrows=size[1],
            mininterval=0.1,
        )

    def update(self, done: int) -> None:
        if self.bar is not None and done > self.bar.n:
            self.bar.update(done - self.bar.n)

    def done(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _size(stream: IO[str]) -> tuple[int, int]:
    """The terminal's columns and lines; 80x24 where it reports none (a new pty says 0x0,
    and tqdm draws nothing on a terminal of 0 lines)."""
    try:
        columns, lines = os.get_terminal_size(stream.fileno())
    except (OSError, ValueError):
        columns, lines = 0, 0
    return columns or 80, lines or 24


def for_stderr(enabled: bool = True) -> Progress | None:
    """A bar on stderr if it is a terminal (and `enabled`, and GITREG_PROGRESS is not 0);
    otherwise None, which the store takes as "measure nothing"."""
    stream = sys.stderr
    if not enabled or os.environ.get("GITREG_PROGRESS") == "0":
        return None
    if stream is None or not stream.isatty():
        return None
    return TerminalBar(stream)
