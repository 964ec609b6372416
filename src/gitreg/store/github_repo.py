"""Which GitHub repository a registry is, and what GitHub says about its merges.

One way to find the repository (`discover`): `GITHUB_REPOSITORY` in Actions, else
`github.repo` in gitreg.yaml, else origin's URL when it is a GitHub one.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Callable, Mapping

from gitreg.errors import RegistryError
from gitreg.store.git import Git

Approvals = Callable[[str], "tuple[str, list[str]] | None"]
_URL = re.compile(
    r"^(?:https?|ssh|git)://(?:[^@/]+@)?(?P<host>[^/:]+)(?::\d+)?/"
    r"(?P<owner>[^/]+)/(?P<repo>[^/]+?)(?:\.git)?/?$"
)
_SCP = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):/?(?P<owner>[^/]+)/(?P<repo>[^/]+?)(?:\.git)?/?$")


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


def discover(
    git: Git, configured: str | None, env: Mapping[str, str] | None = None, actions: bool = False
) -> str | None:
    """owner/name of the registry on GitHub.

    `configured` is gitreg.yaml's `github.repo`. With `actions`, `GITHUB_REPOSITORY` (the
    repository the workflow runs in) comes first.
    """
    env = os.environ if env is None else env
    if actions and env.get("GITHUB_REPOSITORY"):
        return env["GITHUB_REPOSITORY"]
    if configured:
        return configured
    url = git.config_get("remote.origin.url")
    return parse_remote(url) if url else None


def no_repo(root: str) -> RegistryError:
    return RegistryError(
        f"cannot tell the GitHub repository of {root}: gitreg.yaml has no `github.repo` and "
        "origin is not a GitHub URL",
        "add `github: {repo: OWNER/NAME}` to gitreg.yaml (and commit it), or set origin",
    )


def compare_url(repo: str, base_branch: str, branch: str) -> str:
    """The page where GitHub offers to open a pull request from `branch` into `base_branch`."""
    quote = urllib.parse.quote
    return f"{web_url()}/{repo}/compare/{quote(base_branch)}...{quote(branch)}?expand=1"


def approvals_lookup(repo: str | None) -> Approvals | None:
    """A lookup of (pull request, approvers) by merge commit, when a token is set."""
    if repo is None:
        return None
    from gitreg.store.github import GitHubClient

    client = GitHubClient.from_env(repo)
    if not client.has_token:
        return None

    def lookup(commit: str) -> tuple[str, list[str]] | None:
        pulls = [p for p in client.pulls_for_commit(commit) if p.merged_at]
        if not pulls:
            return None
        pr = pulls[0]
        return pr.html_url or f"#{pr.number}", client.approvers(pr.number, pr.head_sha or None)

    return lookup
