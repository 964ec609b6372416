"""`gitreg history NAME`: what happened to a model, read from the first-parent log of a ref.

Each commit on the ref that adds a version, deprecates one or edits `stages.yaml` becomes
one or more events. Where `gitreg release` tagged the event, the tag's trailers add the
pull request and who approved it, and the tag says when it was released.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from . import layout, tags
from .errors import ManifestError
from .gitops import Snapshot
from .manifest import Stages, VersionManifest, parse
from .registry import Registry


@dataclass(frozen=True)
class Event:
    kind: str  # registered | promoted | demoted | deprecated
    model: str
    version: str | None
    stage: str | None
    commit: str
    author: str
    date: str
    subject: str
    tag: str | None = None
    pull_request: str | None = None
    approved_by: list[str] | None = None
    released: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _tag_for(event: Event, model_tags: list[tags.Tag]) -> tags.Tag | None:
    kinds = {
        "registered": "register",
        "promoted": "assign",
        "demoted": "unassign",
        "deprecated": "deprecate",
    }
    for t in model_tags:
        p = t.parsed
        if p.kind != kinds[event.kind]:
            continue
        if p.kind in ("register", "deprecate") and p.version == event.version:
            return t
        if p.stage == event.stage and t.trailers.get("Promoted-in") == event.commit:
            return t
    return None


def with_releases(events: list[Event], model_tags: list[tags.Tag]) -> list[Event]:
    """Events with the release tag, PR and approvers that `gitreg release` recorded."""
    out = []
    for e in events:
        t = _tag_for(e, model_tags)
        if t is None:
            out.append(e)
            continue
        approved = [a.strip() for a in t.trailers.get("Approved-by", "").split(",") if a.strip()]
        out.append(
            replace(
                e,
                tag=t.name,
                pull_request=t.trailers.get("Pull-Request"),
                approved_by=approved or None,
                released=t.date or None,
            )
        )
    return out


def _stages(snap: Snapshot, spec_commit: str, path: str) -> dict[str, str]:
    data = snap.read_at(spec_commit, path)
    if data is None:
        return {}
    try:
        return parse(Stages, data, path).mapping
    except ManifestError:
        return {}


def _status(snap: Snapshot, commit: str, path: str) -> str | None:
    data = snap.read_at(commit, path)
    if data is None:
        return None
    try:
        return parse(VersionManifest, data, path).status
    except ManifestError:
        return None


def history(reg: Registry, name: str) -> list[Event]:
    """Events of model `name`, oldest first."""
    reg.model(name)  # raises NotFoundError with the known models
    snap = reg.snapshot
    vdir, sfile = layout.versions_dir(name), layout.stages_file(name)
    out = reg.git.run(
        [
            "log",
            "--first-parent",
            "--diff-merges=first-parent",
            "--reverse",
            "--no-renames",
            "--format=%x1e%H%x1f%an <%ae>%x1f%aI%x1f%s",
            "--name-status",
            snap.commit,
            "--",
            vdir,
            sfile,
        ]
    )
    events: list[Event] = []
    for record in out.split("\x1e")[1:]:
        head, _, body = record.partition("\n")
        commit, author, date, subject = head.split("\x1f")

        def event(kind: str, version: str | None, stage: str | None = None) -> Event:
            return Event(kind, name, version, stage, commit, author, date, subject)  # noqa: B023

        for line in body.splitlines():
            if "\t" not in line:
                continue
            status, path = line.split("\t", 1)
            kind = layout.classify(path)
            if kind is None:
                continue
            if kind[0] == "version" and status == "A":
                events.append(event("registered", kind[2]))
            elif kind[0] == "version" and status == "M":
                if _status(snap, commit, path) == "deprecated":
                    events.append(event("deprecated", kind[2]))
            elif kind[0] == "stages":
                before = _stages(snap, f"{commit}^1", path) if status != "A" else {}
                after = _stages(snap, commit, path) if status != "D" else {}
                changed = [
                    s for s in sorted(set(before) | set(after)) if before.get(s) != after.get(s)
                ]
                # in one commit, what entered a stage reads before what left one
                events += [event("promoted", after[s], s) for s in changed if s in after]
                events += [event("demoted", before[s], s) for s in changed if s not in after]
    return with_releases(events, tags.model_tags(reg.git, name))
