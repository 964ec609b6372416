"""Options every command shares, and the one way a command prints its result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from gitreg.errors import UsageError

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


VERSION_REF = "NAME[@VERSION|@latest|@STAGE]"  # a model, and a version by any of its names
STAGE_REF = "NAME[@STAGE]"
PINNED_REF = "NAME@VERSION|NAME@latest|NAME@STAGE"  # the version must be named


def ref_argument(param: str = "ref_", metavar: str = VERSION_REF) -> Callable[[F], F]:
    """The NAME@REF argument (`split_ref` reads it)."""
    return click.argument(param, metavar=metavar)


def pr_options(starts_from_base: bool) -> Callable[[F], F]:
    """--open-pr, --push and --base-branch, for the commands that make a branch to merge
    (`starts_from_base`: the branch is made from --base-branch, not from HEAD)."""
    start = "; the change starts from it (the local branch, else origin/BRANCH)"
    base_help = (
        "The branch the pull request merges into" + (start if starts_from_base else "") + "."
    )

    def add(f: F) -> F:
        f = click.option(
            "--base-branch", default="main", show_default=True, metavar="BRANCH", help=base_help
        )(f)
        f = click.option("--push", is_flag=True, help="Push the branch to origin.")(f)
        return click.option(
            "--open-pr",
            is_flag=True,
            help="Push the branch and open the pull request (needs GITHUB_TOKEN or GH_TOKEN; "
            "without one, print the URL to open it in the browser).",
        )(f)

    return add


def version_ref(ref: str, version: str | None) -> tuple[str, str]:
    """NAME VERSION or NAME@VERSION -> (name, version, `latest` or stage); a usage error
    when no version is named."""
    model, what = split_ref(ref, version)
    if what is None:
        raise UsageError(f"{ref!r}: which version? give NAME@VERSION or NAME VERSION")
    return model, what


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
