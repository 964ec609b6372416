"""`gitreg evaluate`: the evaluation gate on the command line and in GitHub Actions.

In a workflow (GITHUB_ACTIONS=true) the Markdown report is appended to the job summary;
with `--comment` it is also posted as one pull request comment, found again by its hidden
marker and updated on later runs. Publishing never changes the exit code: a failure to
comment is a warning on stderr, and the gate's verdict stands.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .cli import _emit, cli, json_option, ref_option, repo_option

if TYPE_CHECKING:
    from .gates import GateSummary

COMMENT_LIMIT = 65_000  # GitHub refuses comment bodies over 65,536 characters


def _event_pr(env: Mapping[str, str]) -> int | None:
    """The pull request number of the workflow's event, if it is a pull request event."""
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return None
    try:
        number = json.loads(Path(path).read_text(encoding="utf-8"))["pull_request"]["number"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return number if isinstance(number, int) else None


def _publish(summary: GateSummary, comment: bool, pr: int | None, repo: str) -> list[str]:
    """Job summary and PR comment; returns warnings instead of raising."""
    from . import gates
    from .errors import GitregError

    env, warnings = os.environ, []
    summary_file = env.get("GITHUB_STEP_SUMMARY")
    if env.get("GITHUB_ACTIONS") == "true" and summary_file:
        try:
            with open(summary_file, "a", encoding="utf-8") as fh:
                fh.write(gates.markdown(summary) + "\n")
        except OSError as e:
            warnings.append(f"could not write the job summary {summary_file}: {e}")
    if not comment:
        return warnings
    number = pr if pr is not None else _event_pr(env)
    if number is None:
        return [*warnings, "not commenting: no pull request number (pass --pr N)"]
    try:
        from .github import GitHubClient
        from .registry import Registry

        name = env.get("GITHUB_REPOSITORY")
        if not name:
            with Registry.open(repo) as reg:
                name = reg.config.github.repo if reg.config.github else None
        if not name:
            return [*warnings, "not commenting: no GitHub repository (GITHUB_REPOSITORY or "
                    "github.repo in gitreg.yaml)"]  # fmt: skip
        client = GitHubClient.from_env(name)
        if not client.has_token:
            return [*warnings, "not commenting: set GITHUB_TOKEN (or GH_TOKEN)"]
        client.upsert_comment(number, gates.MARKER, gates.markdown(summary, COMMENT_LIMIT))
    except GitregError as e:
        warnings.append(f"could not comment on pull request #{number}: {e.message}")
    return warnings


def render_text(summary: GateSummary) -> str:
    """A terminal rendering: per report, one table row per metric (and per slice)."""
    from .gates import num
    from .output import table

    lines = []
    for r in summary.reports:
        into = f" -> {r.stage}" if r.stage else ""
        against = f"against {r.baseline}" if r.baseline else "(no baseline)"
        lines.append(
            f"{r.model} {r.candidate}{into} {against}: {'passed' if r.passed else 'FAILED'}"
        )
        named = [(v.metric, v) for v in r.verdicts]
        named += [(f"{v.metric} [{s}]", v) for s, vs in r.slices.items() for v in vs]
        rows = [
            (
                metric,
                num(v.baseline),
                num(v.candidate),
                num(v.delta, signed=True),
                v.threshold,
                v.verdict + (f": {v.reason}" if v.verdict == "fail" else ""),
            )
            for metric, v in named
        ]
        headers = ["metric", "baseline", "candidate", "delta", "threshold", "verdict"]
        lines += ["  " + line for line in table(headers, rows).splitlines()]
        lines += [f"  note: {n}" for n in r.notes]
    lines += [f"skipped: {s}" for s in summary.skipped]
    if not summary.reports:
        lines.append("No stage change to evaluate.")
    return "\n".join(lines)


@cli.command()
@click.argument("name", required=False)
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
    from . import gates
    from .errors import EXIT_CHECK_FAILED, UsageError
    from .output import to_json

    if changed:
        if name or version or baseline_stage:
            raise UsageError("--changed takes no NAME, VERSION or --baseline")
        if not base:
            raise UsageError("--changed needs --base REF (the pull request's base)")
        from .evaluate import evaluate_changed

        summary = evaluate_changed(repo, base, ref)
    else:
        if not name or not version:
            raise UsageError("give NAME VERSION, or --changed --base REF")
        if base:
            raise UsageError("--base goes with --changed")
        from .evaluate import evaluate_version

        report = evaluate_version(repo, name, version, baseline_stage, ref)
        summary = gates.GateSummary(ref=ref, reports=[report])
    if report_md is not None:
        report_md.write_text(gates.markdown(summary), encoding="utf-8")
    if report_json is not None:
        report_json.write_text(to_json(summary.to_dict()) + "\n", encoding="utf-8")
    for warning in _publish(summary, comment, pr_number, repo):
        click.echo(f"warning: {warning}", err=True)
    _emit(as_json, summary.to_dict(), render_text(summary))
    if not summary.passed:
        raise SystemExit(EXIT_CHECK_FAILED)
