"""Commands on a registry's content: init, register, validate, list, show, history, diff,
schema (`card` is in `cli.cards`). Each parses, calls one op, and renders its result."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from gitreg.cli.options import (
    emit,
    json_option,
    pr_options,
    read_repo_option,
    ref_argument,
    ref_option,
    repo_option,
    split_ref,
)
from gitreg.cli.search import search_options, show_versions
from gitreg.errors import CheckFailed, UsageError

if TYPE_CHECKING:
    from gitreg.ops.register import Registration


@click.command()
@click.argument("path", default=".", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--remote",
    metavar="PATH|URL",
    help="DVC remote for artifacts (default: a local folder PATH-dvc-remote beside the registry).",
)
@click.option(
    "--owner",
    "owners",
    multiple=True,
    metavar="@HANDLE",
    help="Owner for CODEOWNERS (repeatable), e.g. @acme/ml-leads.",
)
@click.option("--github-repo", metavar="OWNER/NAME", help="The GitHub repository of the registry.")
@click.option("--pip-spec", metavar="SPEC", help="What the workflows pip-install for gitreg.")
@click.option(
    "--remote-opt",
    "remote_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="An option of the DVC remote (repeatable), e.g. endpointurl=https://... or "
    "profile=ml; credentials are refused (use `dvc remote modify --local` or the environment).",
)
@click.option(
    "--reusable",
    metavar="OWNER/REPO@REF",
    help="Write workflows that call the reusable ones in OWNER/REPO at REF (e.g. "
    "acme/gitreg@v0.1.0) instead of standalone copies.",
)
@json_option
def init(
    path: Path,
    remote: str | None,
    owners: tuple[str, ...],
    github_repo: str | None,
    pip_spec: str | None,
    remote_options: tuple[str, ...],
    reusable: str | None,
    as_json: bool,
) -> None:
    """Create a registry repository at PATH (git, DVC with a remote, workflows, first commit).

    PATH must be new or empty, or the root of a git repository without a registry, to
    which the registry files are added in one commit.
    """
    from gitreg.ops.init import init_registry
    from gitreg.render import text

    result = init_registry(
        path, remote, list(owners), github_repo, pip_spec, list(remote_options), reusable
    )
    emit(as_json, result, lambda: text.init(result))


@click.command()
@click.argument("name")
@click.option("--version", "version", required=True, help="SemVer version, e.g. 1.0.0.")
@click.option(
    "--artifact",
    "artifacts",
    multiple=True,
    required=True,
    type=click.Path(path_type=Path),
    help="A model file or directory (repeatable).",
)
@click.option("--metrics", type=click.Path(path_type=Path), help="JSON/YAML file of metrics.")
@click.option("--params", type=click.Path(path_type=Path), help="JSON/YAML file of parameters.")
@click.option("--description", default="", help="What is new in this version.")
@click.option("--model-description", help="Description of the model (first registration).")
@click.option("--owner", "owners", multiple=True, help="Model owner, @user or @org/team.")
@click.option("--task", help="e.g. classification, regression (first registration).")
@click.option("--code-repo", help="Code repository (default: the artifact's git repo).")
@click.option("--code-commit", help="Code commit (default: HEAD of the artifact's git repo).")
@click.option(
    "--dataset",
    "datasets",
    multiple=True,
    metavar="PATH[@REV]",
    help="Training data lineage (repeatable).",
)
@click.option("--run-url", help="Link to the experiment-tracker run.")
@click.option("--run-id", help="Id of the experiment-tracker run.")
@click.option("--framework", metavar="NAME[==VERSION]", help="Override framework detection.")
@click.option("--here", is_flag=True, help="Commit on the current branch instead of a new one.")
@pr_options(starts_from_base=False)
@repo_option
@json_option
def register(
    name: str,
    version: str,
    artifacts: tuple[Path, ...],
    metrics: Path | None,
    params: Path | None,
    description: str,
    model_description: str | None,
    owners: tuple[str, ...],
    task: str | None,
    code_repo: str | None,
    code_commit: str | None,
    datasets: tuple[str, ...],
    run_url: str | None,
    run_id: str | None,
    framework: str | None,
    here: bool,
    push: bool,
    open_pr: bool,
    base_branch: str,
    repo: str,
    as_json: bool,
) -> None:
    """Register version VERSION of model NAME.

    Copies the artifacts to models/NAME/artifacts/VERSION/, tracks them with DVC and pushes
    them to the DVC remote, writes models/NAME/versions/VERSION.yaml, and commits on a new
    branch gitreg/register/NAME/VERSION (or on the current branch with --here). Nothing
    changes if any step fails.
    """
    from gitreg.ops.register import RegisterRequest
    from gitreg.ops.register import register as do_register
    from gitreg.registry.reader import find_root
    from gitreg.render import text
    from gitreg.render.progress import for_stderr

    req = RegisterRequest(  # in the order of RegisterRequest's fields
        *(name, version, list(artifacts), metrics, params, description, model_description),
        *(list(owners), task, code_repo, code_commit, list(datasets), run_url, run_id),
        *(framework, here),
    )
    if open_pr and here:
        raise UsageError("--open-pr needs a branch of its own: drop --here")
    root = find_root(repo)
    result = do_register(root, req, push=push or open_pr, progress=for_stderr())
    if not open_pr:
        emit(as_json, result, lambda: text.registration(result))
        return
    _open_registration_pr(root, result, base_branch, as_json)


def _open_registration_pr(root: Path, result: Registration, base: str, as_json: bool) -> None:
    from gitreg.ops.submit import open_registration_pr
    from gitreg.render import text
    from gitreg.render.pullrequest import registration_body

    title = f"Register {result.name} {result.version}"
    body = registration_body(result)
    pr = open_registration_pr(root, result.branch, result.commit, title, body, base)
    note = (pr.note or "no token").rstrip(".")
    opened = f"Pull request: {pr.url}" if pr.url else f"{note}. Open it: {pr.compare_url}"
    data = {**result.to_dict(), "pr": pr.to_dict(), "compare_url": pr.compare_url}
    emit(as_json, data, lambda: text.registration(result) + "\n" + opened.strip())


@click.command()
@click.option("--base", metavar="REF", help="Also check the change from REF (a PR's base).")
@click.option(
    "--staged",
    is_flag=True,
    help="Check what the index holds (what `git commit` would record), e.g. in pre-commit.",
)
@ref_option
@repo_option
@json_option
def validate(base: str | None, staged: bool, ref: str, repo: str, as_json: bool) -> None:
    """Check every manifest, artifact pointer and stage rule; exit 1 on any problem.

    With --base, check only the models the change touches, and the rules that span
    commits: versions are immutable, one new version per model per merge, and a version
    enters a stage with `requires` only if it held the required stage on the base.

    With --staged, check the index instead of --ref: unstaged edits do not count.
    """
    from gitreg.ops.validate import validate as run
    from gitreg.registry.reader import Registry
    from gitreg.render import text

    if staged and ref != "HEAD":
        raise UsageError("--staged checks the index; it cannot be combined with --ref")
    with Registry.staged(repo) if staged else Registry.open(repo, ref) as reg:
        report = run(reg, base)
        if os.environ.get("GITHUB_ACTIONS") == "true" and not as_json:
            from gitreg.render.annotations import validation as annotations

            notes = annotations(report, reg.snapshot.read)
            if notes:
                click.echo(notes)
    emit(as_json, report, lambda: text.validation(report))
    if not report.ok:
        raise CheckFailed(f"{len(report.problems)} problem(s)", reported=True)


@click.command("list")
@click.option("--stage", help="Only models that have this stage.")
@click.option(
    "--filter",
    "filter_",
    metavar="EXPR",
    help="MLflow search syntax plus OR and parentheses, e.g. "
    "\"tags.team = 'growth' AND metrics.f1 > 0.9\": a model matches when it does with one "
    "of its versions (docs/search.md).",
)
@click.option("--versions", is_flag=True, help="One row per matching version (= search-versions).")
@search_options
@ref_option
@read_repo_option
@json_option
def list_(
    stage: str | None,
    filter_: str | None,
    versions: bool,
    order_by: tuple[str, ...],
    max_results: int | None,
    ref: str,
    repo: str,
    as_json: bool,
) -> None:
    """List the models: latest version, stages, description (--versions: every version)."""
    from gitreg.ops.listing import search_models
    from gitreg.registry.opening import open_for_reading
    from gitreg.render import text

    if versions:
        show_versions(repo, ref, filter_, order_by, max_results, stage, as_json)
        return
    with open_for_reading(repo, ref) as reg:
        models = search_models(reg, filter_, order_by, max_results, stage)
    emit(as_json, models, lambda: text.model_list(models, stage))


@click.command()
@ref_argument()
@ref_option
@read_repo_option
@json_option
def show(ref_: str, ref: str, repo: str, as_json: bool) -> None:
    """Show a model (versions, stages) or one version's manifest.

    A stage means the version stages.yaml gives it at --ref (not yet released perhaps;
    `resolve` answers from release tags).
    """
    from gitreg.ops.listing import show as do_show
    from gitreg.registry.opening import open_for_reading
    from gitreg.render import text

    name, what = split_ref(ref_)
    with open_for_reading(repo, ref) as reg:
        view = do_show(reg, name, reg.resolve_ref(name, what))
    emit(as_json, view, lambda: text.shown(view))


@click.command()
@ref_argument()
@click.option(
    "--full",
    is_flag=True,
    help="Walk the whole log of the ref, not only since "
    "the last release (also shows changes overwritten before any release).",
)
@ref_option
@read_repo_option
@json_option
def history(ref_: str, full: bool, ref: str, repo: str, as_json: bool) -> None:
    """What happened to a model: registrations, promotions, deprecations; who, when, which PR.

    Released events come from the release tags (PR and approvers from their trailers),
    later ones from the log of the ref. --full walks the whole log instead. With @VERSION
    (or @latest, @STAGE at --ref): only the events of that version.
    """
    from gitreg.ops.history import history as events
    from gitreg.registry.opening import open_for_reading
    from gitreg.render import text

    name, what = split_ref(ref_)
    with open_for_reading(repo, ref, tags_of=name) as reg:
        items = events(reg, name, full=full, version=reg.resolve_ref(name, what))
    emit(as_json, items, lambda: text.events(items))


@click.command()
@click.argument("refs", nargs=-1, required=True, metavar="NAME@A NAME@B | NAME A B")
@ref_option
@read_repo_option
@json_option
def diff(refs: tuple[str, ...], ref: str, repo: str, as_json: bool) -> None:
    """Compare two versions of a model: metrics, params, artifacts, lineage.

    Each side is a version, `latest` or a stage (read at --ref): `gitreg diff churn@production
    churn@staging`, `gitreg diff churn production 1.2.0`.
    """
    from gitreg.ops.diff import diff as do_diff
    from gitreg.registry.opening import open_for_reading
    from gitreg.render import text

    name, a, b = _two_sides(refs)
    with open_for_reading(repo, ref) as reg:
        va, vb = reg.resolve_ref(name, a), reg.resolve_ref(name, b)
        assert va is not None and vb is not None  # both given
        d = do_diff(reg, name, va, vb)
    emit(as_json, d, lambda: text.version_diff(d))


def _two_sides(refs: tuple[str, ...]) -> tuple[str, str, str]:
    """`NAME A B` or `NAME@A NAME@B` -> (name, a, b)."""
    if len(refs) == 3:
        sides = [split_ref(refs[0], refs[1]), split_ref(refs[0], refs[2])]
    elif len(refs) == 2 and all("@" in r for r in refs):
        sides = [split_ref(r) for r in refs]
    else:
        raise UsageError(
            f"diff takes NAME A B or NAME@A NAME@B, got {' '.join(refs)!r}",
            "e.g. gitreg diff churn 1.0.0 production, gitreg diff churn@1.0.0 churn@latest",
        )
    (name, a), (other, b) = sides
    if name != other:
        raise UsageError(f"diff compares versions of one model, not {name!r} and {other!r}")
    assert a is not None and b is not None
    return name, a, b


@click.command()
@click.option(
    "--kind",
    type=click.Choice(["gitreg.yaml", "model.yaml", "stages.yaml", "version.yaml"]),
    help="Only this manifest kind.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    metavar="DIR",
    help="Write one file per kind into DIR (`model.schema.json`, ...) instead of printing.",
)
def schema(kind: str | None, output: Path | None) -> None:
    """Print the JSON Schema of the manifests (all kinds, keyed by file name).

    With -o DIR, write <kind>.schema.json files, whose `$id` is their own file name.
    """
    from gitreg.model.schema import schema_json

    if output is None:
        click.echo(schema_json(kind))
        return
    from gitreg.ops.schema import write_schemas

    written = write_schemas(output, [kind] if kind else None)
    click.echo("\n".join(f"wrote {output / f}" for f in written.files))
