"""NAME@VERSION, NAME@latest and NAME@STAGE in every command that takes a version (one
grammar, model/tags.py `split_ref`; one unreleased resolver, `pick_unreleased`), and read
commands on a URL (through the fetch cache) and on a bare repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Registry, git, make_artifact, run, set_stages


@pytest.fixture
def staged(registered: Registry, tmp_path: Path) -> Registry:
    """churn 1.0.0 (production) and 1.1.0 (staging, latest), released, pushed to a bare
    origin whose HEAD is main."""
    metrics = tmp_path / "m11.json"
    metrics.write_text('{"f1": 0.95, "accuracy": 0.96}')
    art = make_artifact(tmp_path / "v11" / "model.pkl", b"one-one")
    registered.register("1.1.0", art, "--metrics", str(metrics))
    set_stages(registered, {"staging": "1.0.0"}, "stage 1.0.0")
    set_stages(registered, {"staging": "1.1.0", "production": "1.0.0"}, "promote")
    registered.git("push", "-q", "origin", "main")
    assert registered.run("release", "--push").code == 0
    git(registered.origin, "symbolic-ref", "HEAD", "refs/heads/main")
    return registered


def _json(reg: Registry, *args: str) -> dict[str, object]:
    res = reg.run(*args, "--json")
    assert res.code == 0, res.err
    data = res.json()
    assert isinstance(data, dict)
    return data


def _version(data: dict[str, object]) -> object:
    inner = data.get("version")
    return inner.get("version") if isinstance(inner, dict) else inner


@pytest.mark.parametrize(
    ("what", "version"),
    [("production", "1.0.0"), ("staging", "1.1.0"), ("latest", "1.1.0"), ("1.0.0", "1.0.0"),
     ("v1.0.0", "1.0.0")],
)  # fmt: skip
def test_show_and_card_take_every_form(staged: Registry, what: str, version: str) -> None:
    assert _version(_json(staged, "show", f"churn@{what}")) == version
    assert _version(_json(staged, "card", f"churn@{what}")) == version


def test_diff_takes_stages_and_latest_in_both_forms(staged: Registry) -> None:
    for args in (["churn", "production", "latest"], ["churn@production", "churn@1.1.0"]):
        d = _json(staged, "diff", *args)
        assert (d["a"], d["b"]) == ("1.0.0", "1.1.0"), args
    res = staged.run("diff", "churn@production", "fraud@1.0.0")
    assert res.code == 2 and "one model" in res.err
    res = staged.run("diff", "churn", "1.0.0")
    assert res.code == 2 and "NAME A B or NAME@A NAME@B" in res.err


def test_history_of_one_version(staged: Registry) -> None:
    res = staged.run("history", "churn@staging", "--json")
    assert res.code == 0, res.err
    events = res.json()
    assert isinstance(events, list) and events
    assert {e["version"] for e in events} == {"1.1.0"}
    all_events = staged.run("history", "churn", "--json").json()
    assert isinstance(all_events, list) and len(all_events) > len(events)


def test_a_stage_is_read_at_the_ref_and_resolve_reads_tags(staged: Registry) -> None:
    set_stages(staged, {"staging": "1.0.0", "production": "1.0.0"}, "back, not released")
    assert _version(_json(staged, "show", "churn@staging")) == "1.0.0"  # stages.yaml at HEAD
    assert _json(staged, "resolve", "churn@staging")["version"] == "1.1.0"  # the release tags


def test_wrong_refs_say_what_exists(staged: Registry) -> None:
    res = staged.run("show", "churn@qa")
    assert res.code == 3 and "neither a version" in res.err and "staging, production" in res.err
    set_stages(staged, {"staging": "1.1.0"}, "production emptied")
    res = staged.run("card", "churn@production")
    assert res.code == 3 and "no version holds stage 'production'" in res.err
    res = staged.run("show", "churn@1.2")
    assert res.code == 2 and "not a SemVer" in res.err
    res = staged.run("show", "churn@")
    assert res.code == 2 and "NAME@VERSION, NAME@latest or NAME@STAGE" in res.err


def test_stage_commands_take_name_at_ref(staged: Registry) -> None:
    res = staged.run("promote", "churn@staging", "--to", "production", "--json")
    assert res.code == 0, res.err
    assert staged.git("branch", "--list", "gitreg/promote/churn/production/1.1.0")
    res = staged.run("demote", "churn@staging", "--json")
    assert res.code == 0, res.err
    assert staged.git("branch", "--list", "gitreg/demote/churn/staging")
    res = staged.run("deprecate", "churn@production")
    assert res.code == 3 and "demote it first" in res.err  # resolved to 1.0.0, which is held
    res = staged.run("promote", "churn@1.0.0", "1.1.0", "--to", "staging")
    assert res.code == 2 and "give the version once" in res.err
    res = staged.run("rollback", "churn")
    assert res.code == 2 and "which stage?" in res.err


def test_evaluate_parses_name_at_ref(staged: Registry) -> None:
    res = staged.run("evaluate", "churn@qa")
    assert res.code == 3 and "neither a version" in res.err
    res = staged.run("evaluate", "churn@1.0.0", "1.1.0")
    assert res.code == 2 and "give the version once" in res.err
    res = staged.run("evaluate", "churn")
    assert res.code == 2 and "which version?" in res.err
    for args in (["churn", "production"], ["churn@latest"]):  # resolved, then the gate runs
        res = staged.run("evaluate", *args)
        assert res.code == 3 and "no `evaluation` section" in res.err, (args, res.err)


@pytest.mark.parametrize("kind", ["url", "bare"])
def test_read_commands_on_a_url_and_a_bare_repository(staged: Registry, kind: str) -> None:
    repo = staged.origin.as_uri() if kind == "url" else str(staged.origin)
    elsewhere = staged.path.parent  # not inside any repository

    def read(*args: str) -> object:
        res = run(*args, "-C", repo, "--json", cwd=elsewhere)
        assert res.code == 0, res.err
        return res.json()

    models = read("list")
    assert isinstance(models, list) and [m["name"] for m in models] == ["churn"]
    shown = read("show", "churn@production")
    assert isinstance(shown, dict) and shown["version"] == "1.0.0"
    card = read("card", "churn@latest")
    assert isinstance(card, dict) and _version(card) == "1.1.0"
    d = read("diff", "churn", "production", "staging")
    assert isinstance(d, dict) and (d["a"], d["b"]) == ("1.0.0", "1.1.0")
    events = read("history", "churn")
    assert isinstance(events, list)
    tagged = [e for e in events if e["tag"]]
    assert {e["tag"] for e in tagged} >= {"churn@v1.0.0", "churn@v1.1.0"}
    versions = read("search-versions", "metrics.f1 > 0.94")
    assert isinstance(versions, list) and [v["version"] for v in versions] == ["1.1.0"]
    res = run("show", "churn", "-C", repo, "--ref", "no-such-branch", cwd=elsewhere)
    assert res.code == 3 and "no-such-branch" in res.err and "Traceback" not in res.err


def test_a_url_sees_what_was_pushed_since(staged: Registry) -> None:
    def staging() -> object:
        data = run("show", "churn@staging", "-C", staged.origin.as_uri(), "--json").json()
        return data["version"] if isinstance(data, dict) else None

    assert staging() == "1.1.0"
    set_stages(staged, {"staging": "1.0.0", "production": "1.0.0"}, "staging back")
    staged.git("push", "-q", "origin", "main")
    assert staging() == "1.0.0"  # the cache fetched the branch again
