"""The command line. Commands parse, call one core function, and hand the result to `output`.

Core modules are imported inside each command so that `gitreg --help` stays fast.
`main` is the one place where errors become exit codes (DESIGN §5).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from .errors import (
    EXIT_CHECK_FAILED,
    EXIT_INTERRUPTED,
    EXIT_UNEXPECTED,
    EXIT_USAGE,
    GitregError,
    UsageError,
)

F = TypeVar("F", bound=Callable[..., Any])
_state = {"traceback": False}


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


def _emit(as_json: bool, data: Any, text: str) -> None:
    from .output import to_json

    click.echo(to_json(data) if as_json else text)


def _split_ref(ref: str) -> tuple[str, str | None]:
    name, _, version = ref.partition("@")
    return name, (version or None)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="gitreg")
@click.option("--traceback", is_flag=True, help="Show the Python traceback of unexpected errors.")
def cli(traceback: bool) -> None:
    """gitreg: a GitOps model registry in a plain Git repository.

    Model versions are YAML manifests committed to the registry repo; their files are
    tracked by DVC. Stage changes are pull requests; releases are git tags.

    \b
    Start:   gitreg init my-registry && cd my-registry
    Add:     gitreg register churn --version 1.0.0 --artifact model.pkl --metrics m.json
    Look:    gitreg list; gitreg show churn; gitreg show churn@1.0.0 --json
    Check:   gitreg validate [--base origin/main]

    Exit codes: 0 ok, 1 a check said no, 2 usage error, 3 gitreg error,
    4 unexpected error (--traceback shows it), 130 interrupted.
    """
    _state["traceback"] = traceback


@cli.command()
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
@json_option
def init(
    path: Path,
    remote: str | None,
    owners: tuple[str, ...],
    github_repo: str | None,
    pip_spec: str | None,
    as_json: bool,
) -> None:
    """Create a registry repository at PATH (git, DVC with a remote, workflows, first commit).

    PATH must be new or empty, or the root of a git repository without a registry, to
    which the registry files are added in one commit.
    """
    from . import output
    from .scaffold import init_registry

    result = init_registry(path, remote, list(owners), github_repo, pip_spec)
    _emit(as_json, result.to_dict(), output.init(result))


@cli.command()
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
@click.option("--push", is_flag=True, help="Push the branch to origin.")
@click.option(
    "--open-pr",
    is_flag=True,
    help="Push and open a pull request (GITHUB_TOKEN; without one, print the compare URL).",
)
@click.option("--base-branch", default="main", show_default=True, help="The PR's target.")
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
    from . import output
    from .register import RegisterRequest
    from .register import register as do_register
    from .registry import Registry

    req = RegisterRequest(
        name=name,
        version=version,
        artifacts=list(artifacts),
        metrics=metrics,
        params=params,
        description=description,
        model_description=model_description,
        owners=list(owners),
        task=task,
        code_repo=code_repo,
        code_commit=code_commit,
        datasets=list(datasets),
        run_url=run_url,
        run_id=run_id,
        framework=framework,
        here=here,
    )
    with Registry.open(repo) as reg:
        root = reg.root
    if open_pr and here:
        raise UsageError("--open-pr needs a branch of its own: drop --here")
    result = do_register(root, req, push=push or open_pr)
    if not open_pr:
        _emit(as_json, result.to_dict(), output.registration(result))
        return
    from .pullrequest import open_registration_pr

    pr = open_registration_pr(root, result, base_branch)
    note = (pr.note or "no token").rstrip(".")
    opened = f"Pull request: {pr.url}" if pr.url else f"{note}. Open it: {pr.compare_url}"
    text = output.registration(result) + "\n" + opened.strip()
    _emit(as_json, {**result.to_dict(), "pr": pr.to_dict(), "compare_url": pr.compare_url}, text)


@cli.command()
@click.option("--base", metavar="REF", help="Also check the change from REF (a PR's base).")
@ref_option
@repo_option
@json_option
def validate(base: str | None, ref: str, repo: str, as_json: bool) -> None:
    """Check every manifest, artifact pointer and stage rule; exit 1 on any problem.

    With --base, check only the models the change touches, and the rules that span
    commits: versions are immutable, one new version per model per merge, and a version
    enters a stage with `requires` only if it held the required stage on the base.
    """
    from . import output
    from .registry import Registry
    from .validate import validate as run

    with Registry.open(repo, ref) as reg:
        report = run(reg, base)
    _emit(as_json, report.to_dict(), output.validation(report))
    if not report.ok:
        raise SystemExit(EXIT_CHECK_FAILED)


@cli.command("list")
@click.option("--stage", help="Only models that have this stage.")
@click.option(
    "--filter",
    "filter_",
    metavar="EXPR",
    help="MLflow search syntax plus OR and parentheses, e.g. "
    "\"tags.team = 'growth' AND metrics.f1 > 0.9\" (metrics of the latest version).",
)
@ref_option
@repo_option
@json_option
def list_(stage: str | None, filter_: str | None, ref: str, repo: str, as_json: bool) -> None:
    """List the models: latest version, stages, description."""
    from . import output
    from .query import parse
    from .registry import Registry

    where = parse(filter_) if filter_ is not None else None
    with Registry.open(repo, ref) as reg:
        models = reg.find(stage, where)
    _emit(as_json, [m.to_dict() for m in models], output.model_list(models, stage))


@cli.command()
@click.argument("ref_", metavar="NAME[@VERSION]")
@ref_option
@repo_option
@json_option
def show(ref_: str, ref: str, repo: str, as_json: bool) -> None:
    """Show a model (versions, stages) or one version's manifest."""
    from . import output
    from .registry import Registry

    name, version = _split_ref(ref_)
    with Registry.open(repo, ref) as reg:
        if version:
            vm = reg.version(name, version)
            stages = [s for s, v in reg.stages(name).items() if v == version]
            data = {**vm.to_dict(), "stages": stages}
            _emit(as_json, data, output.version(vm, stages))
            return
        summary = reg.summary(name)
        spec = reg.model(name)
        versions = [reg.version(name, v) for v in summary.versions]
    data = {
        **summary.to_dict(),
        "model": spec.to_dict(),
        "versions": [
            {
                "version": v.version,
                "status": v.status,
                "created": v.to_dict()["created"],
                "author": v.author,
                "metrics": v.metrics.flat(),
            }
            for v in versions
        ],
    }
    _emit(as_json, data, output.model(summary, spec, versions))


@cli.command()
@click.argument("name")
@click.option(
    "--full",
    is_flag=True,
    help="Walk the whole log of the ref, not only since "
    "the last release (also shows changes overwritten before any release).",
)
@ref_option
@repo_option
@json_option
def history(name: str, full: bool, ref: str, repo: str, as_json: bool) -> None:
    """What happened to a model: registrations, promotions, deprecations; who, when, which PR.

    Released events come from the release tags (PR and approvers from their trailers),
    later ones from the log of the ref. --full walks the whole log instead.
    """
    from . import output
    from .history import history as events
    from .registry import Registry

    with Registry.open(repo, ref) as reg:
        items = events(reg, name, full=full)
    _emit(as_json, [e.to_dict() for e in items], output.events(items))


@cli.command()
@click.argument("name")
@click.argument("v1")
@click.argument("v2")
@ref_option
@repo_option
@json_option
def diff(name: str, v1: str, v2: str, ref: str, repo: str, as_json: bool) -> None:
    """Compare two versions of a model: metrics, params, artifacts, lineage."""
    from . import output
    from .compare import diff_versions
    from .registry import Registry

    with Registry.open(repo, ref) as reg:
        d = diff_versions(reg, name, v1, v2)
    _emit(as_json, d.to_dict(), output.version_diff(d))


@cli.command()
@click.argument("ref_", metavar="NAME[@VERSION]")
@ref_option
@repo_option
@json_option
def card(ref_: str, ref: str, repo: str, as_json: bool) -> None:
    """Show a model card: model.yaml's card and evaluation policy with one version's facts.

    Without @VERSION: the version in the highest stage that holds one (production before
    staging), else the latest. The Markdown can be pasted into a README or a PR.
    """
    from .modelcard import build_card, render_markdown
    from .registry import Registry

    name, version = _split_ref(ref_)
    with Registry.open(repo, ref) as reg:
        mc = build_card(reg, name, version)
    _emit(as_json, mc.to_dict(), render_markdown(mc).rstrip("\n"))


@cli.command()
@click.option(
    "--kind",
    type=click.Choice(["gitreg.yaml", "model.yaml", "stages.yaml", "version.yaml"]),
    help="Only this manifest kind.",
)
def schema(kind: str | None) -> None:
    """Print the JSON Schema of the manifests (all kinds, keyed by file name)."""
    from .manifest import schema_json

    click.echo(schema_json(kind))


def _fail(err: GitregError) -> int:
    from .errors import ManifestError

    if isinstance(err, ManifestError):
        for p in err.problems:
            click.echo(f"error: {p}", err=True)
    else:
        click.echo(f"error: {err.message}", err=True)
    if err.hint:
        click.echo(f"hint: {err.hint}", err=True)
    return err.exit_code


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI and map every outcome to an exit code."""
    try:
        result = cli.main(args=argv, prog_name="gitreg", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.ClickException as e:
        e.show()
        return EXIT_USAGE if isinstance(e, click.UsageError) else e.exit_code
    except (KeyboardInterrupt, click.Abort):
        click.echo("interrupted", err=True)
        return EXIT_INTERRUPTED
    except UsageError as e:
        return _fail(e)
    except GitregError as e:
        return _fail(e)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 1
    except Exception as e:
        if _state["traceback"]:
            import traceback

            traceback.print_exc()
        else:
            click.echo(f"unexpected error: {type(e).__name__}: {e}", err=True)
            click.echo("hint: rerun with --traceback and report it", err=True)
        return EXIT_UNEXPECTED


def run() -> None:
    sys.exit(main())


# Commands defined in their own modules register themselves on `cli` when imported.
from . import cli_deploy, cli_evaluate, cli_promote  # noqa: E402, F401
