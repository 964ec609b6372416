"""The rules a stage change, a version edit and a name must keep, each written once.

promote/rollback (refusing a plan) and `validate --base` (judging a pull request) both
call these; the callers word the refusal for their audience. Also which changes alter the
rules themselves (`gitreg.yaml`, a model's evaluation policy) and who must approve them
(CODEOWNERS, matched as GitHub matches it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from gitreg.errors import Problem
from gitreg.model import layout
from gitreg.model import metrics as metric_names
from gitreg.model.manifest import ModelSpec, RegistryConfig, StageRule, VersionManifest

# GTO's name grammar (gto.constants.name, gto 1.10.1): no '.', so a dotted name's tags
# (`fraud.eu@v1.0.0`) are invisible to `gto show` and `dvc artifacts get`
GTO_NAME_RE = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9_/-]*[a-zA-Z0-9])?")
# GitHub reads the first of these that exists, on the pull request's base branch
CODEOWNERS_FILES = (layout.CODEOWNERS, "CODEOWNERS", "docs/CODEOWNERS")


def ref_name_problem(name: str) -> str | None:
    """Why a model or stage name cannot be part of a git tag GTO reads, or None.

    The extra rules on top of `layout.name_problem`: the whole string matches (no trailing
    newline), no `..`, no `.lock` or `.` at the end (git refuses those refs), and GTO's
    grammar, which has no `.` at all.
    """
    return layout.name_problem(name)  # layout's pattern is that intersection


def may_enter(rule: StageRule, version: str, required_holder: str | None, ever_held: bool) -> bool:
    """The `requires` rule: a version enters a stage that requires another only if it holds
    the required stage now (`required_holder`), or a release once put it in this stage
    (`ever_held`: a rollback may bring it back)."""
    return rule.requires is None or required_holder == version or ever_held


def same_but_status(a: VersionManifest, b: VersionManifest) -> bool:
    """True if two manifests of a version differ at most in `status` (the one allowed edit)."""
    da, db = a.to_dict(), b.to_dict()
    da.pop("status", None)
    db.pop("status", None)
    return da == db


def immutability_problem(
    status: str, path: str, only_status: bool, released: bool = False
) -> str | None:
    """Why a change (`status` A/M/D of `path`) breaks immutability, or None.

    `only_status`: for a modified version manifest, whether only its `status` changed.
    `released`: for a file under `artifacts/VERSION/`, whether VERSION was registered
    before the change (files may be added only with their version).
    """
    kind = layout.classify(path)
    parts = path.split("/")
    if kind is not None and kind[0] == "version":
        if status == "D":
            return "versions are immutable: a version manifest may not be deleted"
        if status == "M" and not only_status:
            return "versions are immutable: only `status` may change (deprecation)"
        return None
    in_artifacts = len(parts) > 3 and parts[0] == layout.MODELS_DIR and parts[2] == "artifacts"
    if in_artifacts and status != "A":
        what = "deleted" if status == "D" else "changed"
        return f"artifacts are immutable: this file was {what}; register a new version"
    if in_artifacts and released:
        return (
            f"artifacts are immutable: this file was added to the released version {parts[3]}; "
            "register a new version"
        )
    return None


def one_version_per_merge(model: str, added: list[str]) -> list[tuple[str, str]]:
    """(path, problem) for every version manifest beyond the first added to one model in
    one merge: both would get the same commit, and GTO could not tell them apart."""
    return [
        (
            path,
            f"one new version of {model!r} per merge ({len(added)} here): "
            "both would get the same commit, and GTO could not tell them apart",
        )
        for path in added[1:]
    ]


# --- changes to the rules themselves ---------------------------------------------------------


def _shown(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return {None: "none", True: "true", False: "false"}[value]
    return repr(value)


def config_changes(old: RegistryConfig, new: RegistryConfig) -> list[tuple[str, str]]:
    """(field, what changed) for every setting of gitreg.yaml that differs (descriptions of
    stages aside): each one decides how pull requests and releases are judged."""
    out: list[tuple[str, str]] = []
    before = {s.name: s for s in old.stages}
    after = {s.name: s for s in new.stages}
    for name in before.keys() - after.keys():
        out.append((f"stages.{name}", "stage removed"))
    for name in after.keys() - before.keys():
        out.append((f"stages.{name}", "stage added"))
    for name in before.keys() & after.keys():
        for key in ("requires", "gate"):
            a, b = getattr(before[name], key), getattr(after[name], key)
            if a != b:
                out.append((f"stages.{name}.{key}", f"{_shown(a)} -> {_shown(b)}"))
    if [n for n in old.stage_names if n in after] != [n for n in new.stage_names if n in before]:
        out.append(("stages", "order changed"))
    da, db = old.to_dict(), new.to_dict()
    for key in sorted((da.keys() | db.keys()) - {"stages"}):
        if da.get(key) != db.get(key):
            out.append((key, f"{_shown(da.get(key))} -> {_shown(db.get(key))}"))
    return sorted(out)


def policy_change(old: ModelSpec | None, new: ModelSpec | None) -> str | None:
    """What changed in a model's `evaluation` policy (the gate's rules), or None."""
    a = old.evaluation.model_dump(mode="json") if old and old.evaluation else None
    b = new.evaluation.model_dump(mode="json") if new and new.evaluation else None
    if a == b:
        return None
    if a is None or b is None:
        return "policy added" if a is None else "policy removed"
    keys = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
    return "changed: " + ", ".join(keys)


def watched_change(path: str, watched: dict[str, str]) -> str | None:
    """What `watched` (path -> what it is) says of a changed `path`: the path itself, its
    `.dvc` pointer, or a file inside it."""
    for where, what in sorted(watched.items()):
        if path in (where, where + ".dvc") or path.startswith(where + "/"):
            return what
    return None


def _owners_regex(pattern: str) -> re.Pattern[str]:
    """A CODEOWNERS pattern as GitHub documents it (gitignore rules, without `!` and
    `[...]`): a leading or inner `/` anchors it at the root, else it matches at any depth;
    `*` stays within one folder, `**` crosses folders; a folder matches all below it, except
    that `dir/*` matches only the files directly in `dir`."""
    anchored = "/" in pattern.rstrip("/")
    body, out, i = pattern.strip("/"), "", 0
    while i < len(body):
        if body.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif body.startswith("**", i):
            out, i = out + ".*", i + 2
        else:
            out += {"*": "[^/]*", "?": "[^/]"}.get(body[i], re.escape(body[i]))
            i += 1
    below = "" if pattern.endswith("/*") else "/.*" if pattern.endswith("/") else "(?:/.*)?"
    return re.compile(("" if anchored else "(?:.*/)?") + out + below)


def owners_of(codeowners: str, path: str) -> list[str] | None:
    """The owners of `path` by a CODEOWNERS file's text: the last matching line wins, as on
    GitHub. None when no line matches; [] when the matching line names no owner."""
    found: list[str] | None = None
    for line in codeowners.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        pattern, *owners = line.split()
        if _owners_regex(pattern).fullmatch(path):
            found = owners
    return found


@dataclass(frozen=True)
class ReviewWarning:
    """A change to the rules (kind "needs-review"): the pull request was judged by the
    base's rules, and the owners CODEOWNERS names for `path` on the base must approve it."""

    path: str
    field: str
    message: str
    owners: tuple[str, ...] = ()
    kind: str = "needs-review"

    def __str__(self) -> str:
        return str(Problem(self.path, self.field, self.message))


def review(codeowners: str, path: str, field: str, what: str) -> ReviewWarning:
    """The warning for a change (`what`) to the rules in `path`, with `path`'s owners by
    the text of the base's CODEOWNERS file."""
    owners = owners_of(codeowners, path)
    return ReviewWarning(path, field, needs_review(what, path, owners), tuple(owners or ()))


def needs_review(what: str, path: str, owners: list[str] | None) -> str:
    """The warning for a change to the rules: the base's rules judged this pull request,
    and the people CODEOWNERS names for `path` on the base must approve the change."""
    if owners:
        who = f"its CODEOWNERS ({', '.join(owners)}) must approve it"
    elif owners is None:
        who = f"its CODEOWNERS must approve it, but the base has no CODEOWNERS entry for {path}"
    else:
        who = f"its CODEOWNERS must approve it, but the base's CODEOWNERS entry for {path} "
        who += "names no owner"
    return f"rule change ({what}): {who}; this pull request was judged by the base's rules"


UNMEASURABLE = "unmeasurable-metric"  # the kind of warning `unmeasurable_metrics` gives


def unmeasurable_metrics(spec: ModelSpec, path: str) -> list[ReviewWarning]:
    """Warnings (kind "unmeasurable-metric") for each metric of the evaluation policy that
    the built-in evaluator cannot report for the model's task. A `command` may report
    anything: no warning then (we cannot know)."""
    ev = spec.evaluation
    if ev is None or ev.command is not None:
        return []
    known = metric_names.builtin_names(spec.task)
    if known is None:
        return []  # no built-in evaluator for this task: evaluate already fails with why
    out = []
    for name in ev.metrics:
        if name not in known:
            message = (
                f"the built-in evaluator does not report {name!r} for task: {spec.task} "
                f"(it reports {', '.join(known)}); the gate would fail it as not measured. "
                "Rename the metric, or set evaluation.command to an evaluator that reports it"
            )
            field = f"evaluation.metrics.{name}"
            out.append(ReviewWarning(path, field, message, (), UNMEASURABLE))
    return out
