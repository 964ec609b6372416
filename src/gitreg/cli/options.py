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
    """Print `result` as JSON, or the text `text()` renders (`render.text.output`)."""
    from gitreg.render.text import output

    click.echo(output(as_json, result, text))


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
