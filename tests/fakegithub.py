"""A fake GitHub REST API for tests: a real HTTP server on 127.0.0.1 with in-memory state.

Every request is checked against GitHub's official OpenAPI description, cut to the
endpoints gitreg uses (tests/data/github-openapi/endpoints.json): the path and method must
be described, the JSON body must match the `requestBody` schema, path and query
parameters must be known and well typed, and an Authorization header must be present.
What is wrong is recorded in `server.violations` (and on the request in
`server.requests`) and answered with a GitHub-like error, so a test asserts
`server.violations == []` to know the client spoke the documented API. Answers are
built from the documented 2xx response schemas: every required field is present, and
`server.response_violations` lists any answer of the fake itself that does not match
(and any crash of the fake): a test of the fake asserts it is empty.

    with FakeGitHub() as server:
        client = GitHubClient("octo-org/models", "t0ken", server.url)
        ...
        assert server.violations == []
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SPEC_PATH = Path(__file__).parent / "data" / "github-openapi" / "endpoints.json"
DOCS = "https://docs.github.com/rest"
REVIEW_STATES = ("APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING")
_EPOCH = datetime(2024, 1, 1, tzinfo=timezone.utc)
_NOT_JSON = "the body is not JSON"

# The cut keeps each parameter's name, place and `required`, not its schema. These types
# are the ones GitHub's REST reference documents for the parameters gitreg sends; a
# parameter with a `schema` in the description is checked against that instead.
DOCUMENTED_PARAMETERS: dict[str, dict[str, Any]] = {
    "pull_number": {"type": "integer"},
    "issue_number": {"type": "integer"},
    "comment_id": {"type": "integer"},
    "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
    "page": {"type": "integer", "minimum": 1},
    "state": {"type": "string", "enum": ["open", "closed", "all"]},
    "direction": {"type": "string", "enum": ["asc", "desc"]},
    "sort": {"type": "string", "enum": ["created", "updated", "popularity", "long-running"]},
}


def load_spec(path: Path = SPEC_PATH) -> dict[str, Any]:
    """The OpenAPI cut: {"source": ..., "paths": {template: {method: operation}}}."""
    spec: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return spec


def to_json_schema(schema: Any) -> Any:
    """An OpenAPI 3.0 schema as JSON Schema: `nullable: true` becomes "or null"."""
    if isinstance(schema, list):
        return [to_json_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {k: to_json_schema(v) for k, v in schema.items() if k != "nullable"}
    if schema.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def build(schema: dict[str, Any], value: Any = ...) -> Any:
    """An instance of `schema`: `value` where given, the cheapest valid default elsewhere.

    Objects get every required property; `...` means "not given".
    """
    for key in ("oneOf", "anyOf"):
        if key in schema:
            schema = {**schema[key][0], **{k: v for k, v in schema.items() if k != key}}
    if value is None:
        return None
    props = schema.get("properties", {})
    if isinstance(value, dict):
        names = [
            *schema.get("required", []),
            *(k for k in value if k not in schema.get("required", [])),
        ]
        return {n: build(props.get(n, {}), value.get(n, ...)) for n in names}
    if isinstance(value, list):
        return [build(schema.get("items", {}), v) for v in value]
    if value is not ...:
        return value
    if schema.get("nullable"):
        return None
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        return {n: build(props.get(n, {})) for n in schema.get("required", [])}
    defaults = {"array": [], "integer": 0, "number": 0, "boolean": False}
    if kind == "string":
        return _EPOCH.strftime("%Y-%m-%dT%H:%M:%SZ") if schema.get("format") == "date-time" else ""
    return defaults.get(str(kind))


@dataclass
class RecordedRequest:
    """One request the fake received, with what was wrong with it and what it answered."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names in lower case
    body: Any
    violations: list[str] = field(default_factory=list)
    operation_id: str | None = None
    status: int = 0
    response: Any = None


@dataclass
class _Route:
    method: str
    template: str
    pattern: re.Pattern[str]
    operation: dict[str, Any]


class _Reply(Exception):
    """Raised inside a handler to answer at once."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins the handler threads
    block_on_close = True
    fake: FakeGitHub


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        answer = self.server.fake.handle(self.command, self.path, headers, raw)
        if answer is None:  # hang: close without answering
            return
        status, body, extra = answer
        data = b"" if status == 204 else json.dumps(body).encode()
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _dispatch

    def log_message(self, format: str, *args: Any) -> None:
        pass


class FakeGitHub:
    """In-memory GitHub for one repository, served over HTTP on 127.0.0.1."""

    def __init__(
        self, owner: str = "octo-org", repo: str = "models", login: str = "gitreg-bot"
    ) -> None:
        self.owner, self.repo, self.login = owner, repo, login
        self.spec = load_spec()
        self.routes = [
            _Route(method.upper(), template, _template_pattern(template), op)
            for template, ops in self.spec["paths"].items()
            for method, op in ops.items()
        ]
        self.requests: list[RecordedRequest] = []
        self.violations: list[str] = []
        self.response_violations: list[str] = []
        self.valid_token: str | None = None  # None: any token is accepted
        self.fail_auth = False
        self.rate_limited = False
        self.rate_limit_reset = 1_900_000_000  # 2030-03-17T17:46:40Z
        self.read_only = False  # writes get 403, like a workflow token without permissions
        self.hang = False  # accept requests and never answer (client timeouts)
        self.pulls: dict[int, dict[str, Any]] = {}
        self.reviews: dict[int, list[dict[str, Any]]] = {}
        self.comments: dict[int, dict[str, Any]] = {}  # id -> comment
        self._next_number = 1
        self._next_id = 1000
        self._clock = 0
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._validators: dict[str, Draft202012Validator] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # -- life cycle ----------------------------------------------------------------------

    def start(self) -> FakeGitHub:
        """Serve on a free port of 127.0.0.1 in a background thread; sets `url`."""
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the socket and join every thread."""
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test helpers --------------------------------------------------------------------

    def add_pull(self, head: str, base: str = "main", title: str = "A change") -> int:
        """An open pull request from branch `head`, as if someone opened it; its number."""
        with self._lock:
            return int(self._create_pull(title, head, base, "", False, self.owner)["number"])

    def add_review(
        self, pr_number: int, login: str, state: str, commit_id: str | None = None
    ) -> None:
        """A review by `login` (state APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED)."""
        assert state in REVIEW_STATES, state
        with self._lock:
            pull = self.pulls[pr_number]
            rid = self._new_id()
            self.reviews.setdefault(pr_number, []).append(
                {
                    "id": rid,
                    "node_id": f"PRR_{rid}",
                    "user": self._user(login),
                    "body": "",
                    "state": state,
                    "commit_id": commit_id or pull["head"]["sha"],
                    "submitted_at": None if state == "PENDING" else self._now(),
                    "html_url": f"{pull['html_url']}#pullrequestreview-{rid}",
                    "pull_request_url": pull["url"],
                    "_links": {
                        "html": {"href": f"{pull['html_url']}#pullrequestreview-{rid}"},
                        "pull_request": {"href": pull["url"]},
                    },
                    "author_association": "MEMBER",
                }
            )

    def set_merged(self, pr_number: int, merge_commit_sha: str) -> None:
        """Mark a pull request merged by `merge_commit_sha` (pulls_for_commit finds it)."""
        with self._lock:
            now = self._now()
            self.pulls[pr_number].update(
                state="closed",
                merged=True,
                merged_at=now,
                closed_at=now,
                updated_at=now,
                merge_commit_sha=merge_commit_sha,
            )

    def add_comment(self, issue_number: int, body: str, login: str = "octocat") -> int:
        """A comment by someone else on a pull request; its id."""
        with self._lock:
            return int(self._create_comment(issue_number, body, login)["id"])

    def comments_on(self, issue_number: int) -> list[str]:
        """The bodies of the comments on an issue or pull request, oldest first."""
        with self._lock:
            return [c["body"] for c in self.comments.values() if c["_issue"] == issue_number]

    # -- request handling ----------------------------------------------------------------

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, Any, dict[str, str]] | None:
        """Record, check and answer one request: (status, JSON body, headers)."""
        split = urllib.parse.urlsplit(raw_path)
        query = urllib.parse.parse_qs(split.query, keep_blank_values=True)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        record = RecordedRequest(method, split.path, query, headers, body)
        with self._lock:
            self.requests.append(record)
        if self.hang:
            self._release.wait(timeout=30)
            return None
        with self._lock:
            try:
                reply = self._answer(record, raw)
            except _Reply as r:
                reply = r
            except Exception as e:  # a bug in the fake: say so, don't hang the client
                self.response_violations.append(f"{method} {split.path}: fake failed: {e!r}")
                reply = _Reply(500, {"message": f"fake failed: {e!r}"})
            self.violations.extend(f"{method} {split.path}: {v}" for v in record.violations)
            record.status, record.response = reply.status, reply.body
            if 200 <= reply.status < 300 and record.operation_id:
                self._check_response(record)
        extra = {
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "4999",
            "x-ratelimit-reset": str(self.rate_limit_reset),
            "x-github-api-version-selected": "2022-11-28",
        }
        return reply.status, reply.body, extra | reply.headers

    def _answer(self, record: RecordedRequest, raw: bytes) -> _Reply:
        route, params = self._match(record.method, record.path)
        if route is None:
            record.violations.append("no such path and method in the OpenAPI description")
            return _error(404, "Not Found")
        record.operation_id = route.operation["operationId"]
        self._check_auth(record)
        record.violations.extend(self._check_parameters(route, params, record.query))
        record.violations.extend(self._check_body(route, record.body, raw))
        if record.violations and record.violations[-1] == _NOT_JSON:
            return _error(400, "Problems parsing JSON")
        if record.violations:
            return _error(422, "Invalid request.\n\n" + "\n".join(record.violations))
        if (params["owner"].lower(), params["repo"].lower()) != (self.owner, self.repo):
            return _error(404, "Not Found")
        if self.read_only and record.method != "GET":
            return _error(403, "Resource not accessible by integration")
        handler = getattr(self, "_op_" + re.sub(r"\W", "_", route.operation["operationId"]), None)
        if handler is None:
            record.violations.append(f"the fake does not implement {record.operation_id}")
            return _error(501, "Not implemented by the fake")
        reply: _Reply = handler(record, params)
        return reply

    def _match(self, method: str, path: str) -> tuple[_Route | None, dict[str, str]]:
        for route in self.routes:
            m = route.pattern.fullmatch(path)
            if m and route.method == method:
                return route, {k: urllib.parse.unquote(v) for k, v in m.groupdict().items()}
        return None, {}

    def _check_auth(self, record: RecordedRequest) -> None:
        auth = record.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if not record.headers.get("user-agent"):
            record.violations.append("no User-Agent header (GitHub refuses such requests)")
        if not auth:
            record.violations.append("no Authorization header")
            raise _Reply(401, _error(401, "Requires authentication").body)
        if scheme.lower() not in ("bearer", "token") or not token:
            record.violations.append(f"Authorization is not 'Bearer <token>': {auth!r}")
        if self.fail_auth or (self.valid_token is not None and token != self.valid_token):
            raise _error(401, "Bad credentials")
        if self.rate_limited:
            raise _Reply(
                403,
                _error(403, "API rate limit exceeded for user ID 1.").body,
                {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(self.rate_limit_reset)},
            )

    def _check_parameters(
        self, route: _Route, params: dict[str, str], query: dict[str, list[str]]
    ) -> list[str]:
        problems: list[str] = []
        described = {p["name"]: p for p in route.operation.get("parameters", [])}
        for name in query:
            if described.get(name, {}).get("in") != "query":
                problems.append(f"query parameter {name!r} is not described")
        for name, param in described.items():
            where = params if param["in"] == "path" else query if param["in"] == "query" else {}
            if name not in where:
                if param.get("required"):
                    problems.append(f"{param['in']} parameter {name!r} is required")
                continue
            value = where[name]
            values = value if isinstance(value, list) else [value]
            if len(values) > 1:
                problems.append(f"query parameter {name!r} is given {len(values)} times")
            schema = param.get("schema") or DOCUMENTED_PARAMETERS.get(name)
            if schema is not None:
                problems.extend(
                    f"{param['in']} parameter {name!r}: {p}"
                    for p in _check_value(schema, values[0])
                )
        return problems

    def _check_body(self, route: _Route, body: Any, raw: bytes) -> list[str]:
        schema = route.operation.get("requestBody")
        if schema is None:
            return ["a body was sent, but the operation takes none"] if raw else []
        if not raw:
            return ["the operation needs a JSON body, none was sent"]
        try:
            json.loads(raw)
        except ValueError:
            return [_NOT_JSON]
        validator = self._validator(f"{route.method} {route.template} body", schema)
        problems = [
            f"body{''.join(f'.{p}' for p in e.absolute_path)}: {e.message}"
            for e in validator.iter_errors(body)
        ]
        if isinstance(body, dict) and "properties" in schema:
            problems += [
                f"body.{k}: not a described property" for k in body if k not in schema["properties"]
            ]
        return problems

    def _check_response(self, record: RecordedRequest) -> None:
        route, _ = self._match(record.method, record.path)
        assert route is not None
        schema = route.operation["responses"].get(str(record.status))
        if schema is None:
            self.response_violations.append(
                f"{record.operation_id}: {record.status} is not documented"
            )
            return
        validator = self._validator(f"{route.method} {route.template} {record.status}", schema)
        self.response_violations.extend(
            f"{record.operation_id} {record.status} {list(e.absolute_path)}: {e.message}"
            for e in validator.iter_errors(record.response)
        )

    def _validator(self, key: str, schema: dict[str, Any]) -> Draft202012Validator:
        if key not in self._validators:
            self._validators[key] = Draft202012Validator(to_json_schema(schema))
        return self._validators[key]

    # -- operations ----------------------------------------------------------------------

    def _op_repos_get(self, record: RecordedRequest, params: dict[str, str]) -> _Reply:
        return self._ok(record, 200, self._repository())

    def _op_pulls_create(self, record: RecordedRequest, params: dict[str, str]) -> _Reply:
        b = record.body
        if not b.get("title") and "issue" not in b:
            return _validation("PullRequest", "title", "missing_field")
        head_owner, _, branch = b["head"].rpartition(":")
        head_owner = head_owner or self.owner
        for pull in self.pulls.values():
            if (pull["state"], pull["head"]["label"], pull["base"]["ref"]) == (
                "open", f"{head_owner}:{branch}", b["base"]):  # fmt: skip
                return _validation(
                    "PullRequest", None, "custom",
                    f"A pull request already exists for {head_owner}:{branch}.",
                )  # fmt: skip
        pull = self._create_pull(
            b["title"], b["head"], b["base"], b.get("body", ""), b.get("draft", False), self.login
        )
        return self._ok(record, 201, pull, {"Location": pull["url"]})

    def _op_pulls_list(self, record: RecordedRequest, params: dict[str, str]) -> _Reply:
        q = {k: v[0] for k, v in record.query.items()}
        state = q.get("state", "open")
        pulls = [
            p for p in sorted(self.pulls.values(), key=lambda p: -p["number"])
            if state in ("all", p["state"])
            and q.get("head", p["head"]["label"]) == p["head"]["label"]
            and q.get("base", p["base"]["ref"]) == p["base"]["ref"]
        ]  # fmt: skip
        return self._page(record, pulls)

    def _op_pulls_get(self, record: RecordedRequest, params: dict[str, str]) -> _Reply:
        return self._ok(record, 200, self._pull(params["pull_number"]))

    def _op_pulls_list_reviews(self, record: RecordedRequest, params: dict[str, str]) -> _Reply:
        number = self._pull(params["pull_number"])["number"]
        return self._page(record, self.reviews.get(number, []))

    def _op_repos_list_pull_requests_associated_with_commit(
        self, record: RecordedRequest, params: dict[str, str]
    ) -> _Reply:
        sha = params["commit_sha"]
        pulls = [
            p for p in self.pulls.values()
            if sha in (p["merge_commit_sha"], p["head"]["sha"])
        ]  # fmt: skip
        return self._page(record, pulls)

    def _op_issues_create_comment(self, record: RecordedRequest, params: dict[str, str]) -> _Reply:
        number = self._pull(params["issue_number"])["number"]
        comment = self._create_comment(number, record.body["body"], self.login)
        return self._ok(record, 201, comment, {"Location": comment["url"]})

    def _op_issues_list_comments(self, record: RecordedRequest, params: dict[str, str]) -> _Reply:
        number = self._pull(params["issue_number"])["number"]
        return self._page(record, [c for c in self.comments.values() if c["_issue"] == number])

    def _op_issues_update_comment(self, record: RecordedRequest, params: dict[str, str]) -> _Reply:
        comment = self.comments.get(int(params["comment_id"]))
        if comment is None:
            return _error(404, "Not Found")
        comment.update(body=record.body["body"], updated_at=self._now())
        return self._ok(record, 200, comment)

    # -- state ---------------------------------------------------------------------------

    def _create_pull(
        self, title: str, head: str, base: str, body: str, draft: bool, login: str
    ) -> dict[str, Any]:
        head_owner, _, branch = head.rpartition(":")
        head_owner = head_owner or self.owner
        number = self._next_number
        self._next_number += 1
        api = f"{self.url}/repos/{self.owner}/{self.repo}"
        now = self._now()
        pull = {
            "url": f"{api}/pulls/{number}",
            "id": self._new_id(),
            "node_id": f"PR_{number}",
            "html_url": f"https://github.com/{self.owner}/{self.repo}/pull/{number}",
            "issue_url": f"{api}/issues/{number}",
            "number": number,
            "state": "open",
            "locked": False,
            "title": title,
            "user": self._user(login),
            "body": body,
            "created_at": now,
            "updated_at": now,
            "closed_at": None,
            "merged_at": None,
            "merge_commit_sha": None,
            "draft": draft,
            "merged": False,
            "head": self._branch(head_owner, branch),
            "base": self._branch(self.owner, base),
            "author_association": "MEMBER",
        }
        self.pulls[number] = pull
        return pull

    def _create_comment(self, issue_number: int, body: str, login: str) -> dict[str, Any]:
        pull = self.pulls[issue_number]
        cid = self._new_id()
        now = self._now()
        comment = {
            "id": cid,
            "node_id": f"IC_{cid}",
            "url": f"{self.url}/repos/{self.owner}/{self.repo}/issues/comments/{cid}",
            "html_url": f"{pull['html_url']}#issuecomment-{cid}",
            "issue_url": pull["issue_url"],
            "body": body,
            "user": self._user(login),
            "created_at": now,
            "updated_at": now,
            "author_association": "MEMBER",
            "_issue": issue_number,
        }
        self.comments[cid] = comment
        return comment

    def _pull(self, number: str) -> dict[str, Any]:
        pull = self.pulls.get(int(number))
        if pull is None:
            raise _error(404, "Not Found")
        return pull

    def _branch(self, owner: str, branch: str) -> dict[str, Any]:
        sha = hashlib.sha1(f"{owner}:{branch}".encode()).hexdigest()
        user, repo = self._user(owner), self._repository()
        return {"label": f"{owner}:{branch}", "ref": branch, "sha": sha, "user": user, "repo": repo}

    def _repository(self) -> dict[str, Any]:
        full = f"{self.owner}/{self.repo}"
        return {
            "id": 1, "node_id": "R_1", "name": self.repo, "full_name": full,
            "owner": self._user(self.owner), "private": True, "default_branch": "main",
            "html_url": f"https://github.com/{full}", "url": f"{self.url}/repos/{full}",
            "clone_url": f"https://github.com/{full}.git",
        }  # fmt: skip

    def _user(self, login: str) -> dict[str, Any]:
        uid = int(hashlib.sha1(login.encode()).hexdigest()[:6], 16)
        return {
            "login": login, "id": uid, "node_id": f"U_{uid}", "type": "User", "site_admin": False,
            "html_url": f"https://github.com/{login}", "url": f"{self.url}/users/{login}",
        }  # fmt: skip

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _now(self) -> str:
        self._clock += 1
        return (_EPOCH + timedelta(seconds=self._clock)).strftime("%Y-%m-%dT%H:%M:%SZ")

    # -- answers -------------------------------------------------------------------------

    def _ok(
        self,
        record: RecordedRequest,
        status: int,
        value: Any,
        headers: dict[str, str] | None = None,
    ) -> _Reply:
        route, _ = self._match(record.method, record.path)
        assert route is not None
        schema = route.operation["responses"][str(status)]
        return _Reply(status, build(schema, _public(copy.deepcopy(value))), headers)

    def _page(self, record: RecordedRequest, items: list[dict[str, Any]]) -> _Reply:
        """One page of `items` (per_page, default 30, at most 100) with GitHub's Link header."""
        per_page = min(int(record.query.get("per_page", ["30"])[0]), 100)
        page = int(record.query.get("page", ["1"])[0])
        last = max(1, -(-len(items) // per_page))
        links = {"prev": page - 1, "first": 1} if page > 1 else {}
        links |= {"next": page + 1, "last": last} if page < last else {}
        header = ", ".join(
            f'<{self.url}{record.path}?{_with_page(record.query, n)}>; rel="{rel}"'
            for rel, n in links.items()
        )
        chunk = items[(page - 1) * per_page : page * per_page]
        return self._ok(record, 200, chunk, {"Link": header} if header else None)


def _template_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{\w+\})", template)
    return re.compile(
        "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    )


def _check_value(schema: dict[str, Any], text: str) -> list[str]:
    value: Any = text
    if schema.get("type") == "integer":
        try:
            value = int(text)
        except ValueError:
            return [f"{text!r} is not an integer"]
    return [e.message for e in Draft202012Validator(to_json_schema(schema)).iter_errors(value)]


def _with_page(query: dict[str, list[str]], page: int) -> str:
    return urllib.parse.urlencode({**query, "page": [str(page)]}, doseq=True)


def _public(value: Any) -> Any:
    """Drop the fake's own bookkeeping keys (those starting with "_" but not "_links")."""
    if isinstance(value, list):
        return [_public(v) for v in value]
    if isinstance(value, dict):
        return {k: _public(v) for k, v in value.items() if k == "_links" or not k.startswith("_")}
    return value


def _error(status: int, message: str) -> _Reply:
    return _Reply(status, {"message": message, "documentation_url": DOCS, "status": str(status)})


def _validation(resource: str, field_: str | None, code: str, message: str | None = None) -> _Reply:
    error: dict[str, Any] = {"resource": resource, "code": code}
    if field_:
        error["field"] = field_
    if message:
        error["message"] = message
    body = {
        "message": "Validation Failed",
        "errors": [error],
        "documentation_url": DOCS,
        "status": "422",
    }
    return _Reply(422, body)
