"""`gitreg validate`: every rule a registry must keep, as a list of problems.

Without a base, the whole registry at the ref is checked. With a base (a pull request's
target), only the models the diff touches are read, plus the rules that span commits:
versions are immutable, one new version per model per merge, and `requires` between stages.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from gitreg.errors import ManifestError, Problem
from gitreg.model import layout, rules, tags
from gitreg.model.dvcfile import dvc_pointer
from gitreg.model.manifest import ModelSpec, RegistryConfig, Stages, VersionManifest
from gitreg.model.schema import parse, version_path_problems
from gitreg.registry.reader import Registry, stages_at
from gitreg.store import refs
from gitreg.store.snapshot import Snapshot


@dataclass
class ValidationReport:
    ref: str
    commit: str
    base: str | None
    models: list[str] = field(default_factory=list)
    files: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "ref": self.ref,
            "commit": self.commit,
            "base": self.base,
            "models": self.models,
            "files": self.files,
            "problems": [asdict(p) for p in self.problems],
        }


class _Checker:
    def __init__(self, snap: Snapshot, report: ValidationReport) -> None:
        self.snap = snap
        self.report = report

    def add(self, path: str, field_: str, message: str) -> None:
        self.report.problems.append(Problem(path, field_, message))

    def load(self, cls: type[Any], path: str) -> Any:
        data = self.snap.read(path)
        if data is None:
            if self.snap.exists(path):
                self.add(path, "", "not a file (a directory is in its place); make it a YAML file")
            return None
        self.report.files += 1
        try:
            return parse(cls, data, path)
        except ManifestError as e:
            self.report.problems.extend(e.problems)
            return None

    def config(self) -> RegistryConfig | None:
        if not self.snap.exists(layout.CONFIG_FILE):
            self.add(layout.CONFIG_FILE, "", "missing: this is not a registry (run `gitreg init`)")
            return None
        cfg: RegistryConfig | None = self.load(RegistryConfig, layout.CONFIG_FILE)
        return cfg

    def model(self, name: str, cfg: RegistryConfig | None) -> dict[str, VersionManifest]:
        base = layout.model_dir(name)
        problem = layout.name_problem(name)
        if problem:
            self.add(base, "", f"model directory name: {problem}")
        spec: ModelSpec | None = None
        mfile = layout.model_file(name)
        if not self.snap.exists(mfile):
            self.add(mfile, "", "missing: every model directory needs a model.yaml")
        else:
            spec = self.load(ModelSpec, mfile)
            if spec is not None and spec.name != name:
                self.add(mfile, "name", f"{spec.name!r} does not match the directory {name!r}")
        if spec is not None and spec.evaluation is not None:
            ds = spec.evaluation.dataset
            if not (self.snap.exists(ds) or self.snap.exists(ds + ".dvc")):
                self.add(mfile, "evaluation.dataset", f"{ds!r} is not in the repo (nor {ds}.dvc)")
        versions = self.versions(name)
        self.stages(name, cfg, versions)
        return versions

    def versions(self, name: str) -> dict[str, VersionManifest]:
        found: dict[str, VersionManifest] = {}
        vdir = layout.versions_dir(name)
        for entry in self.snap.listdir(vdir):
            path = f"{vdir}/{entry.name}"
            if entry.is_tree or not entry.name.endswith(".yaml"):
                self.add(path, "", "unexpected entry: versions/ holds only <version>.yaml files")
                continue
            stem = entry.name[: -len(".yaml")]
            problem = layout.version_problem(stem)
            if problem:
                self.add(path, "", f"file name: {problem}")
                continue
            vm: VersionManifest | None = self.load(VersionManifest, path)
            if vm is None:
                continue
            location = version_path_problems(vm, path)
            self.report.problems.extend(location)
            if not location:
                self.artifacts(vm, path)
            found[stem] = vm
        return found

    def artifacts(self, vm: VersionManifest, path: str) -> None:
        for i, art in enumerate(vm.artifacts):
            pointer = art.path + ".dvc"
            data = self.snap.read(pointer)
            if data is None:
                self.add(path, f"artifacts[{i}].path", f"no DVC pointer {pointer} in the repo")
                continue
            try:
                md5, size = dvc_pointer(data, pointer)
            except ManifestError as e:
                self.report.problems.extend(e.problems)
                continue
            if md5 != art.md5:
                self.add(path, f"artifacts[{i}].md5", f"{art.md5} but {pointer} says {md5}")
            if size is not None and size != art.size:
                self.add(path, f"artifacts[{i}].size", f"{art.size} but {pointer} says {size}")

    def stages(
        self, name: str, cfg: RegistryConfig | None, versions: dict[str, VersionManifest]
    ) -> None:
        sfile = layout.stages_file(name)
        if not self.snap.exists(sfile):
            return
        st: Stages | None = self.load(Stages, sfile)
        if st is None:
            return
        for stage, version in st.mapping.items():
            if cfg is not None and cfg.stage(stage) is None:
                known = ", ".join(cfg.stage_names)
                self.add(sfile, stage, f"unknown stage (gitreg.yaml defines: {known})")
            vm = versions.get(version)
            if vm is None:
                if not self.snap.exists(layout.version_file(name, version)):
                    self.add(sfile, stage, f"version {version} is not registered")
            elif vm.status != "active":
                self.add(sfile, stage, f"version {version} is {vm.status}; only active versions")


def _touched_models(snap: Snapshot, base_commit: str) -> tuple[set[str], list[tuple[str, str]]]:
    changes = snap.git.diff_names(base_commit, snap.commit, [layout.MODELS_DIR])
    models = {p.split("/")[1] for _, p in changes if p.count("/") >= 2}
    return models, changes


def _check_diff(
    checker: _Checker,
    base_snap: Snapshot,
    tip: Snapshot,
    cfg: RegistryConfig | None,
    changes: list[tuple[str, str]],
) -> None:
    added_versions: dict[str, list[str]] = {}
    for status, path in changes:
        kind = layout.classify(path)
        if kind and kind[0] == "version" and status == "A":
            added_versions.setdefault(kind[1], []).append(path)
        is_version = bool(kind and kind[0] == "version")
        only_status = is_version and status == "M"
        only_status = only_status and _only_status_changed(base_snap, checker.snap, path)
        problem = rules.immutability_problem(status, path, only_status)
        if problem:
            checker.add(path, "", problem)
    for model, paths in added_versions.items():
        for path, problem in rules.one_version_per_merge(model, paths):
            checker.add(path, "", problem)
    if cfg is None:
        return
    for status, path in changes:
        kind = layout.classify(path)
        if not kind or kind[0] != "stages" or status == "D":
            continue
        _check_requires(checker, base_snap, tip, cfg, kind[1], path)


def _check_requires(
    checker: _Checker,
    base_snap: Snapshot,
    tip: Snapshot,
    cfg: RegistryConfig,
    model: str,
    path: str,
) -> None:
    """Stages the branch changed (from its fork point) must be entered from their required
    stage as the base holds it now (`rules.may_enter`)."""
    old = stages_at(base_snap, base_snap.commit, model)
    now = stages_at(tip, tip.commit, model)
    new = stages_at(checker.snap, checker.snap.commit, model)
    released = None
    for stage, version in new.items():
        if old.get(stage) == version:
            continue
        rule = cfg.stage(stage)
        if rule is None or rule.requires is None:
            continue
        held = now.get(rule.requires)
        if held != version and released is None:
            released = refs.model_tags(checker.snap.git, model)
        ever = released is not None and tags.ever_held(released, stage, version)
        if not rules.may_enter(rule, version, held, ever):
            where = f"held {held}" if held else "held nothing"
            checker.add(
                path,
                stage,
                f"{model}@{version} must hold {rule.requires!r} on the base before it enters "
                f"{stage!r} ({rule.requires!r} {where} there, and no release ever put it in "
                f"{stage!r}); promote it to {rule.requires} first",
            )


def _only_status_changed(base: Snapshot, head: Snapshot, path: str) -> bool:
    old, new = base.read(path), head.read(path)
    if old is None or new is None:
        return False
    try:
        a, b = parse(VersionManifest, old, path), parse(VersionManifest, new, path)
    except ManifestError:
        return False
    return rules.same_but_status(a, b)


def validate(reg: Registry, base: str | None = None) -> ValidationReport:
    """Check the registry at `reg`'s ref; with `base`, check the change from base to it."""
    snap = reg.snapshot
    report = ValidationReport(ref=snap.ref, commit=snap.commit, base=base)
    checker = _Checker(snap, report)
    cfg = checker.config()
    all_models = [e.name for e in snap.listdir(layout.MODELS_DIR) if e.is_tree]
    if base is None:
        targets = all_models
        for entry in snap.listdir(layout.MODELS_DIR):
            if not entry.is_tree and not entry.name.startswith("."):
                checker.add(
                    f"{layout.MODELS_DIR}/{entry.name}",
                    "",
                    "unexpected file: models/ holds one directory per model",
                )
        for name in sorted(targets):
            checker.model(name, cfg)
        report.models = sorted(targets)
        return report

    base_commit = reg.git.commit_of(base)
    report.base = base_commit
    # what the branch changed is measured from where it forked, so a branch that is behind
    # its base is not blamed for what the base did since
    fork = reg.git.merge_base(base_commit, snap.commit) or base_commit
    touched, changes = _touched_models(snap, fork)
    config_changed = bool(reg.git.diff_names(fork, snap.commit, [layout.CONFIG_FILE]))
    targets = all_models if config_changed else sorted(m for m in touched if m in all_models)
    for name in targets:
        checker.model(name, cfg)
    with Snapshot(reg.git, fork, base) as fork_snap, Snapshot(reg.git, base_commit, base) as tip:
        _check_diff(checker, fork_snap, tip, cfg, changes)
    report.models = sorted(targets)
    return report
