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


def emit(as_json: bool, result: Any, text: Callable[[], str]) -> None:
    """Print `result` as JSON, or the text `text()` renders."""
    from gitreg.render.json import to_json

    click.echo(to_json(result) if as_json else text())


def split_ref(ref: str) -> tuple[str, str | None]:
    """NAME[@VERSION] -> (name, version or None)."""
    name, _, version = ref.partition("@")
    return name, (version or None)
