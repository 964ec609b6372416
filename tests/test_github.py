"""The GitHub client against a local fake GitHub that checks every request (tests/fakegithub.py)."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from fakegithub import FakeGitHub
from gitreg.errors import GitHubError
from gitreg.store.github import GitHubClient, PullRequest

REPO = "octo-org/models"
TOKEN = "t0ken"
MARKER = "<!-- gitreg:evaluate -->"


@pytest.fixture
def server() -> Iterator[FakeGitHub]:
    with FakeGitHub(owner="octo-org", repo="models") as fake:
        fake.valid_token = TOKEN
        yield fake
        # Whatever the test did, the fake's own answers matched GitHub's response schemas.
        assert fake.response_violations == []


@pytest.fixture
def client(server: FakeGitHub) -> GitHubClient:
    return GitHubClient(REPO, TOKEN, server.url)


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


def test_create_pull_sends_the_documented_request(server: FakeGitHub, client: GitHubClient) -> None:
    pr = client.create_pull("Promote churn v3 to prod", "promote/churn", "main", "Why", draft=True)

    assert pr == PullRequest(
        number=1,
        html_url="https://github.com/octo-org/models/pull/1",
        head_ref="promote/churn",
        base_ref="main",
        state="open",
        title="Promote churn v3 to prod",
        head_sha=server.pulls[1]["head"]["sha"],
    )
    [request] = server.requests
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
    assert server.violations == []


def test_get_and_list_pulls(server: FakeGitHub, client: GitHubClient) -> None:
    first = client.create_pull("One", "promote/one", "main", "")
    client.create_pull("Two", "promote/two", "main", "")
    server.set_merged(first.number, "f" * 40)

    assert client.get_pull(2).head_ref == "promote/two"
    assert [p.number for p in client.list_pulls()] == [2]
    assert [p.number for p in client.list_pulls(state="all")] == [2, 1]
    assert [p.number for p in client.list_pulls("octo-org:promote/two")] == [2]
    assert client.list_pulls("octo-org:promote/none") == []
    assert server.requests[-2].query == {
        "state": ["open"],
        "head": ["octo-org:promote/two"],
        "per_page": ["100"],
    }
    assert server.violations == []


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
    server: FakeGitHub, client: GitHubClient
) -> None:
    number = server.add_pull("promote/churn")
    server.add_pull("promote/other")
    server.set_merged(number, "a" * 40)

    [pr] = client.pulls_for_commit("a" * 40)

    assert (pr.number, pr.state, pr.merge_commit_sha) == (number, "closed", "a" * 40)
    assert pr.merged_at is not None
    assert client.pulls_for_commit("b" * 40) == []
    assert server.requests[0].path == f"/repos/octo-org/models/commits/{'a' * 40}/pulls"
    assert server.violations == []


# -- reviews -----------------------------------------------------------------------------


def test_approvers_are_those_whose_latest_review_approves(
    server: FakeGitHub, client: GitHubClient
) -> None:
    number = server.add_pull("promote/churn")
    server.add_review(number, "alice", "APPROVED")
    server.add_review(number, "bob", "CHANGES_REQUESTED")
    server.add_review(number, "alice", "CHANGES_REQUESTED")
    server.add_review(number, "bob", "APPROVED")
    server.add_review(number, "bob", "APPROVED")
    server.add_review(number, "carol", "APPROVED")
    server.add_review(number, "carol", "COMMENTED")  # a comment keeps the approval
    server.add_review(number, "dave", "APPROVED")
    server.add_review(number, "dave", "DISMISSED")
    server.add_review(number, "erin", "COMMENTED")

    assert client.approvers(number) == ["bob", "carol"]

    reviews = client.list_reviews(number)
    assert [r.login for r in reviews][:2] == ["alice", "bob"]
    assert reviews[0].state == "APPROVED"
    assert reviews[0].commit_id == server.pulls[number]["head"]["sha"]
    assert reviews[0].submitted_at is not None
    assert server.violations == []


# -- comments ----------------------------------------------------------------------------


def test_upsert_comment_creates_once_then_updates_the_same_comment(
    server: FakeGitHub, client: GitHubClient
) -> None:
    number = server.add_pull("promote/churn")
    server.add_comment(number, "LGTM", login="alice")

    created = client.upsert_comment(number, MARKER, f"{MARKER}\nGate: pass")
    updated = client.upsert_comment(number, MARKER, f"{MARKER}\nGate: fail")

    assert updated.id == created.id
    assert updated.body == f"{MARKER}\nGate: fail"
    assert server.comments_on(number) == ["LGTM", f"{MARKER}\nGate: fail"]
    methods = [r.method for r in server.requests]
    assert methods == ["GET", "POST", "GET", "PATCH"]
    assert server.requests[-1].path == f"/repos/octo-org/models/issues/comments/{created.id}"
    assert server.violations == []


def test_upsert_comment_adds_a_missing_marker_and_skips_an_unchanged_body(
    server: FakeGitHub, client: GitHubClient
) -> None:
    number = server.add_pull("promote/churn")

    first = client.upsert_comment(number, MARKER, "Gate: pass")
    again = client.upsert_comment(number, MARKER, "Gate: pass")

    assert first.body == f"{MARKER}\nGate: pass"
    assert again == first
    assert [r.method for r in server.requests] == ["GET", "POST", "GET"]


def test_list_comments_follows_pagination(server: FakeGitHub, client: GitHubClient) -> None:
    number = server.add_pull("promote/churn")
    for i in range(230):
        server.add_comment(number, f"comment {i}")
    server.add_comment(number, f"{MARKER}\nold report")

    comments = client.list_comments(number)

    assert [c.body for c in comments[:2]] == ["comment 0", "comment 1"]
    assert len(comments) == 231
    assert len({c.id for c in comments}) == 231
    assert [r.query.get("page") for r in server.requests] == [None, ["2"], ["3"]]
    assert all(r.query["per_page"] == ["100"] for r in server.requests)

    # The marker comment is on the last page: upsert still finds and updates it.
    updated = client.upsert_comment(number, MARKER, f"{MARKER}\nnew report")
    assert updated.id == comments[-1].id
    assert server.comments_on(number).count(f"{MARKER}\nnew report") == 1
    assert server.violations == []


def test_create_and_update_comment(server: FakeGitHub, client: GitHubClient) -> None:
    number = server.add_pull("promote/churn")

    comment = client.create_comment(number, "hello")
    changed = client.update_comment(comment.id, "hello again")

    assert comment.login == "gitreg-bot"
    assert comment.html_url.endswith(f"/pull/{number}#issuecomment-{comment.id}")
    assert (changed.id, changed.body) == (comment.id, "hello again")
    assert server.violations == []


# -- errors ------------------------------------------------------------------------------


def test_refused_token_says_which_variable_to_set(server: FakeGitHub) -> None:
    server.add_pull("promote/churn")
    client = GitHubClient(REPO, "wrong-token", server.url)

    with pytest.raises(GitHubError) as excinfo:
        client.get_pull(1)

    assert excinfo.value.status == 401
    assert "Bad credentials" in excinfo.value.message
    assert excinfo.value.hint and "GITHUB_TOKEN" in excinfo.value.hint


def test_fail_auth_refuses_even_the_valid_token(server: FakeGitHub, client: GitHubClient) -> None:
    server.fail_auth = True

    with pytest.raises(GitHubError) as excinfo:
        client.list_pulls()

    assert excinfo.value.status == 401


def test_rate_limit_names_the_reset_time_and_is_not_retried(
    server: FakeGitHub, client: GitHubClient
) -> None:
    server.rate_limited = True
    server.rate_limit_reset = 1_900_000_000

    with pytest.raises(GitHubError) as excinfo:
        client.list_comments(1)

    assert excinfo.value.status == 403
    assert "rate limited" in excinfo.value.message
    assert "2030-03-17T17:46:40Z" in excinfo.value.message
    assert len(server.requests) == 1


def test_forbidden_write_says_which_permission_is_missing(
    server: FakeGitHub, client: GitHubClient
) -> None:
    number = server.add_pull("promote/churn")
    server.read_only = True

    with pytest.raises(GitHubError) as excinfo:
        client.create_comment(number, "hello")

    assert excinfo.value.status == 403
    assert "Resource not accessible by integration" in excinfo.value.message
    assert excinfo.value.hint and "pull_requests: write" in excinfo.value.hint


def test_write_without_token_is_refused_before_any_request(server: FakeGitHub) -> None:
    client = GitHubClient(REPO, None, server.url)
    assert not client.has_token

    with pytest.raises(GitHubError) as excinfo:
        client.create_pull("Promote", "promote/churn", "main", "")
    with pytest.raises(GitHubError):
        client.upsert_comment(1, MARKER, "report")

    assert excinfo.value.hint and "GITHUB_TOKEN" in excinfo.value.hint
    assert server.requests == []


def test_unreachable_server_names_the_url() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago and is closed now
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"

    with pytest.raises(GitHubError) as excinfo:
        GitHubClient(REPO, TOKEN, url).get_pull(1)

    assert url in excinfo.value.message
    assert excinfo.value.status is None


def test_timeout_names_the_url(server: FakeGitHub) -> None:
    server.hang = True  # the fake accepts the request and never answers

    with pytest.raises(GitHubError) as excinfo:
        GitHubClient(REPO, TOKEN, server.url, timeout=0.1).get_pull(1)

    assert server.url in excinfo.value.message
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
    server: FakeGitHub, method: str, path: str, body: Any, status: int, violation: str
) -> None:
    server.add_pull("existing")
    server.add_comment(1, "x")

    got, answer = raw_request(server, method, path, body)

    assert got == status
    assert "message" in answer
    [request] = server.requests
    assert any(violation in v for v in request.violations), request.violations
    assert server.violations == [f"{method} {path.split('?')[0]}: {v}" for v in request.violations]
    assert server.pulls[1]["title"] == "A change"  # nothing was changed


def test_fake_requires_an_authorization_header(server: FakeGitHub) -> None:
    status, answer = raw_request(server, "GET", "/repos/octo-org/models", token=None)

    assert (status, answer["message"]) == (401, "Requires authentication")
    assert server.violations == ["GET /repos/octo-org/models: no Authorization header"]


def test_fake_answers_a_valid_request_with_the_documented_shape(server: FakeGitHub) -> None:
    status, repo = raw_request(server, "GET", "/repos/octo-org/models")

    assert (status, repo["full_name"], repo["default_branch"]) == (200, "octo-org/models", "main")
    assert "archive_url" in repo  # a required field gitreg does not use
    assert server.violations == []
