"""The checks every release tag must pass: written once, run by `doctor` and every verified
read (`resolve --verify`, `pull`, the API's `resolve(verify=True)`), local or by URL.

A tag passes when it is annotated, its trailers are well-formed and agree with its name,
it points at a commit of the main branch's first-parent history, its `Promoted-in` is one
too, a stage tag sits on its version's registration commit and agrees with stages.yaml at
its `Promoted-in`, and the version manifest and `.dvc` pointers it leads to are the ones
main holds. With `signing` in gitreg.yaml, it must also carry a good signature.
For a URL, the main branch's history is fetched into the cache first (`store.remote`).
"""

from __future__ import annotations

from dataclasses import dataclass

from gitreg.errors import CheckFailed, NotFound
from gitreg.model import layout, tags, yamlio
from gitreg.registry.released import (
    Found,
    ResolvedVersion,
    find_release,
    main_branch,
    read_found,
    split_ref,
)
from gitreg.store import refs, signing
from gitreg.store.git import Git
from gitreg.store.remote import (
    check_repo,
    fetch_branch,
    fetch_model_tags,
    is_url,
    remote_tags,
)
from gitreg.store.snapshot import Snapshot

# every kind of problem a tag can have (docs/deploy.md lists them with their messages)
KINDS = (
    "lightweight",
    "malformed-trailers",
    "not-from-release",
    "off-main",
    "promoted-in-off-main",
    "not-on-registration",
    "contradicts-stages",
    "contradicts-trailers",
    "content-differs",
    "out-of-order",
    "stale",
    "unsigned",
)


@dataclass(frozen=True)
class TagProblem:
    kind: str
    message: str


class MainHistory:
    """The main branch at one commit: its first-parent chain (read once) and its files."""

    def __init__(self, git: Git, tip: str, label: str = "main") -> None:
        self.git, self.tip, self.label = git, tip, label
        self._chain: dict[str, int] | None = None
        self.snap = Snapshot(git, tip, label)
        self.allowed_signers = _allowed_signers(self.snap)

    def position(self, commit: str) -> int | None:
        """How many first-parent steps below the tip `commit` is (None: not on the chain)."""
        if self._chain is None:
            order = self.git.run(["rev-list", "--first-parent", "--end-of-options", self.tip])
            self._chain = {c: i for i, c in enumerate(order.split())}
        return self._chain.get(commit)

    def has(self, commit: str) -> bool:
        return self.position(commit) is not None

    def close(self) -> None:
        self.snap.close()


def _allowed_signers(snap: Snapshot) -> bytes | None:
    """The allowed-signers file main names in gitreg.yaml `signing`, or None (no signing).

    A `signing` section whose file is missing yields b"": every tag then fails the check.
    """
    data = snap.read(layout.CONFIG_FILE)
    cfg = yamlio.load(data, layout.CONFIG_FILE) if data else None
    sign = cfg.get("signing") if isinstance(cfg, dict) else None
    if not isinstance(sign, dict):
        return None
    path = sign.get("allowed_signers")
    found = snap.read(path) if isinstance(path, str) and layout.is_repo_path(path) else None
    return found or b""


def _artifact_pointers(snap: Snapshot, commit: str, name: str, version: str) -> object:
    """What a version is, at `commit`: its artifacts and the blobs of their `.dvc` pointers."""
    data = snap.read_at(commit, layout.version_file(name, version))
    manifest = yamlio.load(data, layout.version_file(name, version)) if data else None
    arts = manifest.get("artifacts") if isinstance(manifest, dict) else None
    if not isinstance(arts, list):
        return None
    paths = [a.get("path") for a in arts if isinstance(a, dict)]
    blobs = [snap.git.blob_at(commit, f"{p}.dvc") for p in paths if isinstance(p, str)]
    return (arts, blobs)


def _stage_problems(
    main: MainHistory, tag: tags.Tag, state: tags.ReleasedState, version: str | None
) -> list[TagProblem]:
    p, out = tag.parsed, []
    reg = state.registered.get(version or "")
    if reg is None or reg.commit != tag.commit:
        out.append(
            TagProblem("not-on-registration", "not on the commit of its version's registration tag")
        )
    if tag.trailers.get("Stage") not in (None, p.stage):
        out.append(
            TagProblem("contradicts-trailers", f"its Stage trailer says {tag.trailers['Stage']}")
        )
    promoted = tag.trailers.get("Promoted-in")
    if not promoted:
        return out
    if main.snap.read_at(promoted, layout.stages_file(p.model)) is None:
        out.append(
            TagProblem(
                "contradicts-stages", f"Promoted-in {promoted[:12]} has no readable stages.yaml"
            )
        )
        return out
    from gitreg.registry.reader import stages_at  # pydantic: only when a tag is checked

    held = stages_at(main.snap, promoted, p.model)
    if p.kind == "assign" and held.get(p.stage or "") != version:
        out.append(
            TagProblem(
                "contradicts-stages",
                f"says {p.stage}={version}, but stages.yaml at {promoted[:12]} says "
                f"{held.get(p.stage or '', 'nothing')}",
            )
        )
    elif p.kind == "unassign" and version is not None and held.get(p.stage or "") == version:
        out.append(
            TagProblem(
                "contradicts-stages",
                f"removes {version} from {p.stage}, but stages.yaml at {promoted[:12]} keeps "
                "it there",
            )
        )
    return out


def _order_problems(main: MainHistory, tag: tags.Tag, peers: list[tags.Tag]) -> list[TagProblem]:
    """A stage tag with a higher counter than another must come from a later change of main:
    otherwise it replays an old state over a newer one."""
    mine = main.position(tag.trailers.get("Promoted-in", ""))
    if mine is None or tag.parsed.counter is None:
        return []
    for other in peers:
        n = other.parsed.counter
        theirs = main.position(other.trailers.get("Promoted-in", ""))
        if n is not None and n < tag.parsed.counter and theirs is not None and theirs < mine:
            return [
                TagProblem(
                    "out-of-order",
                    f"its counter is above {other.name}'s, but its Promoted-in is older: a "
                    "replayed or hand-made tag",
                )
            ]
    return []


def check_tag(
    main: MainHistory,
    tag: tags.Tag,
    state: tags.ReleasedState,
    peers: list[tags.Tag] | None = None,
) -> list[TagProblem]:
    """What is wrong with one tag (empty if nothing); `peers`: the model's other tags."""
    if not tag.annotated:
        return [
            TagProblem(
                "lightweight",
                "lightweight tag: gitreg and GTO tags are annotated; delete and release",
            )
        ]
    p = tag.parsed
    out = [TagProblem("malformed-trailers", f"malformed trailer {m}") for m in tag.malformed]
    if not main.has(tag.commit):
        out.append(
            TagProblem("off-main", f"points to {tag.commit[:12]}, which is not on {main.label}")
        )
    promoted = tag.trailers.get("Promoted-in")
    if not promoted:
        out.append(
            TagProblem(
                "not-from-release", "not written by `gitreg release` (no Promoted-in trailer)"
            )
        )
    elif not main.has(promoted):
        out.append(
            TagProblem(
                "promoted-in-off-main",
                f"its Promoted-in {promoted[:12]} is not a commit of {main.label}'s "
                "first-parent history",
            )
        )
    version = p.version if p.kind in ("register", "deprecate") else state.version_at(tag)
    said = tag.trailers.get("Version")
    if said is not None and version is not None and said != version:
        out.append(
            TagProblem("contradicts-trailers", f"its Version trailer says {said}, not {version}")
        )
    if p.kind in ("assign", "unassign") and p.stage:
        out += _stage_problems(main, tag, state, version)
        out += _order_problems(main, tag, peers or [])
    if main.allowed_signers is not None:
        problem = signing.verify(main.git, tag.name, main.allowed_signers)
        if problem:
            out.append(TagProblem("unsigned", problem))
    if version is not None and p.kind != "simple":
        here = _artifact_pointers(main.snap, tag.commit, p.model, version)
        now = _artifact_pointers(main.snap, main.tip, p.model, version)
        if here != now:
            out.append(
                TagProblem(
                    "content-differs",
                    f"the manifest or .dvc pointers of {p.model}@{version} at the tag differ "
                    f"from what {main.label} holds",
                )
            )
    return out


def _checked(git: Git, tag_name: str, listed: list[tags.Tag], tip: str, label: str) -> list[str]:
    full = refs.read_tags(git, [tag_name])
    tag = full[0] if full else next(t for t in listed if t.name == tag_name)
    main = MainHistory(git, tip, label)
    try:
        found = check_tag(main, tag, tags.released_state(listed), listed)
        return [p.message for p in found]
    finally:
        main.close()


def verify(found: Found) -> None:
    """CheckFailed (exit 1) naming the tag if the tag that answers a ref fails a check."""
    with Snapshot(found.git, found.tag.commit, found.tag.name) as snap:
        branch = main_branch(snap)
    if is_url(found.repo):
        git, tip = fetch_branch(found.repo, branch)
        names = {t.name for t in remote_tags(found.repo, found.name)}
        fetch_model_tags(found.repo, found.name)
        listed = [t for t in refs.model_tags(git, found.name) if t.name in names]
    else:
        git = found.git
        listed = refs.model_tags(git, found.name)
        tip_or_none = git.rev_parse(f"refs/heads/{branch}") or git.rev_parse(
            f"refs/remotes/origin/{branch}"
        )
        if tip_or_none is None:
            raise CheckFailed(
                f"{found.tag.name}: refused by --verify: the main branch {branch!r} is not "
                f"in {found.repo}, so nothing can be verified",
                f"fetch it (git fetch origin {branch}) and try again",
            )
        tip = tip_or_none
    problems = _checked(git, found.tag.name, listed, tip, branch)
    problems += _stale(git, tip, found)
    if problems:
        raise CheckFailed(
            f"{found.tag.name}: refused by --verify: " + "; ".join(problems),
            "do not deploy it; run `gitreg doctor` on the registry and fix the tags",
        )


def _stale(git: Git, tip: str, found: Found) -> list[str]:
    """A stage answered from tags that main no longer says: tags deleted on the remote (a
    silent rollback), or a release that has not run since the change merged."""
    if found.stage is None:
        return []
    from gitreg.registry.reader import stages_at  # pydantic: only when a tag is checked

    with Snapshot(git, tip, "main") as snap:
        now = stages_at(snap, tip, found.name).get(found.stage)
    if now == found.version:
        return []
    return [
        f"main says {found.stage}={now or 'nothing'}, the tags say {found.version}: a "
        "release tag was deleted, or the release of that change has not run yet"
    ]


def _unreleased_holder(ref: str, repo: str, err: NotFound) -> CheckFailed | None:
    """When no tag holds a stage, whether main says someone does: the holder's tags were
    deleted (or not released yet), and a deploy must not read "nobody" as the truth."""
    name, stage = split_ref(ref)
    if err.kind != "stage":
        return None
    if is_url(repo):
        git, tip = fetch_branch(repo, "main")
        with Snapshot(git, tip, "main") as snap:
            branch = main_branch(snap)
        if branch != "main":
            git, tip = fetch_branch(repo, branch)
    else:
        git = Git(repo)
        with Snapshot.at(git, "HEAD") as snap:
            branch = main_branch(snap)
        found = git.rev_parse(f"refs/heads/{branch}") or git.rev_parse(
            f"refs/remotes/origin/{branch}"
        )
        if found is None:
            return None
        tip = found
    from gitreg.registry.reader import stages_at  # pydantic: only when a tag is checked

    with Snapshot(git, tip, branch) as snap:
        now = stages_at(snap, tip, name).get(stage)
    if now is None:
        return None
    return CheckFailed(
        f"{name}#{stage}: refused by --verify: main says {stage}={now}, but no release tag "
        "says who holds it: a release tag was deleted, or the release has not run yet",
        "do not deploy; run `gitreg doctor` on the registry, then `gitreg release --push`",
    )


def resolve_verified(ref: str, repo: str) -> ResolvedVersion:
    """The released version `ref` names, its tag checked before anything of it is read."""
    try:
        found = find_release(ref, repo)
    except NotFound as e:
        refused = _unreleased_holder(ref, check_repo(repo), e)
        if refused is not None:
            raise refused from e
        raise
    verify(found)
    return read_found(found).replace(verified=True)
