"""Which models a release must look at: those changed since a commit known to be released.

A release run at commit R writes, in one all-or-nothing transaction, every tag the state at
R asks for. So once some tag says `Promoted-in: C`, a release ran at C or later, and every
model was released as of C. Walking main's first-parent history back from the ref, the
models touched on the way are the only ones that can need a tag, up to the first commit
that a tag of a model it touched names in `Promoted-in`: usually the merge before.

When no such commit turns up within `LIMIT` commits (no release yet, GTO-made tags
without trailers, a long unreleased stretch) or `gitreg.yaml` changed on the way (stage
names, policies), every model is looked at, as before.
"""

from __future__ import annotations

from gitreg.model import layout, tags
from gitreg.store import refs
from gitreg.store.git import Git

LIMIT = 200  # commits walked before giving up and looking at every model


def _commits(git: Git, commit: str, limit: int) -> list[tuple[str, set[str], bool]]:
    """(commit, models it touched, whether it touched gitreg.yaml), newest first."""
    args = ["log", "--first-parent", "--diff-merges=first-parent", "--name-only"]
    args += [f"--max-count={limit}", "--format=%x01%H", "--end-of-options", commit, "--"]
    out = git.run(args)
    walked = []
    prefix = f"{layout.MODELS_DIR}/"
    for record in out.split("\x01")[1:]:
        sha, *paths = record.split("\n")
        models = {p.split("/")[1] for p in paths if p.startswith(prefix) and p.count("/") > 1}
        walked.append((sha.strip(), models, layout.CONFIG_FILE in paths))
    return walked


def models_to_release(
    git: Git, commit: str, limit: int = LIMIT
) -> dict[str, list[tags.Tag]] | None:
    """The models that may need tags at `commit`, each with its tags (read by one
    `for-each-ref` per commit walked that touched a model not seen yet); None: look at
    every model. The log is read 16 commits first, then up to `limit`."""
    for count in (min(16, limit), limit):
        walked = _commits(git, commit, count)
        found = _scan(git, walked)
        if found is not None or len(walked) < count:  # proved, or reached the first commit
            return found
    return None


def _scan(git: Git, walked: list[tuple[str, set[str], bool]]) -> dict[str, list[tags.Tag]] | None:
    touched: set[str] = set()
    known: dict[str, list[tags.Tag]] = {}
    for sha, models, config in walked:
        if config:
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
