"""Submitting a change: commit a plan on its branch, push it, open the pull request.

With a token (GITHUB_TOKEN or GH_TOKEN) the pull request is opened through the REST
client; without one, the branch is still pushed and the result carries the compare URL
where a person opens the pull request in the browser. The description is rendered by the
caller (`gitreg.render.pullrequest`) and passed in. Nothing here prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitreg.errors import GitHubError, NotFound
from gitreg.model.plan import AppliedChange, StagePlan
from gitreg.registry.reader import Registry, find_root
from gitreg.store import branches, github_repo
from gitreg.store.git import Git

NO_TOKEN_NOTE = "no GITHUB_TOKEN or GH_TOKEN is set: open the pull request in the browser"


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


def base_ref(path: str | Path, base_branch: str) -> str:
    """The ref a change starts from: local `base_branch`, else `origin/<base_branch>`."""
    git = Git(find_root(path))
    for ref, name in ((f"refs/heads/{base_branch}", base_branch),
                      (f"refs/remotes/origin/{base_branch}", f"origin/{base_branch}")):  # fmt: skip
        if git.rev_parse(ref) is not None:
            return name
    raise NotFound(
        f"base branch {base_branch!r} not found (neither a local branch nor origin/{base_branch})",
        "pass --base-branch BRANCH (the branch pull requests merge into), or git fetch origin",
        kind="branch",
        name=base_branch,
    )


def find_github_repo(root: str | Path, ref: str = "HEAD") -> str | None:
    """The registry's GitHub repository (`github_repo.discover`), with gitreg.yaml at `ref`."""
    with Registry.open(root, ref) as reg:
        configured = reg.config.github.repo if reg.config.github else None
        return github_repo.discover(reg.git, configured)


def apply_plan(root: str | Path, plan: StagePlan, push: bool) -> AppliedChange:
    """Commit `plan` on its new branch, on the commit it was planned at; push it if asked.

    The working tree, index and current branch stay as they are. Refused (no ref changed)
    if the branch exists. A failed push keeps the local branch and says how to push it.
    """
    git = Git(root)
    base = git.commit_of(plan.base_commit)
    commit = branches.create_branch(
        git, plan.branch, base, plan.path, plan.text.encode(), plan.message
    )
    if push:
        branches.push_branch(git, plan.branch, commit)
    return AppliedChange(plan, commit, base, push)


def open_pull_request(
    root: str | Path, branch: str, title: str, body: str, base_branch: str, repo: str
) -> PullRequestResult:
    """Open a pull request from the pushed `branch` into `base_branch`.

    Without a token, nothing is sent: the result holds the compare URL and a note. If a
    pull request from `branch` is already open (GitHub answers 422 and lists it), that one
    is returned (`existing`).
    """
    from gitreg.store.github import GitHubClient

    compare = github_repo.compare_url(repo, base_branch, branch)
    client = GitHubClient.from_env(repo)
    if not client.has_token:
        return PullRequestResult(repo, compare, note=NO_TOKEN_NOTE)
    try:
        pr = client.create_pull(title, branch, base_branch, body)
    except GitHubError as e:
        if e.status != 422:
            raise
        found = client.list_pulls(head=f"{repo.split('/')[0]}:{branch}")
        same_base = [p for p in found if p.base_ref == base_branch] or found
        if not same_base:
            raise
        return PullRequestResult(repo, compare, same_base[0].number, same_base[0].html_url, True)
    return PullRequestResult(repo, compare, pr.number, pr.html_url)


def _pushed_but_no_pr(e: GitHubError, what: str, compare: str) -> GitHubError:
    return GitHubError(
        f"{e.message}\n{what}, but no pull request was opened",
        e.status,
        (f"{e.hint}; then " if e.hint else "") + f"open it by hand: {compare}",
    )


def submit(
    root: str | Path,
    plan: StagePlan,
    body: str = "",
    *,
    push: bool = False,
    open_pr: bool = False,
    base_branch: str = "main",
) -> Submission:
    """Commit `plan` on its branch (from the commit it was planned at); push; open the PR.

    `open_pr` implies `push`. Everything that can be checked is checked before the branch
    is created; a GitHub failure after the push says that the branch is pushed.
    """
    repo = find_github_repo(root, plan.base_commit) if push or open_pr else None
    if open_pr and repo is None:
        raise github_repo.no_repo(str(root))
    change = apply_plan(root, plan, push=push or open_pr)
    compare = github_repo.compare_url(repo, base_branch, plan.branch) if repo else None
    if not open_pr or repo is None or compare is None:
        return Submission(change, base_branch, None, compare)
    try:
        pr = open_pull_request(root, plan.branch, plan.title, body, base_branch, repo)
    except GitHubError as e:
        what = f"branch {plan.branch} is pushed to origin ({change.commit[:12]})"
        raise _pushed_but_no_pr(e, what, compare) from e
    return Submission(change, base_branch, pr, pr.compare_url, pr.note)


def open_registration_pr(
    root: str | Path, branch: str, commit: str, title: str, body: str, base_branch: str = "main"
) -> PullRequestResult:
    """Open the PR of a pushed registration branch (or give its compare URL without a token)."""
    repo = find_github_repo(root, commit)
    if repo is None:
        raise github_repo.no_repo(str(root))
    try:
        return open_pull_request(root, branch, title, body, base_branch, repo)
    except GitHubError as e:
        compare = github_repo.compare_url(repo, base_branch, branch)
        raise _pushed_but_no_pr(e, f"branch {branch} is pushed to origin", compare) from e
