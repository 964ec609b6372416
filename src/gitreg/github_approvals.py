"""Who approved a merge, from GitHub, for the trailers `gitreg release` writes."""

from __future__ import annotations

import re
from collections.abc import Callable

from .registry import Registry

Approvals = Callable[[str], "tuple[str, list[str]] | None"]

_GITHUB_URL = re.compile(r"github\.com[:/](?P<repo>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+?)(?:\.git)?/?$")


def github_repo(reg: Registry) -> str | None:
    """owner/name: from gitreg.yaml's `github.repo`, else from origin's URL."""
    if reg.config.github is not None:
        return reg.config.github.repo
    url = reg.git.config_get("remote.origin.url") or ""
    m = _GITHUB_URL.search(url)
    return m.group("repo") if m else None


def approvals_from_env(reg: Registry) -> Approvals | None:
    """A lookup of (pull request, approvers) by merge commit, when a token is set."""
    from .github import GitHubClient

    repo = github_repo(reg)
    if repo is None:
        return None
    client = GitHubClient.from_env(repo)
    if not client.has_token:
        return None

    def lookup(commit: str) -> tuple[str, list[str]] | None:
        pulls = [p for p in client.pulls_for_commit(commit) if p.merged_at]
        if not pulls:
            return None
        pr = pulls[0]
        return pr.html_url or f"#{pr.number}", client.approvers(pr.number)

    return lookup
