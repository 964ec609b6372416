"""A stage change as data: the plan (which file becomes which text, on which branch), the
facts its pull request shows, and the change once committed."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class PlanFacts:
    """What the pull request of a plan shows, read when the plan was made."""

    metrics: dict[str, float]  # the version the change is about
    previous_metrics: dict[str, float]  # the version the stage held before (promote/rollback)
    goals: dict[str, str]  # metric -> maximize|minimize, from the evaluation policy
    description: str
    owners: list[str]
    intended_use: str | None
    limitations: str | None
    gated: bool  # the stage has `gate: true` and the change puts a version in it


@dataclass(frozen=True)
class StagePlan:
    """One stage change, ready to commit: which file becomes which text, on which branch.

    `version` is the version the change is about: the one entering the stage (promote,
    rollback), leaving it (demote), or being deprecated. `previous` is what the stage
    held before the change (None: nothing); `stage` is None for a deprecation.
    """

    kind: str  # promote | demote | rollback | deprecate
    name: str
    version: str
    stage: str | None
    previous: str | None
    path: str
    branch: str
    message: str
    text: str
    base_commit: str
    facts: PlanFacts | None = field(default=None, compare=False)

    @property
    def title(self) -> str:
        """The commit subject, also the pull request title."""
        return self.message.splitlines()[0]

    @property
    def after(self) -> str | None:
        """What the stage holds once the change is merged (None: nothing, or no stage)."""
        return self.version if self.kind in ("promote", "rollback") else None

    def to_dict(self) -> dict[str, Any]:
        """The plan as plain JSON data."""
        data = asdict(self)
        data.pop("facts", None)
        return {**data, "title": self.title, "after": self.after}


@dataclass(frozen=True)
class AppliedChange:
    """A plan committed on its own branch (and pushed to origin when `pushed`)."""

    plan: StagePlan
    commit: str
    base: str
    pushed: bool

    @property
    def branch(self) -> str:
        """The branch that holds the commit."""
        return self.plan.branch

    def to_dict(self) -> dict[str, Any]:
        """The change as plain JSON data."""
        return {
            "plan": self.plan.to_dict(),
            "branch": self.branch,
            "commit": self.commit,
            "base": self.base,
            "pushed": self.pushed,
        }
