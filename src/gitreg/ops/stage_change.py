"""Planning a stage change: promote, demote, roll back, deprecate.

Planning reads the registry at one commit and returns a `StagePlan`: the one file the
change edits (`stages.yaml`, or a version manifest's `status` line) and its new text, with
the facts its pull request shows, or refuses with an error that says what to do instead.
Committing and submitting the plan is `gitreg.ops.submit`.
"""

from __future__ import annotations

import re
from dataclasses import replace

from gitreg.errors import Conflict, ManifestError, NotFound, RegistryError, UsageError
from gitreg.model import layout, rules, tags, yamlio
from gitreg.model.manifest import StageRule, Stages, VersionManifest
from gitreg.model.plan import PlanFacts, StagePlan
from gitreg.model.schema import parse
from gitreg.registry.history import events
from gitreg.registry.reader import Registry
from gitreg.store import refs

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
        raise NotFound(
            f"stage {stage!r} is not defined in {layout.CONFIG_FILE} (stages: {known})",
            f"use one of: {known}; or add the stage to {layout.CONFIG_FILE} first",
            kind="stage",
            name=stage,
            where=layout.CONFIG_FILE,
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
    """`rules.may_enter`, the rule `validate --base` enforces too, as a refusal."""
    held = stages.get(rule.requires) if rule.requires else None
    if rule.requires is None or held == version:
        return
    if rules.may_enter(
        rule, version, held, tags.ever_held(refs.model_tags(reg.git, name), rule.name, version)
    ):
        return
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
    plan = StagePlan(kind, name, version, stage, previous, path, branch, message, text, reg.commit)
    return _with_facts(reg, plan)


def plan_promotion(reg: Registry, name: str, version: str, stage: str) -> StagePlan:
    """Plan moving `stage` of model `name` to `version` (read at `reg`'s ref)."""
    _check_input(name, version, stage)
    reg.model(name)
    rule = _stage_rule(reg, stage)
    _active(reg, name, version, "enter a stage")
    stages = reg.stages(name)
    if stages.get(stage) == version:
        raise Conflict(
            f"{name}@{version} already holds {stage!r} at {reg.snapshot.ref}: nothing to do",
            ref=f"{name}#{stage}",
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
    held = [e.version for e in events(reg, name) if e.kind == "promoted" and e.stage == stage]
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
        after: VersionManifest | None = parse(VersionManifest, text, path)
    except ManifestError:
        after = None
    if after is None or after.status != "deprecated" or not rules.same_but_status(vm, after):
        raise RegistryError(
            f"{path}: could not change only its `status` line", "set `status: deprecated` by hand"
        )
    message = f"Deprecate {name} {version}\n\nstatus: active -> deprecated\n"
    branch = f"gitreg/deprecate/{name}/{version}"
    plan = StagePlan(
        "deprecate", name, version, None, None, path, branch, message, text, reg.commit
    )
    return _with_facts(reg, plan)


def _with_facts(reg: Registry, plan: StagePlan) -> StagePlan:
    """The plan with what its pull request shows, read at the plan's commit."""
    spec = reg.model(plan.name)
    old = plan.previous if plan.kind in ("promote", "rollback") else None
    rule = reg.config.stage(plan.stage) if plan.stage else None
    facts = PlanFacts(
        metrics=reg.version(plan.name, plan.version).metrics.flat(),
        previous_metrics=reg.version(plan.name, old).metrics.flat() if old else {},
        goals={m: p.goal for m, p in spec.evaluation.metrics.items()} if spec.evaluation else {},
        description=spec.description,
        owners=list(spec.owners),
        intended_use=spec.card.intended_use,
        limitations=spec.card.limitations,
        gated=rule is not None and rule.gate and plan.after is not None,
    )
    return replace(plan, facts=facts)
