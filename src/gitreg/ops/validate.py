"""`gitreg validate`: every rule a registry must keep, as a list of problems.

Without a base, the whole registry at the ref is checked. With a base (a pull request's
target), only the models the diff touches are read, plus the rules that span commits:
versions are immutable, one new version per model per merge, and `requires` between stages.
Those rules are the base's: a pull request that edits gitreg.yaml, a model's evaluation
policy or its evaluation data is judged by the rules it had, and each such edit is reported
as a warning naming the CODEOWNERS (on the base) who must approve it.
"""

from __future__ import annotations

from typing import Any

from gitreg.errors import ManifestError, Problem
from gitreg.model import layout, rules, tags
from gitreg.model.manifest import ModelSpec, RegistryConfig, Stages, VersionManifest
from gitreg.model.schema import parse
from gitreg.model.validation import ValidationReport as ValidationReport  # re-exported
from gitreg.registry.cache import cached_checks, missing
from gitreg.registry.reader import Registry, stages_at
from gitreg.registry.version_checks import check_versions
from gitreg.store import refs
from gitreg.store.pending import PendingLinks
from gitreg.store.snapshot import Snapshot

NO_BASE_RULES = (
    "the base has no readable gitreg.yaml, so no stage rule can judge this change; "
    "fix gitreg.yaml on the base first"
)
LINKS = "validate-links"  # the cache of `links` below models/
UNDECLARED = (
    "is not declared in gitreg.yaml on the base: a pull request cannot add a stage and use "
    "it; merge the gitreg.yaml change first"
)


class _Checker:
    def __init__(self, snap: Snapshot, report: ValidationReport) -> None:
        self.snap = snap
        self.report = report
        self.specs: dict[str, ModelSpec] = {}
        self.pre: dict[str, bytes] = {}  # blobs read by `present`, for `load`
        self.cfg: RegistryConfig | None = None

    def add(self, path: str, field_: str, message: str) -> None:
        problem = Problem(path, field_, message)
        if problem not in self.report.problems:
            self.report.problems.append(problem)

    def load(self, cls: type[Any], path: str) -> Any:
        data = self.pre.pop(path, None) or self.snap.read(path)
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

    def present(self, path: str) -> bool:
        """Whether the tree has `path`; its blob is kept for `load` (one read, not two)."""
        data = self.snap.read(path)
        if data is not None:
            self.pre[path] = data
        return data is not None or self.snap.exists(path)

    def config(self) -> RegistryConfig | None:
        if not self.snap.exists(layout.CONFIG_FILE):
            self.add(layout.CONFIG_FILE, "", "missing: this is not a registry (run `gitreg init`)")
            return None
        cfg: RegistryConfig | None = self.load(RegistryConfig, layout.CONFIG_FILE)
        for i, rule in enumerate(cfg.stages if cfg else []):
            problem = rules.ref_name_problem(rule.name)
            if problem:
                self.add(layout.CONFIG_FILE, f"stages[{i}].name", problem)
        self.cfg = cfg
        return cfg

    def strays(self, names: set[str] | None = None) -> None:
        """Entries of models/ that are not folders (`names`: only those)."""
        for entry in self.snap.listdir(layout.MODELS_DIR):
            if names is not None and entry.name not in names:
                continue
            if not entry.is_tree and not entry.name.startswith("."):
                path = f"{layout.MODELS_DIR}/{entry.name}"
                self.add(path, "", "unexpected file: models/ holds one directory per model")

    def links(self, paths: list[str], found: PendingLinks | None = None) -> None:
        """Symbolic links and submodules below `paths` (`found`: they, as started early):
        what a checkout holds there is not the bytes that gitreg reads and checks."""
        for mode, path in found.result() if found is not None else self.snap.links_below(paths):
            what = "a symbolic link" if mode == "120000" else "a submodule"
            self.add(path, "", f"{what}: a registry holds only files; commit the file itself")

    def model(
        self, name: str, cfg: RegistryConfig | None, data: bool = True
    ) -> dict[str, VersionManifest]:
        base = layout.model_dir(name)
        problem = layout.name_problem(name) or rules.ref_name_problem(name)
        if problem:
            self.add(base, "", f"model directory name: {problem}")
        spec: ModelSpec | None = None
        mfile = layout.model_file(name)
        if not self.present(mfile):
            self.add(mfile, "", "missing: every model directory needs a model.yaml")
        else:
            spec = self.load(ModelSpec, mfile)
            if spec is not None and spec.name != name:
                self.add(mfile, "name", f"{spec.name!r} does not match the directory {name!r}")
        if spec is not None:
            self.specs[name] = spec
            self.report.warnings += rules.unmeasurable_metrics(spec, mfile)
        if data:
            self.dataset(name, self.dataset_of(name))
        versions = self.versions(name)
        self.stages(name, cfg, versions)
        return versions

    def dataset_of(self, name: str) -> str | None:
        spec = self.specs.get(name)
        return spec.evaluation.dataset if spec and spec.evaluation else None

    def dataset(self, name: str, ds: str | None) -> None:
        """The evaluation data lives outside the model's folder: checked on every run."""
        if ds is not None and not (self.snap.exists(ds) or self.snap.exists(ds + ".dvc")):
            where = f"{ds!r} is not in the repo (nor {ds}.dvc)"
            self.add(layout.model_file(name), "evaluation.dataset", where)

    def versions(self, name: str) -> dict[str, VersionManifest]:
        found, files = check_versions(self.snap, name, self.report.problems)
        self.report.files += files
        return found

    def stages(
        self, name: str, cfg: RegistryConfig | None, versions: dict[str, VersionManifest]
    ) -> None:
        sfile = layout.stages_file(name)
        if not self.present(sfile):
            return
        st: Stages | None = self.load(Stages, sfile)
        if st is None:
            return
        for stage, version in st.mapping.items():
            problem = rules.ref_name_problem(stage)
            if problem:
                self.add(sfile, stage, f"stage {problem}")
            if cfg is not None and cfg.stage(stage) is None:
                known = ", ".join(cfg.stage_names)
                self.add(sfile, stage, f"unknown stage (gitreg.yaml defines: {known})")
            vm = versions.get(version)
            if vm is None:
                if not self.snap.exists(layout.version_file(name, version)):
                    self.add(sfile, stage, f"version {version} is not registered")
            elif vm.status != "active":
                self.add(sfile, stage, f"version {version} is {vm.status}; only active versions")


def _quiet(cls: type[Any], snap: Snapshot, path: str) -> Any:
    """A manifest at `snap`, or None if it is absent or does not parse."""
    data = snap.read(path)
    try:
        return None if data is None else parse(cls, data, path)
    except ManifestError:
        return None


def _check_diff(
    checker: _Checker,
    base_snap: Snapshot,
    tip: Snapshot,
    cfg: RegistryConfig | None,
    changes: list[tuple[str, str]],
) -> None:
    """The rules between two commits; `cfg` is the base's gitreg.yaml: its rules judge."""
    added_versions: dict[str, list[str]] = {}
    for status, path in changes:
        kind = layout.classify(path)
        if kind and kind[0] == "version" and status == "A":
            added_versions.setdefault(kind[1], []).append(path)
        is_version = bool(kind and kind[0] == "version")
        only_status = is_version and status == "M"
        only_status = only_status and _only_status_changed(base_snap, checker.snap, path)
        parts = path.split("/")
        released = len(parts) > 4 and parts[2] == "artifacts" and status == "A"
        released = released and base_snap.exists(layout.version_file(parts[1], parts[3]))
        problem = rules.immutability_problem(status, path, only_status, released)
        if problem:
            checker.add(path, "", problem)
    for model, paths in added_versions.items():
        for path, problem in rules.one_version_per_merge(model, paths):
            checker.add(path, "", problem)
    for status, path in changes:
        kind = layout.classify(path)
        if not kind or kind[0] != "stages" or status == "D":
            continue
        if cfg is None:
            checker.add(path, "", NO_BASE_RULES)
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
    """Stages the branch changed (from its fork point) must be declared on the base and be
    entered from their required stage as the base holds it now (`rules.may_enter`).

    A stages.yaml the base cannot parse reads as empty (no version holds a stage there,
    the strictest reading); the ref's must parse (its problems are reported)."""
    old = stages_at(base_snap, base_snap.commit, model)
    now = stages_at(tip, tip.commit, model)
    try:
        new = stages_at(checker.snap, checker.snap.commit, model, strict=True)
    except ManifestError as e:
        for p in e.problems:
            checker.add(p.path, p.field, p.message)
        return
    released = None
    for stage, version in new.items():
        if old.get(stage) == version:
            continue
        rule = cfg.stage(stage)
        if rule is None:
            checker.add(path, stage, f"stage {stage!r} {UNDECLARED}")
            continue
        if rule.requires is None:
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
    a, b = _quiet(VersionManifest, base, path), _quiet(VersionManifest, head, path)
    return a is not None and b is not None and rules.same_but_status(a, b)


class _Reviews:
    """Warnings for the changes that alter the rules, with their owners on the base."""

    def __init__(self, checker: _Checker, fork: Snapshot, tip: Snapshot) -> None:
        self.checker, self.fork, self.tip = checker, fork, tip
        self.rules: RegistryConfig | None = _quiet(RegistryConfig, tip, layout.CONFIG_FILE)
        found = (tip.read(f) for f in rules.CODEOWNERS_FILES)
        self.codeowners = next((d.decode("utf-8", "replace") for d in found if d), "")

    def warn(self, path: str, field_: str, what: str) -> None:
        self.checker.report.warnings.append(rules.review(self.codeowners, path, field_, what))

    def config(self) -> None:
        old, new = _quiet(RegistryConfig, self.fork, layout.CONFIG_FILE), self.checker.cfg
        if old is None or new is None:
            self.warn(layout.CONFIG_FILE, "", "gitreg.yaml changed")
            return
        for field_, what in rules.config_changes(old, new):
            self.warn(layout.CONFIG_FILE, field_, what)

    def policies(self, models: list[str], changed: set[str]) -> None:
        for name in models:
            mfile = layout.model_file(name)
            new = self.checker.specs.get(name)
            if mfile in changed and new is not None:
                what = rules.policy_change(_quiet(ModelSpec, self.fork, mfile), new)
                if what:
                    self.warn(mfile, "evaluation", what)

    def files(self, changes: list[tuple[str, str]], models: list[str]) -> None:
        """Changed files that rules read, at the base or here: the evaluation data of
        `models` (or its .dvc pointer), the allowed signers of release tags."""
        users: dict[str, set[str]] = {}
        for name in models:
            mfile = layout.model_file(name)
            here = self.checker.specs.get(name) or _quiet(ModelSpec, self.checker.snap, mfile)
            for spec in (here, _quiet(ModelSpec, self.tip, mfile)):
                if spec is not None and spec.evaluation is not None:
                    users.setdefault(spec.evaluation.dataset, set()).add(name)
        watched = {ds: f"evaluation data of {', '.join(sorted(n))}" for ds, n in users.items()}
        for cfg in (self.rules, self.checker.cfg):
            if cfg is not None and cfg.signing is not None:
                watched[cfg.signing.allowed_signers] = "allowed signers of release tags"
        for status, path in changes:
            what = rules.watched_change(path, watched)
            if what:
                verb = {"A": "added", "D": "deleted"}.get(status, "changed")
                self.warn(path, "", f"{what} {verb}")


def validate(reg: Registry, base: str | None = None) -> ValidationReport:
    """Check the registry at `reg`'s ref; with `base`, check the change from base to it."""
    snap = reg.snapshot
    report = ValidationReport(ref=snap.ref, commit=snap.commit, base=base)
    checker = _Checker(snap, report)
    cfg = checker.config()
    all_models = sorted(e.name for e in snap.listdir(layout.MODELS_DIR) if e.is_tree)
    if base is None:
        checker.strays()
        top = [e for e in snap.listdir("") if e.name == layout.MODELS_DIR]
        # git lists the links while the models are checked; their problems still go first
        soon = PendingLinks(snap, [layout.MODELS_DIR]) if missing(reg.git, LINKS, top) else None
        try:
            models = [e for e in snap.listdir(layout.MODELS_DIR) if e.is_tree]
            salt = reg.git.blob_at(snap.commit, layout.CONFIG_FILE) or ""  # its rules judge
            check = lambda n: (checker.model(n, cfg, data=False), checker.dataset_of(n))[1]  # noqa: E731
            at = len(report.problems)
            checked = cached_checks(reg.git, "validate", models, report, check, salt, spread=True)
            end = len(report.problems)
            cached_checks(reg.git, LINKS, top, report, lambda n: checker.links([n], soon))
        finally:
            if soon is not None:
                soon.close()
        links = report.problems[end:]
        del report.problems[end:]
        report.problems[at:at] = links
        for name, ds in checked.items():
            checker.dataset(name, ds)
        report.models = all_models
        return report

    report.base = reg.git.commit_of(base)
    report.models = _check_change(reg, checker, base, report.base, all_models)
    return report


def _check_change(
    reg: Registry, checker: _Checker, base: str, base_commit: str, all_models: list[str]
) -> list[str]:
    """`validate --base`: the models the change touches, and the rules between commits (the
    base's). Returns the models checked."""
    snap = checker.snap
    # what the branch changed is measured from where it forked, so a branch that is behind
    # its base is not blamed for what the base did since; the rules are the base's own
    fork = reg.git.merge_base(base_commit, snap.commit) or base_commit
    every = reg.git.diff_names(fork, snap.commit)
    changes = [(s, p) for s, p in every if p.startswith(layout.MODELS_DIR + "/")]
    touched = {p.split("/")[1] for _, p in changes}
    config_changed = any(p == layout.CONFIG_FILE for _, p in every)
    targets = all_models if config_changed else sorted(touched & set(all_models))
    checker.strays(touched)
    checker.links(
        [layout.MODELS_DIR] if config_changed else [f"{layout.MODELS_DIR}/{m}" for m in targets]
    )
    for name in targets:
        checker.model(name, checker.cfg)
    with Snapshot(reg.git, fork, base) as fork_snap, Snapshot(reg.git, base_commit, base) as tip:
        reviews = _Reviews(checker, fork_snap, tip)
        _check_diff(checker, fork_snap, tip, reviews.rules, changes)
        if config_changed:
            reviews.config()
        reviews.policies(targets, {p for _, p in changes})
        # data outside models/ may be any model's; inside, only a touched model's
        outside = any(not p.startswith(layout.MODELS_DIR + "/") for _, p in every)
        reviews.files(every, all_models if outside else targets)
    return targets
