"""What happened to a model, read from its release tags and the first-parent log of a ref.

Each commit on the ref that adds a version, deprecates one or edits `stages.yaml` becomes
one or more events. Where `gitreg release` tagged the event, the tag's trailers add the
pull request and who approved it, and the tag says when it was released.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

from gitreg.errors import ManifestError
from gitreg.model import layout, tags, trailers
from gitreg.model.manifest import VersionManifest
from gitreg.model.schema import parse
from gitreg.model.timeline import move_halves
from gitreg.registry.reader import Registry, stages_at
from gitreg.store import bulk, refs
from gitreg.store.snapshot import Snapshot


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
        approved = trailers.approvers(t.trailers)
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


def _status(snap: Snapshot, commit: str, path: str) -> str | None:
    data = snap.read_at(commit, path)
    if data is None:
        return None
    try:
        return parse(VersionManifest, data, path).status
    except ManifestError:
        return None


_FORMAT = "--format=%x1e%H%x1f%an <%ae>%x1f%aI%x1f%s"
_KIND = {
    "register": "registered",
    "assign": "promoted",
    "unassign": "demoted",
    "deprecate": "deprecated",
}


def _log_events(reg: Registry, name: str, since: str | None) -> list[Event]:
    """Events from the first-parent log of the model's files (after `since`, if given)."""
    snap = reg.snapshot
    vdir, sfile = layout.versions_dir(name), layout.stages_file(name)
    span = f"{since}..{snap.commit}" if since else snap.commit
    out = reg.git.run(
        [
            "log",
            "--first-parent",
            "--diff-merges=first-parent",
            "--reverse",
            "--no-renames",
            _FORMAT,
            "--name-status",
            "--end-of-options",
            span,
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
                before = stages_at(snap, f"{commit}^1", name) if status != "A" else {}
                after = stages_at(snap, commit, name) if status != "D" else {}
                changed = [
                    s for s in sorted(set(before) | set(after)) if before.get(s) != after.get(s)
                ]
                # in one commit, what entered a stage reads before what left one
                events += [event("promoted", after[s], s) for s in changed if s in after]
                events += [event("demoted", before[s], s) for s in changed if s not in after]
    return events


def _tag_events(reg: Registry, name: str, model_tags: list[tags.Tag]) -> list[Event]:
    """Released events, one per release tag, with the commit that made each change."""
    state = tags.released_state(model_tags)
    made = {t.name: t.trailers["Promoted-in"] for t in model_tags if t.trailers.get("Promoted-in")}
    if not made:
        return []
    info = bulk.commit_info(reg.git, made.values())
    halves = move_halves(model_tags)  # a move reads as one promotion, as in the log
    keyed = []
    for t in model_tags:
        made_in = made.get(t.name)
        if made_in is None or made_in not in info or t.name in halves:
            continue
        commit = made_in
        who, date, subject = info[commit].name, info[commit].date, info[commit].subject
        author = f"{who} <{info[commit].email}>"
        p = t.parsed
        version = p.version if p.kind in ("register", "deprecate") else state.version_at(t)
        event = Event(_KIND[p.kind], name, version, p.stage, commit, author, date, subject)
        # by date; in one commit (or one second) registrations first, then stage tags in
        # the order their counters give
        rank = {"register": 0, "assign": 1, "unassign": 1, "deprecate": 2}[p.kind]
        keyed.append(((date, rank, p.counter or 0), event))
    keyed.sort(key=lambda pair: pair[0])
    return _ancestry_order(reg, [e for _, e in keyed])


def _ancestry_order(reg: Registry, events: list[Event]) -> list[Event]:
    """Events of different commits with the same date, put in first-parent order: the
    date has whole seconds, so a second can hold several merges."""
    out: list[Event] = []
    i = 0
    while i < len(events):
        j = i
        while j < len(events) and events[j].date == events[i].date:
            j += 1
        group = events[i:j]
        if len({e.commit for e in group}) > 1:

            def before(a: Event, b: Event) -> int:
                if a.commit == b.commit:
                    return 0
                return -1 if reg.git.is_ancestor(a.commit, b.commit) else 1

            group = sorted(group, key=functools.cmp_to_key(before))  # stable within a commit
        out += group
        i = j
    return out


def events(reg: Registry, name: str, full: bool = False) -> list[Event]:
    """Events of model `name`, oldest first.

    Released events come from the model's tags and their trailers; the first-parent log is
    walked only after the newest commit a release recorded, so the cost follows what is
    unreleased, not the length of the history. `full` walks the whole log instead (it also
    shows changes that were overwritten before any release tagged them).
    """
    reg.model(name)  # raises NotFoundError with the known models
    model_tags = refs.model_tags(reg.git, name)
    if full or not model_tags:
        return with_releases(_log_events(reg, name, None), model_tags)
    released = _tag_events(reg, name, model_tags)
    commits = {e.commit for e in released}
    # the one recorded commit every other one is an ancestor of (history is first-parent)
    tips = reg.git.run(["merge-base", "--independent", "--", *commits], check=False).split()
    newest = tips[0] if len(tips) == 1 else ""
    if not newest or not reg.git.is_ancestor(newest, reg.commit):
        return with_releases(_log_events(reg, name, None), model_tags)
    later = _log_events(reg, name, newest)
    return with_releases(released, model_tags) + with_releases(later, model_tags)
