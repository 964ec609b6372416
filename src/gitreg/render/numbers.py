"""The one way numbers, tables and Markdown cells look, in every output gitreg prints."""

from __future__ import annotations

from collections.abc import Sequence

TYPE_CHECKING = False  # not typing's: resolve does not import typing (docs/performance.md)
if TYPE_CHECKING:
    from typing import Any

DIGITS = 4  # significant digits of every metric value, delta and threshold shown


def num(value: float | None, signed: bool = False) -> str:
    """A metric value for people: 4 significant digits, "-" for none; `signed` adds + or -."""
    if value is None:
        return "-"
    return f"{value:+.{DIGITS}g}" if signed else f"{value:.{DIGITS}g}"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table: upper-case headers, columns padded to their widest cell."""
    cells = [[("" if c is None else str(c)) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], len(c))
    lines = ["  ".join(h.upper().ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(lines)


def cell(text: str) -> str:
    """Text safe inside one Markdown table cell: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def md_row(cells: Sequence[str]) -> str:
    """One Markdown table row."""
    return "| " + " | ".join(cell(c) for c in cells) + " |"


def stages_text(stages: dict[str, str]) -> str:
    """`staging=1.1.0, production=1.0.0`, or "-"."""
    return ", ".join(f"{s}={v}" for s, v in stages.items()) or "-"
