"""Which commit gave a model's stage its value: the `Promoted-in` of a stage tag.

Release (`ops/release.py`) asks it for every stage whose value differs from the released
state. The answer is the oldest of the newest run of first-parent commits that edited
stages.yaml and left the stage at that value. It comes from the commits `release_scope`
walked anyway when they prove it (the usual case: the change is in the merge released),
else from `git log -- models/NAME/stages.yaml`, bounded by the model's last release point.
Both give the same commit; `tests/test_stage_history.py` compares them.
"""

from __future__ import annotations

from gitreg.model import layout
from gitreg.registry.reader import Registry, stages_at
from gitreg.registry.release_scope import Walk


class StageHistory:
    """The first-parent commits that edited one stages.yaml, newest first, read on demand."""

    def __init__(self, reg: Registry, name: str, since: str | None, walked: Walk) -> None:
        self.snap, self.name, self.git, self.tip = reg.snapshot, name, reg.git, reg.commit
        self.path = layout.stages_file(name)
        # a commit whose state a release covered (a tag's Promoted-in): an unreleased value
        # was set after it, so the log need not go further back
        self.given, self.walked = since, walked
        self._since: list[str | None] = []
        self.commits: list[str] = []
        self._read_all = False
        self._maps: dict[str, dict[str, str]] = {}
        self._hidden: dict[str, bool] = {}

    @property
    def since(self) -> str | None:
        if not self._since:
            given = self.given
            self._since.append(given if given and self.git.is_ancestor(given, self.tip) else None)
        return self._since[0]

    def _commit(self, i: int) -> str | None:
        """The i-th newest commit that edited stages.yaml: the log is read in growing
        chunks, as far back as asked, never the whole history (225,000 commits at
        1000x100) when the answer is a few merges back."""
        while i >= len(self.commits) and not self._read_all:
            count = max(2, 4 * len(self.commits))
            args = ["log", "--first-parent", "--format=%H", f"--max-count={count}"]
            bound = [f"^{self.since}"] if self.since else []
            out = self.git.run(
                [*args, "--end-of-options", self.tip, *bound, "--", self.path]
            ).split()
            self._read_all = len(out) < count
            self.commits = out
        return self.commits[i] if i < len(self.commits) else None

    def _at(self, commit: str) -> dict[str, str]:
        if commit not in self._maps:
            self._maps[commit] = stages_at(self.snap, commit, self.name)
        return self._maps[commit]

    def set_in(self, stage: str, value: str | None) -> str:
        """The commit whose edit gave `stage` its current `value` (None: removed it)."""
        quick = self._set_in_walked(stage, value)
        if quick is not None:
            return quick
        found = self._commit(0) or self.snap.commit
        i, commit = 0, self._commit(0)
        while commit is not None and self._at(commit).get(stage) == value:
            found = commit
            i += 1
            commit = self._commit(i)
        return found

    def _set_in_walked(self, stage: str, value: str | None) -> str | None:
        """`set_in` from the commits release_scope walked, when they prove the answer the log
        would give (None: they do not; read the log). The log lists the walked commits
        that edited the file, stopping at `since`; past the walk, the next older edit
        holds the value the file has at the walk's `below`: if that is not `value`, the
        run of `value` ends inside the walk. `since` hides walked commits only when it
        descends from one: it is not a walked commit, so it must be a side-branch commit a
        walked merge brought in; without merges, no ancestry check is needed."""
        edits, cut = [], False
        for sha, paths in self.walked.commits:
            if sha == self.given:
                cut = True  # the log stops here: since and all before it are excluded
                break
            if self.path in paths:
                edits.append(sha)
        below = self.walked.below
        if not edits or not self._bounds_nothing_walked(cut, below):
            return None
        found = edits[0]
        for sha in edits:
            if self._at(sha).get(stage) != value:
                return found
            found = sha
        if cut or below is None:
            return found
        return found if self._at(below).get(stage) != value else None

    def _bounds_nothing_walked(self, cut: bool, below: str | None) -> bool:
        """Whether `since` hides none of the walked commits above it from the log."""
        if cut or not self.given or not self.walked.merges:
            return True
        if below is None:
            return False  # the walk reached the root: no commit to compare `since` with
        if self.given not in self._hidden:
            # a side-branch commit a walked merge brought in may descend from walked
            # commits, which the log then hides: only an ancestor of `below` cannot
            self._hidden[self.given] = not self.git.is_ancestor(self.given, below)
        return not self._hidden[self.given]
