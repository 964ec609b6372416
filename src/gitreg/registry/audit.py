"""The checks every release tag must pass: written once, run by `doctor` and `--verify`.

A tag passes when it is annotated, points at a commit on the main branch, was written by
`gitreg release` (a `Promoted-in` trailer), sits on its version's registration commit
(stage tags), and agrees with stages.yaml at its `Promoted-in` commit.

On a local registry every check runs. For a `--repo URL` only what the one fetched tag and
`ls-remote` can show is checked (annotated, written by release, on its version's
registration commit); ancestry on main needs a clone: run `gitreg doctor` there.
"""

from __future__ import annotations

from gitreg.errors import CheckFailed
from gitreg.model import layout, tags
from gitreg.registry.released import ResolvedVersion, main_branch
from gitreg.store import refs
from gitreg.store.git import Git
from gitreg.store.remote import fetch_tag, is_url, remote_tags
from gitreg.store.snapshot import Snapshot


def main_commit(git: Git, branch: str) -> str | None:
    """The tip of the main branch: the local branch, else origin's."""
    return git.rev_parse(f"refs/heads/{branch}") or git.rev_parse(f"refs/remotes/origin/{branch}")


def check_tag(
    git: Git, snap: Snapshot, main: str, tag: tags.Tag, state: tags.ReleasedState
) -> list[str]:
    """What is wrong with one tag (empty if nothing). `main`: the main branch's commit."""
    problems = []
    p = tag.parsed
    if not tag.annotated:
        problems.append("lightweight tag: gitreg and GTO tags are annotated; delete and release")
        return problems
    if not git.is_ancestor(tag.commit, main):
        problems.append(f"points to {tag.commit[:12]}, which is not on main")
    promoted = tag.trailers.get("Promoted-in")
    if not promoted:
        problems.append("not written by `gitreg release` (no Promoted-in trailer)")
    if p.kind in ("assign", "unassign") and p.stage:
        version = state.version_at(tag)
        reg = state.registered.get(version or "")
        if reg is None or reg.commit != tag.commit:
            problems.append("not on the commit of its version's registration tag")
        if promoted:
            if snap.read_at(promoted, layout.stages_file(p.model)) is None:
                problems.append(f"Promoted-in {promoted[:12]} has no readable stages.yaml")
                return problems
            from gitreg.registry.reader import stages_at  # pydantic: only when a tag is checked

            held = stages_at(snap, promoted, p.model)
            if p.kind == "assign" and held.get(p.stage) != version:
                problems.append(
                    f"says {p.stage}={version}, but stages.yaml at {promoted[:12]} says "
                    f"{held.get(p.stage, 'nothing')}"
                )
            elif p.kind == "unassign" and version is not None and held.get(p.stage) == version:
                problems.append(
                    f"removes {version} from {p.stage}, but stages.yaml at {promoted[:12]} "
                    "keeps it there"
                )
    return problems


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
    full = refs.read_tags(fetch_tag(rv.repo, rv.tag), [rv.tag])
    if tag.annotated and (not full or not full[0].trailers.get("Promoted-in")):
        problems.append("not written by `gitreg release` (no Promoted-in trailer)")
    return problems


def _local_problems(rv: ResolvedVersion) -> list[str]:
    git = Git(rv.repo)
    model_tags = refs.model_tags(git, rv.name)
    tag = next(t for t in model_tags if t.name == rv.tag)
    with Snapshot(git, rv.commit, rv.tag) as snap:
        branch = main_branch(snap)
        main = main_commit(git, branch)
        if main is None:
            return [f"the main branch {branch!r} is not in {rv.repo}, so nothing can be verified"]
        return check_tag(git, snap, main, tag, tags.released_state(model_tags))


def verify_release(rv: ResolvedVersion) -> None:
    """Raise CheckFailed (exit 1) if the tag behind `rv` fails the checks."""
    problems = _remote_problems(rv) if is_url(rv.repo) else _local_problems(rv)
    if problems:
        raise CheckFailed(
            f"{rv.tag}: refused by --verify: " + "; ".join(problems),
            "run `gitreg doctor` on the registry and fix the tags",
        )
