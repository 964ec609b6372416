"""`gitreg release`: turn what `main` says into annotated tags, idempotently.

Compares each model on the ref (its versions, statuses and stages.yaml) with its released
state (its tags) and writes the missing tags in one atomic `git update-ref` transaction.
With a push, tags go out with `git push --atomic`; if the remote moved (another release
won the race), the unpublished local tags are dropped, the remote's fetched, and the plan
made again. An existing tag is never moved or deleted once published.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from . import layout, tags
from .errors import GitError, ManifestError, RegistryError
from .github_approvals import Approvals
from .gitops import Git
from .manifest import Stages, VersionManifest, parse
from .registry import Registry

MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class PlannedTag:
    name: str
    commit: str  # what the tag points to
    subject: str
    trailers: dict[str, str]

    @property
    def message(self) -> str:
        body = "\n".join(f"{k}: {v}" for k, v in self.trailers.items() if v)
        return f"{self.subject}\n\n{body}\n"

    def to_dict(self) -> dict[str, Any]:
        return {"tag": self.name, "commit": self.commit, "trailers": self.trailers}


@dataclass
class ReleaseResult:
    ref: str
    commit: str
    created: list[PlannedTag] = field(default_factory=list)
    pushed: bool = False
    attempts: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "commit": self.commit,
            "created": [t.to_dict() for t in self.created],
            "pushed": self.pushed,
            "attempts": self.attempts,
        }


class _StageHistory:
    """The first-parent commits that edited one stages.yaml, newest first, read on demand."""

    def __init__(self, reg: Registry, path: str) -> None:
        self.snap = reg.snapshot
        self.path = path
        out = reg.git.run(["log", "--first-parent", "--format=%H", reg.commit, "--", path])
        self.commits = out.split()
        self._maps: dict[str, dict[str, str]] = {}

    def _at(self, commit: str) -> dict[str, str]:
        if commit not in self._maps:
            data = self.snap.read_at(commit, self.path)
            try:
                self._maps[commit] = parse(Stages, data, self.path).mapping if data else {}
            except ManifestError:
                self._maps[commit] = {}
        return self._maps[commit]

    def set_in(self, stage: str, value: str | None) -> str:
        """The commit whose edit gave `stage` its current `value` (None: removed it)."""
        found = self.commits[0] if self.commits else self.snap.commit
        for commit in self.commits:
            if self._at(commit).get(stage) != value:
                break
            found = commit
        return found


def _first_commit_with(git: Git, ref: str, path: str) -> str | None:
    out = git.run(
        [
            "log",
            "--first-parent",
            "--diff-merges=first-parent",
            "--diff-filter=A",
            "--no-patch",
            "--format=%H",
            ref,
            "--",
            path,
        ]
    )
    lines = out.split()
    return lines[-1] if lines else None


def _last_change(git: Git, ref: str, path: str) -> str:
    return git.run(["log", "-1", "--first-parent", "--format=%H", ref, "--", path]).strip()


_MERGE_PR = re.compile(r"Merge pull request #(\d+)")
_DEPRECATED = re.compile(rb"^status:\s*[\"']?deprecated", re.M)


def _review_trailers(git: Git, commit: str, approvals: Approvals | None) -> dict[str, str]:
    """Pull-Request and Approved-by: from GitHub when reachable, else from the commit."""
    if approvals is not None:
        found = approvals(commit)
        if found is not None:
            return {"Pull-Request": found[0], "Approved-by": ", ".join(found[1])}
    message = git.run(["log", "-1", "--format=%B", commit])
    out: dict[str, str] = {}
    m = _MERGE_PR.search(message)
    if m:
        out["Pull-Request"] = f"#{m.group(1)}"
    trailers = tags.parse_trailers(message)
    if trailers.get("Approved-by"):
        out["Approved-by"] = trailers["Approved-by"]
    return out


def plan(reg: Registry, approvals: Approvals | None = None) -> list[PlannedTag]:
    """The tags missing for the ref `reg` reads (normally main), in the order to write them."""
    git, ref = reg.git, reg.commit
    planned: list[PlannedTag] = []
    by_model: dict[str, list[tags.Tag]] = {}
    for t in tags.read_tags(git, ["*@v*", "*#*"]):  # one pass over the namespace
        by_model.setdefault(t.parsed.model, []).append(t)
    for name in reg.model_names():
        if not reg.has_model(name):
            continue
        state = tags.released_state(by_model.get(name, []))
        reg_commits = {v: t.commit for v, t in state.registered.items()}
        statuses: dict[str, str] = {}
        for version in reg.versions(name):
            vfile = layout.version_file(name, version)
            if version not in reg_commits:
                first = _first_commit_with(git, ref, vfile)
                if first is None:
                    continue
                reg_commits[version] = first
                planned.append(
                    PlannedTag(
                        tags.registration(name, version),
                        first,
                        f"Register {name} {version}",
                        {
                            "Version": version,
                            "Promoted-in": first,
                            **_review_trailers(git, first, approvals),
                        },
                    )
                )
            data = reg.snapshot.read(vfile)
            # a full parse only where the status line may say deprecated (most never do)
            if data is not None and _DEPRECATED.search(data):
                statuses[version] = parse(VersionManifest, data, vfile).status
        for version, status in statuses.items():
            if status == "deprecated" and version not in state.deprecated:
                changed = _last_change(git, ref, layout.version_file(name, version))
                planned.append(
                    PlannedTag(
                        tags.deprecation(name, version),
                        reg_commits[version],
                        f"Deprecate {name} {version}",
                        {
                            "Version": version,
                            "Promoted-in": changed,
                            **_review_trailers(git, changed, approvals),
                        },
                    )
                )
        sfile = layout.stages_file(name)
        data = reg.snapshot.read(sfile)
        wanted = parse(Stages, data, sfile).mapping if data is not None else {}
        released = state.stage_map()
        counter = state.counter
        history = _StageHistory(reg, sfile) if wanted != released else None
        for stage in [s for s in reg.config.stage_names if s in wanted or s in released]:
            want, have = wanted.get(stage), released.get(stage)
            if want == have or history is None:
                continue
            changed_in = history.set_in(stage, want)
            review = _review_trailers(git, changed_in, approvals)
            counter += 1
            if want is None:
                planned.append(
                    PlannedTag(
                        tags.unassignment(name, stage, counter),
                        reg_commits[have or ""],
                        f"Remove {name} {have} from {stage}",
                        {
                            "Version": have or "",
                            "Stage": stage,
                            "Promoted-in": changed_in,
                            **review,
                        },
                    )
                )
            else:
                if want not in reg_commits:
                    raise RegistryError(
                        f"{sfile}: {stage}: {want} has no registration on {reg.snapshot.ref}",
                        "run `gitreg validate` and fix the stage file first",
                    )
                planned.append(
                    PlannedTag(
                        tags.assignment(name, stage, counter),
                        reg_commits[want],
                        f"Assign {name} {want} to {stage}",
                        {"Version": want, "Stage": stage, "Promoted-in": changed_in, **review},
                    )
                )
    return planned


def _create(git: Git, planned: list[PlannedTag]) -> None:
    """Write every planned tag in one ref transaction: all or none."""
    tagger = git.run(["var", "GIT_COMMITTER_IDENT"]).strip()
    lines = []
    for t in planned:
        raw = (
            f"object {t.commit}\ntype commit\ntag {t.name}\ntagger {tagger}\n\n{t.message}"
        ).encode()
        obj = git.run(["mktag"], input=raw).strip()
        lines.append(f"create refs/tags/{t.name} {obj}\n")
    git.run(
        ["update-ref", "--stdin"],
        input="".join(lines).encode(),
        hint="a tag of that name exists already; run `gitreg doctor`",
    )


def _drop_local(git: Git, planned: list[PlannedTag]) -> None:
    lines = "".join(f"delete refs/tags/{t.name}\n" for t in planned)
    git.run(["update-ref", "--stdin"], input=lines.encode(), check=False)


def release(
    root: str,
    ref: str = "HEAD",
    push: bool = False,
    remote: str = "origin",
    approvals: Approvals | None = None,
) -> ReleaseResult:
    """Write (and with `push`, publish) the missing tags for `ref`."""
    git = Git(root)
    attempt = 0
    while True:
        attempt += 1
        if push:
            git.run(
                ["fetch", "--quiet", remote, "refs/tags/*:refs/tags/*"],
                hint=f"check that the remote {remote!r} is reachable",
            )
        with Registry.open(root, ref) as reg:
            planned = plan(reg, approvals)
            result = ReleaseResult(ref=ref, commit=reg.commit, created=planned, attempts=attempt)
        if not planned:
            result.pushed = push
            return result
        _create(git, planned)
        if not push:
            return result
        try:
            git.run(
                [
                    "push",
                    "--atomic",
                    "--quiet",
                    remote,
                    *[f"refs/tags/{t.name}:refs/tags/{t.name}" for t in planned],
                ]
            )
        except GitError as e:
            _drop_local(git, planned)  # never published: ours to drop
            if attempt >= MAX_ATTEMPTS:
                raise RegistryError(
                    f"could not push the release tags after {attempt} attempts: {e.stderr}",
                    "another release keeps winning the race, or the remote refuses tags; "
                    "run `gitreg release --push` again",
                ) from e
            continue
        result.pushed = True
        return result
