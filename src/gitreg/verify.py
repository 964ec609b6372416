"""`resolve --verify`: refuse a release tag that `gitreg doctor` would flag.

On a local registry every doctor check runs. For a `--repo URL` only what the one fetched
tag and `ls-remote` can show is checked (annotated, written by release, on its version's
registration commit); ancestry on main needs a clone: run `gitreg doctor` there.
"""

from __future__ import annotations

from . import tags
from .doctor import check_tag
from .errors import CheckFailed
from .gitops import Git, Snapshot
from .resolve import ResolvedVersion, fetch_tag, is_url, remote_tags


def _remote_problems(rv: ResolvedVersion) -> list[str]:
    listed = remote_tags(rv.repo, rv.name)
    state = tags.released_state(listed)
    tag = next((t for t in listed if t.name == rv.tag), None)
    if tag is None:
        return ["not found on the remote"]
    problems = []
    if not tag.annotated:
        problems.append("lightweight tag: gitreg and GTO tags are annotated")
    reg = state.registered.get(rv.version)
    if reg is None or reg.commit != tag.commit:
        problems.append("not on the commit of its version's registration tag")
    full = tags.read_tags(fetch_tag(rv.repo, rv.tag), [rv.tag])
    if tag.annotated and (not full or not full[0].trailers.get("Promoted-in")):
        problems.append("not written by `gitreg release` (no Promoted-in trailer)")
    return problems


def verify_release(rv: ResolvedVersion) -> None:
    """Raise CheckFailed (exit 1) if the tag behind `rv` fails doctor's checks."""
    if is_url(rv.repo):
        problems = _remote_problems(rv)
    else:
        git = Git(rv.repo)
        model_tags = tags.model_tags(git, rv.name)
        tag = next(t for t in model_tags if t.name == rv.tag)
        main = git.rev_parse("refs/heads/main") or rv.commit
        with Snapshot(git, main, "main") as snap:
            problems = check_tag(git, snap, main, tag, tags.released_state(model_tags))
    if problems:
        raise CheckFailed(
            f"{rv.tag}: refused by --verify: " + "; ".join(problems),
            "run `gitreg doctor` on the registry and fix the tags",
        )
