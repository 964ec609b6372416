"""The stage-change commands: promote, demote, rollback, deprecate.

Each plans the change at the base branch (`ops.stage_change.plan_*`), renders the pull
request's description, commits the change on a new branch and optionally pushes it and
opens the pull request (`ops.submit.submit`), then renders the result.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from gitreg.cli.options import (
    STAGE_REF,
    emit,
    json_option,
    pr_options,
    ref_argument,
    repo_option,
    split_ref,
    version_ref,
)
from gitreg.errors import UsageError

if TYPE_CHECKING:
    from gitreg.model.plan import StagePlan
    from gitreg.registry.reader import Registry

F = TypeVar("F", bound=Callable[..., Any])


def change_options(f: F) -> F:
    """--open-pr, --push, --base-branch, -C/--repo and --json, shared by the four commands."""
    return pr_options(starts_from_base=True)(json_option(repo_option(f)))


def _run(
    repo: str,
    base_branch: str,
    push: bool,
    open_pr: bool,
    as_json: bool,
    make_plan: Callable[[Registry], StagePlan],
) -> None:
    from gitreg.ops.submit import base_ref, submit
    from gitreg.registry.reader import Registry
    from gitreg.render.pullrequest import pr_body, submission

    with Registry.open(repo, base_ref(repo, base_branch)) as reg:
        plan = make_plan(reg)
        root = reg.root
    body = pr_body(plan, base_branch) if open_pr else ""
    sub = submit(root, plan, body, push=push, open_pr=open_pr, base_branch=base_branch)
    emit(as_json, sub, lambda: submission(sub))


@click.command()
@ref_argument("name")
@click.argument("version", required=False)
@click.option("--to", "stage", required=True, metavar="STAGE", help="The stage to enter.")
@change_options
def promote(
    name: str,
    version: str | None,
    stage: str,
    open_pr: bool,
    push: bool,
    base_branch: str,
    repo: str,
    as_json: bool,
) -> None:
    """Move STAGE of model NAME to VERSION, as a branch editing one line of stages.yaml.

    VERSION may be given as NAME@VERSION, and may be `latest` or a stage, read at the
    base branch: `gitreg promote churn@staging --to production`.

    The branch is gitreg/promote/NAME/STAGE/VERSION; your working tree, index and
    current branch are not touched. A stage with `requires` takes only a version that
    holds the required stage on the base branch.
    """
    from gitreg.ops.stage_change import plan_promotion

    model, what = version_ref(name, version)
    _run(
        repo,
        base_branch,
        push,
        open_pr,
        as_json,
        lambda r: plan_promotion(r, model, _at(r, model, what), stage),
    )


def _at(reg: Registry, name: str, what: str) -> str:
    version = reg.resolve_ref(name, what)
    assert version is not None  # `what` was given
    return version


@click.command()
@ref_argument("name", STAGE_REF)
@click.option("--from", "stage", metavar="STAGE", help="The stage to empty.")
@change_options
def demote(
    name: str,
    stage: str | None,
    open_pr: bool,
    push: bool,
    base_branch: str,
    repo: str,
    as_json: bool,
) -> None:
    """Empty STAGE of model NAME, on a branch gitreg/demote/NAME/STAGE (NAME@STAGE works too)."""
    from gitreg.ops.stage_change import plan_demotion

    model, where = _stage_ref(name, stage, "--from")
    _run(repo, base_branch, push, open_pr, as_json, lambda r: plan_demotion(r, model, where))


def _stage_ref(ref: str, stage: str | None, option: str) -> tuple[str, str]:
    """NAME with `option` STAGE, or NAME@STAGE."""
    model, what = split_ref(ref, stage)
    if what is None:
        raise UsageError(f"which stage? give {model}@STAGE or {option} STAGE")
    return model, what


@click.command()
@ref_argument("name", STAGE_REF)
@click.option("--stage", help="The stage to roll back.")
@change_options
def rollback(
    name: str,
    stage: str | None,
    open_pr: bool,
    push: bool,
    base_branch: str,
    repo: str,
    as_json: bool,
) -> None:
    """Put back the version STAGE held before its current one (from stages.yaml's history).

    NAME@STAGE works too.
    """
    from gitreg.ops.stage_change import plan_rollback

    model, where = _stage_ref(name, stage, "--stage")
    _run(repo, base_branch, push, open_pr, as_json, lambda r: plan_rollback(r, model, where))


@click.command()
@ref_argument("name")
@click.argument("version", required=False)
@change_options
def deprecate(
    name: str,
    version: str | None,
    open_pr: bool,
    push: bool,
    base_branch: str,
    repo: str,
    as_json: bool,
) -> None:
    """Mark NAME@VERSION deprecated: a branch changing only the `status` line of its manifest.

    Refused while a stage still holds the version: demote it first.
    """
    from gitreg.ops.stage_change import plan_deprecation

    model, what = version_ref(name, version)
    _run(
        repo,
        base_branch,
        push,
        open_pr,
        as_json,
        lambda r: plan_deprecation(r, model, _at(r, model, what)),
    )
