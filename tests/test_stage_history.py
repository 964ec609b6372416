"""Which commit set a stage (registry/stage_history.py): the answer from the commits
release_scope walked must be the one `git log -- models/NAME/stages.yaml` gives, for every
walk length, release point and value; and `gitreg release` writes the same tags whether
the change is in the walk or far behind it."""

from __future__ import annotations

from pathlib import Path

from conftest import Registry, git, set_stages
from gitreg.registry.reader import Registry as Reader
from gitreg.registry.release_scope import Walk, walk
from gitreg.registry.stage_history import StageHistory

NOWHERE = Walk([], None)  # no walked commits: the log answers


def _unrelated(reg: Registry, n: int, what: str = "notes") -> str:
    for i in range(n):
        (reg.path / f"{what}.md").write_text(f"{what} {i}\n")
        reg.commit_all(f"{what} {i}")
    return reg.git("rev-parse", "HEAD")


def _history(reg: Registry, train: Path) -> dict[str, str]:
    """Stage edits, unrelated commits, a real merge whose side branch edits stages.yaml,
    a value removed and set back: the commits by name."""
    reg.register("1.1.0", train / "model.pkl")
    at = {"set": set_stages(reg, {"staging": "1.0.0"}, "staging 1.0.0")}
    at["notes"] = _unrelated(reg, 1)
    at["swap"] = set_stages(reg, {"staging": "1.1.0", "production": "1.0.0"}, "swap")
    reg.git("checkout", "-q", "-b", "side")
    at["side"] = set_stages(reg, {"staging": "1.1.0", "production": "1.1.0"}, "side: prod")
    reg.git("checkout", "-q", "main")
    at["before-merge"] = _unrelated(reg, 1, "main")
    reg.git("merge", "-q", "--no-ff", "-m", "Merge pull request #3 from side", "side")
    at["merge"] = reg.git("rev-parse", "HEAD")
    at["removed"] = set_stages(reg, {"production": "1.1.0"}, "staging removed")
    at["back"] = set_stages(reg, {"staging": "1.1.0", "production": "1.1.0"}, "staging back")
    at["tip"] = _unrelated(reg, 3, "later")
    return at


def test_walked_answer_is_the_logs(registered: Registry, train: Path) -> None:
    at = _history(registered, train)
    sinces = [None, at["set"], at["swap"], at["side"], at["merge"], at["back"]]
    asked = [(s, v) for s in ("staging", "production") for v in ("1.0.0", "1.1.0", None)]
    with Reader.open(registered.path, "main") as reg:
        for limit in (1, 2, 4, 6, 9, 40):
            walked = walk(reg.git, reg.commit, limit)
            assert len(walked.commits) == min(limit, 13)  # 13 first-parent commits in all
            assert walked.merges == (limit >= 6)  # the 6th newest is the merge
            for since in sinces:
                for stage, value in asked:
                    fast = StageHistory(reg, "churn", since, walked).set_in(stage, value)
                    slow = StageHistory(reg, "churn", since, NOWHERE).set_in(stage, value)
                    assert fast == slow, (limit, since, stage, value)


def test_since_on_a_merged_side_branch(registered: Registry) -> None:
    """`since` on a side branch that forked after production was set: the log hides that
    commit, so the answer is not it; the walk must not say it is."""
    setter = set_stages(registered, {"production": "1.0.0"}, "production 1.0.0")
    registered.git("checkout", "-q", "-b", "side")
    side = _unrelated(registered, 1, "side")
    registered.git("checkout", "-q", "main")
    _unrelated(registered, 1, "main")
    registered.git("merge", "-q", "--no-ff", "-m", "Merge side", "side")
    _unrelated(registered, 1, "tip")
    with Reader.open(registered.path, "main") as reg:
        for limit in range(1, 9):
            walked = walk(reg.git, reg.commit, limit)
            for since in (side, setter, None):
                for stage, value in (("production", "1.0.0"), ("production", None)):
                    fast = StageHistory(reg, "churn", since, walked).set_in(stage, value)
                    slow = StageHistory(reg, "churn", since, NOWHERE).set_in(stage, value)
                    assert fast == slow, (limit, since, stage, value)
        hidden = StageHistory(reg, "churn", side, walk(reg.git, reg.commit, 8))
        assert hidden.set_in("production", "1.0.0") != setter


def test_a_change_in_the_walk_needs_no_log(registered: Registry, train: Path) -> None:
    at = _history(registered, train)
    with Reader.open(registered.path, "main") as reg:
        history = StageHistory(reg, "churn", None, walk(reg.git, reg.commit, 4))
        assert history.set_in("staging", "1.1.0") == at["back"]
        assert history.commits == []  # answered from the walk: the log was never read
        # production has been 1.1.0 since the merge, before the 4 commits walked: the log
        assert history.set_in("production", "1.1.0") == at["merge"]
        assert history.commits[:3] == [at["back"], at["removed"], at["merge"]]


def _promoted_in(reg: Registry, tag: str) -> str:
    msg = reg.git("for-each-ref", "--format=%(contents)", f"refs/tags/{tag}")
    return next(line.split(": ")[1] for line in msg.splitlines() if "Promoted-in" in line)


def test_release_of_a_stage_edited_long_ago(registered: Registry, train: Path) -> None:
    """Production set, then 20 commits touching no model (more than the first walk of 16),
    nothing released: release walks on and names the commit that set it."""
    registered.register("1.1.0", train / "model.pkl")
    set_in = set_stages(registered, {"production": "1.1.0"}, "Merge pull request #9 from x/y")
    _unrelated(registered, 20)
    res = registered.run("release", "--json")
    assert res.code == 0, res.err
    data = res.json()
    assert isinstance(data, dict)
    created = [t["tag"] for t in data["created"]]
    assert created == ["churn@v1.0.0", "churn@v1.1.0", "churn#production#1"]
    assert _promoted_in(registered, "churn#production#1") == set_in
    # released, then 20 more commits and a swap: the new tag names the swap
    _unrelated(registered, 20, "more")
    swap = set_stages(registered, {"production": "1.0.0"}, "rollback")
    again = registered.run("release", "--json").json()
    assert isinstance(again, dict)
    assert [t["tag"] for t in again["created"]] == ["churn#production!#2", "churn#production#3"]
    assert _promoted_in(registered, "churn#production#3") == swap
    assert _promoted_in(registered, "churn#production!#2") == swap


def test_release_of_several_models_in_one_merge(registered: Registry, train: Path) -> None:
    registered.register("1.0.0", train / "model.pkl", name="fraud")
    assert registered.run("release").code == 0
    _unrelated(registered, 3)
    for name in ("churn", "fraud"):
        text = "schema: gitreg/v1\nstaging: 1.0.0\n"
        (registered.path / "models" / name / "stages.yaml").write_text(text)
    merged = registered.commit_all("Merge pull request #4 from a/both")
    data = registered.run("release", "--json").json()
    assert isinstance(data, dict)
    assert [t["tag"] for t in data["created"]] == ["churn#staging#1", "fraud#staging#1"]
    assert {_promoted_in(registered, t["tag"]) for t in data["created"]} == {merged}
    assert git(registered.path, "tag", "--list", "fraud*") == "fraud#staging#1\nfraud@v1.0.0"
