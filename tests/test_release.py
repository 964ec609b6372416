"""`gitreg release` and `gitreg doctor`: tags from main, against a real bare origin."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Registry, git
from conftest import set_stages as _stages
from fakegithub import FakeGitHub


def _remote_tags(reg: Registry) -> list[str]:
    out = git(reg.path, "ls-remote", "--tags", "--refs", reg.origin.as_uri())
    return sorted(line.split("refs/tags/")[1] for line in out.splitlines())


def _tag_message(reg: Registry, tag: str) -> str:
    return reg.git("for-each-ref", "--format=%(contents)", f"refs/tags/{tag}")


def test_release_writes_tags_once(registered: Registry, train: Path) -> None:
    registered.register("1.1.0", train / "model.pkl")
    v11 = registered.git("rev-parse", "HEAD")
    promoted = _stages(registered, {"staging": "1.1.0"}, "Merge pull request #7 from acme/promote")
    res = registered.run("release", "--json")
    assert res.code == 0, res.err
    data = res.json()
    assert isinstance(data, dict)
    assert [t["tag"] for t in data["created"]] == [
        "churn@v1.0.0",
        "churn@v1.1.0",
        "churn#staging#1",
    ]
    # the stage tag sits on the version's registration commit; trailers say where and which PR
    assert registered.git("rev-parse", "churn#staging#1^{commit}") == v11
    assert registered.git("rev-parse", "churn@v1.1.0^{commit}") == v11
    assert registered.git("cat-file", "-t", "churn#staging#1") == "tag"
    msg = _tag_message(registered, "churn#staging#1")
    assert "Version: 1.1.0" in msg and "Stage: staging" in msg
    assert f"Promoted-in: {promoted}" in msg and "Pull-Request: #7" in msg
    # idempotent
    again = registered.run("release", "--json").json()
    assert isinstance(again, dict) and again["created"] == []
    # a swap: production gets 1.1.0, staging is removed; counters go on
    _stages(registered, {"production": "1.1.0"}, "to production")
    created = registered.run("release", "--json").json()
    assert isinstance(created, dict)
    assert [t["tag"] for t in created["created"]] == ["churn#staging!#2", "churn#production#3"]
    assert registered.run("doctor").code == 0


def test_deprecation_tag(registered: Registry) -> None:
    registered.run("release")
    path = registered.path / "models/churn/versions/1.0.0.yaml"
    path.write_text(path.read_text().replace("status: active", "status: deprecated"))
    registered.commit_all("deprecate 1.0.0")
    data = registered.run("release", "--json").json()
    assert isinstance(data, dict)
    assert [t["tag"] for t in data["created"]] == ["churn@v1.0.0!"]
    assert registered.git("rev-parse", "churn@v1.0.0!^{commit}") == registered.git(
        "rev-parse", "churn@v1.0.0^{commit}"
    )


def test_release_push_is_atomic_and_published(registered: Registry) -> None:
    _stages(registered, {"staging": "1.0.0"}, "stage")
    registered.git("push", "-q", "origin", "main")
    res = registered.run("release", "--push")
    assert res.code == 0, res.err
    assert _remote_tags(registered) == ["churn#staging#1", "churn@v1.0.0"]


def _clone(reg: Registry, dest: Path) -> Path:
    git(dest.parent, "clone", "-q", reg.origin.as_uri(), str(dest))
    return dest


def test_racing_releases_write_one_set(registered: Registry, tmp_path: Path) -> None:
    _stages(registered, {"staging": "1.0.0"}, "stage")
    registered.git("push", "-q", "origin", "main")
    a, b = _clone(registered, tmp_path / "a"), _clone(registered, tmp_path / "b")
    cmd = [sys.executable, "-m", "gitreg", "release", "--push", "--json"]
    procs = [
        subprocess.Popen(cmd, cwd=c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for c in (a, b)
    ]
    outs = [p.communicate() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert _remote_tags(registered) == ["churn#staging#1", "churn@v1.0.0"]
    # both clones end with the same, published tags
    for c in (a, b):
        assert git(c, "rev-parse", "churn#staging#1") == git(a, "rev-parse", "churn#staging#1")


def test_push_rejected_then_retried(registered: Registry) -> None:
    """The remote refuses the first push (as when another release landed first)."""
    _stages(registered, {"staging": "1.0.0"}, "stage")
    registered.git("push", "-q", "origin", "main")
    hook = registered.origin / "hooks" / "pre-receive"
    marker = registered.origin / "rejected-once"
    hook.write_text(
        f"#!/bin/sh\nif [ ! -e '{marker}' ]; then touch '{marker}'; "
        "echo 'remote moved' >&2; exit 1; fi\nexit 0\n"
    )
    hook.chmod(0o755)
    res = registered.run("release", "--push", "--json")
    assert res.code == 0, res.err
    data = res.json()
    assert isinstance(data, dict) and data["attempts"] == 2 and data["pushed"] is True
    assert _remote_tags(registered) == ["churn#staging#1", "churn@v1.0.0"]


def test_push_never_succeeding_leaves_no_local_tags(registered: Registry) -> None:
    hook = registered.origin / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'no tags for you' >&2\nexit 1\n")
    hook.chmod(0o755)
    res = registered.run("release", "--push")
    assert res.code == 3
    assert "could not push the release tags after 5 attempts" in res.err
    assert registered.git("tag", "--list") == ""


def test_doctor_findings(registered: Registry, train: Path) -> None:
    _stages(registered, {"staging": "1.0.0"}, "stage")
    assert registered.run("release").code == 0
    registered.git("tag", "churn#production#9")  # lightweight, counter gap
    side = registered.git("commit-tree", "-m", "side", "HEAD^{tree}")
    registered.git("tag", "-a", "-m", "by hand", "churn@v9.9.9", side)  # not on main, no trailers
    _stages(registered, {}, "unstage")  # main moved on, release not run
    res = registered.run("doctor", "--json")
    assert res.code == 1
    data = res.json()
    assert isinstance(data, dict)
    text = "\n".join(f"{f['tag']}: {f['message']}" for f in data["findings"])
    assert "churn#production#9: lightweight tag" in text
    assert f"churn@v9.9.9: points to {side[:12]}, which is not on main" in text
    assert "churn@v9.9.9: not written by `gitreg release`" in text
    assert "stage counters have gaps: missing [2, 3, 4, 5, 6, 7, 8]" in text
    assert "main says no stages: run `gitreg release`" in text


def test_history_shows_pr_and_approvers_from_tags(registered: Registry) -> None:
    """Without GitHub, the PR number comes from GitHub's merge subject, and approvals a PR
    author wrote into the merge message are not believed: the tag says `unverified`."""
    (registered.path / "models/churn/stages.yaml").write_text("schema: gitreg/v1\nstaging: 1.0.0\n")
    registered.git("add", "-A")
    registered.git(
        "commit", "-q", "-m", "Merge pull request #12 from acme/promote\n\nApproved-by: alice, bob"
    )
    assert registered.run("release").code == 0
    events = registered.run("history", "churn", "--json").json()
    assert isinstance(events, list)
    promoted = events[-1]
    assert promoted["kind"] == "promoted" and promoted["tag"] == "churn#staging#1"
    assert promoted["pull_request"] == "#12"
    assert promoted["approved_by"] == ["unverified"]
    assert events[0]["tag"] == "churn@v1.0.0"
    text = registered.run("history", "churn").out
    assert "unverified" in text and "alice" not in text and "churn#staging#1" in text


def test_release_reads_approvals_from_github(registered: Registry, fake_github: FakeGitHub) -> None:
    cfg = registered.path / "gitreg.yaml"
    cfg.write_text(cfg.read_text() + "github:\n  repo: octo-org/models\n")
    merge = _stages(registered, {"staging": "1.0.0"}, "promote churn 1.0.0 to staging")
    pr = fake_github.add_pull("gitreg/promote/churn/staging/1.0.0")
    fake_github.add_review(pr, "alice", "APPROVED")
    fake_github.add_review(pr, "mallory", "CHANGES_REQUESTED")
    fake_github.add_review(pr, "bob", "APPROVED", commit_id="0" * 40)  # an earlier push
    fake_github.set_merged(pr, merge)
    res = registered.run("release", "--json")
    assert res.code == 0, res.err
    assert fake_github.violations == []
    asked = {r.path for r in fake_github.requests}
    assert f"/repos/octo-org/models/commits/{merge}/pulls" in asked
    assert f"/repos/octo-org/models/pulls/{pr}/reviews" in asked
    msg = _tag_message(registered, "churn#staging#1")
    lines = msg.splitlines()
    # mallory asked for changes; bob approved a commit that is not the merged head
    assert "Approved-by: alice" in lines
    assert f"Pull-Request: https://github.com/octo-org/models/pull/{pr}" in lines


def test_release_with_refused_token_writes_nothing(
    registered: Registry, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = registered.path / "gitreg.yaml"
    cfg.write_text(cfg.read_text() + "github:\n  repo: octo-org/models\n")
    _stages(registered, {"staging": "1.0.0"}, "promote")
    fake_github.fail_auth = True
    monkeypatch.setenv("GITHUB_TOKEN", "expired")
    res = registered.run("release")
    assert res.code == 3
    assert "401" in res.err or "refused" in res.err.lower()
    assert "GITHUB_TOKEN" in res.err
    assert registered.git("tag", "--list") == ""


def test_one_release_over_several_merges_credits_each_stage_change(registered: Registry) -> None:
    first = _stages(registered, {"staging": "1.0.0"}, "Merge pull request #1 from acme/a")
    second = _stages(
        registered, {"staging": "1.0.0", "production": "1.0.0"}, "Merge pull request #2 from acme/b"
    )
    assert registered.run("release").code == 0
    staging = _tag_message(registered, "churn#staging#1")
    production = _tag_message(registered, "churn#production#2")
    assert f"Promoted-in: {first}" in staging and "Pull-Request: #1" in staging
    assert f"Promoted-in: {second}" in production and "Pull-Request: #2" in production
    events = registered.run("history", "churn", "--json").json()
    assert isinstance(events, list)
    assert [e["tag"] for e in events] == ["churn@v1.0.0", "churn#staging#1", "churn#production#2"]


def test_history_reads_released_events_from_tags_and_the_log_after(
    registered: Registry, train: Path
) -> None:
    _stages(registered, {"staging": "1.0.0"}, "Merge pull request #1 from acme/a")
    assert registered.run("release").code == 0
    registered.register("1.1.0", train / "model.pkl")  # after the release: from the log
    events = registered.run("history", "churn", "--json").json()
    full = registered.run("history", "churn", "--full", "--json").json()
    assert events == full
    assert isinstance(events, list)
    assert [(e["kind"], e["version"], e["tag"]) for e in events] == [
        ("registered", "1.0.0", "churn@v1.0.0"),
        ("promoted", "1.0.0", "churn#staging#1"),
        ("registered", "1.1.0", None),
    ]
