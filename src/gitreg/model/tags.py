"""The tag grammar (DESIGN §4, GTO-compatible) and reading one model's tags.

    churn@v1.3.0            registration
    churn@v1.3.0!           deprecation
    churn#production#7      stage assignment (N counts up per model)
    churn#production!#8     stage removal

Pure: names, parsed tags and the released state they add up to. Reading tags from a
repository is `gitreg.store.refs`.
"""

from __future__ import annotations

import re

from gitreg.errors import NotFound, RegistryError, UsageError
from gitreg.model.layout import NAME_PATTERN, name_problem, version_problem
from gitreg.model.semver import is_semver, latest
from gitreg.record import Record

TYPE_CHECKING = False  # not typing's: resolve does not import typing (docs/performance.md)
if TYPE_CHECKING:
    from typing import Literal

    Kind = Literal["register", "deprecate", "assign", "unassign", "simple", "retire"]

_NAME = NAME_PATTERN
_TAG_RE = re.compile(
    rf"^(?P<model>{_NAME})(?:@v(?P<version>[0-9][0-9A-Za-z.+-]*?)(?P<dep>!)?"
    r"|(?P<retire>@deprecated)"  # GTO's deprecation of a whole model (`gto deprecate NAME`)
    rf"|#(?P<stage>{_NAME})(?P<un>!)?#(?P<n>[1-9][0-9]*)"
    rf"|#(?P<simple>{_NAME})!?)$"  # GTO's simple notation (`gto assign --simple`)
)


REF_FORMS = "NAME@VERSION, NAME@latest or NAME@STAGE"


def split_ref(ref: str, what: str | None = None, required: bool = True) -> tuple[str, str | None]:
    """The one parser of model refs: `NAME@WHAT`, or `NAME` and a separate `what` (the
    `gitreg diff churn production 1.2.0` form) -> (name, what); what is a version (a
    leading `v` dropped), `latest` or a stage, or None when not `required` and not given."""
    name, sep, inline = ref.partition("@")
    if sep and what is not None:
        raise UsageError(f"{ref!r} and {what!r}: give the version once, as {ref} or {name} {what}")
    what = inline if sep else what
    if sep and (not name or not inline):
        raise UsageError(f"{ref!r}: expected {REF_FORMS}", "e.g. churn@1.3.0, churn@latest")
    problem = name_problem(name)
    if problem:
        raise UsageError(problem)
    if what is None or what == "":
        if required:
            raise UsageError(f"{ref!r}: expected {REF_FORMS}", "e.g. churn@1.3.0, churn@latest")
        return name, None
    return name, what.removeprefix("v") if is_semver(what.removeprefix("v")) else what


def pick_unreleased(
    name: str, what: str, versions: list[str], stages: dict[str, str], known_stages: list[str]
) -> str:
    """The version `name@what` means in a registry read at a ref (not its tags): a version
    as written, `latest` (highest non-prerelease, else highest), or the version stages.yaml
    gives the stage. The released twin is `pick`."""
    if is_semver(what):
        return what
    if what == "latest":
        found = latest(versions) or (versions[-1] if versions else None)
        if found is None:
            raise NotFound(f"{name}@latest: the model has no versions", kind="version", name=name)
        return found
    if what in stages:
        return stages[what]
    held = ", ".join(f"{s}={v}" for s, v in stages.items()) or "none"
    if what not in known_stages and re.match(r"v?[0-9]", what):
        raise UsageError(version_problem(what) or f"{what!r} is not a version")
    if what in known_stages:
        message = f"{name}@{what}: no version holds stage {what!r} (stages held: {held})"
    else:
        message = (
            f"{name}@{what}: {what!r} is neither a version, `latest` nor a stage "
            f"(stages: {', '.join(known_stages) or 'none'}; held: {held})"
        )
    raise NotFound(
        message, "`gitreg show NAME` lists versions and stages", kind="stage", name=f"{name}@{what}"
    )


def registration(name: str, version: str) -> str:
    return f"{name}@v{version}"


def deprecation(name: str, version: str) -> str:
    return f"{name}@v{version}!"


def assignment(name: str, stage: str, n: int) -> str:
    return f"{name}#{stage}#{n}"


def unassignment(name: str, stage: str, n: int) -> str:
    return f"{name}#{stage}!#{n}"


class TagName(Record):
    __slots__ = ("kind", "model", "version", "stage", "counter")  # noqa: RUF023 - the fields' order
    kind: Kind
    model: str
    version: str | None
    stage: str | None
    counter: int | None

    def __init__(
        self,
        kind: Kind,
        model: str,
        version: str | None = None,
        stage: str | None = None,
        counter: int | None = None,
    ) -> None:
        self.kind, self.model, self.version, self.stage = kind, model, version, stage
        self.counter = counter


def parse_name(tag: str) -> TagName | None:
    m = _TAG_RE.match(tag)
    if not m:
        return None
    if m.group("version") is not None:
        kind: Kind = "deprecate" if m.group("dep") else "register"
        return TagName(kind, m.group("model"), version=m.group("version"))
    if m.group("retire") is not None:
        return TagName("retire", m.group("model"))
    if m.group("simple") is not None:
        return TagName("simple", m.group("model"), stage=m.group("simple"))
    kind = "unassign" if m.group("un") else "assign"
    return TagName(kind, m.group("model"), stage=m.group("stage"), counter=int(m.group("n")))


class Tag(Record):
    __slots__ = (  # noqa: RUF023 - the fields' order
        "name",
        "parsed",
        "commit",
        "annotated",
        "tagger",
        "date",
        "message",
        "trailers",
        "malformed",
    )
    name: str
    parsed: TagName
    commit: str  # the commit the tag points to (peeled)
    annotated: bool
    tagger: str
    date: str
    message: str
    trailers: dict[str, str]
    malformed: tuple[str, ...]  # what is wrong with its trailers (model/trailers.py)

    def __init__(
        self,
        name: str,
        parsed: TagName,
        commit: str,
        annotated: bool,
        tagger: str,
        date: str,
        message: str,
        trailers: dict[str, str] | None = None,
        malformed: tuple[str, ...] = (),
    ) -> None:
        self.name, self.parsed, self.commit, self.annotated = name, parsed, commit, annotated
        self.tagger, self.date, self.message = tagger, date, message
        self.trailers = {} if trailers is None else trailers
        self.malformed = malformed

    @property
    def version(self) -> str | None:
        """The version in the tag's name, else its `Version` trailer (for display)."""
        return self.parsed.version or self.trailers.get("Version")


class ReleasedState(Record):
    """What a model's tags say: registered versions, deprecated ones, stage holders."""

    __slots__ = ("registered", "deprecated", "stages", "counter", "simple", "retired")  # noqa: RUF023 - the fields' order
    registered: dict[str, Tag]
    deprecated: dict[str, Tag]
    stages: dict[str, Tag]  # stage -> its last assign/unassign tag
    counter: int
    simple: dict[str, Tag]  # stage -> a GTO simple-notation tag
    retired: Tag | None  # GTO's `NAME@deprecated`: the whole model is deprecated

    def __init__(
        self,
        registered: dict[str, Tag],
        deprecated: dict[str, Tag],
        stages: dict[str, Tag],
        counter: int,
        simple: dict[str, Tag] | None = None,
        retired: Tag | None = None,
    ) -> None:
        self.registered, self.deprecated, self.stages = registered, deprecated, stages
        self.counter, self.retired = counter, retired
        self.simple = {} if simple is None else simple

    def stage_version(self, stage: str) -> str | None:
        """Who holds `stage`, by GTO's rules: nobody once the model or the version holding it
        is deprecated."""
        tag = self.stages.get(stage)
        if tag is None or tag.parsed.kind != "assign" or self.retired is not None:
            return None
        version = self.version_at(tag)
        return None if version in self.deprecated else version

    def version_at(self, tag: Tag) -> str | None:
        """The version a stage tag means, by GTO's rule: the registration on its commit.

        The `Version` trailer only picks among several registrations of one commit; a
        trailer naming no registration of the commit means nothing.
        """
        on_commit = [v for v, reg in self.registered.items() if reg.commit == tag.commit]
        if len(on_commit) > 1 and tag.trailers.get("Version") in on_commit:
            return tag.trailers["Version"]
        return on_commit[0] if len(on_commit) == 1 else None

    def stage_map(self) -> dict[str, str]:
        out = {}
        for stage in self.stages:
            v = self.stage_version(stage)
            if v is not None:
                out[stage] = v
        return out


def released_state(tags: list[Tag]) -> ReleasedState:
    registered: dict[str, Tag] = {}
    deprecated: dict[str, Tag] = {}
    stages: dict[str, Tag] = {}
    simple: dict[str, Tag] = {}
    retired: Tag | None = None
    counter = 0
    for t in tags:
        p = t.parsed
        if p.kind == "retire":
            retired = t
        elif p.kind == "simple" and p.stage:
            simple[p.stage] = t
        elif p.kind == "register" and p.version:
            registered[p.version] = t
        elif p.kind == "deprecate" and p.version:
            deprecated[p.version] = t
        elif p.stage and p.counter is not None:
            counter = max(counter, p.counter)
            cur = stages.get(p.stage)
            if cur is None or (cur.parsed.counter or 0) < p.counter:
                stages[p.stage] = t
    return ReleasedState(registered, deprecated, stages, counter, simple, retired)


def model_patterns(name: str) -> list[str]:
    """for-each-ref patterns for every tag of model `name` (and no other model's)."""
    return [f"{name}@v*", f"{name}#*", f"{name}@deprecated"]


def ever_held(tags: list[Tag], stage: str, version: str) -> bool:
    """True if a release ever assigned `version` to `stage` (a rollback target)."""
    state = released_state(tags)
    return any(
        t.parsed.kind == "assign" and t.parsed.stage == stage and state.version_at(t) == version
        for t in tags
    )


def pick(model_tags: list[Tag], name: str, what: str) -> tuple[Tag, str, str | None]:
    """The tag that answers `name@what` (a version, `latest` or a stage): (tag, version, stage)."""
    state = released_state(model_tags)
    if not model_tags:
        raise NotFound(
            f"{name}: no released tags (model unknown, or never released)",
            "tags are written by `gitreg release` on main; `gitreg list` shows unreleased state",
            kind="model",
            name=name,
        )
    if state.retired is not None:
        raise NotFound(
            f"{name}: the whole model is deprecated ({state.retired.name}): nothing resolves",
            kind="model",
            name=name,
        )
    if what == "latest":
        live = [v for v in state.registered if v not in state.deprecated]
        version = latest(live)
        if version is None:
            raise NotFound(
                f"{name}@latest: no released, active, non-prerelease version",
                kind="version",
                name=f"{name}@latest",
            )
        return state.registered[version], version, None
    if is_semver(what):
        if what not in state.registered:
            known = ", ".join(sorted(state.registered)) or "none"
            raise NotFound(
                f"{name}@{what}: not released (released versions: {known})",
                kind="version",
                name=f"{name}@{what}",
            )
        return state.registered[what], what, None
    if what in state.simple:
        raise RegistryError(
            f"{name}@{what}: {state.simple[what].name} is a GTO simple-notation tag, which "
            "gitreg does not read (GTO and gitreg could answer differently)",
            f"delete it (git tag -d {state.simple[what].name}; git push origin "
            f":refs/tags/{state.simple[what].name}) and let `gitreg release` write the stage",
        )
    tag = state.stages.get(what)
    version = state.stage_version(what)
    if tag is None or version is None:
        held = ", ".join(sorted(state.stage_map())) or "none"
        left = state.version_at(tag) if tag is not None and tag.parsed.kind == "assign" else None
        if left in state.deprecated:
            held += f"; {left} was assigned to it but is deprecated"
        raise NotFound(
            f"{name}@{what}: no version holds stage {what!r} (stages held: {held})",
            "check the stage name, or whether the promotion was merged and released",
            kind="stage",
            name=f"{name}@{what}",
        )
    return tag, version, what
