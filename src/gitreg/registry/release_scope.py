"""Which models a release must look at: those changed since a commit known to be released.

A release run at commit R writes, in one all-or-nothing transaction, every tag the state at
R asks for. So once some tag says `Promoted-in: C`, a release ran at C or later, and every
model was released as of C. Walking main's first-parent history back from the ref, the
models touched on the way are the only ones that can need a tag, up to the first commit
that a tag of a model it touched names in `Promoted-in`: usually the merge before.

When no such commit turns up within `LIMIT` commits (no release yet, GTO-made tags
without trailers, a long unreleased stretch) or `gitreg.yaml` changed on the way (stage
names, policies), every model is looked at, as before.

The commits walked are kept (`Walk`): a prefix of the first-parent history with the paths
each changed, which answers "which commit set this stage" without a second log over the
whole history (`ops/release.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

from gitreg.model import layout, tags
from gitreg.store import refs
from gitreg.store.git import Git

LIMIT = 200  # commits walked before giving up and looking at every model


@dataclass(frozen=True)
class Walk:
    """The newest commits of a first-parent history, newest first, each with the paths it
    changed against its first parent (a rename as a deletion and an addition); `below` is
    the first parent of the oldest (None: the oldest is the root commit); `merges`: whether
    any of them has a second parent (which may bring in commits from a side branch)."""

    commits: list[tuple[str, frozenset[str]]]
    below: str | None
    merges: bool = False


def walk(git: Git, commit: str, limit: int) -> Walk:
    """The `limit` newest first-parent commits of `commit` with the paths each changed."""
    args = ["log", "--first-parent", "--diff-merges=first-parent", "--name-only", "--root"]
    args += ["--no-renames", f"--max-count={limit}", "--format=%x01%H %P"]
    out = git.run([*args, "--end-of-options", commit, "--"])
    commits, below, merges = [], None, False
    for record in out.split("\x01")[1:]:
        head, *paths = record.split("\n")
        sha, *parents = head.split()
        commits.append((sha, frozenset(p for p in paths if p)))
        below, merges = (parents[0] if parents else None), merges or len(parents) > 1
    return Walk(commits, below, merges)


def _models(paths: frozenset[str]) -> set[str]:
    prefix = f"{layout.MODELS_DIR}/"
    return {p.split("/")[1] for p in paths if p.startswith(prefix) and p.count("/") > 1}


def release_scope(
    git: Git, commit: str, limit: int = LIMIT
) -> tuple[dict[str, list[tags.Tag]] | None, Walk]:
    """The models that may need tags at `commit`, each with its tags (read by one
    `for-each-ref` per commit walked that touched a model not seen yet), None to look at
    every model; and the commits walked. The log is read 16 commits first, then up to
    `limit`."""
    for count in (min(16, limit), limit):
        walked = walk(git, commit, count)
        found = _scan(git, walked)
        if found is not None or len(walked.commits) < count:  # proved, or reached the root
            break
    return found, walked


def models_to_release(
    git: Git, commit: str, limit: int = LIMIT
) -> dict[str, list[tags.Tag]] | None:
    """`release_scope` without the walk."""
    return release_scope(git, commit, limit)[0]


def _scan(git: Git, walked: Walk) -> dict[str, list[tags.Tag]] | None:
    touched: set[str] = set()
    known: dict[str, list[tags.Tag]] = {}
    for sha, paths in walked.commits:
        models = _models(paths)
        if layout.CONFIG_FILE in paths:
            return None
        touched |= models
        new = sorted(models - known.keys())
        if new:
            found = refs.read_tags(git, [p for m in new for p in tags.model_patterns(m)])
            for m in new:
                known[m] = [t for t in found if t.parsed.model == m]
        if any(t.trailers.get("Promoted-in") == sha for m in models for t in known[m]):
            return {m: known[m] for m in sorted(touched)}
    return None
