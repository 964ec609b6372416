"""`gitreg card`: a model card of one version, with the gate's stored measurements."""

from __future__ import annotations

import click

from gitreg.cli.options import (
    emit,
    json_option,
    read_repo_option,
    ref_argument,
    ref_option,
    split_ref,
)


@click.command()
@ref_argument()
@click.option(
    "--format",
    "format_",
    type=click.Choice(["hf", "md", "json"]),
    default="hf",
    show_default=True,
    help="hf: a Hugging Face README.md (YAML front matter, then Markdown); md: the "
    "Markdown alone; json: the data (as --json).",
)
@ref_option
@read_repo_option
@json_option
def card(ref_: str, format_: str, ref: str, repo: str, as_json: bool) -> None:
    """Show a model card: model.yaml's card and evaluation policy with one version's facts.

    Without @VERSION: the version in the highest stage that holds one (production before
    staging), else the latest. The sections follow Mitchell et al., "Model Cards for Model
    Reporting"; the hf format adds the Hugging Face metadata (license, library_name, tags,
    datasets, model-index), so the output can be a Hub README.md as it is.

    The results are what `gitreg evaluate NAME VERSION --ref REF` measured, when this
    clone stored that result, else the metrics declared at registration; the card says which.
    """
    from gitreg.ops.card import card_of
    from gitreg.registry.opening import open_for_reading
    from gitreg.render.card import render_hf, render_markdown

    name, what = split_ref(ref_)
    with open_for_reading(repo, ref) as reg:
        mc = card_of(reg, name, reg.resolve_ref(name, what))
    render = render_hf if format_ == "hf" else render_markdown
    emit(as_json or format_ == "json", mc, lambda: render(mc).rstrip("\n"))
