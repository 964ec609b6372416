"""Who approved a merge, from GitHub, for the trailers `gitreg release` writes."""

from __future__ import annotations

from collections.abc import Callable

from .registry import Registry

Approvals = Callable[[str], "tuple[str, list[str]] | None"]


def github_repo(reg: Registry) -> str | None:
    """owner/name: from gitreg.yaml's `github.repo`, else from origin's URL."""
    if reg.config.github is not None:
        return reg.config.github.repo
    from .pullrequest import parse_remote

    url = reg.git.config_get("remote.origin.url")
    return parse_remote(url) if url else None


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
