"""A released version as tags record it: the manifest and artifact URLs at a tag's commit.

What `resolve --json` prints and `pull` downloads. Read without pydantic (the deploy-relevant
fields are checked by hand) so that `resolve` stays fast; `.manifest` validates in full on
first use.
"""

from __future__ import annotations

import re

from gitreg.errors import ManifestError, NotFound, RegistryError
from gitreg.model import layout, tags, yamlio
from gitreg.record import Record
from gitreg.store import dvcconfig, refs
from gitreg.store.git import Git
from gitreg.store.remote import check_repo, fetch_tag, is_url, remote_tags
from gitreg.store.snapshot import Snapshot

TYPE_CHECKING = False  # not typing's: resolve does not import typing (docs/performance.md)
if TYPE_CHECKING:
    from typing import Any

    from gitreg.model.manifest import VersionManifest


class ResolvedArtifact(Record):
    __slots__ = ("path", "md5", "size", "url")  # noqa: RUF023 - the fields' order
    path: str
    md5: str
    size: int
    url: str | None

    def __init__(self, path: str, md5: str, size: int, url: str | None) -> None:
        self.path, self.md5, self.size, self.url = path, md5, size, url


class ResolvedVersion(Record):
    """One released model version: what `resolve --json` prints and `pull` downloads."""

    __slots__ = (  # noqa: RUF023 - the fields' order
        "name",
        "version",
        "stage",
        "tag",
        "commit",
        "manifest_data",
        "manifest_path",
        "artifacts",
        "remote_url",
        "repo",
        "status",
        "deprecated_by",
        "verified",
        "_parsed",
    )
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
    status: str  # "deprecated" once a `name@vX!` tag exists
    deprecated_by: str | None  # the commit of main that deprecated it
    verified: bool  # the tag passed every release check (registry/audit.py)
    _parsed: list[VersionManifest]

    def __init__(
        self,
        *,
        name: str,
        version: str,
        stage: str | None,
        tag: str,
        commit: str,
        manifest_data: dict[str, Any],
        manifest_path: str,
        artifacts: list[ResolvedArtifact],
        remote_url: str | None,
        repo: str,
        status: str = "active",
        deprecated_by: str | None = None,
        verified: bool = False,
    ) -> None:
        self.name, self.version, self.stage, self.tag = name, version, stage, tag
        self.commit, self.manifest_data, self.manifest_path = commit, manifest_data, manifest_path
        self.artifacts, self.remote_url, self.repo = artifacts, remote_url, repo
        self.status, self.deprecated_by, self.verified = status, deprecated_by, verified
        self._parsed = []

    @property
    def manifest(self) -> VersionManifest:
        """The version manifest, fully validated (parsed on first use: pydantic is slow to load)."""
        if not self._parsed:
            from gitreg.model.manifest import VersionManifest
            from gitreg.model.schema import parse

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
            "status": self.status,
            "deprecated_by": self.deprecated_by,
            "verified": self.verified,
            "manifest": self.manifest_data,
            "artifacts": [a.to_dict() for a in self.artifacts],
        }


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
            and layout.MD5_RE.match(a["md5"])
            and type(a.get("size")) is int
            and a["size"] >= 0
        )
        if not ok:
            raise ManifestError.single(
                path, f"artifacts[{i}]", f"needs path under {root}/, an md5 and a size >= 0"
            )
        out.append((a["path"], a["md5"], a["size"]))
    names = [p.rsplit("/", 1)[-1] for p, _, _ in out]
    if len(set(names)) != len(names):
        raise ManifestError.single(
            path,
            "artifacts",
            "two artifacts share a file name: pull would write one over the other",
        )
    return out


def split_ref(ref: str) -> tuple[str, str]:
    """`name@what` -> (name, what), by the one grammar (`tags.split_ref`)."""
    name, what = tags.split_ref(ref)
    assert what is not None  # required
    return name, what


def object_url(remote: str | None, md5: str) -> str | None:
    """Where DVC 3 keeps an object in a remote."""
    if not remote:
        return None
    return f"{remote.rstrip('/')}/files/md5/{md5[:2]}/{md5[2:]}"


def read_release(
    git: Git,
    tag: tags.Tag,
    name: str,
    version: str,
    stage: str | None,
    repo: str,
    deprecated: tags.Tag | None = None,
) -> ResolvedVersion:
    """The manifest and artifact URLs at a tag's commit; `deprecated`: the version's
    deprecation tag, if it has one."""
    with Snapshot(git, tag.commit, tag.name) as snap:
        vfile = layout.version_file(name, version)
        data = snap.read(vfile)
        if data is None:
            raise NotFound(
                f"tag {tag.name} points to {tag.commit[:12]}, which has no {vfile}",
                "the tag is wrong; run `gitreg doctor`",
                kind="file",
                name=vfile,
                where=tag.name,
            )
        where = f"{vfile}@{tag.name}"
        manifest = yamlio.load(data, where)
        arts = _artifacts(manifest, where, name, version)
        remote = None
        cfg_data, dvc_data = snap.read(layout.CONFIG_FILE), snap.read(layout.DVC_CONFIG)
        if dvc_data is not None:
            cfg = yamlio.load(cfg_data, layout.CONFIG_FILE) if cfg_data else None
            remote_name = cfg.get("dvc_remote") if isinstance(cfg, dict) else None
            remote = dvcconfig.remote_url(
                dvc_data.decode("utf-8", "replace"),
                remote_name if isinstance(remote_name, str) else None,
                f"{layout.DVC_CONFIG}@{tag.name}",
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
        status="deprecated" if deprecated is not None else "active",
        deprecated_by=(
            deprecated.trailers.get("Promoted-in") or deprecated.commit if deprecated else None
        ),
    )


_BRANCH = r"^[A-Za-z0-9_][A-Za-z0-9._/-]*$"  # compiled on first use (re's cache)


def main_branch(snap: Snapshot) -> str:
    """`main_branch` of gitreg.yaml at the snapshot's commit (default main), without pydantic."""
    data = snap.read(layout.CONFIG_FILE)
    cfg = yamlio.load(data, layout.CONFIG_FILE) if data else None
    branch = cfg.get("main_branch") if isinstance(cfg, dict) else None
    ok = isinstance(branch, str) and re.fullmatch(_BRANCH, branch) is not None
    return branch if ok and isinstance(branch, str) else "main"


class Found(Record):
    """The tag that answers a ref, found but not read yet (so it can be checked first)."""

    __slots__ = ("git", "tag", "name", "version", "stage", "repo", "deprecation")  # noqa: RUF023 - the fields' order
    git: Git  # the repository (for a URL: the cache) holding the tag
    tag: tags.Tag
    name: str
    version: str
    stage: str | None
    repo: str
    deprecation: tags.Tag | None

    def __init__(
        self,
        git: Git,
        tag: tags.Tag,
        name: str,
        version: str,
        stage: str | None,
        repo: str,
        deprecation: tags.Tag | None,
    ) -> None:
        self.git, self.tag, self.name, self.version, self.stage = git, tag, name, version, stage
        self.repo, self.deprecation = repo, deprecation


def find_release(ref: str, repo: str = ".") -> Found:
    """The tag that answers `name@version|latest|stage` in a local registry or a URL."""
    repo = check_repo(repo)
    name, what = split_ref(ref)
    if is_url(repo):
        listed = remote_tags(repo, name)
        tag, version, stage = tags.pick(listed, name, what)
        read = (layout.version_file(name, version), layout.CONFIG_FILE, layout.DVC_CONFIG)
        git = fetch_tag(repo, tag.name, read)
    else:
        top = Git(repo).top_dir()
        if top is None:
            raise RegistryError(f"{repo} is not inside a git repository", "pass -C PATH or a URL")
        git, repo = Git(top), top
        listed = refs.model_tags(git, name)
        tag, version, stage = tags.pick(listed, name, what)
    deprecation = tags.released_state(listed).deprecated.get(version)
    if deprecation is not None and is_url(repo):  # ls-remote gives no trailers: fetch it
        git = fetch_tag(repo, deprecation.name)
        deprecation = next(iter(refs.read_tags(git, [deprecation.name])), deprecation)
    return Found(git, tag, name, version, stage, repo, deprecation)


def read_found(found: Found) -> ResolvedVersion:
    f = found
    return read_release(f.git, f.tag, f.name, f.version, f.stage, f.repo, f.deprecation)


def resolve_release(ref: str, repo: str = ".") -> ResolvedVersion:
    """Resolve `name@version|latest|stage` from the tags of a local registry or a URL."""
    return read_found(find_release(ref, repo))
