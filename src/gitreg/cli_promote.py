"""The stage-change commands: promote, demote, rollback, deprecate.

Each plans the change at the base branch (`promote.plan_*`), commits it on a new branch
and optionally pushes it and opens the pull request (`pullrequest.submit`), then renders
the result. cli.py imports this module to register the commands on its group.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .cli import _emit, cli, json_option, repo_option

if TYPE_CHECKING:
    from .promote import StagePlan
    from .pullrequest import Submission
    from .registry import Registry

F = TypeVar("F", bound=Callable[..., Any])


def change_options(f: F) -> F:
    """--open-pr, --push, --base-branch, -C/--repo and --json, shared by the four commands."""
    f = json_option(repo_option(f))
    f = click.option(
        "--base-branch",
        default="main",
        show_default=True,
        metavar="BRANCH",
        help="The branch the pull request merges into; the change starts from it "
        "(the local branch, else origin/BRANCH).",
    )(f)
    f = click.option("--push", is_flag=True, help="Push the new branch to origin.")(f)
    return click.option(
        "--open-pr",
        is_flag=True,
        help="Push the branch and open the pull request (needs GITHUB_TOKEN or GH_TOKEN; "
        "without one, print the URL to open it in the browser).",
    )(f)


def render_submission(sub: Submission) -> str:
    """What was done, and what to do next, as text."""
    change, plan = sub.change, sub.change.plan
    if plan.stage is None:
        what = "status: active -> deprecated"
    else:
        what = f"{plan.stage}: {plan.previous or '(none)'} -> {plan.after or '(none)'}"
    lines = [
        f"{plan.title}: created branch {change.branch} ({change.commit[:12]}) "
        f"from {sub.base_branch} ({change.base[:12]})",
        f"  {plan.path}: {what}",
    ]
    if not change.pushed:
        lines.append(
            f"Next: git push origin {change.branch}, then open a pull request into "
            f"{sub.base_branch}"
        )
        return "\n".join(lines)
    lines.append(f"Pushed {change.branch} to origin.")
    if sub.pr is not None and sub.pr.number is not None:
        verb = "A pull request was already open" if sub.pr.existing else "Opened pull request"
        lines.append(f"{verb}: #{sub.pr.number} {sub.pr.url}")
        lines.append("Next: reviewers approve, the checks pass, then merge it.")
    elif sub.compare_url:
        lines.append(f"Note: {sub.note}." if sub.note else "")
        lines.append(f"Next: open the pull request at {sub.compare_url}")
    else:
        lines.append(f"Next: open a pull request from {change.branch} into {sub.base_branch}")
    return "\n".join(line for line in lines if line)


def _run(
    repo: str,
    base_branch: str,
    push: bool,
    open_pr: bool,
    as_json: bool,
    make_plan: Callable[[Registry], StagePlan],
) -> None:
    from .pullrequest import base_ref, submit
    from .registry import Registry

    with Registry.open(repo, base_ref(repo, base_branch)) as reg:
        plan = make_plan(reg)
        root = reg.root
    sub = submit(root, plan, push=push, open_pr=open_pr, base_branch=base_branch)
    _emit(as_json, sub.to_dict(), render_submission(sub))


@cli.command()
@click.argument("name")
@click.argument("version")
@click.option("--to", "stage", required=True, metavar="STAGE", help="The stage to enter.")
@change_options
def promote(
    name: str,
    version: str,
    stage: str,
    open_pr: bool,
    push: bool,
    base_branch: str,
    repo: str,
    as_json: bool,
) -> None:
    """Move STAGE of model NAME to VERSION, as a branch editing one line of stages.yaml.

    The branch is gitreg/promote/NAME/STAGE/VERSION; your working tree, index and
    current branch are not touched. A stage with `requires` takes only a version that
    holds the required stage on the base branch.
    """
    from .promote import plan_promotion

    _run(
        repo, base_branch, push, open_pr, as_json, lambda r: plan_promotion(r, name, version, stage)
    )


@cli.command()
@click.argument("name")
@click.option("--from", "stage", required=True, metavar="STAGE", help="The stage to empty.")
@change_options
def demote(
    name: str, stage: str, open_pr: bool, push: bool, base_branch: str, repo: str, as_json: bool
) -> None:
    """Empty STAGE of model NAME, on a branch gitreg/demote/NAME/STAGE."""
    from .promote import plan_demotion

    _run(repo, base_branch, push, open_pr, as_json, lambda r: plan_demotion(r, name, stage))


@cli.command()
@click.argument("name")
@click.option("--stage", required=True, help="The stage to roll back.")
@change_options
def rollback(
    name: str, stage: str, open_pr: bool, push: bool, base_branch: str, repo: str, as_json: bool
) -> None:
    """Put back the version STAGE held before its current one (from stages.yaml's history)."""
    from .promote import plan_rollback

    _run(repo, base_branch, push, open_pr, as_json, lambda r: plan_rollback(r, name, stage))


@cli.command()
@click.argument("name")
@click.argument("version")
@change_options
def deprecate(
    name: str, version: str, open_pr: bool, push: bool, base_branch: str, repo: str, as_json: bool
) -> None:
    """Mark NAME@VERSION deprecated: a branch changing only the `status` line of its manifest.

    Refused while a stage still holds the version: demote it first.
    """
    from .promote import plan_deprecation

    _run(repo, base_branch, push, open_pr, as_json, lambda r: plan_deprecation(r, name, version))
