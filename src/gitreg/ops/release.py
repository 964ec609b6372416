"""`gitreg release`: turn what `main` says into annotated tags, idempotently.

Compares each model on the ref (its versions, statuses and stages.yaml) with its released
state (its tags) and writes the missing tags in one atomic `git update-ref` transaction.
With a push, tags go out with `git push --atomic`; if the remote moved (another release
won the race), the unpublished local tags are dropped, the remote's fetched, and the plan
made again. An existing tag is never moved or deleted once published.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gitreg.errors import GitError, RegistryError
from gitreg.model import layout, tags
from gitreg.model import trailers as tag_trailers
from gitreg.model.manifest import VersionManifest
from gitreg.model.schema import parse
from gitreg.registry import gating
from gitreg.registry.reader import Registry
from gitreg.registry.release_scope import Walk, release_scope
from gitreg.registry.stage_history import StageHistory
from gitreg.store import refs
from gitreg.store.git import Git
from gitreg.store.github_repo import Approvals, approvals_lookup, discover

MAX_ATTEMPTS = 5
Known = dict[str, list[tags.Tag]]  # a model's tags, as one reading found them


@dataclass(frozen=True)
class PlannedTag:
    name: str
    commit: str  # what the tag points to
    subject: str
    trailers: dict[str, str]

    @property
    def message(self) -> str:
        return tag_trailers.message(self.subject, self.trailers)

    def to_dict(self) -> dict[str, Any]:
        return {"tag": self.name, "commit": self.commit, "trailers": self.trailers}


@dataclass
class ReleaseResult:
    ref: str
    commit: str
    created: list[PlannedTag] = field(default_factory=list)
    pushed: bool = False
    attempts: int = 1
    remade: list[str] = field(default_factory=list)  # local-only tags dropped and made again


def _first_commit_with(git: Git, ref: str, path: str) -> str | None:
    out = git.run(
        [
            "log",
            "--first-parent",
            "--diff-merges=first-parent",
            "--diff-filter=A",
            "--no-patch",
            "--format=%H",
            "--end-of-options",
            ref,
            "--",
            path,
        ]
    )
    lines = out.split()
    return lines[-1] if lines else None


def _last_change(git: Git, ref: str, path: str) -> str:
    args = ["log", "-1", "--first-parent", "--format=%H", "--end-of-options", ref, "--", path]
    return git.run(args).strip()


_MERGE_PR = re.compile(r"Merge pull request #(\d+)")
_DEPRECATED = re.compile(rb"^[\"']?status[\"']?\s*:\s*[\"']?deprecated", re.M)


def _review_trailers(git: Git, commit: str, approvals: Approvals | None) -> dict[str, str]:
    """Pull-Request and Approved-by. Approvals are facts from GitHub's reviews API only: a
    merge commit's message is written by the PR's author, so without GitHub the trailer
    says `unverified` (the PR number still comes from GitHub's merge subject).
    Looked up once per commit (`_Planner.reviews`): the tags of one merge share them."""
    if approvals is not None:
        found = approvals(commit)
        if found is not None:
            approved = ", ".join(found[1]) or tag_trailers.UNVERIFIED
            return {"Pull-Request": found[0], "Approved-by": approved}
    subject = git.run(["log", "-1", "--format=%s", "--end-of-options", commit, "--"])
    out: dict[str, str] = {}
    m = _MERGE_PR.match(subject.strip())
    if m:
        out["Pull-Request"] = f"#{m.group(1)}"
    out["Approved-by"] = tag_trailers.UNVERIFIED
    return out


class _Planner:
    """The missing tags of one model, appended to `planned` in the order to write them."""

    def __init__(
        self,
        reg: Registry,
        approvals: Approvals | None,
        model_tags: list[tags.Tag],
        walked: Walk,
        reviews: dict[str, dict[str, str]],
    ):
        self.reg, self.git, self.approvals, self.walked = reg, reg.git, approvals, walked
        self.state = tags.released_state(model_tags)
        self.reg_commits = {v: t.commit for v, t in self.state.registered.items()}
        self.planned: list[PlannedTag] = []
        self.reviews = reviews  # commit -> its review trailers, shared by the models planned

    def _add(self, name: str, commit: str, subject: str, fields: dict[str, str]) -> None:
        made_in = fields["Promoted-in"]
        if made_in not in self.reviews:
            self.reviews[made_in] = _review_trailers(self.git, made_in, self.approvals)
        full = {**fields, **self.reviews[made_in]}
        self.planned.append(PlannedTag(name, commit, subject, full))

    def versions(self, name: str) -> None:
        """Registration tags for new versions, deprecation tags for newly deprecated ones."""
        ref, deprecated = self.reg.commit, []
        files = {v: layout.version_file(name, v) for v in self.reg.versions(name)}
        read = self.reg.snapshot.read_paths(list(files.values()))  # one pipelined batch
        for version, vfile in files.items():
            if version not in self.reg_commits:
                first = _first_commit_with(self.git, ref, vfile)
                if first is None:
                    continue
                self.reg_commits[version] = first
                fields = {"Version": version, "Promoted-in": first}
                self._add(
                    tags.registration(name, version), first, f"Register {name} {version}", fields
                )
            data = read[vfile] if vfile in read else self.reg.snapshot.read(vfile)
            # a full parse only where a status line may say deprecated (most never do)
            maybe = data is not None and _DEPRECATED.search(data) is not None
            if maybe and data and parse(VersionManifest, data, vfile).status == "deprecated":
                deprecated.append(version)
        for version in deprecated:
            if version not in self.state.deprecated:
                changed = _last_change(self.git, ref, layout.version_file(name, version))
                fields = {"Version": version, "Promoted-in": changed}
                subject = f"Deprecate {name} {version}"
                self._add(
                    tags.deprecation(name, version), self.reg_commits[version], subject, fields
                )

    def stages(self, name: str) -> None:
        """Assignment and removal tags where stages.yaml differs from the released state."""
        wanted = self.reg.stages(name)
        released = self.state.stage_map()
        if wanted == released:
            return
        last = max(self.state.stages.values(), key=lambda t: t.parsed.counter or 0, default=None)
        since = last.trailers.get("Promoted-in") if last is not None else None
        history = StageHistory(self.reg, name, since, self.walked)
        counter = self.state.counter
        for stage in [s for s in self.reg.config.stage_names if s in wanted or s in released]:
            want, have = wanted.get(stage), released.get(stage)
            if want == have:
                continue
            changed_in = history.set_in(stage, want)
            if have is not None:  # the version that leaves the stage gets its removal tag
                counter += 1
                fields = {"Version": have, "Stage": stage, "Promoted-in": changed_in}
                commit = self.reg_commits[have]
                subject = f"Remove {name} {have} from {stage}"
                self._add(tags.unassignment(name, stage, counter), commit, subject, fields)
            if want is None:
                continue
            if want not in self.reg_commits:
                raise RegistryError(
                    f"{layout.stages_file(name)}: {stage}: {want} has no registration on "
                    f"{self.reg.ref}",
                    "run `gitreg validate` and fix the stage file first",
                )
            counter += 1
            fields = {"Version": want, "Stage": stage, "Promoted-in": changed_in}
            reason = gating.override_added(self.reg, f"{changed_in}^1", changed_in, name)
            fields |= {"Override": reason} if reason else {}
            tag = tags.assignment(name, stage, counter)
            self._add(tag, self.reg_commits[want], f"Assign {name} {want} to {stage}", fields)


def plan(reg: Registry, approvals: Approvals | None = None) -> list[PlannedTag]:
    """The tags missing for the ref `reg` reads (normally main), in the order to write them."""
    return _plan(reg, approvals)[0]


def _plan(reg: Registry, approvals: Approvals | None) -> tuple[list[PlannedTag], Known]:
    """`plan`, and the tags read of each model looked at (`_tag_times` reads them again)."""
    planned: list[PlannedTag] = []
    reviews: dict[str, dict[str, str]] = {}
    scope, walked = release_scope(reg.git, reg.commit)  # the models changed since a release
    # else every model, with one pass over the tag namespace
    grouped = refs.by_model(reg.git) if scope is None else scope
    for name in reg.model_names() if scope is None else sorted(scope):
        if not reg.has_model(name):
            continue
        planner = _Planner(reg, approvals, grouped.get(name, []), walked, reviews)
        planner.versions(name)
        planner.stages(name)
        planned += planner.planned
    return planned, grouped


def _tag_times(git: Git, planned: list[PlannedTag], known: Known) -> list[str]:
    """The tagger time of each planned tag: now, but always after every earlier tag of the
    same model, one second apart. GTO and DVC order a model's tags by their time (then by
    name), so tags made within one second would otherwise read in the wrong order.
    `known`: the tags of the models the plan looked at, as it read them (not read again)."""
    ident = git.run(["var", "GIT_COMMITTER_IDENT"]).strip()
    who, stamp, zone = ident.rsplit(" ", 2)
    now = int(stamp)
    newest: dict[str, int] = {}
    models = sorted({t.name.split("@")[0].split("#")[0] for t in planned})
    unknown = [m for m in models if m not in known]
    # the models this run tags; the whole namespace in one pass when they are many
    grouped = refs.by_model(git) if len(unknown) > 20 else {}
    for model in models:
        if model in known:
            tags_of = known[model]
        else:
            tags_of = grouped.get(model, []) if grouped else refs.model_tags(git, model)
        times = [int(datetime.fromisoformat(t.date).timestamp()) for t in tags_of if t.date]
        newest[model] = max(times, default=0)
    out = []
    for t in planned:
        model = t.name.split("@")[0].split("#")[0]
        when = max(now, newest.get(model, 0) + 1)
        newest[model] = when
        out.append(f"{who} {when} {zone}")
    return out


def _create(git: Git, planned: list[PlannedTag], key: str | None, known: Known) -> None:
    """Write every planned tag in one ref transaction: all or none. With `key`, each tag
    object is SSH-signed as `git tag -s` does it."""
    lines = []
    for t, tagger in zip(planned, _tag_times(git, planned, known)):
        raw = (
            f"object {t.commit}\ntype commit\ntag {t.name}\ntagger {tagger}\n\n{t.message}"
        ).encode()
        if key is not None:
            from gitreg.store import signing  # only for a registry that signs its tags

            raw += signing.sign(raw, key)
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


def _refuse_off_main(git: Git, main: str, commit: str, ref: str) -> None:
    """Release writes only what the main branch says: refuse any other branch or commit."""
    fix = f"release runs on {main} (gitreg.yaml `main_branch`): git checkout {main}"
    github_ref = os.environ.get("GITHUB_REF", "")
    if os.environ.get("GITHUB_ACTIONS") == "true" and github_ref != f"refs/heads/{main}":
        raise RegistryError(
            f"refusing to release from GITHUB_REF={github_ref or '(unset)'}: only a push to "
            f"refs/heads/{main} may release",
            "run the release workflow on pushes to the main branch only",
        )
    branch = git.current_branch()
    if branch is not None and branch != main and ref == "HEAD":
        raise RegistryError(f"refusing to release from branch {branch!r}", fix)
    tip = git.rev_parse(f"refs/heads/{main}")
    if tip is None:
        raise RegistryError(f"refusing to release: there is no branch {main!r} here", fix)
    if not git.on_first_parent_chain(commit, tip):
        raise RegistryError(
            f"refusing to release {ref} ({commit[:12]}): it is not on the first-parent "
            f"history of {main} (an unmerged branch, or a commit {main} never had)",
            f"merge it into {main} through a pull request, then release on {main}",
        )


def _sync(git: Git, remote: str) -> list[str]:
    """Make the local release tags the remote's: drop the local-only ones (an earlier run
    that was killed, or never pushed, made them; the plan makes them again), fetch theirs.
    Returns the names dropped."""
    patterns = [f"refs/tags/{p}" for p in refs.ALL_PATTERNS]
    listed = git.run(
        ["ls-remote", "--tags", "--", remote, *patterns],
        hint=f"check that the remote {remote!r} is reachable",
    )
    theirs = {line.split("\t", 1)[1] for line in listed.splitlines() if "\t" in line}
    ours = git.run(["for-each-ref", "--format=%(refname)", "--", *patterns]).split()
    stale = [r for r in ours if r not in theirs]
    if stale:
        lines = "".join(f"delete {r}\n" for r in stale)
        git.run(["update-ref", "--stdin"], input=lines.encode())
    git.run(
        ["fetch", "--quiet", "--no-tags", "--", remote, "refs/tags/*:refs/tags/*"],
        hint=f"check that the remote {remote!r} is reachable",
    )
    return [r.removeprefix("refs/tags/") for r in stale]


def _push(git: Git, remote: str, planned: list[PlannedTag], attempt: int) -> bool:
    """Push the tags atomically; False (local tags dropped) if the remote moved."""
    specs = [f"refs/tags/{t.name}:refs/tags/{t.name}" for t in planned]
    try:
        git.run(["push", "--atomic", "--quiet", "--", remote, *specs])
    except GitError as e:
        _drop_local(git, planned)  # never published: ours to drop
        if attempt >= MAX_ATTEMPTS:
            raise RegistryError(
                f"could not push the release tags after {attempt} attempts: {e.stderr}",
                "another release keeps winning the race, or the remote refuses tags; "
                "run `gitreg release --push` again",
            ) from e
        return False
    return True


def _prepare(git: Git, reg: Registry, ref: str, approvals: Approvals | None) -> tuple[Any, Any]:
    """The guard (main only), the signing key, and the approvals lookup."""
    _refuse_off_main(git, reg.config.main_branch, reg.commit, ref)
    key = None
    if reg.config.signing:
        from gitreg.store import signing

        key = signing.signing_key(git)
        if key is None:
            raise RegistryError(
                "gitreg.yaml `signing` asks for signed release tags, and no key is set",
                f"set {signing.KEY_ENV} to an SSH private key (the release workflow takes it "
                "from a secret), or git config user.signingkey",
            )
    if approvals is None:
        configured = reg.config.github.repo if reg.config.github else None
        approvals = approvals_lookup(discover(git, configured))
    return key, approvals


def release(
    root: str,
    ref: str = "HEAD",
    push: bool = False,
    remote: str = "origin",
    approvals: Approvals | None = None,
) -> ReleaseResult:
    """Write (and with `push`, publish) the missing tags for `ref`, which must be main.
    `root` is the top of the registry's repository (`reader.find_root`).

    `approvals` looks up a merge's pull request and approvers; by default GitHub's, when a
    token is set (`github_repo.approvals_lookup`). With `push`, local release tags the
    remote lacks (from a run that was killed or not pushed) are made again and pushed.
    """
    git = Git(root)
    # one reading of the ref for the guard and every attempt: a retry fetches tags only
    with Registry.from_git(git, ref) as reg:
        key, approvals = _prepare(git, reg, ref, approvals)
        attempt = 0
        while True:
            attempt += 1
            dropped = _sync(git, remote) if push else []
            planned, known = _plan(reg, approvals)
            result = ReleaseResult(ref=ref, commit=reg.commit, created=planned, attempts=attempt)
            result.remade = dropped
            if not planned:
                result.pushed = push
                return result
            _create(git, planned, key, known)
            if not push:
                return result
            if _push(git, remote, planned, attempt):
                result.pushed = True
                return result
