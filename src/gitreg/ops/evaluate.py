"""`gitreg evaluate`: a candidate and its baseline measured on the same held-out data.

Everything is read from git objects: the version manifests at the ref (the PR head), the
`.dvc` pointers of the artifacts and of the data set, and the tree the evaluator command
runs in (exported with `git archive`, never the working tree). DVC downloads the artifacts
and the data into a temporary scm-less project (`gitreg.store.dvcproject`), md5-verified.

With `--changed --base`, the gate's rules are the base's: `gitreg.yaml` (which stages are
gated, which pickle imports are allowed) and the model's evaluation policy, data set and
command come from the base commit, so a pull request cannot loosen its own gate. A new
model, absent from the base, brings its own policy (the report says so). A rollback (a
version that held the stage before, on the base) is judged on `min`/`max` only, and an
approved override lets a failed gate through (`registry.gating`).

Results are reused (`store.results`): a measurement is keyed by the artifacts' and the
data set's md5s, the evaluator and its version, and the policy; a cached one is neither
downloaded nor run again (`use_cache=False` measures anew).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from gitreg.errors import RegistryError, UnsafeModelError, UsageError
from gitreg.evaluation import artifacts, reuse, runner, sandbox, significance
from gitreg.evaluation import tree as trees
from gitreg.evaluation.loading import check
from gitreg.model import layout
from gitreg.model import metrics as metric_names
from gitreg.model.dvcfile import dvc_pointer
from gitreg.model.gate import (
    GateReport,
    GateSummary,
    Measurement,
    MetricVerdict,
    Override,
    decide,
)
from gitreg.model.manifest import ModelSpec, VersionManifest
from gitreg.registry import gating
from gitreg.registry.reader import Registry, stages_at
from gitreg.store import dvc, results
from gitreg.store.dvcproject import dvc_project, verify_output
from gitreg.store.git import Git


@dataclass(frozen=True)
class Gate:
    """One candidate to measure: against which baseline, under whose policy."""

    name: str
    stage: str | None
    candidate: VersionManifest
    baseline: VersionManifest | None
    spec: ModelSpec
    ref: tuple[str, str]  # (commit, label) holding the version manifests
    policy: tuple[str, str]  # (commit, label) of the policy, data pointer, tree, DVC config
    allowed: tuple[str, ...]
    remote: str | None
    notes: tuple[str, ...] = ()
    kind: str = "promotion"  # promotion | rollback (judged on min/max only)
    override: Override | None = None
    use_cache: bool = True


def evaluate_version(
    root: str | Path,
    name: str,
    version: str,
    baseline_stage: str | None = None,
    ref: str = "HEAD",
    use_cache: bool = True,
) -> GateReport:
    """Measure `name@version` (and the version `baseline_stage` holds) at `ref`."""
    with Registry.open(root, ref) as reg:
        spec = reg.model(name)
        if spec.evaluation is None:
            raise RegistryError(
                f"{layout.model_file(name)} has no `evaluation` section at {ref}",
                "add one (data set, metrics, thresholds): see docs/evaluation.md",
            )
        candidate = reg.version(name, version)
        baseline, notes = None, []
        if baseline_stage is not None:
            if reg.config.stage(baseline_stage) is None:
                known = ", ".join(reg.config.stage_names)
                raise UsageError(f"--baseline {baseline_stage}: unknown stage (stages: {known})")
            held = reg.stages(name).get(baseline_stage)
            if held is None:
                notes.append(f"stage {baseline_stage} holds no version of {name} at {ref}")
            else:
                baseline = reg.version(name, held)
        gate = Gate(
            name=name,
            stage=baseline_stage,
            candidate=candidate,
            baseline=baseline,
            spec=spec,
            ref=(reg.commit, ref),
            policy=(reg.commit, ref),
            allowed=tuple(reg.config.allow_pickle_imports),
            remote=reg.config.dvc_remote,
            notes=tuple(notes),
            use_cache=use_cache,
        )
        return run_gate(reg.root, reg.git, gate)


def evaluate_changed(
    root: str | Path, base_ref: str, ref: str = "HEAD", use_cache: bool = True
) -> GateSummary:
    """Gate every stage change between `base_ref` and `ref` in models/*/stages.yaml."""
    with Registry.open(root, ref) as reg, Registry.open(reg.root, base_ref) as base:
        fork = reg.git.merge_base(base.commit, reg.commit) or base.commit
        summary = GateSummary(ref=reg.commit, base=base.commit)
        changes = reg.git.diff_names(fork, reg.commit, [layout.MODELS_DIR])
        for status, path in changes:
            kind = layout.classify(path)
            if kind is None or kind[0] != "stages":
                continue
            name = kind[1]
            if status == "D":
                summary.skipped.append(f"{name}: stages.yaml deleted, nothing to evaluate")
                continue
            old, new = stages_at(reg.snapshot, fork, name, strict=True), reg.stages(name)
            for stage in sorted(set(old) - set(new)):
                summary.skipped.append(
                    f"{name}: {stage} removed ({old[stage]}), nothing to evaluate"
                )
            for stage, version in new.items():
                if old.get(stage) != version:
                    change = _Change(base_ref, fork, name, stage, version, use_cache)
                    _gate_change(reg, base, change, summary)
    return summary


@dataclass(frozen=True)
class _Change:
    base_ref: str
    fork: str
    name: str
    stage: str
    version: str
    use_cache: bool


def _gate_change(reg: Registry, base: Registry, change: _Change, summary: GateSummary) -> None:
    name, stage, version, base_ref = change.name, change.stage, change.version, change.base_ref
    rule = base.config.stage(stage)
    if rule is not None and not rule.gate:
        summary.skipped.append(f"{name} {version} -> {stage}: gate: false in gitreg.yaml")
        return
    notes = []
    if rule is None:
        notes.append(f"stage {stage} is not defined on the base; gated as a precaution")
    if base.has_model(name):
        spec = base.model(name)
        if reg.model(name).evaluation != spec.evaluation:
            notes.append(
                "this change edits the evaluation policy: the gate applies the base's; "
                "the new one applies once merged"
            )
    else:
        spec = reg.model(name)
        notes.append("new model: its evaluation policy comes from this change")
    if spec.evaluation is None:
        reason = f"{layout.model_file(name)} has no `evaluation` section; {stage} is gated"
        verdict = MetricVerdict("evaluation", None, None, None, "-", "fail", reason)
        report = GateReport(name, version, None, stage, None, [verdict], notes=notes)
        summary.reports.append(report)
        return
    held = base.stages(name).get(stage)  # versions are immutable: it is at the ref too
    baseline = reg.version(name, held) if held is not None else None
    rollback = spec.evaluation.rollback if held is not None and base.has_model(name) else None
    kind, said = gating.kind_of(base, name, stage, version, rollback)
    notes += [said] if said else []
    head = (reg.commit, reg.snapshot.ref)
    gate = Gate(
        name=name,
        stage=stage,
        candidate=reg.version(name, version),
        baseline=baseline,
        spec=spec,
        ref=head,
        policy=(base.commit, base_ref) if base.has_model(name) else head,
        allowed=tuple(base.config.allow_pickle_imports),
        remote=base.config.dvc_remote,
        notes=tuple(notes),
        kind=kind,
        override=gating.requested(reg, change.fork, name, os.environ),
        use_cache=change.use_cache,
    )
    summary.reports.append(run_gate(reg.root, reg.git, gate))


# --- measuring ------------------------------------------------------------------------------


def _fetch(
    git: Git, root: Path, gate: Gate, dirs: tuple[Path, Path], versions: list[VersionManifest]
) -> Path:
    """Download and verify the artifacts of `versions` and the data set; its path."""
    assert gate.spec.evaluation is not None
    project, tree = dirs
    dataset = gate.spec.evaluation.dataset
    pointers = [(gate.ref[0], gate.ref[1], a.path + ".dvc") for v in versions for a in v.artifacts]
    tracked, _ = trees.dataset_id(git, dataset, gate.policy, tree)
    if tracked:
        pointers.append((gate.policy[0], gate.policy[1], dataset + ".dvc"))
    paths = dvc_project(git, project, gate.policy[0], pointers, root, link_type="copy")
    dvc.fetch_outputs(project, paths, gate.remote)
    for vm in versions:
        for a in vm.artifacts:
            verify_output(project, a.path, a.md5, a.size)
    if not tracked:
        return tree / dataset
    pointer = tree / (dataset + ".dvc")
    md5, size = dvc_pointer(pointer.read_bytes(), dataset + ".dvc")
    got = project / dataset
    actual = size if size is not None else (got.stat().st_size if got.is_file() else 0)
    verify_output(project, dataset, md5, actual)
    return got


def _measure(
    gate: Gate, role: str, vm: VersionManifest, dirs: tuple[Path, Path, Path], root: Path
) -> Measurement:
    project, tree, dataset = dirs
    ev = gate.spec.evaluation
    assert ev is not None
    work = project.parent
    box = sandbox.Sandbox(work=work, writable=work / role, hidden=(root,))
    output = box.writable / "metrics.json"
    model = artifacts.model_path(project, vm, ev.command is None, ev.entrypoint)
    if isinstance(model, str):
        return Measurement(vm.version, error=model)
    if ev.command is not None:
        argv = runner.fill(ev.command, model, dataset, output)
    elif gate.spec.task not in metric_names.TASKS:
        task = gate.spec.task or "not set"
        error = (
            "no evaluation.command, and the built-in evaluator handles "
            f"task: {' or '.join(metric_names.TASKS)} only (task: {task})"
        )
        return Measurement(vm.version, error=error)
    else:
        try:
            check(model, gate.allowed, shown=str(model.relative_to(project)))
        except UnsafeModelError as e:
            return Measurement(vm.version, error=e.message)
        target = ev.target or "target"
        sig = ev.significance
        boot = (sig.samples, sig.seed) if sig else None
        argv = runner.builtin_argv(
            model, dataset, output, target, ev.slices, gate.allowed,
            task=gate.spec.task, bootstrap=boot,
        )  # fmt: skip
    measured = runner.run(argv, role, vm.version, output, ev.timeout, tree, box, ev.metrics)
    if measured.error and ev.command is None:  # the built-in evaluator says "error: ..."
        reason = measured.error.replace(
            "exited with code 2: error: ", "the built-in evaluator failed: "
        )
        return replace(measured, error=reason)
    return measured


def run_gate(root: Path, git: Git, gate: Gate) -> GateReport:
    """Measure the baseline, then the candidate (so it cannot touch the baseline's run);
    a result the cache holds is reused and its artifacts not even downloaded."""
    ev = gate.spec.evaluation
    assert ev is not None
    if ev.command is None and gate.spec.task in metric_names.TASKS:
        runner.require_builtin()
    folder = results.cache_dir(git)
    with tempfile.TemporaryDirectory(prefix="gitreg-evaluate-") as tmp:
        work = Path(tmp)
        tree, project = work / "tree", work / "project"
        trees.export_tree(git, gate.policy[0], tree)
        facts = reuse.gate_facts(git, ev, gate.policy, tree, gate.allowed)
        roles = [("baseline", gate.baseline), ("candidate", gate.candidate)]
        keys = {role: reuse.key(gate.spec, vm, facts) for role, vm in roles if vm is not None}
        found = {
            role: reuse.lookup(folder, keys[role], vm.version) if gate.use_cache else None
            for role, vm in roles
            if vm is not None
        }
        todo = [vm for role, vm in roles if vm is not None and found[role] is None]
        dataset = _fetch(git, root, gate, (project, tree), todo) if todo else tree
        done: dict[str, Measurement] = {}
        for role, vm in roles:
            if vm is None:
                continue
            got = found[role] or _measure(gate, role, vm, (project, tree, dataset), root)
            reuse.store(folder, keys[role], got, gate.policy[0], gate.name)
            done[role] = reuse.with_environment(got, facts)
    base, cand = done.get("baseline"), done["candidate"]
    notes = list(gate.notes)
    if any(not m.cached and m.log is not None for m in done.values()):
        notes.append(sandbox.note(ev.timeout))
    notes += [reuse.note(role, m, keys[role]) for role, m in done.items() if m.cached]
    return decide(
        gate.name,
        gate.stage,
        ev.dataset,
        ev.metrics,
        cand,
        base,
        gate.candidate.metrics.flat(),
        gate.baseline.metrics.flat() if gate.baseline else None,
        notes,
        intervals=significance.for_gate(ev, base, cand),
        kind=gate.kind,
        override=gate.override,
    )
