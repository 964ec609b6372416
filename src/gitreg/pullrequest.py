"""Stage changes as pull requests: the PR body, opening the PR, and the whole flow (`submit`).

With a token (GITHUB_TOKEN or GH_TOKEN) the pull request is opened through the REST
client; without one, the branch is still pushed and the result carries the compare URL
where a person opens the pull request in the browser. Nothing here prints.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import GitHubError, NotFoundError, RegistryError
from .gitops import Git
from .promote import AppliedChange, StagePlan, apply_plan
from .registry import Registry

if TYPE_CHECKING:
    from .register import Registration

NO_TOKEN_NOTE = "no GITHUB_TOKEN or GH_TOKEN is set: open the pull request in the browser"
_URL = re.compile(
    r"^(?:https?|ssh|git)://(?:[^@/]+@)?(?P<host>[^/:]+)(?::\d+)?/"
    r"(?P<owner>[^/]+)/(?P<repo>[^/]+?)(?:\.git)?/?$"
)
_SCP = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):/?(?P<owner>[^/]+)/(?P<repo>[^/]+?)(?:\.git)?/?$")


@dataclass(frozen=True)
class PullRequestResult:
    """An opened (or already open) pull request, or the compare URL to open one by hand."""

    repo: str
    compare_url: str
    number: int | None = None
    url: str | None = None
    existing: bool = False
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON data."""
        return {"number": self.number, "url": self.url, "existing": self.existing}


@dataclass(frozen=True)
class Submission:
    """What `submit` did: the branch and commit, and the pull request or the compare URL."""

    change: AppliedChange
    base_branch: str
    pr: PullRequestResult | None = None
    compare_url: str | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The submission as plain JSON data (see docs/promote.md)."""
        opened = self.pr is not None and self.pr.number is not None
        return {
            **self.change.to_dict(),
            "base_branch": self.base_branch,
            "pr": self.pr.to_dict() if opened and self.pr is not None else None,
            "compare_url": self.compare_url,
            "note": self.note,
        }


# --- where the pull request goes -------------------------------------------------------------


def web_url() -> str:
    """GitHub's web address: GITHUB_SERVER_URL (set in Actions) or https://github.com."""
    return (os.environ.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/")


def parse_remote(url: str) -> str | None:
    """`owner/name` of a GitHub remote URL (https, ssh or scp-like), else None."""
    match = _URL.match(url) or _SCP.match(url)
    if match is None:
        return None
    if match["host"].lower() not in ("github.com", urllib.parse.urlsplit(web_url()).hostname):
        return None
    return f"{match['owner']}/{match['repo']}"


def find_github_repo(root: str | Path, ref: str = "HEAD") -> str | None:
    """The registry's GitHub repository: `github.repo` in gitreg.yaml, else origin's URL."""
    with Registry.open(root, ref) as reg:
        if reg.config.github is not None:
            return reg.config.github.repo
    url = Git(root).config_get("remote.origin.url")
    return parse_remote(url) if url else None


def compare_url(repo: str, base_branch: str, branch: str) -> str:
    """The page where GitHub offers to open a pull request from `branch` into `base_branch`."""
    quote = urllib.parse.quote
    return f"{web_url()}/{repo}/compare/{quote(base_branch)}...{quote(branch)}?expand=1"


def base_ref(path: str | Path, base_branch: str) -> str:
    """The ref a change starts from: local `base_branch`, else `origin/<base_branch>`."""
    where = Path(path)
    if not where.is_dir():
        raise RegistryError(f"{path}: no such directory", "pass -C PATH to a registry repo")
    git = Git(where)
    if git.toplevel() is None:
        raise RegistryError(f"{where.resolve()} is not inside a git repository")
    for ref, name in ((f"refs/heads/{base_branch}", base_branch),
                      (f"refs/remotes/origin/{base_branch}", f"origin/{base_branch}")):  # fmt: skip
        if git.rev_parse(ref) is not None:
            return name
    raise NotFoundError(
        f"base branch {base_branch!r} not found (neither a local branch nor origin/{base_branch})",
        "pass --base-branch BRANCH (the branch pull requests merge into), or git fetch origin",
    )


def _no_repo(root: str | Path) -> RegistryError:
    return RegistryError(
        f"cannot tell the GitHub repository of {root}: gitreg.yaml has no `github.repo` and "
        "origin is not a GitHub URL",
        "add `github: {repo: OWNER/NAME}` to gitreg.yaml (and commit it), or set origin",
    )


# --- the body --------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def _metrics_table(reg: Registry, plan: StagePlan) -> list[str]:
    new = reg.version(plan.name, plan.version).metrics.flat()
    old_v = plan.previous if plan.kind in ("promote", "rollback") else None
    old = reg.version(plan.name, old_v).metrics.flat() if old_v else {}
    if not new and not old:
        return ["No metrics are declared in the version manifests."]
    if old_v is None:
        rows = ["| metric | " + plan.version + " |", "|---|---:|"]
        return rows + [f"| {_cell(m)} | {_num(v)} |" for m, v in new.items()]
    policy = reg.model(plan.name).evaluation
    goals = {m: p.goal for m, p in policy.metrics.items()} if policy else {}
    lines = [
        f"| metric | {plan.version} (candidate) | {old_v} (in {plan.stage} now) | delta |",
        "|---|---:|---:|---:|",
    ]
    for m in [*new, *(k for k in old if k not in new)]:
        a, b = new.get(m), old.get(m)
        delta = "-" if a is None or b is None else f"{a - b:+.6g}"
        goal = f" ({goals[m]})" if m in goals else ""
        lines.append(f"| {_cell(m)}{goal} | {_num(a)} | {_num(b)} | {delta} |")
    return lines


def _card(reg: Registry, plan: StagePlan) -> list[str]:
    spec = reg.model(plan.name)
    lines = [_cell(spec.description) or "_No description in model.yaml._", ""]
    fields = [
        ("Owners", ", ".join(spec.owners) or None),
        ("Intended use", spec.card.intended_use),
        ("Limitations", spec.card.limitations),
    ]
    lines += [f"- **{k}:** {_cell(v) if v else '_not given_'}" for k, v in fields]
    return lines


def pr_body(reg: Registry, plan: StagePlan, base_branch: str = "main") -> str:
    """The pull request description of `plan`, in Markdown, read at `reg`'s ref."""
    if plan.stage is None:
        change = f"`{plan.path}`: **status** active -> deprecated"
    else:
        change = f"`{plan.path}`: **{plan.stage}**: {plan.previous or '(none)'} -> "
        change += plan.after or "(none)"
    rule = reg.config.stage(plan.stage) if plan.stage else None
    checks = [f"- `gitreg validate --base {base_branch}`: manifests, immutability, `requires`"]
    if rule is not None and rule.gate and plan.after is not None:
        checks.append(
            f"- `gitreg evaluate --changed --base {base_branch}`: {plan.stage!r} has "
            f"`gate: true`, so {plan.version} is evaluated against "
            f"{plan.previous or 'no baseline'} on the same held-out data and must pass the "
            "model's metric policy"
        )
    lines = [
        f"## {plan.title}",
        "",
        change,
        "",
        "### Metrics declared in the version manifests",
        "",
        *_metrics_table(reg, plan),
        "",
        f"### Model card: {plan.name}",
        "",
        *_card(reg, plan),
        "",
        "### Checks",
        "",
        *checks,
        "",
        f"<sub>Opened by `gitreg {plan.kind}` from branch `{plan.branch}`.</sub>",
    ]
    return "\n".join(lines) + "\n"


# --- opening it ------------------------------------------------------------------------------


def open_pull_request(
    root: str | Path,
    branch: str,
    title: str,
    body: str,
    base_branch: str = "main",
    github_repo: str | None = None,
) -> PullRequestResult:
    """Open a pull request from the pushed `branch` into `base_branch`.

    Without a token, nothing is sent: the result holds the compare URL and a note. If a
    pull request from `branch` is already open, that one is returned (`existing`).
    """
    from .github import GitHubClient

    repo = github_repo or find_github_repo(root)
    if repo is None:
        raise _no_repo(root)
    compare = compare_url(repo, base_branch, branch)
    client = GitHubClient.from_env(repo)
    if not client.has_token:
        return PullRequestResult(repo, compare, note=NO_TOKEN_NOTE)
    try:
        pr = client.create_pull(title, branch, base_branch, body)
    except GitHubError as e:
        if e.status != 422 or "already exists" not in e.message:
            raise
        found = client.list_pulls(head=f"{repo.split('/')[0]}:{branch}")
        same_base = [p for p in found if p.base_ref == base_branch] or found
        if not same_base:
            raise
        return PullRequestResult(repo, compare, same_base[0].number, same_base[0].html_url, True)
    return PullRequestResult(repo, compare, pr.number, pr.html_url)


def submit(
    root: str | Path,
    plan: StagePlan,
    *,
    push: bool = False,
    open_pr: bool = False,
    base_branch: str = "main",
) -> Submission:
    """Commit `plan` on its branch (from the commit it was planned at); push; open the PR.

    `open_pr` implies `push`. Everything that can be checked is checked before the branch
    is created; a GitHub failure after the push says that the branch is pushed.
    """
    base = plan.base_commit
    repo = find_github_repo(root, base) if push or open_pr else None
    body = ""
    if open_pr:
        if repo is None:
            raise _no_repo(root)
        with Registry.open(root, base) as reg:
            body = pr_body(reg, plan, base_branch)
    change = apply_plan(root, plan, push=push or open_pr, base=base)
    compare = compare_url(repo, base_branch, plan.branch) if repo and change.pushed else None
    if not open_pr:
        return Submission(change, base_branch, None, compare)
    try:
        pr = open_pull_request(root, plan.branch, plan.title, body, base_branch, repo)
    except GitHubError as e:
        raise GitHubError(
            f"{e.message}\nbranch {plan.branch} is pushed to origin ({change.commit[:12]}), "
            "but no pull request was opened",
            e.status,
            (f"{e.hint}; then " if e.hint else "") + f"open it by hand: {compare}",
        ) from e
    return Submission(change, base_branch, pr, pr.compare_url, pr.note)


# --- registrations ---------------------------------------------------------------------------


def registration_body(r: Registration) -> str:
    """The description of a registration PR: what is added, its metrics and lineage."""
    m = r.manifest
    lines = [
        f"Registers **{r.name} {r.version}**" + (" (a new model)" if r.created_model else "") + ".",
        "",
        f"- manifest: `models/{r.name}/versions/{r.version}.yaml`",
        f"- author: {m.author}",
    ]
    if m.description:
        lines.append(f"- description: {_cell(m.description)}")
    if m.framework:
        lines.append(f"- framework: {m.framework.name} {m.framework.version or ''}".rstrip())
    if m.lineage.code:
        lines.append(f"- code: {m.lineage.code.repo or '-'} @ `{m.lineage.code.commit or '-'}`")
    if m.lineage.run and m.lineage.run.url:
        lines.append(f"- run: {m.lineage.run.url}")
    lines += ["", "| artifact | md5 | size |", "| --- | --- | --- |"]
    lines += [f"| `{a.path}` | `{a.md5}` | {a.size} |" for a in m.artifacts]
    flat = m.metrics.flat()
    if flat:
        lines += ["", "| metric | value |", "| --- | --- |"]
        lines += [f"| {k} | {_num(v)} |" for k, v in flat.items()]
    lines += [
        "",
        "Checks that will run: `gitreg validate --base` (manifest schema, artifact pointers, "
        "immutability, one new version per merge).",
        "",
        "<sub>Opened by `gitreg register --open-pr`.</sub>",
    ]
    return "\n".join(lines)


def open_registration_pr(
    root: str | Path, r: Registration, base_branch: str = "main"
) -> PullRequestResult:
    """Open the PR of a pushed registration branch (or give its compare URL without a token)."""
    repo = find_github_repo(root, r.commit)
    if repo is None:
        raise _no_repo(root)
    title = f"Register {r.name} {r.version}"
    try:
        return open_pull_request(root, r.branch, title, registration_body(r), base_branch, repo)
    except GitHubError as e:
        compare = compare_url(repo, base_branch, r.branch)
        raise GitHubError(
            f"{e.message}\nbranch {r.branch} is pushed to origin, but no pull request was opened",
            e.status,
            (f"{e.hint}; then " if e.hint else "") + f"open it by hand: {compare}",
        ) from e
