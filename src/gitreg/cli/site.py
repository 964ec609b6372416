"""`gitreg site`: the registry as a static HTML catalog, from git objects at a ref."""

from __future__ import annotations

import click

from gitreg.cli.options import emit, json_option, ref_option, repo_option


@click.command()
@click.option(
    "-o",
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False),
    help="The folder to write the site into (created; only changed pages are rewritten).",
)
@click.option(
    "--base-url",
    metavar="URL",
    help="Where the site will be served (e.g. https://acme.github.io/models/): canonical links.",
)
@ref_option
@repo_option
@json_option
def site(out: str, base_url: str | None, ref: str, repo: str, as_json: bool) -> None:
    """Write a static HTML catalog of the registry: index, a page per model and version.

    Works from file:// and on GitHub Pages; no network, no CDN. The index's search box
    takes the syntax of `gitreg list --filter`.
    """
    from gitreg.ops.site import build
    from gitreg.registry.reader import Registry
    from gitreg.render.site.pages import pages, summary

    with Registry.open(repo, ref) as reg:
        result = build(reg, out, pages, base_url)
    emit(as_json, result, lambda: summary(result))
