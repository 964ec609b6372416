"""Options every command shares, and the one way a command prints its result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def repo_option(f: F) -> F:
    return click.option(
        "-C",
        "--repo",
        "repo",
        default=".",
        show_default=True,
        metavar="PATH",
        help="The registry repository to work on.",
    )(f)


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")(f)


def ref_option(f: F) -> F:
    return click.option(
        "--ref",
        default="HEAD",
        show_default=True,
        help="Read the registry at this branch, tag or commit (never the working tree).",
    )(f)


# C0 controls but newline and tab, DEL and C1: a terminal would obey them (ESC sequences
# in a model's description could rewrite the screen), so text output shows them escaped
_CONTROLS = {c: f"\\x{c:02x}" for c in [*range(0, 9), *range(11, 32), *range(127, 160)]}


def safe_text(text: str) -> str:
    """`text` with control characters escaped (`\\x1b`), for a terminal."""
    return text.translate(_CONTROLS)


def emit(as_json: bool, result: Any, text: Callable[[], str]) -> None:
    """Print `result` as JSON (control characters escaped by JSON itself), or the text
    `text()` renders, with control characters escaped."""
    from gitreg.render.json import to_json

    click.echo(to_json(result) if as_json else safe_text(text()))


def split_ref(ref: str, what: str | None = None) -> tuple[str, str | None]:
    """NAME[@REF], or NAME and a separate REF -> (name, ref or None), by the one grammar
    (`gitreg.model.tags.split_ref`); REF is a version, `latest` or a stage."""
    from gitreg.model.tags import split_ref as parse

    return parse(ref, what, required=False)


def read_repo_option(f: F) -> F:
    """-C/--repo for read commands: a path, a bare repository or a git URL."""
    return click.option(
        "-C",
        "--repo",
        "repo",
        default=".",
        show_default=True,
        metavar="PATH|URL",
        help="The registry: a working tree, a bare repository or a git URL "
        "(read through gitreg's fetch cache, no clone).",
    )(f)
