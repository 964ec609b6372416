"""`gitreg resolve`: what a deploy tool asks, answered from tags (the released state) only.

`name@1.3.0`, `name@latest` (highest non-prerelease, not deprecated) and `name@<stage>` are
answered from the model's own tags (one `for-each-ref`) and one manifest blob at the tagged
commit. For a remote `--repo URL`, `git ls-remote` finds the tag and a shallow fetch of just
that tag fills a cache repository that is reused and safe under concurrent use.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import dvcconfig, layout, tags, yamlio
from .errors import ManifestError, NotFoundError, RegistryError, UsageError
from .gitops import Git, Snapshot
from .semver import is_semver, latest

if TYPE_CHECKING:
    from .manifest import VersionManifest


@dataclass(frozen=True)
class ResolvedArtifact:
    path: str
    md5: str
    size: int
    url: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "md5": self.md5, "size": self.size, "url": self.url}


@dataclass(frozen=True)
class ResolvedVersion:
    """One released model version: what `resolve --json` prints and `pull` downloads."""

    name: str
    version: str
    stage: str | None
    tag: str
    commit: str
    manifest_data: dict[str, Any]
    manifest_path: str
    artifacts: list[ResolvedArtifact]
    remote_url: str | None
    repo: str
    _parsed: list[VersionManifest] = field(default_factory=list, repr=False, compare=False)

    @property
    def manifest(self) -> VersionManifest:
        """The version manifest, fully validated (parsed on first use: pydantic is slow to load)."""
        if not self._parsed:
            from .manifest import VersionManifest, parse

            self._parsed.append(
                parse(VersionManifest, yamlio.dump(self.manifest_data), self.manifest_path)
            )
        return self._parsed[0]

    @property
    def metrics(self) -> dict[str, float]:
        return self.manifest.metrics.flat()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "stage": self.stage,
            "tag": self.tag,
            "commit": self.commit,
            "manifest": self.manifest_data,
            "artifacts": [a.to_dict() for a in self.artifacts],
        }


_MD5 = re.compile(r"^[0-9a-f]{32}(\.dir)?$")


def _artifacts(data: Any, path: str, name: str, version: str) -> list[tuple[str, str, int]]:
    """The deploy-relevant part of a manifest, checked strictly without pydantic."""
    if not isinstance(data, dict):
        raise ManifestError.single(path, "", "expected a YAML mapping")
    if data.get("name") != name or data.get("version") != version:
        raise ManifestError.single(path, "name", f"does not describe {name}@{version}")
    arts = data.get("artifacts")
    if not isinstance(arts, list) or not arts:
        raise ManifestError.single(path, "artifacts", "must be a non-empty list")
    root = layout.artifacts_dir(name, version)
    out = []
    for i, a in enumerate(arts):
        ok = (
            isinstance(a, dict)
            and isinstance(a.get("path"), str)
            and layout.is_inside(a["path"], root)
            and isinstance(a.get("md5"), str)
            and _MD5.match(a["md5"])
            and type(a.get("size")) is int
            and a["size"] >= 0
        )
        if not ok:
            raise ManifestError.single(
                path, f"artifacts[{i}]", f"needs path under {root}/, an md5 and a size >= 0"
            )
        out.append((a["path"], a["md5"], a["size"]))
    return out


def split_ref(ref: str) -> tuple[str, str]:
    name, sep, what = ref.partition("@")
    if not sep or not name or not what:
        raise UsageError(
            f"{ref!r}: expected NAME@VERSION, NAME@latest or NAME@STAGE",
            "e.g. churn@1.3.0, churn@latest, churn@production",
        )
    problem = layout.name_problem(name)
    if problem:
        raise UsageError(problem)
    return name, what.removeprefix("v") if is_semver(what.removeprefix("v")) else what


def object_url(remote: str | None, md5: str) -> str | None:
    """Where DVC 3 keeps an object in a remote."""
    if not remote:
        return None
    return f"{remote.rstrip('/')}/files/md5/{md5[:2]}/{md5[2:]}"


def pick_tag(model_tags: list[tags.Tag], name: str, what: str) -> tuple[tags.Tag, str, str | None]:
    """The tag that answers `name@what`: (tag, version, stage)."""
    state = tags.released_state(model_tags)
    if not model_tags:
        raise NotFoundError(
            f"{name}: no released tags (model unknown, or never released)",
            "tags are written by `gitreg release` on main; `gitreg list` shows unreleased state",
        )
    if what == "latest":
        live = [v for v in state.registered if v not in state.deprecated]
        version = latest(live)
        if version is None:
            raise NotFoundError(f"{name}@latest: no released, active, non-prerelease version")
        return state.registered[version], version, None
    if is_semver(what):
        if what not in state.registered:
            known = ", ".join(sorted(state.registered)) or "none"
            raise NotFoundError(f"{name}@{what}: not released (released versions: {known})")
        return state.registered[what], what, None
    tag = state.stages.get(what)
    version = state.stage_version(what)
    if tag is None or version is None:
        held = ", ".join(sorted(state.stage_map())) or "none"
        raise NotFoundError(
            f"{name}@{what}: no version holds stage {what!r} (stages held: {held})",
            "check the stage name, or whether the promotion was merged and released",
        )
    return tag, version, what


def read_release(
    git: Git, tag: tags.Tag, name: str, version: str, stage: str | None, repo: str
) -> ResolvedVersion:
    """The manifest and artifact URLs at a tag's commit."""
    with Snapshot(git, tag.commit, tag.name) as snap:
        vfile = layout.version_file(name, version)
        data = snap.read(vfile)
        if data is None:
            raise RegistryError(
                f"tag {tag.name} points to {tag.commit[:12]}, which has no {vfile}",
                "the tag is wrong; run `gitreg doctor`",
            )
        where = f"{vfile}@{tag.name}"
        manifest = yamlio.load(data, where)
        arts = _artifacts(manifest, where, name, version)
        remote = None
        cfg_data, dvc_data = snap.read(layout.CONFIG_FILE), snap.read(".dvc/config")
        if dvc_data is not None:
            cfg = yamlio.load(cfg_data, layout.CONFIG_FILE) if cfg_data else None
            remote_name = cfg.get("dvc_remote") if isinstance(cfg, dict) else None
            remote = dvcconfig.remote_url(
                dvc_data.decode(), remote_name if isinstance(remote_name, str) else None
            )
    return ResolvedVersion(
        name=name,
        version=version,
        stage=stage,
        tag=tag.name,
        commit=tag.commit,
        manifest_data=manifest,
        manifest_path=where,
        remote_url=remote,
        repo=repo,
        artifacts=[ResolvedArtifact(p, m, s, object_url(remote, m)) for p, m, s in arts],
    )


# --- remote repositories ----------------------------------------------------------------------


def is_url(repo: str) -> bool:
    return "://" in repo or (repo.count(":") == 1 and "@" in repo.split(":")[0])


def cache_root() -> Path:
    base = os.environ.get("GITREG_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME")
    return Path(base) / "gitreg" if base else Path.home() / ".cache" / "gitreg"


def _cache_repo(url: str) -> Path:
    """A bare repository for `url` in the cache, created atomically on first use."""
    key = hashlib.sha256(url.encode()).hexdigest()[:24]
    path = cache_root() / "repos" / key
    if (path / "HEAD").is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".init-", dir=path.parent))
    Git(tmp).run(["init", "--quiet", "--bare"])
    try:
        os.rename(tmp, path)
    except OSError:  # another process made it first
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def remote_tags(url: str, name: str) -> list[tags.Tag]:
    """The model's tags on a remote, from `git ls-remote` alone (peeled commits included)."""
    out = Git(".").run(
        ["ls-remote", "--tags", url, *[f"refs/tags/{p}" for p in tags.model_patterns(name)]],
        hint=f"check that {url} is a git repository you can read",
    )
    direct: dict[str, str] = {}
    peeled: dict[str, str] = {}
    for line in out.splitlines():
        sha, _, ref = line.partition("\t")
        ref = ref.removeprefix("refs/tags/")
        if ref.endswith("^{}"):
            peeled[ref[:-3]] = sha
        else:
            direct[ref] = sha
    found = []
    for ref, sha in direct.items():
        parsed = tags.parse_name(ref)
        if parsed is None or parsed.model != name:
            continue
        found.append(tags.Tag(ref, parsed, peeled.get(ref, sha), ref in peeled, "", "", ""))
    return found


def fetch_tag(url: str, tag: str) -> Git:
    """The cache repository for `url`, holding `tag` (fetched shallow if not there yet)."""
    repo = _cache_repo(url)
    git = Git(repo)
    if git.rev_parse(f"refs/tags/{tag}") is None:
        with open(repo / "gitreg.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if git.rev_parse(f"refs/tags/{tag}") is None:
                git.run(
                    [
                        "fetch",
                        "--quiet",
                        "--depth=1",
                        "--no-tags",
                        url,
                        f"refs/tags/{tag}:refs/tags/{tag}",
                    ],
                    hint=f"check that {url} is reachable",
                )
    return git


def resolve(ref: str, repo: str = ".") -> ResolvedVersion:
    """Resolve `name@version|latest|stage` in a local registry or a remote URL."""
    name, what = split_ref(ref)
    if is_url(repo):
        tag, version, stage = pick_tag(remote_tags(repo, name), name, what)
        return read_release(fetch_tag(repo, tag.name), tag, name, version, stage, repo)
    top = Git(repo).toplevel()
    if top is None:
        raise RegistryError(f"{repo} is not inside a git repository", "pass -C PATH or a URL")
    git = Git(top)
    tag, version, stage = pick_tag(tags.model_tags(git, name), name, what)
    return read_release(git, tag, name, version, stage, str(top))
