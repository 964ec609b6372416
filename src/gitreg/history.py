"""`gitreg history NAME`: what happened to a model, read from the first-parent log of a ref.

Each commit on the ref that adds a version, deprecates one or edits `stages.yaml` becomes
one or more events. (Once releases are tagged, the tags' trailers add who approved.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import layout
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "model": self.model,
            "version": self.version,
            "stage": self.stage,
            "commit": self.commit,
            "author": self.author,
            "date": self.date,
            "subject": self.subject,
        }


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
    return events
