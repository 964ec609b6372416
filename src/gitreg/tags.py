"""The tag grammar (DESIGN §4, GTO-compatible) and reading one model's tags.

    churn@v1.3.0            registration
    churn@v1.3.0!           deprecation
    churn#production#7      stage assignment (N counts up per model)
    churn#production!#8     stage removal

Tags are read with one `git for-each-ref` whose patterns name only the model's tags, so the
cost follows that model's tags, not the whole repository's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from .gitops import Git

Kind = Literal["register", "deprecate", "assign", "unassign"]

_NAME = r"[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?"
_TAG_RE = re.compile(
    rf"^(?P<model>{_NAME})(?:@v(?P<version>[0-9][0-9A-Za-z.+-]*?)(?P<dep>!)?"
    rf"|#(?P<stage>{_NAME})(?P<un>!)?#(?P<n>[1-9][0-9]*))$"
)
TRAILERS = ("Version", "Stage", "Promoted-in", "Pull-Request", "Approved-by")


def registration(name: str, version: str) -> str:
    return f"{name}@v{version}"


def deprecation(name: str, version: str) -> str:
    return f"{name}@v{version}!"


def assignment(name: str, stage: str, n: int) -> str:
    return f"{name}#{stage}#{n}"


def unassignment(name: str, stage: str, n: int) -> str:
    return f"{name}#{stage}!#{n}"


@dataclass(frozen=True)
class TagName:
    kind: Kind
    model: str
    version: str | None = None
    stage: str | None = None
    counter: int | None = None


def parse_name(tag: str) -> TagName | None:
    m = _TAG_RE.match(tag)
    if not m:
        return None
    if m.group("version") is not None:
        kind: Kind = "deprecate" if m.group("dep") else "register"
        return TagName(kind, m.group("model"), version=m.group("version"))
    kind = "unassign" if m.group("un") else "assign"
    return TagName(kind, m.group("model"), stage=m.group("stage"), counter=int(m.group("n")))


@dataclass(frozen=True)
class Tag:
    name: str
    parsed: TagName
    commit: str  # the commit the tag points to (peeled)
    annotated: bool
    tagger: str
    date: str
    message: str
    trailers: dict[str, str] = field(default_factory=dict)

    @property
    def version(self) -> str | None:
        return self.parsed.version or self.trailers.get("Version")


def parse_trailers(message: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in message.splitlines():
        key, sep, value = line.partition(":")
        if sep and key in TRAILERS:
            out[key] = value.strip()
    return out


_FORMAT = (
    "%(refname:strip=2)%1f%(objecttype)%1f%(objectname)%1f%(*objectname)%1f"
    "%(taggername) %(taggeremail)%1f%(taggerdate:iso-strict)%1f%(contents)%1e"
)


def read_tags(git: Git, patterns: list[str]) -> list[Tag]:
    """Tags matching `patterns` (relative to refs/tags/) that follow the grammar."""
    out = git.run(["for-each-ref", f"--format={_FORMAT}", *[f"refs/tags/{p}" for p in patterns]])
    tags = []
    for record in out.split("\x1e"):
        record = record.lstrip("\n")
        if not record:
            continue
        name, otype, obj, peeled, tagger, date, message = record.split("\x1f", 6)
        parsed = parse_name(name)
        if parsed is None:
            continue
        annotated = otype == "tag"
        tags.append(
            Tag(
                name=name,
                parsed=parsed,
                commit=peeled if annotated else obj,
                annotated=annotated,
                tagger=tagger.strip() if annotated else "",
                date=date,
                message=message,
                trailers=parse_trailers(message),
            )
        )
    return tags


def model_patterns(name: str) -> list[str]:
    """for-each-ref patterns for every tag of model `name` (and no other model's)."""
    return [f"{name}@v*", f"{name}#*"]


def model_tags(git: Git, name: str) -> list[Tag]:
    return [t for t in read_tags(git, model_patterns(name)) if t.parsed.model == name]


@dataclass(frozen=True)
class ReleasedState:
    """What a model's tags say: registered versions, deprecated ones, stage holders."""

    registered: dict[str, Tag]
    deprecated: dict[str, Tag]
    stages: dict[str, Tag]  # stage -> its last assign/unassign tag
    counter: int

    def stage_version(self, stage: str) -> str | None:
        tag = self.stages.get(stage)
        if tag is None or tag.parsed.kind != "assign":
            return None
        return self.version_at(tag)

    def version_at(self, tag: Tag) -> str | None:
        """The version an assignment means: its trailer, else the registration on its commit."""
        if tag.trailers.get("Version"):
            return tag.trailers["Version"]
        for version, reg in self.registered.items():
            if reg.commit == tag.commit:
                return version
        return None

    def stage_map(self) -> dict[str, str]:
        out = {}
        for stage in self.stages:
            v = self.stage_version(stage)
            if v is not None:
                out[stage] = v
        return out


def has_held(git: Git, name: str, stage: str, version: str) -> bool:
    """True if a release ever assigned `version` of `name` to `stage` (a rollback target)."""
    model = model_tags(git, name)
    state = released_state(model)
    return any(
        t.parsed.kind == "assign" and t.parsed.stage == stage and state.version_at(t) == version
        for t in model
    )


def released_state(tags: list[Tag]) -> ReleasedState:
    registered: dict[str, Tag] = {}
    deprecated: dict[str, Tag] = {}
    stages: dict[str, Tag] = {}
    counter = 0
    for t in tags:
        p = t.parsed
        if p.kind == "register" and p.version:
            registered[p.version] = t
        elif p.kind == "deprecate" and p.version:
            deprecated[p.version] = t
        elif p.stage and p.counter is not None:
            counter = max(counter, p.counter)
            cur = stages.get(p.stage)
            if cur is None or (cur.parsed.counter or 0) < p.counter:
                stages[p.stage] = t
    return ReleasedState(registered, deprecated, stages, counter)
