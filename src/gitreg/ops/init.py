"""`gitreg init`: a ready registry repository.

A new directory is built beside its final place and renamed into it, so a failed init
leaves nothing behind. In an existing git repository without a registry, the files are
added and committed on their own (other staged changes stay staged, not committed); on
failure the files this command created are removed again.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from gitreg.errors import RegistryError
from gitreg.model import editors, layout
from gitreg.model.actions import Reusable, parse_reusable
from gitreg.store import dvc, dvcconfig
from gitreg.store.git import Git
from gitreg.version import __version__

WORKFLOWS = ("validate.yml", "evaluate.yml", "release.yml")


@dataclass(frozen=True)
class InitResult:
    path: Path
    remote: str
    commit: str
    added_to_existing: bool
    files: list[str]


def _template(name: str) -> str:
    return (resources.files("gitreg") / "templates" / name).read_text()


def default_remote(path: Path) -> Path:
    """The embedded default: a local folder beside the registry, outside the repo."""
    return path.parent / f"{path.name}-dvc-remote"


def _with_extras(spec: str, extras: list[str]) -> str:
    """`gitreg==X` with `extras` added: gitreg[sklearn,s3]==X (extras already there kept)."""
    if not spec.startswith("gitreg") or spec[len("gitreg") : len("gitreg") + 1] not in "[=<>~!; ":
        return spec
    rest = spec[len("gitreg") :]
    have: list[str] = []
    if rest.startswith("["):
        inside, _, rest = rest[1:].partition("]")
        have = [e.strip() for e in inside.split(",") if e.strip()]
    wanted = have + [e for e in extras if e not in have]
    return f"gitreg[{','.join(wanted)}]{rest}" if wanted else spec


def remote_extras(remote_url: str) -> list[str]:
    """The gitreg extra a remote's DVC plugin comes with (`s3` for s3://...), if any."""
    plugin = dvcconfig.plugin_for(remote_url)
    if plugin is None or not plugin[1].startswith("gitreg["):
        return []
    return [plugin[1][len("gitreg[") : -1]]


def _workflow(name: str, pip_spec: str, extras: list[str], reusable: Reusable | None) -> str:
    """One workflow: a copy of the template, or (with `reusable`) a caller of the reusable
    workflow it mirrors. The evaluate workflow fetches artifacts (the remote's extra) and
    runs the built-in evaluator (sklearn)."""
    evaluate, plain = _with_extras(pip_spec, ["sklearn", *extras]), pip_spec
    text = _template(f"{'callers' if reusable else 'workflows'}/{name}")
    if reusable is not None:
        # a `with:` value: a JSON string is a YAML double-quoted scalar
        evaluate, plain = json.dumps(evaluate), json.dumps(plain)
        text = text.replace("__USES__", reusable.uses(f"registry-{name}"))
    return text.replace("__PIP_SPEC_EVAL__", evaluate).replace("__PIP_SPEC__", plain)


def _files(
    owners: list[str],
    pip_spec: str,
    github_repo: str | None,
    extras: list[str] | None = None,
    reusable: Reusable | None = None,
) -> dict[str, str]:
    codeowners = _template("CODEOWNERS")
    if owners:
        codeowners = codeowners.replace("@OWNER", " ".join(owners))
    else:
        codeowners = (
            "\n".join(
                ("# " + line if "@OWNER" in line and not line.startswith("#") else line)
                for line in codeowners.splitlines()
            )
            + "\n"
        )
    config = _template("gitreg.yaml")
    if github_repo:
        config += f"github:\n  repo: {github_repo}\n"
    files = {
        layout.CONFIG_FILE: config,
        "README.md": _template("README.md"),
        ".github/CODEOWNERS": codeowners,
        f"{layout.MODELS_DIR}/.gitkeep": "",
        f"{layout.DATA_DIR}/.gitkeep": "",
    }
    for wf in WORKFLOWS:
        files[f".github/workflows/{wf}"] = _workflow(wf, pip_spec, extras or [], reusable)
    return files


def _editor_files(path: Path, files: dict[str, str]) -> dict[str, str]:
    """The JSON Schemas in schemas/, the VS Code mapping to them (unless the repository has
    its own .vscode/settings.json, left as it is), a modeline atop gitreg.yaml."""
    out = {f"{editors.SCHEMA_DIR}/{n}": t for n, t in editors.schema_files().items()}
    if not (path / editors.VSCODE_SETTINGS).exists():
        out[editors.VSCODE_SETTINGS] = editors.vscode_settings()
    config = layout.CONFIG_FILE
    out[config] = editors.modeline(config, "gitreg.yaml") + files[config]
    return out


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def _commit(git: Git, paths: list[str]) -> str:
    git.run(["add", "--", *paths])
    git.run(
        ["commit", "--quiet", "--no-verify", "-m", "Initialize gitreg registry", "--", *paths],
        hint="set your identity: git config --global user.name/user.email",
    )
    return git.commit_of("HEAD")


DVC_PATHS = [".dvc/config", ".dvc/.gitignore", ".dvcignore"]


def _check_existing(path: Path, files: dict[str, str]) -> None:
    top = Git(path).toplevel()
    if top is None or top.resolve() != path.resolve():
        raise RegistryError(
            f"{path} is not empty and not the top of a git repository",
            "give an empty or new directory, or the root of a git repo to add a registry to",
        )
    if (path / layout.CONFIG_FILE).exists():
        raise RegistryError(f"{path} already holds a registry ({layout.CONFIG_FILE} exists)")
    clash = [f for f in [*files, ".dvc"] if (path / f).exists() and not f.endswith(".gitkeep")]
    if clash:
        raise RegistryError(
            f"{path}: {', '.join(clash)} already exist(s); gitreg init will not overwrite",
            "move them aside and run gitreg init again",
        )


def _add_to_existing(
    path: Path, files: dict[str, str], remote_url: str, options: dict[str, str]
) -> str:
    """Write and commit the registry files in an existing repository; undo on failure."""
    _check_existing(path, files)
    created = [path / rel for rel in files if not (path / rel).exists()]
    created += [path / ".dvc", path / ".dvcignore"]
    try:
        _write(path, files)
        dvc.init_dvc(path, remote_url, options=options)
        return _commit(Git(path), [*files, *DVC_PATHS])
    except BaseException:
        for p in created:
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
        Git(path).run(["reset", "--quiet", "--", *files, *DVC_PATHS], check=False)
        raise


def _create_new(path: Path, files: dict[str, str], remote_url: str, options: dict[str, str]) -> str:
    """Build the registry beside `path` and rename it into place: all or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}-init-", dir=path.parent))
    try:
        git = Git(staging)
        git.run(["init", "--quiet", "--initial-branch=main"])
        _write(staging, files)
        dvc.init_dvc(staging, remote_url, options=options)
        commit = _commit(git, [*files, *DVC_PATHS])
        if path.exists():
            path.rmdir()
        staging.rename(path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return commit


def init_registry(
    path: Path,
    remote: str | None = None,
    owners: list[str] | None = None,
    github_repo: str | None = None,
    pip_spec: str | None = None,
    remote_options: list[str] | None = None,
    reusable: str | None = None,
) -> InitResult:
    """A registry at `path`: a new one, or added to the git repository rooted there.

    `remote_options` (`KEY=VALUE`, as DVC's `remote modify` takes them, credentials
    refused) are set on the remote; `reusable` (`OWNER/REPO@REF`) makes the workflows thin
    callers of that repository's reusable ones instead of copies."""
    path = path.absolute()
    spec = pip_spec or f"gitreg=={__version__}"
    remote_url = remote or str(default_remote(path))
    options = dict(dvcconfig.remote_option(o) for o in remote_options or [])
    dvc.check_remote_options(remote_url, options)
    where = parse_reusable(reusable) if reusable else None
    files = _files(owners or [], spec, github_repo, remote_extras(remote_url), where)
    files.update(_editor_files(path, files))
    existing = path.exists() and any(path.iterdir())
    if existing:
        commit = _add_to_existing(path, files, remote_url, options)
    else:
        commit = _create_new(path, files, remote_url, options)
    if remote is None:
        Path(remote_url).mkdir(parents=True, exist_ok=True)
    return InitResult(path, remote_url, commit, existing, sorted([*files, *DVC_PATHS]))
