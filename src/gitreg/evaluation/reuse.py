"""Reusing evaluation results: what a result depends on, and the cache that keeps it.

A result is keyed by the version's artifact md5s, the data set's md5, the evaluator and
its version (the built-in one: gitreg's and its libraries' versions and the allow-list;
a command: its argv and the git objects of the files it names), the whole evaluation
policy (thresholds, target, slices, significance settings) and the task. The cache is
`store.results`; which runs may fill one that others trust: docs/security.md. `stored`
finds the result of one version under a policy without running anything (`gitreg card`).
"""

from __future__ import annotations

import importlib.metadata
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from gitreg.errors import GitError, RegistryError
from gitreg.evaluation.tree import dataset_id, export_tree
from gitreg.model import layout
from gitreg.model import measurement as records
from gitreg.model.manifest import Evaluation, ModelSpec, VersionManifest
from gitreg.model.measurement import Measurement
from gitreg.store import results
from gitreg.store.git import Git
from gitreg.version import __version__

LIBRARIES = ("scikit-learn", "numpy", "scipy", "skops", "onnxruntime", "xgboost", "lightgbm")


def identity(
    git: Git, ev: Evaluation, policy_commit: str, tree: Path, allowed: Sequence[str]
) -> dict[str, Any]:
    """What identifies the evaluator: the built-in one, the libraries it runs with and the
    pickle imports it allows (a cached result must not outlive a tightened allow-list), or
    the command and the git objects of the files it names in the tree."""
    if ev.command is None:
        libs = {}
        for lib in LIBRARIES:
            try:
                libs[lib] = importlib.metadata.version(lib)
            except importlib.metadata.PackageNotFoundError:
                continue
        return {"builtin": __version__, "libraries": libs, "allowed": sorted(allowed)}
    named = [a for a in ev.command if _in_tree(tree, a)]
    return {"command": ev.command, "files": {a: git.blob_at(policy_commit, a) for a in named}}


def _repo_path(arg: str) -> bool:
    """Whether a command's argument can name a file of the registry."""
    try:
        return len(arg) < 1024 and layout.is_repo_path(arg)
    except ValueError:
        return False


def _in_tree(tree: Path, arg: str) -> bool:
    """Whether a command's argument names a file of the exported tree."""
    try:
        return _repo_path(arg) and (tree / arg).is_file()
    except OSError:
        return False


def facts(dataset_md5: str, ev: Evaluation, evaluator: dict[str, Any]) -> dict[str, Any]:
    """What every result of one gate shares (and its report's `environment` shows)."""
    sig = ev.significance
    return {
        "dataset_md5": dataset_md5,
        "seed": sig.seed if sig else None,
        "evaluator": "builtin" if ev.command is None else "command",
        "identity": evaluator,
    }


def gate_facts(
    git: Git, ev: Evaluation, policy: tuple[str, str], tree: Path, allowed: Sequence[str]
) -> dict[str, Any]:
    """`facts` of a gate whose policy is at `policy` (commit, label), its tree in `tree`."""
    md5 = dataset_id(git, ev.dataset, policy, tree)[1]
    return facts(md5, ev, identity(git, ev, policy[0], tree, allowed))


def key(spec: ModelSpec, vm: VersionManifest, shared: dict[str, Any]) -> str:
    assert spec.evaluation is not None
    return records.cache_key(
        {
            "artifacts": sorted(a.md5 for a in vm.artifacts),
            "dataset": shared["dataset_md5"],
            "evaluator": shared["identity"],
            "policy": spec.evaluation.model_dump(mode="json"),
            "task": spec.task,
            "gitreg": __version__,
        }
    )


def lookup(folder: Path | None, entry: str, version: str) -> Measurement | None:
    """The cached measurement of key `entry` for `version` (another version with the same
    artifacts has the same key), or None (absent or corrupt: measure again)."""
    data = results.load(folder, entry)
    found = records.from_record(data) if data is not None else None
    if found is None:
        return None
    log = replace(found.log, version=version) if found.log is not None else None
    return replace(found, version=version, log=log)


def stored_facts(
    git: Git, spec: ModelSpec, policy: tuple[str, str], allowed: Sequence[str]
) -> dict[str, Any] | None:
    """`gate_facts` of `spec`'s policy at `policy` (commit, label) when this clone stores
    results at all, else None: no cache, or a policy whose data set cannot be identified.
    One call serves every version of the model (`key` then differs by artifacts only)."""
    folder = results.cache_dir(git)
    if spec.evaluation is None or folder is None or not folder.is_dir():
        return None
    ev = spec.evaluation
    named = [ev.dataset, ev.dataset + ".dvc", *(ev.command or [])]
    # only what the key reads (the data set's pointer, the files the command names), not
    # the whole registry: a card must not cost an export of every model's files
    wanted = sorted({p for p in named if _repo_path(p) and git.blob_at(policy[0], p)})
    with tempfile.TemporaryDirectory(prefix="gitreg-stored-") as tmp:
        tree = Path(tmp) / "tree"
        try:
            export_tree(git, policy[0], tree, wanted)
            return gate_facts(git, spec.evaluation, policy, tree, allowed)
        except (RegistryError, GitError):
            return None  # evaluate would refuse this policy or tree: nothing of it is stored


def stored(
    git: Git, spec: ModelSpec, vm: VersionManifest, policy: tuple[str, str], allowed: Sequence[str]
) -> Measurement | None:
    """The stored measurement of `vm` that `gitreg evaluate NAME VERSION` would reuse under
    `spec`'s policy at `policy` (commit, label) with the pickle imports `allowed`, or None
    (`stored_facts`: no cache, or no identifiable data set; or no entry with that key)."""
    shared = stored_facts(git, spec, policy, allowed)
    if shared is None:
        return None
    return lookup(results.cache_dir(git), key(spec, vm, shared), vm.version)


def provenance(folder: Path | None, entry: str) -> dict[str, str | None]:
    """When the result of `entry` was stored and the commit whose policy it was measured
    under (`store` writes both; None for a result stored before it did)."""
    data = results.load(folder, entry) or {}
    return {f: v if isinstance(v := data.get(f), str) else None for f in ("stored_at", "commit")}


def store(
    folder: Path | None,
    entry: str,
    m: Measurement,
    commit: str | None = None,
    model: str | None = None,
) -> None:
    """Keep a successful measurement (a failed one is measured again next time), with when
    it was stored, the commit of the policy it was measured under (`provenance`) and the
    model's name (`results.models`: which models a reader needs to look up at all)."""
    if m.error is None and not m.cached:
        when = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        # the model first: `results.models` reads it from the file's first bytes
        record = {"model": model, **records.to_record(m), "stored_at": when, "commit": commit}
        results.save(folder, entry, record)


def with_environment(m: Measurement, shared: dict[str, Any]) -> Measurement:
    """The measurement with gitreg's side of its run's environment."""
    env = {**m.environment, "dataset_md5": shared["dataset_md5"], "seed": shared["seed"]}
    env |= {"evaluator": shared["evaluator"], "gitreg": __version__}
    return replace(m, environment=env)


def note(role: str, m: Measurement, entry: str) -> str:
    return (
        f"{role} {m.version}: result reused from the cache (key {entry[:12]}), not measured "
        "again; --no-cache measures it"
    )
