"""Registering a model version, atomically.

DVC works in a temporary scm-less project (the registry's DVC config, its own cache): the
artifacts are copied in, tracked and pushed there. The commit is built from git objects in
a temporary index (no checkout, so the cost does not grow with the registry). Only when
everything succeeded does one `git update-ref` create the branch (or move the current one
with `--here`, whose new files are then checked out), and the new cache objects are linked
into the registry's DVC cache. Any failure or Ctrl-C before that leaves the user's working
tree, index, branches and DVC cache as they were.
"""

from __future__ import annotations

import os
import platform
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gitreg.errors import Conflict, ManifestError, RegistryError, UsageError
from gitreg.model import layout, rules, yamlio
from gitreg.model.manifest import Framework, Lineage, ModelSpec, RunLineage, Stages, VersionManifest
from gitreg.model.schema import validation_problems, version_path_problems
from gitreg.registry.reader import Registry
from gitreg.store import dvc, formats, inputs
from gitreg.store.dvc import TrackedFile
from gitreg.store.dvcproject import dvc_project
from gitreg.store.git import Git
from gitreg.store.progress import Progress


@dataclass
class RegisterRequest:
    name: str
    version: str
    artifacts: list[Path]
    metrics: Path | None = None
    params: Path | None = None
    description: str = ""
    model_description: str | None = None
    owners: list[str] = field(default_factory=list)
    task: str | None = None
    code_repo: str | None = None
    code_commit: str | None = None
    datasets: list[str] = field(default_factory=list)
    run_url: str | None = None
    run_id: str | None = None
    framework: str | None = None
    here: bool = False


@dataclass(frozen=True)
class Registration:
    name: str
    version: str
    branch: str
    commit: str
    manifest: VersionManifest
    created_model: bool
    remote_url: str | None
    pushed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "branch": self.branch,
            "commit": self.commit,
            "created_model": self.created_model,
            "remote": self.remote_url,
            "pushed": self.pushed,
            "manifest": self.manifest.to_dict(),
        }


def branch_name(name: str, version: str) -> str:
    return f"gitreg/register/{name}/{version}"


def _now() -> datetime:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc)
    return datetime.now(timezone.utc).replace(microsecond=0)


def _usage(e: ValidationError, hint: str) -> UsageError:
    """A flag's value that the manifest models refuse, as a usage error naming the field."""
    problems = validation_problems("command line", e)
    return UsageError("; ".join(f"{p.field}: {p.message}" for p in problems), hint)


def _plan_checks(reg: Registry, req: RegisterRequest) -> bool:
    """Refuse bad requests before any work. Returns True if the model is new."""
    name_problem = layout.name_problem(req.name) or rules.ref_name_problem(req.name)
    for problem in (name_problem, layout.version_problem(req.version)):
        if problem:
            raise UsageError(problem)
    if not req.artifacts:
        raise UsageError("give at least one --artifact PATH")
    names = [a.name.casefold() for a in req.artifacts]
    if len(set(names)) != len(names):
        raise UsageError("two --artifact paths have the same file name (ignoring case); rename one")
    for a in req.artifacts:
        inputs.check_artifact(a)
    new_model = not reg.has_model(req.name)
    if new_model:
        try:
            _model_spec(req)
        except ValidationError as e:
            hint = "--owner takes @user, @org/team or an email; --task and names are plain text"
            raise _usage(e, hint) from None
    if not new_model and req.version in reg.versions(req.name):
        raise Conflict(
            f"{req.name}@{req.version} is already registered at {reg.snapshot.ref}",
            "versions are immutable: register a new version number",
            ref=layout.version_file(req.name, req.version),
        )
    if not req.here and reg.git.branch_exists(branch_name(req.name, req.version)):
        raise Conflict(
            f"branch {branch_name(req.name, req.version)} already exists",
            "delete it (git branch -D ...) or register with --here",
            ref=f"refs/heads/{branch_name(req.name, req.version)}",
        )
    return new_model


def _author(git: Git) -> str:
    """Who registers, as git decides a commit's author: GIT_AUTHOR_NAME/GIT_AUTHOR_EMAIL,
    then user.name/user.email."""
    name = os.environ.get("GIT_AUTHOR_NAME") or git.config_get("user.name")
    email = os.environ.get("GIT_AUTHOR_EMAIL") or git.config_get("user.email")
    if not name or not email:
        raise RegistryError(
            "git does not know who you are (user.name / user.email are not set)",
            'run: git config --global user.name "Your Name" && '
            "git config --global user.email you@example.com",
        )
    return f"{name} <{email}>"


def _framework(req: RegisterRequest) -> Framework | None:
    if req.framework:
        name, _, version = req.framework.partition("==")
        return Framework(name=name, version=version or formats.installed_version(name))
    for a in req.artifacts:
        found = formats.detect_framework(a, formats.file_format(a))
        if found:
            return Framework(name=found, version=formats.installed_version(found))
    return None


def _model_spec(req: RegisterRequest) -> ModelSpec:
    return ModelSpec.model_validate(
        {
            "schema": layout.SCHEMA_ID,
            "name": req.name,
            "description": req.model_description or req.description,
            "owners": req.owners,
            "task": req.task,
        }
    )


def _refuse_dirty(git: Git, paths: list[str]) -> None:
    """--here writes these paths into the working tree: refuse to overwrite edits in them."""
    out = git.run(["status", "--porcelain", "--untracked-files=all", "--", *paths])
    dirty = [line[3:] for line in out.splitlines() if line.strip()]
    if dirty:
        listed = ", ".join(dirty)
        raise RegistryError(
            f"uncommitted changes in {listed}: --here would overwrite them",
            "commit or stash them first, or register without --here (on a new branch)",
        )


def _new_model_files(reg: Registry, req: RegisterRequest) -> dict[str, bytes]:
    """model.yaml, an empty stages.yaml and (with owners) a CODEOWNERS line."""
    stages = Stages.model_validate({"schema": layout.SCHEMA_ID})
    files = {
        layout.model_file(req.name): _model_spec(req).to_yaml().encode(),
        layout.stages_file(req.name): yamlio.dump(stages.model_dump(by_alias=True)).encode(),
    }
    if req.owners:
        old = reg.snapshot.read(layout.CODEOWNERS) or b""
        if old and not old.endswith(b"\n"):
            old += b"\n"
        line = f"/{layout.model_dir(req.name)}/ {' '.join(req.owners)}\n"
        files[layout.CODEOWNERS] = old + line.encode()
    return files


def _dvc_yaml(reg: Registry, req: RegisterRequest, rel_paths: list[str], adir: str) -> bytes:
    """Point DVC's `artifacts:` entry for the model at this version, for `dvc artifacts get`.

    The registration tag lands on the commit that adds this version, so dvc.yaml must be
    right in that same commit.
    """
    old = reg.snapshot.read("dvc.yaml")
    entry = {"path": rel_paths[0] if len(rel_paths) == 1 else adir, "type": "model"}
    if req.description:
        entry["desc"] = req.description
    text = old.decode() if old else ""
    return yamlio.roundtrip_set_in(text, ["artifacts", req.name], entry).encode()


def _stage_artifacts(req: RegisterRequest, project: Path, adir: str) -> list[str]:
    (project / adir).mkdir(parents=True)
    rel_paths = []
    for a in req.artifacts:
        dest = project / adir / a.name
        if a.is_dir():
            shutil.copytree(a, dest, symlinks=False)
        else:
            shutil.copy2(a, dest)
        rel_paths.append(f"{adir}/{a.name}")
    return rel_paths


def _lineage(req: RegisterRequest) -> tuple[Any, dict[str, Any], Lineage]:
    """Metrics, params and lineage from the request's files and flags."""
    try:
        metrics = inputs.metrics_file(req.metrics)
        params = inputs.load_data_file(req.params, "params") if req.params else {}
        run = RunLineage(id=req.run_id, url=req.run_url) if (req.run_id or req.run_url) else None
        lineage = Lineage(
            code=inputs.code_lineage(req.artifacts, req.code_repo, req.code_commit),
            data=[inputs.data_lineage(d) for d in req.datasets],
            run=run,
        )
    except ValidationError as e:
        hint = "--code-commit takes a full or abbreviated commit hash (7-64 hex digits)"
        raise _usage(e, hint) from None
    return metrics, params, lineage


def _manifest(
    req: RegisterRequest, author: str, tracked: list[TrackedFile], facts: tuple[Any, Any, Lineage]
) -> VersionManifest:
    metrics, params, lineage = facts
    manifest = VersionManifest.model_validate(
        {
            "schema": layout.SCHEMA_ID,
            "name": req.name,
            "version": req.version,
            "created": _now(),
            "author": author,
            "description": req.description,
            "artifacts": [
                {"path": t.path, "md5": t.md5, "size": t.size, "format": formats.file_format(a)}
                for t, a in zip(tracked, req.artifacts)
            ],
            "framework": _framework(req),
            "metrics": metrics,
            "params": params,
            "lineage": lineage,
            "environment": {"python": platform.python_version()},
        }
    )
    problems = version_path_problems(manifest, layout.version_file(req.name, req.version))
    if problems:
        raise ManifestError(problems)
    return manifest


def _target_branch(git: Git, req: RegisterRequest) -> str:
    current = git.current_branch()
    if req.here and current is None:
        raise RegistryError("HEAD is detached: --here needs a branch", "check out a branch")
    if req.here and current:
        _refuse_dirty(git, [layout.model_dir(req.name), "dvc.yaml", layout.CODEOWNERS])
        return current
    return branch_name(req.name, req.version)


def _files(
    reg: Registry, req: RegisterRequest, new_model: bool, project: Path, rel_paths: list[str],
    manifest: VersionManifest,
) -> dict[str, bytes]:  # fmt: skip
    """Every file the registration commit writes."""
    adir = layout.artifacts_dir(req.name, req.version)
    files = {layout.version_file(req.name, req.version): manifest.to_yaml().encode()}
    files.update(_new_model_files(reg, req) if new_model else {})
    for p in rel_paths:
        files[p + ".dvc"] = (project / (p + ".dvc")).read_bytes()
    ignored = "".join(f"/{p.rsplit('/', 1)[-1]}\n" for p in rel_paths)
    files[f"{adir}/.gitignore"] = ignored.encode()
    files["dvc.yaml"] = _dvc_yaml(reg, req, rel_paths, adir)
    return files


def register(
    root: Path, req: RegisterRequest, push: bool = False, progress: Progress | None = None
) -> Registration:
    """Register `req` in the registry at `root`. See the module docstring for atomicity.
    `progress` hears how the artifacts' caching and upload advance."""
    root = Path(root)
    with Registry.open(root, "HEAD") as reg:
        new_model = _plan_checks(reg, req)
        git, base = reg.git, reg.commit
        remote_url = reg.dvc_remote_url()
        facts = _lineage(req)
        author = _author(git)
        branch = _target_branch(git, req)
        target = f"refs/heads/{branch}"
        with tempfile.TemporaryDirectory(prefix="gitreg-register-") as tmp:
            # DVC works in a small scm-less project with a cache of its own: nothing the user
            # has is touched until the very end, and the cost does not grow with the registry
            project = Path(tmp) / "project"
            dvc_project(git, project, base, [], local_root=root, cache=Path(tmp) / "cache")
            rel_paths = _stage_artifacts(req, project, layout.artifacts_dir(req.name, req.version))
            remote = reg.config.dvc_remote
            tracked = dvc.add_and_push(project, rel_paths, remote, progress)
            manifest = _manifest(req, author, tracked, facts)
            files = _files(reg, req, new_model, project, rel_paths, manifest)
            commit = git.commit_files(base, files, f"Register {req.name} {req.version}\n")
            reflog = f"gitreg register {req.name} {req.version}"
            git.update_ref(target, commit, base if req.here else "", reflog)
            if req.here:
                git.run(["checkout", commit, "--", *files])
            dvc.copy_cache(project, root)
    if push:
        git.run(
            ["push", "--quiet", "--", "origin", f"{target}:{target}"],
            hint=f"the version is registered locally on {branch}; push it with "
            f"`git push origin {branch}` once origin is reachable",
        )
    return Registration(
        name=req.name,
        version=req.version,
        branch=branch,
        commit=commit,
        manifest=manifest,
        created_model=new_model,
        remote_url=remote_url,
        pushed=push,
    )
