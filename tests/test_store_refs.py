"""gitreg.store.refs: release tags read with one for-each-ref, grouped by model."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import git
from gitreg.errors import GitError
from gitreg.store import refs
from gitreg.store.git import Git


def _repo(tmp_path: Path) -> tuple[Git, str, str]:
    """A plain repository with two commits (tags need nothing more)."""
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q")
    git(path, "commit", "-q", "--allow-empty", "-m", "one")
    first = git(path, "rev-parse", "HEAD")
    git(path, "commit", "-q", "--allow-empty", "-m", "two")
    return Git(path), first, git(path, "rev-parse", "HEAD")


def _annotated(g: Git, name: str, commit: str, message: str) -> None:
    g.run(["tag", "-a", "-F", "-", name, commit], input=message.encode())


RELEASE_MSG = (
    "Promote churn 1.0.0 to staging\n\n"
    "Version: 1.0.0\n"
    "Stage: staging\n"
    "Promoted-in: {commit}\n"
    "Pull-Request: #7\n"
    "Approved-by: alice, bob\n"
    "Signed-off-by: not a trailer we read\n"
)


def test_annotated_and_lightweight(tmp_path: Path) -> None:
    g, first, second = _repo(tmp_path)
    _annotated(g, "churn@v1.0.0", first, "Register churn 1.0.0\n\nVersion: 1.0.0\n")
    g.run(["tag", "churn@v1.1.0", second])  # lightweight
    found = {t.name: t for t in refs.read_tags(g, ["churn@v*"])}
    assert sorted(found) == ["churn@v1.0.0", "churn@v1.1.0"]

    ann = found["churn@v1.0.0"]
    assert ann.annotated is True
    assert ann.commit == first  # peeled: the commit, not the tag object
    assert ann.commit != g.run(["rev-parse", "refs/tags/churn@v1.0.0"]).strip()
    assert ann.tagger == "Ada Tester <ada@example.com>"
    assert ann.date.startswith("2026-01-02T03:04:05")
    assert ann.message.startswith("Register churn 1.0.0\n")
    assert ann.trailers == {"Version": "1.0.0"}
    assert (ann.parsed.kind, ann.parsed.model, ann.parsed.version) == ("register", "churn", "1.0.0")

    light = found["churn@v1.1.0"]
    assert light.annotated is False
    assert light.commit == second
    assert light.tagger == ""
    assert light.trailers == {}
    assert light.version == "1.1.0"  # from the name


def test_trailers_parsed(tmp_path: Path) -> None:
    g, first, second = _repo(tmp_path)
    _annotated(g, "churn#staging#1", first, RELEASE_MSG.format(commit=second))
    (tag,) = refs.model_tags(g, "churn")
    assert tag.trailers == {
        "Version": "1.0.0",
        "Stage": "staging",
        "Promoted-in": second,
        "Pull-Request": "#7",
        "Approved-by": "alice, bob",
    }
    assert tag.version == "1.0.0"  # a stage tag's version comes from its trailer
    p = tag.parsed
    assert (p.kind, p.model, p.stage, p.counter) == ("assign", "churn", "staging", 1)
    assert tag.commit == first


def test_shared_prefix_models_are_not_mixed(tmp_path: Path) -> None:
    g, first, second = _repo(tmp_path)
    for name, commit in (
        ("churn@v1.0.0", first),
        ("churn#staging#1", first),
        ("churn-eu@v1.0.0", second),
        ("churn-eu@v2.0.0", second),
        ("churn-eu#staging#1", second),
        ("churn-eu#production!#2", second),
        ("churn_v2@v1.0.0", second),
        ("churn.v2@v1.0.0", second),  # no '.' in a name (GTO ignores it too): not a gitreg tag
        ("churnx#staging#1", second),
    ):
        _annotated(g, name, commit, "msg\n")
    churn = refs.model_tags(g, "churn")
    assert sorted(t.name for t in churn) == ["churn#staging#1", "churn@v1.0.0"]
    assert {t.commit for t in churn} == {first}
    eu = refs.model_tags(g, "churn-eu")
    assert sorted(t.name for t in eu) == [
        "churn-eu#production!#2",
        "churn-eu#staging#1",
        "churn-eu@v1.0.0",
        "churn-eu@v2.0.0",
    ]
    assert all(t.parsed.model == "churn-eu" for t in eu)
    unassign = next(t for t in eu if t.name == "churn-eu#production!#2")
    assert (unassign.parsed.kind, unassign.parsed.stage) == ("unassign", "production")
    grouped = refs.by_model(g)
    assert sorted(grouped) == ["churn", "churn-eu", "churn_v2", "churnx"]
    assert sorted(t.name for t in grouped["churn"]) == sorted(t.name for t in churn)
    assert len(grouped["churn-eu"]) == 4
    assert refs.model_tags(g, "churn-e") == []
    assert refs.model_tags(g, "ghost") == []


def test_non_grammar_tags_ignored(tmp_path: Path) -> None:
    g, first, _ = _repo(tmp_path)
    _annotated(g, "churn@v1.0.0", first, "ok\n")
    _annotated(g, "churn@v1.0.0!", first, "deprecated\n")
    for bad in (
        "churn@vnext",  # a version starts with a digit
        "churn#staging#0",  # counters start at 1
        "churn#staging#x",
        "churn#Staging#3",  # upper case is not a name
        "Churn@v1.0.0",
        "churn@1.0.0",  # no v
        "release-2026",
        "v1.0.0",
        "team#a#b#1",
    ):
        g.run(["tag", bad, first])
    g.run(["tag", "-a", "-m", "gto assign --simple", "churn#staging", first])
    names = sorted(t.name for t in refs.read_tags(g, refs.ALL_PATTERNS))
    assert names == ["churn#staging", "churn@v1.0.0", "churn@v1.0.0!"]
    simple = next(t for t in refs.read_tags(g, refs.ALL_PATTERNS) if t.name == "churn#staging")
    assert (simple.parsed.kind, simple.parsed.stage) == ("simple", "staging")  # GTO's notation
    assert sorted(refs.by_model(g)) == ["churn"]
    kinds = {t.name: t.parsed.kind for t in refs.model_tags(g, "churn")}
    assert kinds == {
        "churn@v1.0.0": "register",
        "churn@v1.0.0!": "deprecate",
        "churn#staging": "simple",
    }


def test_no_tags(tmp_path: Path) -> None:
    g, _, _ = _repo(tmp_path)
    assert refs.read_tags(g, refs.ALL_PATTERNS) == []
    assert refs.by_model(g) == {}


def test_record_separator_in_a_message(tmp_path: Path) -> None:
    g, first, _ = _repo(tmp_path)
    _annotated(g, "churn@v1.0.0", first, "Version: 1.0.0\n")
    _annotated(g, "churn#staging#1", first, "hand made\x1e with a control character\n")
    names = sorted(t.name for t in refs.model_tags(g, "churn"))
    assert names == ["churn#staging#1", "churn@v1.0.0"]


@pytest.mark.parametrize("kind", ["tag", "tree"])
def test_a_forged_tag_header_does_not_make_a_release(tmp_path: Path, kind: str) -> None:
    """A tag object whose header claims `type commit` for what is a tag, or a tree, is read
    by what git finds one level down (`%(*objecttype)`), not by the claim: never a release
    whose commit is that object (git may refuse the whole listing instead: fail closed)."""
    g, first, second = _repo(tmp_path)
    _annotated(g, "churn@v1.0.0", first, "Register churn 1.0.0\n\nVersion: 1.0.0\n")
    inner = g.run(["rev-parse", "refs/tags/churn@v1.0.0"]).strip()
    target = inner if kind == "tag" else g.run(["rev-parse", f"{second}^{{tree}}"]).strip()
    who = "tagger Ada <ada@example.com> 1767348000 +0000"
    text = f"object {target}\ntype commit\ntag churn@v1.1.0\n{who}\n\nRegister\n\nVersion: 1\n"
    forged = g.run(
        ["hash-object", "-t", "tag", "--literally", "-w", "--stdin"], input=text.encode()
    ).strip()
    g.run(["update-ref", "refs/tags/churn@v1.1.0", forged])
    try:
        found = {t.name: t.commit for t in refs.read_tags(g, ["churn@v*"])}
    except GitError:
        return  # git refused the listing: nothing was taken for a release
    assert found.get("churn@v1.1.0") != target
    assert found["churn@v1.0.0"] == first
