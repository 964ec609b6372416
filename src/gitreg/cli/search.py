"""`gitreg search-versions`, and the search options `list` shares with it.

The two searches and their rules are `gitreg.model.search`; docs/search.md maps MLflow's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from gitreg.cli.options import emit, json_option, read_repo_option, ref_option

F = TypeVar("F", bound=Callable[..., Any])


def search_options(f: F) -> F:
    """--order-by (repeatable, MLflow syntax) and --max-results."""
    f = click.option(
        "--max-results",
        type=int,
        metavar="N",
        help="At most N results (after sorting).",
    )(f)
    return click.option(
        "--order-by",
        "order_by",
        multiple=True,
        metavar="FIELD [ASC|DESC]",
        help="Sort by a field, e.g. 'metrics.f1 DESC' (repeatable, or comma-separated; "
        "records without the field come last).",
    )(f)


def show_versions(
    repo: str,
    ref: str,
    filter_: str | None,
    order_by: tuple[str, ...],
    max_results: int | None,
    stage: str | None,
    as_json: bool,
) -> None:
    """Search every version and print the matches (search-versions and list --versions)."""
    from gitreg.ops.listing import search_versions
    from gitreg.registry.opening import open_for_reading
    from gitreg.render import text

    with open_for_reading(repo, ref) as reg:
        views = search_versions(reg, filter_, order_by, max_results, stage)
    emit(as_json, views, lambda: text.version_list(views))


@click.command("search-versions")
@click.argument("filter_", metavar="[EXPR]", required=False)
@click.option("--stage", help="Only versions that hold this stage.")
@search_options
@ref_option
@read_repo_option
@json_option
def search_versions(
    filter_: str | None,
    stage: str | None,
    order_by: tuple[str, ...],
    max_results: int | None,
    ref: str,
    repo: str,
    as_json: bool,
) -> None:
    """Search every version of every model (MLflow's search_model_versions).

    EXPR is the --filter language over each version's fields and its model's, e.g.
    "metrics.f1 > 0.9 AND tags.team = 'growth'", "run_id = 'abc'", "version = '1.2.0'",
    "tags.\"cost center\" IS NOT NULL". A metrics/params/tags key no version has is an
    error (exit 2). See docs/search.md.
    """
    show_versions(repo, ref, filter_, order_by, max_results, stage, as_json)
