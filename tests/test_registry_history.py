"""`gitreg history` (gitreg.registry.history): events from release tags, then the log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import Registry, make_artifact


def _at(mp: pytest.MonkeyPatch, day: int) -> None:
    """Commits and tags made from now on carry this date (one day per step)."""
    date = f"2026-01-{day:02d}T10:00:00Z"
    mp.setenv("GIT_AUTHOR_DATE", date)
    mp.setenv("GIT_COMMITTER_DATE", date)


def _commit_stages(reg: Registry, mapping: dict[str, str], message: str) -> str:
    text = "schema: gitreg/v1\n" + "".join(f"{k}: {v}\n" for k, v in mapping.items())
    (reg.path / "models/churn/stages.yaml").write_text(text)
    return reg.commit_all(message)


def _deprecate(reg: Registry, version: str, message: str) -> str:
    path = reg.path / f"models/churn/versions/{version}.yaml"
    path.write_text(path.read_text().replace("status: active", "status: deprecated"))
    return reg.commit_all(message)


def _history(reg: Registry, *extra: str) -> list[dict[str, Any]]:
    res = reg.run("history", "churn", "--json", *extra)
    assert res.code == 0, res.err
    data = res.json()
    assert isinstance(data, list)
    return data


def _release(reg: Registry) -> None:
    res = reg.run("release")
    assert res.code == 0, res.err


@pytest.fixture
def lived(registered: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Registry:
    """churn: 1.0.0 and 1.1.0 registered, 1.0.0 promoted, demoted, deprecated; each released."""
    _release(registered)  # churn@v1.0.0 (2026-01-02, conftest's date)
    _at(monkeypatch, 3)
    registered.register("1.1.0", make_artifact(tmp_path / "v11" / "model.pkl", b"one-one"))
    _release(registered)
    _at(monkeypatch, 4)
    _commit_stages(
        registered,
        {"staging": "1.0.0"},
        "Merge pull request #12 from acme/promote\n\nApproved-by: alice, bob",
    )
    _release(registered)
    _at(monkeypatch, 5)
    _commit_stages(registered, {}, "Merge pull request #13 from acme/demote\n\nApproved-by: carol")
    _release(registered)
    _at(monkeypatch, 6)
    _deprecate(registered, "1.0.0", "Merge pull request #14 from acme/deprecate")
    _release(registered)
    return registered


def test_events_in_order_with_release_trailers(lived: Registry) -> None:
    events = _history(lived)
    got = [(e["kind"], e["version"], e["stage"], e["tag"]) for e in events]
    assert got == [
        ("registered", "1.0.0", None, "churn@v1.0.0"),
        ("registered", "1.1.0", None, "churn@v1.1.0"),
        ("promoted", "1.0.0", "staging", "churn#staging#1"),
        ("demoted", "1.0.0", "staging", "churn#staging!#2"),
        ("deprecated", "1.0.0", None, "churn@v1.0.0!"),
    ]
    promoted, demoted, deprecated = events[2], events[3], events[4]
    assert promoted["pull_request"] == "#12"
    assert promoted["approved_by"] == ["unverified"]  # a merge message is not a review
    assert promoted["subject"] == "Merge pull request #12 from acme/promote"
    assert promoted["commit"] == lived.git("log", "-1", "--format=%H", "--grep=#12")
    assert demoted["pull_request"] == "#13" and demoted["approved_by"] == ["unverified"]
    assert deprecated["pull_request"] == "#14" and deprecated["approved_by"] == ["unverified"]
    assert events[0]["pull_request"] is None
    assert [e["date"][:10] for e in events] == [
        "2026-01-02",
        "2026-01-03",
        "2026-01-04",
        "2026-01-05",
        "2026-01-06",
    ]
    assert all(e["released"] for e in events)
    assert all(e["author"] == "Ada Tester <ada@example.com>" for e in events)


def test_full_equals_default_when_all_released(lived: Registry) -> None:
    assert _history(lived, "--full") == _history(lived)


def test_unreleased_events_have_no_tag(
    lived: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    released = _history(lived)
    _at(monkeypatch, 7)
    lived.register("1.2.0", make_artifact(tmp_path / "v12" / "model.pkl", b"one-two"))
    _at(monkeypatch, 8)
    _commit_stages(lived, {"staging": "1.2.0"}, "Merge pull request #15 from acme/promote")
    events = _history(lived)
    assert events[: len(released)] == released
    later = events[len(released) :]
    assert [(e["kind"], e["version"], e["stage"], e["tag"]) for e in later] == [
        ("registered", "1.2.0", None, None),
        ("promoted", "1.2.0", "staging", None),
    ]
    assert all(e["pull_request"] is None and e["released"] is None for e in later)
    assert _history(lived, "--full") == events
    text = lived.run("history", "churn")
    assert text.code == 0 and "(not released)" in text.out
    # once released, the same events carry their tags
    _release(lived)
    tagged = _history(lived)[len(released) :]
    assert [e["tag"] for e in tagged] == ["churn@v1.2.0", "churn#staging#3"]
    assert tagged[1]["pull_request"] == "#15"


def test_history_of_a_model_never_released(registered: Registry) -> None:
    events = _history(registered)
    assert [(e["kind"], e["version"], e["tag"]) for e in events] == [("registered", "1.0.0", None)]


def test_history_unknown_model(registered: Registry) -> None:
    res = registered.run("history", "ghost", "--json")
    assert res.code == 3
    assert "ghost" in res.err and "Traceback" not in res.err


def test_same_second_events_keep_log_order(registered: Registry, tmp_path: Path) -> None:
    # every commit here has conftest's one fixed date, as scripted or CI commits often do
    _commit_stages(registered, {"staging": "1.0.0"}, "promote 1.0.0")
    _release(registered)
    registered.register("1.1.0", make_artifact(tmp_path / "v11" / "model.pkl", b"one-one"))
    _release(registered)
    order = [(e["kind"], e["version"]) for e in _history(registered, "--full")]
    assert order == [("registered", "1.0.0"), ("promoted", "1.0.0"), ("registered", "1.1.0")]
    assert [(e["kind"], e["version"]) for e in _history(registered)] == order


def test_a_move_reads_as_one_promotion(registered: Registry, tmp_path: Path) -> None:
    """Release writes the removal tag of the version that leaves; history shows the move
    once, as the log does (`--full`)."""
    registered.register("1.1.0", make_artifact(tmp_path / "v11" / "model.pkl", b"one-one"))
    _commit_stages(registered, {"staging": "1.0.0"}, "promote 1.0.0")
    _release(registered)
    _commit_stages(registered, {"staging": "1.1.0"}, "move staging to 1.1.0")
    _release(registered)
    assert "churn#staging!#2" in registered.git("tag", "-l")
    default, full = _history(registered), _history(registered, "--full")
    kinds = [(e["kind"], e["version"], e["stage"]) for e in default]
    assert kinds == [(e["kind"], e["version"], e["stage"]) for e in full]
    assert ("demoted", "1.0.0", "staging") not in kinds
    assert kinds[-1] == ("promoted", "1.1.0", "staging")


def test_a_tag_naming_a_missing_commit_is_left_out(registered: Registry) -> None:
    """A tag nobody released may name a commit the clone does not have (or none at all)
    in its Promoted-in trailer: history shows what is real and does not fail."""
    _commit_stages(registered, {"staging": "1.0.0"}, "promote 1.0.0")
    _release(registered)
    missing, bogus = "0123456789abcdef" * 2 + "01234567", "HEAD~1 --all"
    for n, made_in in ((7, missing), (8, bogus)):
        message = f"forged\n\nPromoted-in: {made_in}\n"
        registered.git("tag", "-a", f"churn#production#{n}", "-m", message, "HEAD")
    kinds = [(e["kind"], e["version"], e["stage"]) for e in _history(registered)]
    assert kinds == [("registered", "1.0.0", None), ("promoted", "1.0.0", "staging")]


def test_a_commit_message_cannot_forge_another_commits_author(tmp_path: Path) -> None:
    """Subjects may hold the control characters a log format uses as separators: one
    commit's message names no author or date for another commit, and hides none."""
    from conftest import git
    from gitreg.store import bulk
    from gitreg.store.git import Git

    repo = tmp_path / "r"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "commit", "-q", "--allow-empty", "-m", "honest")
    a = git(repo, "rev-parse", "HEAD")
    forged = f"fix typo\x1e{a}\x1fmallory\x1fm@evil\x1f2001-01-01T00:00:00Z\x1fnothing\x00"
    (tmp_path / "msg").write_bytes(forged.encode().replace(b"\x00", b"\x1f"))
    git(repo, "commit", "-q", "--allow-empty", "-F", str(tmp_path / "msg"))
    b = git(repo, "rev-parse", "HEAD")
    info = bulk.commit_info(Git(repo), [b, a, "f" * 40])
    assert set(info) == {a, b}
    assert (info[a].name, info[a].email, info[a].subject) == (
        "Ada Tester",
        "ada@example.com",
        "honest",
    )
    assert info[a].date.startswith("2026-")
    assert info[b].name == "Ada Tester" and info[b].subject.startswith("fix typo\x1e")
