"""CLI commands of the released state: release, resolve, pull, doctor."""

from __future__ import annotations

from pathlib import Path

import click

from .cli import _emit, cli, json_option, ref_option, repo_option


@cli.command()
@click.option(
    "--push",
    is_flag=True,
    help="Push the new tags to origin (atomically; retried if the remote moved).",
)
@click.option("--remote", default="origin", show_default=True, help="Remote to push to.")
@ref_option
@repo_option
@json_option
def release(push: bool, remote: str, ref: str, repo: str, as_json: bool) -> None:
    """Write the missing release tags for main (run by the release workflow on merge).

    Registration tags NAME@vVERSION, stage tags NAME#STAGE#N (removal NAME#STAGE!#N) and
    deprecation tags NAME@vVERSION! in GTO's grammar, annotated, with trailers naming the
    commit, pull request and approvers. A second run writes nothing. Run it on main.
    """
    from . import output
    from .github_approvals import approvals_from_env
    from .registry import Registry
    from .release import release as do_release

    with Registry.open(repo, ref) as reg:
        root, approvals = reg.root, approvals_from_env(reg)
    result = do_release(str(root), ref, push=push, remote=remote, approvals=approvals)
    _emit(as_json, result.to_dict(), output.release(result))


@cli.command()
@click.argument("ref_", metavar="NAME@VERSION|NAME@latest|NAME@STAGE")
@click.option("--verify", is_flag=True, help="Refuse a tag that `gitreg doctor` would flag.")
@repo_option
@json_option
def resolve(ref_: str, verify: bool, repo: str, as_json: bool) -> None:
    """Which exact version (commit, manifest, artifact hashes) a ref means, from tags only.

    REPO may be a local path or a git URL; a URL needs no clone (ls-remote plus a shallow
    fetch of the one tag into a cache, reused across calls).
    """
    from . import output
    from .resolve import resolve as do_resolve

    rv = do_resolve(ref_, repo)
    if verify:
        from .verify import verify_release

        verify_release(rv)
    _emit(as_json, rv.to_dict(), output.resolved(rv))


@cli.command()
@click.argument("ref_", metavar="NAME@VERSION|NAME@latest|NAME@STAGE")
@click.option(
    "-o",
    "--output",
    "dest",
    required=True,
    type=click.Path(path_type=Path),
    help="Directory to write the artifacts into (created; must be empty).",
)
@click.option("--force", is_flag=True, help="Replace a non-empty output directory.")
@repo_option
@json_option
def pull(ref_: str, dest: Path, force: bool, repo: str, as_json: bool) -> None:
    """Download a released version's artifacts through DVC, md5-verified, atomically."""
    from . import output
    from .pull import pull as do_pull
    from .resolve import resolve as do_resolve

    result = do_pull(do_resolve(ref_, repo), dest, force=force)
    _emit(as_json, result.to_dict(), output.pulled(result))


@cli.command()
@ref_option
@repo_option
@json_option
def doctor(ref: str, repo: str, as_json: bool) -> None:
    """Audit the release tags against main; exit 1 if anything is off.

    Reports lightweight tags, tags not made by `gitreg release`, tags not on main, stage
    tags that disagree with stages.yaml at their Promoted-in commit, counter gaps, and
    stages changed on main but not released yet.
    """
    from . import output
    from .doctor import doctor as run
    from .errors import EXIT_CHECK_FAILED
    from .registry import Registry

    with Registry.open(repo, ref) as reg:
        report = run(reg)
    _emit(as_json, report.to_dict(), output.doctor(report))
    if not report.ok:
        raise SystemExit(EXIT_CHECK_FAILED)
