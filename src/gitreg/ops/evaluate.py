"""`gitreg evaluate`: a candidate and its baseline measured on the same held-out data.

Everything is read from git objects: the version manifests at the ref (the PR head), the
`.dvc` pointers of the artifacts and of the data set, and the tree the evaluator command
runs in (exported with `git archive`, never the working tree). DVC downloads the artifacts
and the data into a temporary scm-less project (`gitreg.store.dvcproject`), md5-verified.

With `--changed --base`, the gate's rules are the base's: `gitreg.yaml` (which stages are
gated, which pickle imports are allowed) and the model's evaluation policy, data set and
command come from the base commit, so a pull request cannot loosen its own gate. A new
model, absent from the base, brings its own policy (the report says so).
"""

from __future__ import annotations

import io
import posixpath
import tarfile
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from gitreg.errors import ManifestError, RegistryError, UnsafeModelError, UsageError
from gitreg.evaluation import runner, sandbox
from gitreg.evaluation.loading import check
from gitreg.model import layout
from gitreg.model import metrics as metric_names
from gitreg.model.dvcfile import dvc_pointer
from gitreg.model.gate import GateReport, GateSummary, Measurement, MetricVerdict, decide
from gitreg.model.manifest import ModelSpec, VersionManifest
from gitreg.registry.reader import Registry, stages_at
from gitreg.store import dvc, formats
from gitreg.store.dvcproject import dvc_project, verify_output
from gitreg.store.git import Git

LOADABLE = ("pickle", "joblib", "skops", "onnx")


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


def evaluate_version(
    root: str | Path,
    name: str,
    version: str,
    baseline_stage: str | None = None,
    ref: str = "HEAD",
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
        )
        return run_gate(reg.root, reg.git, gate)


def evaluate_changed(root: str | Path, base_ref: str, ref: str = "HEAD") -> GateSummary:
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
                    _gate_change(reg, base, base_ref, name, stage, version, summary)
    return summary


def _gate_change(
    reg: Registry,
    base: Registry,
    base_ref: str,
    name: str,
    stage: str,
    version: str,
    summary: GateSummary,
) -> None:
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
    )
    summary.reports.append(run_gate(reg.root, reg.git, gate))


# --- measuring ------------------------------------------------------------------------------


def _export_tree(git: Git, commit: str, dest: Path) -> None:
    """The files of `commit` in `dest`, from git objects (git archive), not a checkout.

    A tree is a PR's: a link that is absolute or climbs out of the tree is refused (exit 3)
    before anything is written, whatever the Python's tarfile filters can do.
    """
    data = git.run_bytes(["archive", "--format=tar", "--end-of-options", commit])
    dest.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar.getmembers():
            target = posixpath.normpath(
                posixpath.join(posixpath.dirname(member.name), member.linkname)
            )
            leaves = member.issym() and (
                member.linkname.startswith("/") or target.split("/")[0] == ".."
            )
            if leaves or member.islnk() or not layout.is_repo_path(member.name.rstrip("/")):
                raise RegistryError(
                    f"the tree at {commit[:12]} holds {member.name!r}, a link or path that "
                    "leaves it: refused, nothing was evaluated",
                    "remove the link from the pull request",
                )
        try:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(dest, filter="data")
            else:  # pragma: no cover - Python without the extraction filters
                tar.extractall(dest)  # every member was checked above
        except tarfile.TarError as e:
            raise RegistryError(f"the tree at {commit[:12]} cannot be exported: {e}") from e


def _fetch(git: Git, root: Path, gate: Gate, project: Path, tree: Path) -> Path:
    """Download and verify both versions' artifacts and the data set; the data set's path."""
    assert gate.spec.evaluation is not None
    dataset = gate.spec.evaluation.dataset
    pointers = [(gate.ref[0], gate.ref[1], a.path + ".dvc") for a in gate.candidate.artifacts]
    if gate.baseline is not None:
        pointers += [(gate.ref[0], gate.ref[1], a.path + ".dvc") for a in gate.baseline.artifacts]
    tracked = (tree / (dataset + ".dvc")).is_file()
    if tracked:
        pointers.append((gate.policy[0], gate.policy[1], dataset + ".dvc"))
    elif not (tree / dataset).exists():
        raise RegistryError(
            f"evaluation.dataset {dataset}: neither {dataset}.dvc nor {dataset} is in the "
            f"registry at {gate.policy[1]}",
            "track the held-out data with `dvc add` and commit its .dvc pointer",
        )
    paths = dvc_project(git, project, gate.policy[0], pointers, root, link_type="copy")
    dvc.fetch_outputs(project, paths, gate.remote)
    for vm in (gate.candidate, gate.baseline):
        for a in vm.artifacts if vm is not None else []:
            verify_output(project, a.path, a.md5, a.size)
    if not tracked:
        return tree / dataset
    pointer = tree / (dataset + ".dvc")
    try:
        md5, size = dvc_pointer(pointer.read_bytes(), dataset + ".dvc")
    except ManifestError as e:
        raise RegistryError(f"evaluation.dataset: {e}") from e
    got = project / dataset
    actual = size if size is not None else (got.stat().st_size if got.is_file() else 0)
    verify_output(project, dataset, md5, actual)
    return got


def _model_path(
    project: Path, vm: VersionManifest, builtin: bool, entrypoint: str | None = None
) -> Path | str:
    """What {model} means: the one artifact, else the version's artifact directory.

    For the built-in evaluator, the file to load: {model} if it is a loadable file, else
    `entrypoint` inside it, else the one loadable file inside it; a string says why there
    is none.
    """
    files = [project / a.path for a in vm.artifacts]
    place = files[0] if len(files) == 1 else project / layout.artifacts_dir(vm.name, vm.version)
    if not builtin:
        return place
    if place.is_file():
        if entrypoint not in (None, place.name):
            return (
                f"evaluation.entrypoint {entrypoint!r}: the version's one artifact is the file "
                f"{place.name}, not a directory; remove entrypoint"
            )
        if formats.file_format(place) in LOADABLE:
            return place
        return f"the built-in evaluator cannot load {place.name} (it loads {_KINDS})"
    return _entrypoint(place, entrypoint)


_KINDS = ".pkl, .pickle, .joblib, .skops, .onnx files"


def _entrypoint(folder: Path, entrypoint: str | None) -> Path | str:
    """The file to load inside a directory artifact (see `_model_path`)."""
    found = sorted(p for p in folder.rglob("*") if p.is_file() and _loadable(p))
    names = ", ".join(p.relative_to(folder).as_posix() for p in found) or "none"
    if entrypoint is not None:
        path = folder / entrypoint
        inside = path.resolve().is_relative_to(folder.resolve())
        if not inside or not path.is_file() or not _loadable(path):
            return (
                f"evaluation.entrypoint {entrypoint!r} is not a loadable file inside the "
                f"version's artifacts ({_KINDS}); found: {names}"
            )
        return path
    if len(found) == 1:
        return found[0]
    return (
        f"the built-in evaluator needs one loadable file in the version's artifacts ({_KINDS}), "
        f"found {names}; set evaluation.entrypoint in model.yaml to the one to load (a path "
        "inside the artifact directory)"
    )


def _loadable(path: Path) -> bool:
    return formats.file_format(path) in LOADABLE


def _measure(
    gate: Gate, role: str, vm: VersionManifest, dirs: tuple[Path, Path, Path], root: Path
) -> Measurement:
    project, tree, dataset = dirs
    ev = gate.spec.evaluation
    assert ev is not None
    work = project.parent
    box = sandbox.Sandbox(work=work, writable=work / role, hidden=(root,))
    output = box.writable / "metrics.json"
    model = _model_path(project, vm, ev.command is None, ev.entrypoint)
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
        argv = runner.builtin_argv(
            model, dataset, output, target, ev.slices, gate.allowed, task=gate.spec.task
        )
    measured = runner.run(argv, role, vm.version, output, ev.timeout, tree, box, ev.metrics)
    if measured.error and ev.command is None:  # the built-in evaluator says "error: ..."
        reason = measured.error.replace(
            "exited with code 2: error: ", "the built-in evaluator failed: "
        )
        return replace(measured, error=reason)
    return measured


def run_gate(root: Path, git: Git, gate: Gate) -> GateReport:
    """Measure the baseline, then the candidate (so it cannot touch the baseline's run)."""
    ev = gate.spec.evaluation
    assert ev is not None
    if ev.command is None and gate.spec.task in metric_names.TASKS:
        runner.require_builtin()
    with tempfile.TemporaryDirectory(prefix="gitreg-evaluate-") as tmp:
        work = Path(tmp)
        tree, project = work / "tree", work / "project"
        _export_tree(git, gate.policy[0], tree)
        dataset = _fetch(git, root, gate, project, tree)
        dirs = (project, tree, dataset)
        base = _measure(gate, "baseline", gate.baseline, dirs, root) if gate.baseline else None
        cand = _measure(gate, "candidate", gate.candidate, dirs, root)
    notes = list(gate.notes)
    if any(m is not None and m.log is not None for m in (base, cand)):
        notes.append(sandbox.note(ev.timeout))
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
    )
