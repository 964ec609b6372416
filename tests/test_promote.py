"""Stage changes as branches and pull requests: promote, demote, rollback, deprecate.

Real registries with a bare file:// origin; GitHub is the local fake of tests/fakegithub.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import FAKE_TOKEN as TOKEN
from conftest import Registry, git
from fakegithub import FakeGitHub
from gitreg.ops.stage_change import plan_demotion, plan_deprecation
from gitreg.registry import reader as core
from gitreg.render.pullrequest import pr_body
from gitreg.store.github_repo import compare_url, parse_remote

STAGING = "gitreg/promote/churn/staging/1.0.0"
COMMENTED = "schema: gitreg/v1\n# Reviewed by @acme/ml-leads; see docs/stages.md\n"


@pytest.fixture
def on_github(registered: Registry) -> Registry:
    """`registered`, with `github.repo` in gitreg.yaml and a filled-in model card."""
    with (registered.path / "gitreg.yaml").open("a") as fh:
        fh.write("github:\n  repo: octo-org/models\n")
    card = {
        "schema": "gitreg/v1",
        "name": "churn",
        "description": "Predicts which customers cancel | next month.",
        "owners": ["@acme/ml"],
        "card": {
            "intended_use": "Rank accounts for the retention team.",
            "limitations": "Trained on EU customers only.",
        },
    }
    (registered.path / "models/churn/model.yaml").write_text(yaml.safe_dump(card))
    registered.commit_all("GitHub repo and model card")
    return registered


def _state(reg: Registry) -> dict[str, str]:
    return {
        "status": reg.git("status", "--porcelain", "--untracked-files=all"),
        "head": reg.git("symbolic-ref", "HEAD"),
        "index": reg.git("ls-files", "-s"),
        "main": reg.git("rev-parse", "main"),
    }


def _refs(reg: Registry) -> str:
    return reg.git("for-each-ref", "--format=%(refname) %(objectname)")


def _register(reg: Registry, version: str, tmp_path: Path, f1: float) -> None:
    model = tmp_path / f"model-{version}.pkl"
    model.write_bytes(version.encode())
    metrics = tmp_path / f"metrics-{version}.json"
    metrics.write_text(json.dumps({"f1": f1, "accuracy": 0.9}))
    res = reg.run(
        "register", "churn", "--version", version, "--artifact", str(model),
        "--metrics", str(metrics), "--here",
    )  # fmt: skip
    assert res.code == 0, res.err


def _merge(reg: Registry, branch: str) -> None:
    reg.git("merge", "-q", "--no-ff", "-m", f"Merge {branch}", branch)


def _stages_at(reg: Registry, ref: str) -> str:
    return reg.git("show", f"{ref}:models/churn/stages.yaml") + "\n"


def _pushed(reg: Registry, branch: str) -> str:
    return git(reg.path, "ls-remote", reg.origin.as_uri(), f"refs/heads/{branch}")


# -- promote ---------------------------------------------------------------------------------


def test_promote_is_a_one_line_branch_and_leaves_the_checkout_alone(
    registered: Registry,
) -> None:
    (registered.path / "models/churn/stages.yaml").write_text(COMMENTED)
    registered.commit_all("comment the stages")
    (registered.path / "README.md").write_text("edited, not staged\n")
    (registered.path / "notes.txt").write_text("staged\n")
    registered.git("add", "notes.txt")
    (registered.path / "scratch.txt").write_text("untracked\n")
    before = _state(registered)

    res = registered.run("promote", "churn", "1.0.0", "--to", "staging", "--json")

    assert res.code == 0, res.err
    data = res.json()
    assert isinstance(data, dict)
    assert (data["branch"], data["pushed"], data["pr"], data["compare_url"]) == (
        STAGING, False, None, None,
    )  # fmt: skip
    assert data["plan"]["kind"] == "promote" and data["plan"]["previous"] is None
    assert data["commit"] == registered.git("rev-parse", STAGING)
    assert data["base"] == before["main"]
    assert _state(registered) == before
    assert registered.git("diff", "--numstat", "main", STAGING) == "1\t0\tmodels/churn/stages.yaml"
    diff = registered.git("diff", "-U0", "main", STAGING).splitlines()
    assert [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")] == [
        "+staging: 1.0.0"
    ]
    assert _stages_at(registered, STAGING) == COMMENTED + "staging: 1.0.0\n"
    assert registered.git("log", "-1", "--format=%s", STAGING) == "Promote churn 1.0.0 to staging"
    assert registered.git("rev-parse", f"{STAGING}^") == before["main"]
    res = registered.run("validate", "--base", "main", "--ref", STAGING)
    assert res.code == 0, res.out


def test_promote_text_says_what_to_do_next(registered: Registry) -> None:
    res = registered.run("promote", "churn", "1.0.0", "--to", "staging")
    assert res.code == 0, res.err
    assert f"created branch {STAGING}" in res.out
    assert "models/churn/stages.yaml: staging: (none) -> 1.0.0" in res.out
    assert f"Next: git push origin {STAGING}, then open a pull request into main" in res.out


def test_production_without_staging_is_refused(registered: Registry) -> None:
    refs = _refs(registered)
    res = registered.run("promote", "churn", "1.0.0", "--to", "production")
    assert res.code == 3
    assert "churn@1.0.0 cannot enter 'production'" in res.err
    assert "'staging' holds nothing at main" in res.err
    assert "hint: promote it to staging first (gitreg promote churn 1.0.0 --to staging)" in res.err
    assert _refs(registered) == refs


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["promote", "nope", "1.0.0", "--to", "staging"], 3, "model 'nope' not found"),
        (["promote", "churn", "9.9.9", "--to", "staging"], 3, "versions: 1.0.0"),
        (["promote", "churn", "1.0.0", "--to", "qa"], 3, "(stages: staging, production)"),
        (["promote", "churn", "v1.0", "--to", "staging"], 2, "not a SemVer 2.0 version"),
        (["promote", "churn", "1.0.0"], 2, "Missing option '--to'"),
        (["demote", "churn", "--from", "staging"], 3, "is empty at main: nothing to demote"),
        (["rollback", "churn", "--stage", "staging"], 3, "is empty at main: nothing to roll back"),
        (["promote", "churn", "1.0.0", "--to", "staging", "--base-branch", "trunk"], 3,
         "base branch 'trunk' not found"),
    ],
)  # fmt: skip
def test_bad_requests_are_refused(
    registered: Registry, args: list[str], code: int, message: str
) -> None:
    refs = _refs(registered)
    res = registered.run(*args)
    assert res.code == code
    assert message in res.err
    assert _refs(registered) == refs


def test_existing_branch_is_refused_and_no_ref_changes(registered: Registry) -> None:
    assert registered.run("promote", "churn", "1.0.0", "--to", "staging").code == 0
    refs = _refs(registered)

    res = registered.run("promote", "churn", "1.0.0", "--to", "staging")

    assert res.code == 3
    assert f"error: branch {STAGING} already exists" in res.err
    assert f"it already holds this change: push it (git push origin {STAGING})" in res.err
    assert _refs(registered) == refs

    registered.git("branch", "-f", STAGING, "main")  # a branch of that name, another change
    res = registered.run("promote", "churn", "1.0.0", "--to", "staging")
    assert res.code == 3
    assert f"it holds a different change: delete it (git branch -D {STAGING})" in res.err


def test_promote_a_version_already_in_the_stage_or_deprecated(
    registered: Registry, tmp_path: Path
) -> None:
    registered.run("promote", "churn", "1.0.0", "--to", "staging")
    _merge(registered, STAGING)
    res = registered.run("promote", "churn", "1.0.0", "--to", "staging")
    assert res.code == 3 and "already holds 'staging' at main: nothing to do" in res.err

    _register(registered, "1.1.0", tmp_path, 0.95)
    assert registered.run("deprecate", "churn", "1.1.0").code == 0
    _merge(registered, "gitreg/deprecate/churn/1.1.0")
    res = registered.run("promote", "churn", "1.1.0", "--to", "staging")
    assert res.code == 3 and "churn@1.1.0 is deprecated" in res.err


def test_push_failure_keeps_the_local_branch(registered: Registry) -> None:
    registered.git("remote", "set-url", "origin", (registered.path.parent / "gone.git").as_uri())
    res = registered.run("promote", "churn", "1.0.0", "--to", "staging", "--push")
    assert res.code == 3
    assert f"created branch {STAGING}" in res.err and "pushing it to origin failed" in res.err
    assert f"push it by hand once origin is reachable: git push origin {STAGING}" in res.err
    assert registered.git("rev-parse", "--verify", STAGING)


# -- demote, rollback ------------------------------------------------------------------------


def test_demote_and_rollback(registered: Registry, tmp_path: Path) -> None:
    registered.run("promote", "churn", "1.0.0", "--to", "staging")
    _merge(registered, STAGING)
    _register(registered, "1.1.0", tmp_path, 0.95)
    assert registered.run("promote", "churn", "1.1.0", "--to", "staging").code == 0
    _merge(registered, "gitreg/promote/churn/staging/1.1.0")

    res = registered.run("rollback", "churn", "--stage", "staging", "--json")
    assert res.code == 0, res.err
    data = res.json()
    assert isinstance(data, dict)
    rollback = "gitreg/rollback/churn/staging/1.0.0"
    assert data["branch"] == rollback
    assert (data["plan"]["previous"], data["plan"]["after"]) == ("1.1.0", "1.0.0")
    assert _stages_at(registered, rollback) == "schema: gitreg/v1\nstaging: 1.0.0\n"
    subject = registered.git("log", "-1", "--format=%s", rollback)
    assert subject == "Roll back churn staging to 1.0.0"
    assert registered.run("validate", "--base", "main", "--ref", rollback).code == 0

    res = registered.run("demote", "churn", "--from", "staging")
    assert res.code == 0, res.err
    assert "staging: 1.1.0 -> (none)" in res.out
    demote = "gitreg/demote/churn/staging"
    assert _stages_at(registered, demote) == "schema: gitreg/v1\n"
    assert registered.run("validate", "--base", "main", "--ref", demote).code == 0

    _merge(registered, rollback)  # staging: 1.0.0 again; before it, 1.1.0
    res = registered.run("rollback", "churn", "--stage", "staging")
    assert res.code == 0 and "staging: 1.0.0 -> 1.1.0" in res.out


def test_rollback_needs_an_earlier_holder_and_the_required_stage(
    registered: Registry, tmp_path: Path
) -> None:
    registered.run("promote", "churn", "1.0.0", "--to", "staging")
    _merge(registered, STAGING)
    res = registered.run("rollback", "churn", "--stage", "staging")
    assert res.code == 3 and "held no other version before 1.0.0" in res.err

    registered.run("promote", "churn", "1.0.0", "--to", "production")
    _merge(registered, "gitreg/promote/churn/production/1.0.0")
    _register(registered, "1.1.0", tmp_path, 0.95)
    for stage in ("staging", "production"):
        registered.run("promote", "churn", "1.1.0", "--to", stage)
        _merge(registered, f"gitreg/promote/churn/{stage}/1.1.0")
    # production 1.1.0 -> 1.0.0 needs staging to hold 1.0.0, as `validate --base` does
    res = registered.run("rollback", "churn", "--stage", "production")
    assert res.code == 3
    assert "churn@1.0.0 cannot enter 'production'" in res.err
    assert "'staging' holds 1.1.0 at main" in res.err


# -- deprecate -------------------------------------------------------------------------------


def test_deprecate_edits_only_the_status_line(registered: Registry) -> None:
    res = registered.run("deprecate", "churn", "1.0.0")
    assert res.code == 0, res.err
    branch = "gitreg/deprecate/churn/1.0.0"
    path = "models/churn/versions/1.0.0.yaml"
    before = registered.git("show", f"main:{path}")
    after = registered.git("show", f"{branch}:{path}")
    assert after == before.replace("\nstatus: active", "\nstatus: deprecated")
    assert registered.git("diff", "--numstat", "main", branch) == f"1\t1\t{path}"
    res = registered.run("validate", "--base", "main", "--ref", branch)
    assert res.code == 0, res.out

    _merge(registered, branch)
    res = registered.run("deprecate", "churn", "1.0.0")
    assert res.code == 3 and "already deprecated" in res.err


@pytest.mark.parametrize(
    ("line", "edited"),
    [
        (
            "status: 'active'  # until the 2027 review",
            "status: deprecated  # until the 2027 review",
        ),
        (None, "status: deprecated"),  # no status line: active by default; one is added
    ],
)
def test_deprecate_keeps_the_rest_of_the_file(
    registered: Registry, line: str | None, edited: str
) -> None:
    path = registered.path / "models/churn/versions/1.0.0.yaml"
    lines = [x for x in path.read_text().splitlines() if x != "status: active"]
    path.write_text("\n".join([*lines, *([line] if line else [])]) + "\n")
    registered.commit_all("reformat the manifest")
    before = path.read_text()

    assert registered.run("deprecate", "churn", "1.0.0").code == 0

    after = registered.git("show", "gitreg/deprecate/churn/1.0.0:models/churn/versions/1.0.0.yaml")
    assert after + "\n" == "\n".join([*lines, edited]) + "\n"
    assert path.read_text() == before


def test_pr_body_of_a_demotion_and_a_deprecation(registered: Registry) -> None:
    registered.run("promote", "churn", "1.0.0", "--to", "staging")
    _merge(registered, STAGING)
    with core.Registry.open(registered.path, "main") as reg:
        demote = pr_body(plan_demotion(reg, "churn", "staging"))
        registered.git("branch", "-q", "-f", "other", "main~1")
    with core.Registry.open(registered.path, "other") as reg:
        deprecate = pr_body(plan_deprecation(reg, "churn", "1.0.0"), "release")

    assert "`models/churn/stages.yaml`: **staging**: 1.0.0 -> (none)" in demote
    assert "| metric | 1.0.0 |\n|---|---:|\n| f1 | 0.91 |\n| accuracy | 0.93 |" in demote
    assert "_No description in model.yaml._" in demote
    assert "- **Owners:** _not given_" in demote
    assert "gitreg evaluate" not in demote  # nothing enters a stage: nothing to evaluate
    assert "`models/churn/versions/1.0.0.yaml`: **status** active -> deprecated" in deprecate
    assert "- `gitreg validate --base release`" in deprecate
    assert "gitreg evaluate" not in deprecate


def test_deprecate_is_refused_while_a_stage_holds_the_version(registered: Registry) -> None:
    registered.run("promote", "churn", "1.0.0", "--to", "staging")
    _merge(registered, STAGING)
    refs = _refs(registered)
    res = registered.run("deprecate", "churn", "1.0.0")
    assert res.code == 3
    assert "churn@1.0.0 still holds staging" in res.err
    assert "hint: demote it first (gitreg demote churn --from staging)" in res.err
    assert _refs(registered) == refs


# -- pull requests ---------------------------------------------------------------------------


def test_open_pr_with_a_token(on_github: Registry, fake_github: FakeGitHub, tmp_path: Path) -> None:
    reg = on_github
    reg.run("promote", "churn", "1.0.0", "--to", "staging")
    _merge(reg, STAGING)
    _register(reg, "1.1.0", tmp_path, 0.95)

    res = reg.run("promote", "churn", "1.1.0", "--to", "staging", "--open-pr")

    assert res.code == 0, res.err
    branch = "gitreg/promote/churn/staging/1.1.0"
    commit = reg.git("rev-parse", branch)
    assert _pushed(reg, branch) == f"{commit}\trefs/heads/{branch}"
    [request] = fake_github.requests
    assert (request.method, request.path) == ("POST", "/repos/octo-org/models/pulls")
    body = request.body
    assert (body["head"], body["base"], body["title"]) == (
        branch, "main", "Promote churn 1.1.0 to staging",
    )  # fmt: skip
    text = body["body"]
    assert "`models/churn/stages.yaml`: **staging**: 1.0.0 -> 1.1.0" in text
    assert "| metric | 1.1.0 (candidate) | 1.0.0 (in staging now) | delta |" in text
    assert "| f1 | 0.95 | 0.91 | +0.04 |" in text
    assert "| accuracy | 0.9 | 0.93 | -0.03 |" in text
    assert "Predicts which customers cancel \\| next month." in text
    assert "- **Owners:** @acme/ml" in text
    assert "- **Intended use:** Rank accounts for the retention team." in text
    assert "- **Limitations:** Trained on EU customers only." in text
    assert "- `gitreg validate --base main`" in text
    assert "- `gitreg evaluate --changed --base main`: 'staging' has `gate: true`" in text
    assert fake_github.violations == []
    assert "Opened pull request: #1 https://github.com/octo-org/models/pull/1" in res.out


def test_open_pr_finds_the_pull_request_already_open(
    on_github: Registry, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = fake_github.add_pull(STAGING, title="opened by hand")
    monkeypatch.delenv("GITHUB_TOKEN")  # GH_TOKEN alone
    monkeypatch.setenv("GH_TOKEN", TOKEN)

    res = on_github.run("promote", "churn", "1.0.0", "--to", "staging", "--open-pr", "--json")

    assert res.code == 0, res.err
    data = res.json()
    assert isinstance(data, dict)
    assert data["pr"] == {
        "number": number,
        "url": f"https://github.com/octo-org/models/pull/{number}",
        "existing": True,
    }
    assert [(r.method, r.status) for r in fake_github.requests] == [("POST", 422), ("GET", 200)]
    assert fake_github.requests[1].query["head"] == [f"octo-org:{STAGING}"]
    assert fake_github.violations == []


def test_open_pr_without_a_token_prints_the_compare_url(
    on_github: Registry, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    res = on_github.run("promote", "churn", "1.0.0", "--to", "staging", "--open-pr")

    assert res.code == 0, res.err
    assert _pushed(on_github, STAGING)
    url = f"https://github.com/octo-org/models/compare/main...{STAGING}?expand=1"
    assert f"Next: open the pull request at {url}" in res.out
    assert "no GITHUB_TOKEN or GH_TOKEN is set" in res.out
    assert fake_github.requests == []


def test_repo_from_the_origin_url(
    registered: Registry, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")  # no token: the compare URL only
    # origin reads as a GitHub URL; git rewrites it to the bare file:// repo
    github = "https://github.com/octo-org/models.git"
    registered.git("config", f"url.{registered.origin.as_uri()}.insteadOf", github)
    registered.git("remote", "set-url", "origin", github)

    res = registered.run("promote", "churn", "1.0.0", "--to", "staging", "--open-pr", "--json")

    assert res.code == 0, res.err
    data = res.json()
    assert isinstance(data, dict)
    assert data["compare_url"] == compare_url("octo-org/models", "main", STAGING)
    assert data["pushed"] is True and data["pr"] is None


def test_open_pr_needs_to_know_the_repository(registered: Registry) -> None:
    res = registered.run("promote", "churn", "1.0.0", "--to", "staging", "--open-pr")
    assert res.code == 3
    assert "cannot tell the GitHub repository" in res.err
    assert not registered.git("branch", "--list", STAGING)  # refused before any change


def test_refused_token_says_the_branch_is_pushed(
    on_github: Registry, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "wrong")

    res = on_github.run("promote", "churn", "1.0.0", "--to", "staging", "--open-pr")

    assert res.code == 3
    assert "the token was refused (401: Bad credentials)" in res.err
    assert f"branch {STAGING} is pushed to origin" in res.err
    assert "but no pull request was opened" in res.err
    assert f"open it by hand: {compare_url('octo-org/models', 'main', STAGING)}" in res.err
    assert _pushed(on_github, STAGING)
    assert len(fake_github.requests) == 1


def test_rate_limit_names_the_reset_time(on_github: Registry, fake_github: FakeGitHub) -> None:
    fake_github.rate_limited = True

    res = on_github.run("demote", "churn", "--from", "staging", "--open-pr")
    assert res.code == 3  # nothing to demote: refused before any request
    res = on_github.run("deprecate", "churn", "1.0.0", "--open-pr")

    assert res.code == 3
    assert "rate limited" in res.err and "2030-03-17T17:46:40Z" in res.err
    assert "gitreg/deprecate/churn/1.0.0 is pushed to origin" in res.err
    assert len(fake_github.requests) == 1


@pytest.mark.parametrize(
    ("url", "repo"),
    [
        ("https://github.com/acme/models.git", "acme/models"),
        ("https://github.com/acme/models", "acme/models"),
        ("https://x-access-token:abc@github.com/acme/models.git", "acme/models"),
        ("git@github.com:acme/models.git", "acme/models"),
        ("ssh://git@github.com/acme/models.git", "acme/models"),
        ("https://gitlab.com/acme/models.git", None),
        ("file:///srv/git/models.git", None),
        ("/srv/git/models.git", None),
    ],
)
def test_parse_remote(url: str, repo: str | None) -> None:
    assert parse_remote(url) == repo


def test_register_open_pr(registry: Any, train: Path, fake_github: FakeGitHub) -> None:
    """`register --open-pr`: the branch is pushed and one PR opened, its body the manifest."""
    cfg = registry.path / "gitreg.yaml"
    cfg.write_text(cfg.read_text() + "github:\n  repo: octo-org/models\n")
    registry.commit_all("github repo")
    res = registry.run(
        "register",
        "churn",
        "--version",
        "1.0.0",
        "--artifact",
        str(train / "model.pkl"),
        "--metrics",
        str(train / "metrics.json"),
        "--open-pr",
        "--json",
    )
    assert res.code == 0, res.err
    assert fake_github.violations == []
    posts = [r for r in fake_github.requests if r.method == "POST"]
    assert len(posts) == 1 and posts[0].path == "/repos/octo-org/models/pulls"
    body = posts[0].body
    assert body["head"] == "gitreg/register/churn/1.0.0" and body["base"] == "main"
    assert body["title"] == "Register churn 1.0.0"
    assert "| f1 | 0.91 |" in body["body"] and "md5" in body["body"]
    out = res.json()
    assert out["pr"]["number"] == 1
    remote = registry.git("ls-remote", registry.origin.as_uri())
    assert "refs/heads/gitreg/register/churn/1.0.0" in remote
    assert (
        registry.run(
            "register",
            "churn",
            "--version",
            "1.1.0",
            "--artifact",
            str(train / "model.pkl"),
            "--open-pr",
            "--here",
        ).code
        == 2
    )
