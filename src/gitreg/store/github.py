"""A small GitHub REST client: pull requests, reviews and comments (DESIGN.md §6).

Standard library only. Every method returns a typed value or raises `GitHubError` with a
message that names the request and a hint that says what to do; nothing here prints.
"""

from __future__ import annotations

import json
import os
import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar

from gitreg.errors import GitHubError

if TYPE_CHECKING:
    from email.message import Message

# http.client and urllib.request (with ssl) are imported by the first request: a release
# without a token builds no client that sends one (docs/performance.md)

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
TOKEN_HINT = (
    "set GITHUB_TOKEN (or GH_TOKEN) to a token with `pull_requests: write` and "
    "`contents: write` permissions (or a classic token with `repo` scope)"
)
_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="next"')
_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
T = TypeVar("T")


@dataclass(frozen=True)
class PullRequest:
    """A pull request, as much of it as gitreg uses."""

    number: int
    html_url: str
    head_ref: str
    base_ref: str
    state: str
    title: str = ""
    head_sha: str = ""
    merged_at: str | None = None
    merge_commit_sha: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PullRequest:
        """Build from a pull request object of the REST API."""
        return cls(
            number=int(data["number"]),
            html_url=str(data["html_url"]),
            head_ref=str(data["head"]["ref"]),
            base_ref=str(data["base"]["ref"]),
            state=str(data["state"]),
            title=str(data.get("title") or ""),
            head_sha=str(data["head"].get("sha") or ""),
            merged_at=data.get("merged_at"),
            merge_commit_sha=data.get("merge_commit_sha"),
        )


@dataclass(frozen=True)
class Review:
    """A pull request review; `login` is None when the reviewer's account is gone."""

    login: str | None
    state: str
    submitted_at: str | None
    commit_id: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Review:
        """Build from a review object of the REST API."""
        user = data.get("user") or {}
        return cls(
            user.get("login"), str(data["state"]), data.get("submitted_at"), data.get("commit_id")
        )


@dataclass(frozen=True)
class Comment:
    """An issue (or pull request) comment."""

    id: int
    body: str
    html_url: str
    login: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Comment:
        """Build from an issue comment object of the REST API."""
        user = data.get("user") or {}
        return cls(
            int(data["id"]), str(data.get("body") or ""), str(data["html_url"]), user.get("login")
        )


class GitHubClient:
    """Talks to one repository through the GitHub REST API."""

    def __init__(
        self,
        repo: str,
        token: str | None,
        api_url: str = DEFAULT_API_URL,
        timeout: float = 30.0,
    ) -> None:
        if not _REPO.match(repo):
            raise GitHubError(f"invalid GitHub repository {repo!r}", None, "expected owner/name")
        self.repo = repo
        self.token = token or None
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout

    @classmethod
    def from_env(cls, repo: str, env: Mapping[str, str] | None = None) -> GitHubClient:
        """A client with the token from GITHUB_TOKEN (or GH_TOKEN), the URL from GITHUB_API_URL."""
        env = os.environ if env is None else env
        token = env.get("GITHUB_TOKEN") or env.get("GH_TOKEN")
        return cls(repo, token, env.get("GITHUB_API_URL") or DEFAULT_API_URL)

    @property
    def has_token(self) -> bool:
        """Whether requests are authenticated (writes need it)."""
        return self.token is not None

    # -- pull requests -------------------------------------------------------------------

    def create_pull(
        self, title: str, head: str, base: str, body: str, draft: bool = False
    ) -> PullRequest:
        """Open a pull request from branch `head` into `base`."""
        payload = {"title": title, "head": head, "base": base, "body": body, "draft": draft}
        return self._one(PullRequest.from_json, "POST", self._repo_path("pulls"), payload)

    def get_pull(self, number: int) -> PullRequest:
        """One pull request by number."""
        return self._one(PullRequest.from_json, "GET", self._repo_path(f"pulls/{int(number)}"))

    def list_pulls(self, head: str | None = None, state: str = "open") -> list[PullRequest]:
        """Pull requests in `state` (open, closed, all), optionally from `head` ("owner:branch")."""
        query = {"state": state} | ({"head": head} if head else {})
        return self._all(PullRequest.from_json, self._repo_path("pulls"), query)

    def pulls_for_commit(self, sha: str) -> list[PullRequest]:
        """Pull requests associated with a commit, e.g. the one a merge commit merged."""
        return self._all(PullRequest.from_json, self._repo_path(f"commits/{_quote(sha)}/pulls"))

    # -- reviews -------------------------------------------------------------------------

    def list_reviews(self, number: int) -> list[Review]:
        """The reviews of a pull request, oldest first."""
        return self._all(Review.from_json, self._repo_path(f"pulls/{int(number)}/reviews"))

    def approvers(self, number: int, head_sha: str | None = None) -> list[str]:
        """Logins whose latest review approves the pull request, sorted.

        Plain comments (COMMENTED) and unsubmitted (PENDING) reviews neither give nor take
        away an approval, as on GitHub; CHANGES_REQUESTED and DISMISSED take it away. With
        `head_sha`, an approval counts only if it was given on that commit (the PR's head
        when it merged), so approving an earlier push approves nothing that came after.
        """
        latest: dict[str, tuple[str, str | None]] = {}
        for review in self.list_reviews(number):
            if review.login and review.state not in ("COMMENTED", "PENDING"):
                latest[review.login] = (review.state, review.commit_id)
        return sorted(
            login
            for login, (state, commit) in latest.items()
            if state == "APPROVED" and (head_sha is None or commit == head_sha)
        )

    # -- comments ------------------------------------------------------------------------

    def list_comments(self, issue_number: int) -> list[Comment]:
        """All comments on an issue or pull request, oldest first."""
        path = self._repo_path(f"issues/{int(issue_number)}/comments")
        return self._all(Comment.from_json, path)

    def create_comment(self, issue_number: int, body: str) -> Comment:
        """Add a comment to an issue or pull request."""
        path = self._repo_path(f"issues/{int(issue_number)}/comments")
        return self._one(Comment.from_json, "POST", path, {"body": body})

    def update_comment(self, comment_id: int, body: str) -> Comment:
        """Replace the body of a comment."""
        path = self._repo_path(f"issues/comments/{int(comment_id)}")
        return self._one(Comment.from_json, "PATCH", path, {"body": body})

    def upsert_comment(self, issue_number: int, marker: str, body: str) -> Comment:
        """Update the comment that holds `marker` (e.g. ``<!-- gitreg:evaluate -->``), else add one.

        The marker is put at the top of `body` when it is missing, so the next call finds it.
        An unchanged body is not sent again.
        """
        self._require_token(f"upsert_comment on {self.repo}")
        if marker not in body:
            body = f"{marker}\n{body}"
        for comment in self.list_comments(issue_number):
            if marker in comment.body:
                if comment.body == body:
                    return comment
                return self.update_comment(comment.id, body)
        return self.create_comment(issue_number, body)

    # -- HTTP ----------------------------------------------------------------------------

    def _repo_path(self, rest: str) -> str:
        owner, name = self.repo.split("/")
        return f"/repos/{_quote(owner)}/{_quote(name)}/{rest}"

    def _require_token(self, what: str) -> None:
        if not self.token:
            raise GitHubError(f"GitHub {what} needs a token, and none is set", None, TOKEN_HINT)

    def _one(
        self,
        make: Callable[[Any], T],
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
    ) -> T:
        data, _ = self._request(method, path, body)
        return _parse(make, data, f"{method} {path}")

    def _all(
        self, make: Callable[[Any], T], path: str, query: Mapping[str, str] | None = None
    ) -> list[T]:
        return [_parse(make, item, f"GET {path}") for item in self._paginate(path, query)]

    def _paginate(self, path: str, query: Mapping[str, str] | None = None) -> list[Any]:
        """Every item of a list endpoint, following `Link: <...>; rel="next"`."""
        url: str | None = f"{self.api_url}{path}?" + urllib.parse.urlencode(
            {**(query or {}), "per_page": "100"}
        )
        items: list[Any] = []
        seen: set[str] = set()
        while url is not None and url not in seen:
            seen.add(url)
            data, headers = self._request("GET", url)
            if not isinstance(data, list):
                raise GitHubError(f"GitHub GET {path}: expected a list, got {type(data).__name__}")
            items.extend(data)
            url = self._next_url(path, headers.get("Link"))
        return items

    def _next_url(self, path: str, link: str | None) -> str | None:
        match = _NEXT_LINK.search(link or "")
        if match is None:
            return None
        url = match.group(1)
        if _origin(url) != _origin(self.api_url):  # never send the token to another host
            raise GitHubError(f"GitHub GET {path}: next page {url} is not on {self.api_url}")
        return url

    def _request(
        self, method: str, path_or_url: str, body: Mapping[str, Any] | None = None
    ) -> tuple[Any, Message]:
        """Send one request; return the decoded JSON body and the response headers."""
        import http.client
        import urllib.error
        import urllib.request

        if method != "GET":
            self._require_token(f"{method} {path_or_url}")
        url = path_or_url if "://" in path_or_url else self.api_url + path_or_url
        shown = f"{method} {_path_of(url)}"
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": "gitreg",
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            request = urllib.request.Request(url, data=data, headers=headers, method=method)
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
                response_headers = response.headers
        except urllib.error.HTTPError as e:
            try:
                error_body = e.read()
            except OSError:
                error_body = b""
            finally:
                e.close()
            raise self._http_error(shown, e.code, e.headers, error_body) from e
        except (OSError, ValueError, http.client.HTTPException) as e:  # refused, timeout, bad URL
            reason = getattr(e, "reason", None) or e
            raise GitHubError(
                f"GitHub {shown}: cannot reach the GitHub API at {self.api_url}: {reason}",
                None,
                "check the network, or GITHUB_API_URL if you use GitHub Enterprise Server",
            ) from e
        try:
            return (json.loads(raw) if raw.strip() else None), response_headers
        except ValueError as e:
            raise GitHubError(f"GitHub {shown}: the answer is not JSON: {e}") from e

    def _http_error(self, shown: str, status: int, headers: Message, raw: bytes) -> GitHubError:
        """Turn an HTTP error answer into a GitHubError that says what to do."""
        reason = _reason(raw)
        where = f"GitHub {shown}"
        if status == 401:
            return GitHubError(f"{where}: the token was refused (401: {reason})", 401, TOKEN_HINT)
        limited = headers.get("x-ratelimit-remaining") == "0" or headers.get("retry-after")
        if status in (403, 429) and limited:
            when = _reset_time(headers)
            return GitHubError(
                f"{where}: rate limited ({status}: {reason}); the limit resets at {when}",
                status,
                f"try again after {when}; gitreg does not retry on its own",
            )
        if status == 403:
            return GitHubError(
                f"{where}: forbidden (403: {reason})",
                403,
                "the token lacks a permission: it needs `pull_requests: write` and "
                "`contents: write` on this repository (or `repo` scope)",
            )
        if status == 404:
            return GitHubError(
                f"{where}: not found (404): repository {self.repo} or the pull request, "
                f"issue or comment does not exist, or the token cannot see it",
                404,
                "check the repository name and number, and that the token has access to it",
            )
        if status == 422:
            return GitHubError(f"{where}: validation failed (422: {reason})", 422)
        return GitHubError(f"{where}: HTTP {status}: {reason}", status)


def _parse(make: Callable[[Any], T], data: Any, shown: str) -> T:
    try:
        return make(data)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise GitHubError(f"GitHub {shown}: unexpected answer ({type(e).__name__}: {e})") from e


def _reason(raw: bytes) -> str:
    """GitHub's `message` and each `errors[].message` of an error body."""
    try:
        data = json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace").strip()[:200] or "no message"
    if not isinstance(data, dict):
        return str(data)[:200]
    parts = [str(data.get("message") or "no message")]
    errors = data.get("errors")
    for error in errors if isinstance(errors, list) else []:
        if isinstance(error, dict):
            fields = (error.get("resource"), error.get("field"), error.get("code"))
            parts.append(str(error.get("message") or " ".join(str(f) for f in fields if f)))
        else:
            parts.append(str(error))
    return ": ".join(parts)


def _quote(part: str) -> str:
    return urllib.parse.quote(part, safe="")


def _origin(url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme, parts.netloc


def _path_of(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _reset_time(headers: Message) -> str:
    """When a rate limit ends: `retry-after` seconds, or `x-ratelimit-reset` as UTC time."""
    if headers.get("retry-after"):
        return f"{headers['retry-after']} s from now"
    reset = headers.get("x-ratelimit-reset", "")
    if not reset.isdigit():
        return "an unknown time"
    return datetime.fromtimestamp(int(reset), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
