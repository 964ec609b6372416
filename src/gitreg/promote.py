"""Stage changes: promote, demote, roll back, deprecate — planned purely, applied as a branch.

Planning reads the registry at one commit and returns a `StagePlan`: the one file the
change edits (`stages.yaml`, or a version manifest's `status` line) and its new text, or
refuses with an error that says what to do instead. Applying builds the commit from git
objects alone (`hash-object`, `mktree`, `commit-tree`) on top of a base commit and creates
the branch with one `update-ref`: the user's working tree, index and current branch are
never touched, and a failure before `update-ref` changes no ref.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from . import layout, tags, yamlio
from .errors import GitError, ManifestError, NotFoundError, RegistryError, UsageError
from .gitops import Git
from .manifest import StageRule, Stages, VersionManifest, parse
from .registry import Registry


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
        return {**asdict(self), "title": self.title, "after": self.after}


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


# --- planning --------------------------------------------------------------------------------


def _check_input(name: str, version: str | None = None, stage: str | None = None) -> None:
    problems = [layout.name_problem(name)]
    if version is not None:
        problems.append(layout.version_problem(version))
    if stage is not None:
        problems.append(layout.name_problem(stage))
    for problem in problems:
        if problem:
            raise UsageError(problem)


def _stage_rule(reg: Registry, stage: str) -> StageRule:
    rule = reg.config.stage(stage)
    if rule is None:
        known = ", ".join(reg.config.stage_names)
        raise NotFoundError(
            f"stage {stage!r} is not defined in {layout.CONFIG_FILE} (stages: {known})",
            f"use one of: {known}; or add the stage to {layout.CONFIG_FILE} first",
        )
    return rule


def _active(reg: Registry, name: str, version: str, what: str) -> VersionManifest:
    vm = reg.version(name, version)  # NotFoundError lists the versions
    if vm.status != "active":
        raise RegistryError(
            f"{name}@{version} is {vm.status}: a {vm.status} version cannot {what}",
            f"pick an active version (`gitreg show {name}` lists them) or register a new one",
        )
    return vm


def _check_requires(
    reg: Registry, rule: StageRule, name: str, version: str, stages: dict[str, str]
) -> None:
    """The rule `validate --base` enforces: enter a stage only from its required stage.

    A version that a release already put in the stage may come back (a rollback).
    """
    if rule.requires is None or stages.get(rule.requires) == version:
        return
    if tags.has_held(reg.git, name, rule.name, version):
        return
    held = stages.get(rule.requires)
    raise RegistryError(
        f"{name}@{version} cannot enter {rule.name!r}: it requires the version to hold "
        f"{rule.requires!r} first, and {rule.requires!r} holds {held or 'nothing'} "
        f"at {reg.snapshot.ref}",
        f"promote it to {rule.requires} first (gitreg promote {name} {version} "
        f"--to {rule.requires}) and merge that pull request",
    )


def _stage_edit(reg: Registry, kind: str, name: str, version: str, stage: str) -> StagePlan:
    """A plan that sets `stage` to `version` in the model's stages.yaml (demote: removes it)."""
    path = layout.stages_file(name)
    data = reg.snapshot.read(path)
    old = data.decode("utf-8") if data is not None else f"schema: {layout.SCHEMA_ID}\n"
    before = reg.stages(name)
    previous, value = before.get(stage), (None if kind == "demote" else version)
    text = yamlio.roundtrip_set(old, stage, value)
    expected = {s: v for s, v in before.items() if s != stage} | ({stage: version} if value else {})
    if parse(Stages, text, path).mapping != expected:  # a guard on the round trip
        raise RegistryError(f"{path}: editing {stage!r} would change other stages; edit it by hand")
    subject = {
        "promote": f"Promote {name} {version} to {stage}",
        "demote": f"Demote {name} {version} from {stage}",
        "rollback": f"Roll back {name} {stage} to {version}",
    }[kind]
    message = f"{subject}\n\n{stage}: {previous or '(none)'} -> {value or '(none)'}\n"
    branch = "/".join(["gitreg", kind, name, stage, *([value] if value else [])])
    return StagePlan(kind, name, version, stage, previous, path, branch, message, text, reg.commit)


def plan_promotion(reg: Registry, name: str, version: str, stage: str) -> StagePlan:
    """Plan moving `stage` of model `name` to `version` (read at `reg`'s ref)."""
    _check_input(name, version, stage)
    reg.model(name)
    rule = _stage_rule(reg, stage)
    _active(reg, name, version, "enter a stage")
    stages = reg.stages(name)
    if stages.get(stage) == version:
        raise RegistryError(
            f"{name}@{version} already holds {stage!r} at {reg.snapshot.ref}: nothing to do"
        )
    _check_requires(reg, rule, name, version, stages)
    return _stage_edit(reg, "promote", name, version, stage)


def plan_demotion(reg: Registry, name: str, stage: str) -> StagePlan:
    """Plan emptying `stage` of model `name`."""
    _check_input(name, stage=stage)
    reg.model(name)
    stages = reg.stages(name)
    if stage not in stages:  # a stage gitreg.yaml no longer defines may still be removed
        _stage_rule(reg, stage)
        held = ", ".join(f"{s}={v}" for s, v in stages.items()) or "none"
        raise RegistryError(
            f"stage {stage!r} of {name} is empty at {reg.snapshot.ref}: nothing to demote "
            f"(stages held: {held})"
        )
    return _stage_edit(reg, "demote", name, stages[stage], stage)


def plan_rollback(reg: Registry, name: str, stage: str) -> StagePlan:
    """Plan putting back the version `stage` held before its current holder.

    The earlier holder is read from the first-parent history of stages.yaml at the ref.
    """
    from .history import history

    _check_input(name, stage=stage)
    reg.model(name)
    rule = _stage_rule(reg, stage)
    stages = reg.stages(name)
    current = stages.get(stage)
    if current is None:
        raise RegistryError(
            f"stage {stage!r} of {name} is empty at {reg.snapshot.ref}: nothing to roll back",
            f"promote a version into it: gitreg promote {name} VERSION --to {stage}",
        )
    held = [e.version for e in history(reg, name) if e.kind == "promoted" and e.stage == stage]
    target = next((v for v in reversed(held) if v is not None and v != current), None)
    if target is None:
        raise RegistryError(
            f"{stage!r} of {name} held no other version before {current} in the history of "
            f"{layout.stages_file(name)} at {reg.snapshot.ref}: nothing to roll back to",
            f"promote a version explicitly: gitreg promote {name} VERSION --to {stage}",
        )
    _active(reg, name, target, f"be rolled back into {stage!r}")
    _check_requires(reg, rule, name, target, stages)
    return _stage_edit(reg, "rollback", name, target, stage)


_STATUS_ACTIVE = re.compile(r"^status:[ \t]*(['\"]?)active\1([ \t]*(?:#[^\r\n]*)?)(\r?)$", re.M)


def plan_deprecation(reg: Registry, name: str, version: str) -> StagePlan:
    """Plan marking `name@version` deprecated: only the `status` line of its manifest changes."""
    _check_input(name, version)
    vm = reg.version(name, version)
    if vm.status == "deprecated":
        raise RegistryError(f"{name}@{version} is already deprecated: nothing to do")
    holding = [s for s, v in reg.stages(name).items() if v == version]
    if holding:
        raise RegistryError(
            f"{name}@{version} still holds {', '.join(holding)}: a version in a stage "
            "cannot be deprecated",
            f"demote it first (gitreg demote {name} --from {holding[0]}) or promote another "
            "version into that stage, merge, then deprecate",
        )
    path = layout.version_file(name, version)
    data = reg.snapshot.read(path)
    assert data is not None  # reg.version read it
    old = data.decode("utf-8")
    text, count = _STATUS_ACTIVE.subn(r"status: deprecated\2\3", old, count=1)
    if count == 0 and not re.search(r"^status:", old, re.M):
        text = old + ("" if old.endswith("\n") or not old else "\n") + "status: deprecated\n"
    try:
        after = parse(VersionManifest, text, path).to_dict()
    except ManifestError:
        after = {}
    before = vm.to_dict()
    before.pop("status", None)
    if after.pop("status", None) != "deprecated" or after != before:
        raise RegistryError(
            f"{path}: could not change only its `status` line", "set `status: deprecated` by hand"
        )
    message = f"Deprecate {name} {version}\n\nstatus: active -> deprecated\n"
    branch = f"gitreg/deprecate/{name}/{version}"
    return StagePlan(
        "deprecate", name, version, None, None, path, branch, message, text, reg.commit
    )


# --- applying --------------------------------------------------------------------------------


def apply_plan(root: str | Path, plan: StagePlan, push: bool, base: str = "HEAD") -> AppliedChange:
    """Commit `plan` on its new branch started from `base`; push it to origin when `push`.

    The working tree, index and current branch stay as they are. Refused (no ref changed)
    if the branch exists. A failed push keeps the local branch and says how to push it.
    """
    git = Git(root)
    base_commit = git.commit_of(base)
    ref = f"refs/heads/{plan.branch}"
    blob = git.run(["hash-object", "--stdin"], input=plan.text.encode()).strip()
    existing = git.rev_parse(ref)
    if existing is not None:
        same = git.blob_at(existing, plan.path) == blob
        raise RegistryError(
            f"branch {plan.branch} already exists ({existing[:12]})",
            f"it already holds this change: push it (git push origin {plan.branch}) and open "
            f"a pull request, or delete it (git branch -D {plan.branch}) to start over"
            if same
            else f"it holds a different change: delete it (git branch -D {plan.branch}) and "
            "run again",
        )
    if base_commit != plan.base_commit and git.blob_at(base_commit, plan.path) != git.blob_at(
        plan.base_commit, plan.path
    ):
        raise RegistryError(
            f"{plan.path} at {base} differs from the commit the change was planned at "
            f"({plan.base_commit[:12]})",
            f"plan the change again at {base}",
        )
    commit = git.commit_file(base_commit, plan.path, plan.text.encode(), plan.message)
    try:
        git.run(["update-ref", "-m", f"gitreg {plan.kind}: {plan.title}", ref, commit, ""])
    except GitError as e:
        raise RegistryError(
            f"could not create branch {plan.branch}: {e.stderr or 'no message'}",
            f"if it exists now, delete it (git branch -D {plan.branch}) and run again",
        ) from e
    if push:
        try:
            git.run(["push", "--quiet", "origin", f"{ref}:{ref}"])
        except GitError as e:
            raise RegistryError(
                f"created branch {plan.branch} ({commit[:12]}) locally, but pushing it to "
                f"origin failed: {e.stderr or 'no message'}",
                f"the branch is kept; push it by hand once origin is reachable: "
                f"git push origin {plan.branch}",
            ) from e
    return AppliedChange(plan, commit, base_commit, push)
