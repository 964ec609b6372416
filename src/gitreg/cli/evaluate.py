"""`gitreg evaluate`: the evaluation gate on the command line and in GitHub Actions.

The report goes to stdout (text or --json), to --report-md/--report-json files, to the
Actions job summary and, with --comment, to one pull request comment (`ops.publish`).
Publishing never changes the exit code: a failure to comment is a warning on stderr, and
the gate's verdict stands. In Actions (GITHUB_ACTIONS=true), every failing metric is also
an `::error` annotation line (`::warning` when an override let the gate through).
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from gitreg.cli.options import VERSION_REF, emit, json_option, ref_option, repo_option
from gitreg.errors import CheckFailed, UsageError

COMMENT_LIMIT = 65_000  # GitHub refuses comment bodies over 65,536 characters


@click.command()
@click.argument("name", required=False, metavar=VERSION_REF)
@click.argument("version", required=False)
@click.option(
    "--baseline",
    "baseline_stage",
    metavar="STAGE",
    help="Compare with the version STAGE holds at --ref (default: no baseline).",
)
@click.option("--changed", is_flag=True, help="Gate every stage change from --base to --ref.")
@click.option("--base", metavar="REF", help="With --changed: the pull request's base.")
@ref_option
@click.option(
    "--report-md",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the Markdown report to FILE.",
)
@click.option(
    "--report-json",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the JSON report to FILE.",
)
@click.option(
    "--comment",
    is_flag=True,
    help="Post the report as one pull request comment, updated on later runs "
    "(needs GITHUB_TOKEN and a PR number).",
)
@click.option("--pr", "pr_number", type=int, metavar="N", help="PR number for --comment.")
@click.option(
    "--no-cache",
    is_flag=True,
    help="Measure every version again, even where a cached result exists (docs/evaluation.md).",
)
@repo_option
@json_option
def evaluate(
    name: str | None,
    version: str | None,
    baseline_stage: str | None,
    changed: bool,
    base: str | None,
    ref: str,
    report_md: Path | None,
    report_json: Path | None,
    comment: bool,
    pr_number: int | None,
    no_cache: bool,
    repo: str,
    as_json: bool,
) -> None:
    """Measure a candidate against its baseline on the held-out data; exit 1 if a gate fails.

    \b
    gitreg evaluate NAME VERSION [--baseline STAGE]   one version, at --ref
    gitreg evaluate --changed --base REF              every promotion in a pull request

    The policy is model.yaml's `evaluation` section (docs/evaluation.md). Artifacts and
    data are downloaded through DVC; pickles are scanned and loaded under an allow-list.
    """
    from gitreg.model.gate import GateSummary
    from gitreg.ops.publish import publish
    from gitreg.render import gate as rendered
    from gitreg.render.json import to_json

    if changed:
        if name or version or baseline_stage:
            raise UsageError("--changed takes no NAME, VERSION or --baseline")
        if not base:
            raise UsageError("--changed needs --base REF (the pull request's base)")
        from gitreg.ops.evaluate import evaluate_changed

        summary = evaluate_changed(repo, base, ref, use_cache=not no_cache)
    else:
        name, version = _candidate(name, version, repo, ref)
        if base:
            raise UsageError("--base goes with --changed")
        from gitreg.ops.evaluate import evaluate_version

        report = evaluate_version(repo, name, version, baseline_stage, ref, not no_cache)
        summary = GateSummary(ref=ref, reports=[report])
    markdown = rendered.markdown(summary)
    if report_md is not None:
        report_md.write_text(markdown, encoding="utf-8")
    if report_json is not None:
        report_json.write_text(to_json(summary) + "\n", encoding="utf-8")
    comment_md = rendered.markdown(summary, COMMENT_LIMIT)
    for warning in publish(markdown, comment_md, rendered.MARKER, comment, pr_number, repo):
        click.echo(f"warning: {warning}", err=True)
    emit(as_json, summary, lambda: rendered.text(summary))
    if os.environ.get("GITHUB_ACTIONS") == "true":  # annotations; beside --json, on stderr
        for line in rendered.workflow_commands(summary):
            click.echo(line, err=as_json)
    if not summary.passed:
        raise CheckFailed("the evaluation gate failed", reported=True)


def _candidate(name: str | None, what: str | None, repo: str, ref: str) -> tuple[str, str]:
    """NAME VERSION or NAME@VERSION; a stage or `latest` read at --ref."""
    from gitreg.cli.options import version_ref
    from gitreg.registry.reader import Registry

    if not name:
        raise UsageError("give NAME VERSION (or NAME@VERSION), or --changed --base REF")
    model, what = version_ref(name, what)
    with Registry.open(repo, ref) as reg:
        version = reg.resolve_ref(model, what)
    assert version is not None  # `what` was given
    return model, version
