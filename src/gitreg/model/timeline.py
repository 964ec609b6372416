"""A model's stage timeline: one event per stage change, from its release tags' trailers
(who promoted, which pull request, who approved). Pure: the tags are read by the caller."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gitreg.model import tags, trailers


@dataclass(frozen=True)
class StageEvent:
    """One release tag of a stage: a version entered it, or left it empty."""

    stage: str
    version: str | None  # the version that entered (promoted) or left (removed)
    kind: str  # promoted | removed
    tag: str
    date: str
    promoted_in: str | None
    promoted_by: str | None
    pull_request: str | None
    approved_by: list[str]
    replaced: str | None = None  # the version that left the stage in the same change


def move_halves(model_tags: list[tags.Tag]) -> set[str]:
    """The removal tags that are the second half of a move: B entering the stage A held
    writes an assignment tag and a removal tag from one commit, and both read as one
    promotion (the site's timeline and `gitreg history` alike)."""
    entered = {_key(t) for t in model_tags if t.parsed.kind == "assign" and _key(t)[1]}
    return {t.name for t in model_tags if t.parsed.kind == "unassign" and _key(t) in entered}


def _key(t: tags.Tag) -> tuple[str | None, str | None]:
    return t.parsed.stage, t.trailers.get("Promoted-in")


def stage_events(model_tags: list[tags.Tag], who: Mapping[str, str]) -> list[StageEvent]:
    """One event per stage change, oldest first (a move is one event, `move_halves`);
    `who` names the author of each commit a change was made in."""
    state = tags.released_state(model_tags)
    stage_tags = sorted(
        (t for t in model_tags if t.parsed.kind in ("assign", "unassign")),
        key=lambda t: t.parsed.counter or 0,
    )
    halves = move_halves(stage_tags)
    left = {_key(t): state.version_at(t) for t in stage_tags if t.name in halves}
    out = []
    for t in stage_tags:
        if t.name in halves:
            continue
        assign = t.parsed.kind == "assign"
        made_in = t.trailers.get("Promoted-in")
        out.append(
            StageEvent(
                stage=t.parsed.stage or "",
                version=state.version_at(t),
                kind="promoted" if assign else "removed",
                tag=t.name,
                date=t.date,
                promoted_in=made_in,
                promoted_by=who.get(made_in) if made_in else None,
                pull_request=t.trailers.get("Pull-Request"),
                approved_by=trailers.approvers(t.trailers),
                replaced=left.get(_key(t)) if assign and made_in else None,
            )
        )
    return out
