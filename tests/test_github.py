"""The GitHub client against a local fake GitHub that checks every request (tests/fakegithub.py)."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from typing import Any

import pytest

from conftest import FAKE_TOKEN as TOKEN
from fakegithub import FakeGitHub
from gitreg.errors import GitHubError
from gitreg.store.github import GitHubClient, PullRequest

REPO = "octo-org/models"
MARKER = "<!-- gitreg:evaluate -->"


@pytest.fixture
def client(fake_github: FakeGitHub) -> GitHubClient:
    return GitHubClient(REPO, TOKEN, fake_github.url)


def raw_request(
    server: FakeGitHub, method: str, path: str, body: Any = None, token: str | None = TOKEN
) -> tuple[int, Any]:
    """Send one request without the client; (status, decoded JSON body)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(server.url + path, data, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        with e:
            return e.code, json.loads(e.read())


# -- pull requests -----------------------------------------------------------------------


def test_create_pull_sends_the_documented_request(
    fake_github: FakeGitHub, client: GitHubClient
) -> None:
    pr = client.create_pull("Promote churn v3 to prod", "promote/churn", "main", "Why", draft=True)

    assert pr == PullRequest(
        number=1,
        html_url="https://github.com/octo-org/models/pull/1",
        head_ref="promote/churn",
        base_ref="main",
        state="open",
        title="Promote churn v3 to prod",
        head_sha=fake_github.pulls[1]["head"]["sha"],
    )
    [request] = fake_github.requests
    assert (request.method, request.path) == ("POST", "/repos/octo-org/models/pulls")
    assert request.operation_id == "pulls/create"
    assert request.body == {
        "title": "Promote churn v3 to prod",
        "head": "promote/churn",
        "base": "main",
        "body": "Why",
        "draft": True,
    }
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["accept"] == "application/vnd.github+json"
    assert request.headers["x-github-api-version"] == "2022-11-28"
    assert request.headers["user-agent"] == "gitreg"
    assert request.headers["content-type"] == "application/json"
    assert request.status == 201
    assert fake_github.violations == []


def test_get_and_list_pulls(fake_github: FakeGitHub, client: GitHubClient) -> None:
    first = client.create_pull("One", "promote/one", "main", "")
    client.create_pull("Two", "promote/two", "main", "")
    fake_github.set_merged(first.number, "f" * 40)

    assert client.get_pull(2).head_ref == "promote/two"
    assert [p.number for p in client.list_pulls()] == [2]
    assert [p.number for p in client.list_pulls(state="all")] == [2, 1]
    assert [p.number for p in client.list_pulls("octo-org:promote/two")] == [2]
    assert client.list_pulls("octo-org:promote/none") == []
    assert fake_github.requests[-2].query == {
        "state": ["open"],
        "head": ["octo-org:promote/two"],
        "per_page": ["100"],
    }
    assert fake_github.violations == []


def test_duplicate_pull_request_is_refused_with_githubs_reason(client: GitHubClient) -> None:
    client.create_pull("Promote", "promote/churn", "main", "")

    with pytest.raises(GitHubError) as excinfo:
        client.create_pull("Promote again", "promote/churn", "main", "")

    assert excinfo.value.status == 422
    assert "A pull request already exists for octo-org:promote/churn." in excinfo.value.message
    assert "POST /repos/octo-org/models/pulls" in excinfo.value.message


def test_missing_pull_request_is_not_found(client: GitHubClient) -> None:
    with pytest.raises(GitHubError) as excinfo:
        client.get_pull(42)

    assert excinfo.value.status == 404
    assert "GET /repos/octo-org/models/pulls/42" in excinfo.value.message
    assert excinfo.value.hint and "access" in excinfo.value.hint


def test_pulls_for_commit_finds_the_merged_pull_request(
    fake_github: FakeGitHub, client: GitHubClient
) -> None:
    number = fake_github.add_pull("promote/churn")
    fake_github.add_pull("promote/other")
    fake_github.set_merged(number, "a" * 40)

    [pr] = client.pulls_for_commit("a" * 40)

    assert (pr.number, pr.state, pr.merge_commit_sha) == (number, "closed", "a" * 40)
    assert pr.merged_at is not None
    assert client.pulls_for_commit("b" * 40) == []
    assert fake_github.requests[0].path == f"/repos/octo-org/models/commits/{'a' * 40}/pulls"
    assert fake_github.violations == []


# -- reviews -----------------------------------------------------------------------------


def test_approvers_are_those_whose_latest_review_approves(
    fake_github: FakeGitHub, client: GitHubClient
) -> None:
    number = fake_github.add_pull("promote/churn")
    fake_github.add_review(number, "alice", "APPROVED")
    fake_github.add_review(number, "bob", "CHANGES_REQUESTED")
    fake_github.add_review(number, "alice", "CHANGES_REQUESTED")
    fake_github.add_review(number, "bob", "APPROVED")
    fake_github.add_review(number, "bob", "APPROVED")
    fake_github.add_review(number, "carol", "APPROVED")
    fake_github.add_review(number, "carol", "COMMENTED")  # a comment keeps the approval
    fake_github.add_review(number, "dave", "APPROVED")
    fake_github.add_review(number, "dave", "DISMISSED")
    fake_github.add_review(number, "erin", "COMMENTED")

    assert client.approvers(number) == ["bob", "carol"]

    reviews = client.list_reviews(number)
    assert [r.login for r in reviews][:2] == ["alice", "bob"]
    assert reviews[0].state == "APPROVED"
    assert reviews[0].commit_id == fake_github.pulls[number]["head"]["sha"]
    assert reviews[0].submitted_at is not None
    assert fake_github.violations == []


# -- comments ----------------------------------------------------------------------------


def test_upsert_comment_creates_once_then_updates_the_same_comment(
    fake_github: FakeGitHub, client: GitHubClient
) -> None:
    number = fake_github.add_pull("promote/churn")
    fake_github.add_comment(number, "LGTM", login="alice")

    created = client.upsert_comment(number, MARKER, f"{MARKER}\nGate: pass")
    updated = client.upsert_comment(number, MARKER, f"{MARKER}\nGate: fail")

    assert updated.id == created.id
    assert updated.body == f"{MARKER}\nGate: fail"
    assert fake_github.comments_on(number) == ["LGTM", f"{MARKER}\nGate: fail"]
    methods = [r.method for r in fake_github.requests]
    assert methods == ["GET", "POST", "GET", "PATCH"]
    assert fake_github.requests[-1].path == f"/repos/octo-org/models/issues/comments/{created.id}"
    assert fake_github.violations == []


def test_upsert_comment_adds_a_missing_marker_and_skips_an_unchanged_body(
    fake_github: FakeGitHub, client: GitHubClient
) -> None:
    number = fake_github.add_pull("promote/churn")

    first = client.upsert_comment(number, MARKER, "Gate: pass")
    again = client.upsert_comment(number, MARKER, "Gate: pass")

    assert first.body == f"{MARKER}\nGate: pass"
    assert again == first
    assert [r.method for r in fake_github.requests] == ["GET", "POST", "GET"]


def test_list_comments_follows_pagination(fake_github: FakeGitHub, client: GitHubClient) -> None:
    number = fake_github.add_pull("promote/churn")
    for i in range(230):
        fake_github.add_comment(number, f"comment {i}")
    fake_github.add_comment(number, f"{MARKER}\nold report")

    comments = client.list_comments(number)

    assert [c.body for c in comments[:2]] == ["comment 0", "comment 1"]
    assert len(comments) == 231
    assert len({c.id for c in comments}) == 231
    assert [r.query.get("page") for r in fake_github.requests] == [None, ["2"], ["3"]]
    assert all(r.query["per_page"] == ["100"] for r in fake_github.requests)

    # The marker comment is on the last page: upsert still finds and updates it.
    updated = client.upsert_comment(number, MARKER, f"{MARKER}\nnew report")
    assert updated.id == comments[-1].id
    assert fake_github.comments_on(number).count(f"{MARKER}\nnew report") == 1
    assert fake_github.violations == []


def test_create_and_update_comment(fake_github: FakeGitHub, client: GitHubClient) -> None:
    number = fake_github.add_pull("promote/churn")

    comment = client.create_comment(number, "hello")
    changed = client.update_comment(comment.id, "hello again")

    assert comment.login == "gitreg-bot"
    assert comment.html_url.endswith(f"/pull/{number}#issuecomment-{comment.id}")
    assert (changed.id, changed.body) == (comment.id, "hello again")
    assert fake_github.violations == []


# -- errors ------------------------------------------------------------------------------


def test_refused_token_says_which_variable_to_set(fake_github: FakeGitHub) -> None:
    fake_github.add_pull("promote/churn")
    client = GitHubClient(REPO, "wrong-token", fake_github.url)

    with pytest.raises(GitHubError) as excinfo:
        client.get_pull(1)

    assert excinfo.value.status == 401
    assert "Bad credentials" in excinfo.value.message
    assert excinfo.value.hint and "GITHUB_TOKEN" in excinfo.value.hint


def test_fail_auth_refuses_even_the_valid_token(
    fake_github: FakeGitHub, client: GitHubClient
) -> None:
    fake_github.fail_auth = True

    with pytest.raises(GitHubError) as excinfo:
        client.list_pulls()

    assert excinfo.value.status == 401


def test_rate_limit_names_the_reset_time_and_is_not_retried(
    fake_github: FakeGitHub, client: GitHubClient
) -> None:
    fake_github.rate_limited = True
    fake_github.rate_limit_reset = 1_900_000_000

    with pytest.raises(GitHubError) as excinfo:
        client.list_comments(1)

    assert excinfo.value.status == 403
    assert "rate limited" in excinfo.value.message
    assert "2030-03-17T17:46:40Z" in excinfo.value.message
    assert len(fake_github.requests) == 1


def test_forbidden_write_says_which_permission_is_missing(
    fake_github: FakeGitHub, client: GitHubClient
) -> None:
    number = fake_github.add_pull("promote/churn")
    fake_github.read_only = True

    with pytest.raises(GitHubError) as excinfo:
        client.create_comment(number, "hello")

    assert excinfo.value.status == 403
    assert "Resource not accessible by integration" in excinfo.value.message
    assert excinfo.value.hint and "pull_requests: write" in excinfo.value.hint


def test_write_without_token_is_refused_before_any_request(fake_github: FakeGitHub) -> None:
    client = GitHubClient(REPO, None, fake_github.url)
    assert not client.has_token

    with pytest.raises(GitHubError) as excinfo:
        client.create_pull("Promote", "promote/churn", "main", "")
    with pytest.raises(GitHubError):
        client.upsert_comment(1, MARKER, "report")

    assert excinfo.value.hint and "GITHUB_TOKEN" in excinfo.value.hint
    assert fake_github.requests == []


def test_unreachable_server_names_the_url() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago and is closed now
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"

    with pytest.raises(GitHubError) as excinfo:
        GitHubClient(REPO, TOKEN, url).get_pull(1)

    assert url in excinfo.value.message
    assert excinfo.value.status is None


def test_timeout_names_the_url(fake_github: FakeGitHub) -> None:
    fake_github.hang = True  # the fake accepts the request and never answers

    with pytest.raises(GitHubError) as excinfo:
        GitHubClient(REPO, TOKEN, fake_github.url, timeout=0.1).get_pull(1)

    assert fake_github.url in excinfo.value.message
    assert "timed out" in excinfo.value.message


def test_invalid_repository_name() -> None:
    with pytest.raises(GitHubError, match="owner/name"):
        GitHubClient("just-a-name", TOKEN)


def test_from_env() -> None:
    env = {"GH_TOKEN": "gh", "GITHUB_API_URL": "https://ghe.example.com/api/v3/"}
    client = GitHubClient.from_env(REPO, env)
    assert (client.token, client.api_url, client.has_token) == (
        "gh",
        "https://ghe.example.com/api/v3",
        True,
    )
    assert GitHubClient.from_env(REPO, {"GITHUB_TOKEN": "a", "GH_TOKEN": "b"}).token == "a"
    anonymous = GitHubClient.from_env(REPO, {})
    assert (anonymous.has_token, anonymous.api_url) == (False, "https://api.github.com")


# -- the fake checks what it receives ----------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "violation"),
    [
        pytest.param(
            "POST",
            "/repos/octo-org/models/pulls",
            {"title": "no head", "base": "main"},
            422,
            "body: 'head' is a required property",
            id="body-missing-required-field",
        ),
        pytest.param(
            "POST",
            "/repos/octo-org/models/pulls",
            {"title": "x", "head": "a", "base": "main", "draft": "yes"},
            422,
            "body.draft: 'yes' is not of type 'boolean'",
            id="body-wrong-type",
        ),
        pytest.param(
            "PATCH",
            "/repos/octo-org/models/issues/comments/1",
            {"body": "x", "bdy": "typo"},
            422,
            "body.bdy: not a described property",
            id="body-unknown-field",
        ),
        pytest.param(
            "GET",
            "/repos/octo-org/models/issues/1/comments?per_page=lots",
            None,
            422,
            "query parameter 'per_page': 'lots' is not an integer",
            id="query-wrong-type",
        ),
        pytest.param(
            "GET",
            "/repos/octo-org/models/pulls?state=merged",
            None,
            422,
            "query parameter 'state': 'merged' is not one of",
            id="query-not-in-enum",
        ),
        pytest.param(
            "GET",
            "/repos/octo-org/models/pulls?perpage=10",
            None,
            422,
            "query parameter 'perpage' is not described",
            id="query-unknown",
        ),
        pytest.param(
            "DELETE",
            "/repos/octo-org/models/pulls/1",
            None,
            404,
            "no such path and method in the OpenAPI description",
            id="undescribed-method",
        ),
        pytest.param(
            "GET",
            "/repos/octo-org/models/pulls/1/files",
            None,
            404,
            "no such path and method in the OpenAPI description",
            id="undescribed-path",
        ),
    ],
)
def test_fake_rejects_and_records_requests_that_break_the_description(
    fake_github: FakeGitHub, method: str, path: str, body: Any, status: int, violation: str
) -> None:
    fake_github.add_pull("existing")
    fake_github.add_comment(1, "x")

    got, answer = raw_request(fake_github, method, path, body)

    assert got == status
    assert "message" in answer
    [request] = fake_github.requests
    assert any(violation in v for v in request.violations), request.violations
    assert fake_github.violations == [
        f"{method} {path.split('?')[0]}: {v}" for v in request.violations
    ]
    assert fake_github.pulls[1]["title"] == "A change"  # nothing was changed


def test_fake_requires_an_authorization_header(fake_github: FakeGitHub) -> None:
    status, answer = raw_request(fake_github, "GET", "/repos/octo-org/models", token=None)

    assert (status, answer["message"]) == (401, "Requires authentication")
    assert fake_github.violations == ["GET /repos/octo-org/models: no Authorization header"]


def test_fake_answers_a_valid_request_with_the_documented_shape(fake_github: FakeGitHub) -> None:
    status, repo = raw_request(fake_github, "GET", "/repos/octo-org/models")

    assert (status, repo["full_name"], repo["default_branch"]) == (200, "octo-org/models", "main")
    assert "archive_url" in repo  # a required field gitreg does not use
    assert fake_github.violations == []
