"""CLI commands of the released state: release, resolve, pull, doctor."""

from __future__ import annotations

from pathlib import Path

import click

from gitreg.cli.options import PINNED_REF, emit, json_option, ref_argument, ref_option, repo_option
from gitreg.errors import CheckFailed


@click.command()
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
    from gitreg.ops.release import release as do_release
    from gitreg.registry.reader import find_root
    from gitreg.render import text

    result = do_release(str(find_root(repo)), ref, push=push, remote=remote)
    emit(as_json, result, lambda: text.release(result))


@click.command()
@ref_argument(metavar=PINNED_REF)
@click.option(
    "--verify",
    is_flag=True,
    help="Refuse (exit 1) a tag that fails the release checks: lightweight, off main's "
    "first-parent history, forged trailers, content that differs from main, a bad signature.",
)
@repo_option
@json_option
def resolve(ref_: str, verify: bool, repo: str, as_json: bool) -> None:
    """Which exact version (commit, manifest, artifact hashes) a ref means, from tags only.

    REPO may be a local path or a git URL; a URL needs no clone (ls-remote plus a shallow
    fetch of the one tag into a cache, reused across calls).
    """
    from gitreg.ops.resolve import resolve as do_resolve
    from gitreg.render import text

    rv = do_resolve(ref_, repo, verify=verify)
    emit(as_json, rv, lambda: text.resolved(rv))


@click.command()
@ref_argument(metavar=PINNED_REF)
@click.option(
    "-o",
    "--output",
    "dest",
    required=True,
    type=click.Path(path_type=Path),
    help="Directory to write the artifacts into (created; must be empty).",
)
@click.option("--force", is_flag=True, help="Replace a non-empty output directory.")
@click.option(
    "--verify/--no-verify",
    default=True,
    show_default=True,
    help="Refuse a tag that fails the release checks (the same as resolve --verify).",
)
@click.option("--allow-deprecated", is_flag=True, help="Pull a deprecated version anyway.")
@repo_option
@json_option
def pull(
    ref_: str,
    dest: Path,
    force: bool,
    verify: bool,
    allow_deprecated: bool,
    repo: str,
    as_json: bool,
) -> None:
    """Download a released version's artifacts through DVC, md5-verified, atomically."""
    from gitreg.ops.pull import pull_ref
    from gitreg.render import text
    from gitreg.render.progress import for_stderr

    result = pull_ref(
        ref_, repo, dest, force=force, verify=verify, allow_deprecated=allow_deprecated,
        progress=for_stderr(),
    )  # fmt: skip
    emit(as_json, result, lambda: text.pulled(result))


@click.command()
@ref_option
@repo_option
@json_option
def doctor(ref: str, repo: str, as_json: bool) -> None:
    """Audit the release tags against main; exit 1 if anything is off.

    Reports lightweight tags, tags not made by `gitreg release`, tags not on main, stage
    tags that disagree with stages.yaml at their Promoted-in commit, counter gaps, and
    stages changed on main but not released yet.
    """
    from gitreg.ops.doctor import doctor as run
    from gitreg.registry.reader import Registry
    from gitreg.render import text

    with Registry.open(repo, ref) as reg:
        report = run(reg)
    emit(as_json, report, lambda: text.doctor(report))
    if not report.ok:
        raise CheckFailed(f"{len(report.findings)} finding(s)", reported=True)
