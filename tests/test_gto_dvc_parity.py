"""GTO, DVC and gitreg answer alike for every stage a `gitreg release` wrote (DESIGN §9).

A stage that moves from A to B, or is emptied, gets `name#stage!#N` on A's registration
commit, so `gto show NAME#STAGE --ref`, `dvc artifacts get REPO NAME --stage STAGE` and
`gitreg resolve NAME@STAGE` name the same version, or all none. One real registry per clock
(`timed`: every step seconds apart; `same-second`: conftest's fixed dates, every tag of the
scenario created in one second) runs STEPS; after each release the repository is copied, and
every (step, stage, tool) is one test. Then tags written by GTO itself.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import ENV, Registry, git, isolate, make_artifact, run, tool_path

BYTES = {"1.0.0": b"churn one-zero", "1.1.0": b"churn one-one", "2.0.0": b"churn two-zero"}
VERSION_OF = {data: version for version, data in BYTES.items()}
EPOCH = int(ENV["SOURCE_DATE_EPOCH"])

# step: (stages.yaml of each commit on main before one release, the last one merged as a PR)
STEPS: dict[str, tuple[list[dict[str, str]], bool]] = {
    "promote": ([{"staging": "1.0.0"}], False),  # case 1
    "move": ([{"staging": "1.1.0"}], False),  # case 2
    "demote": ([{}], False),  # case 3
    "repromote": ([{"staging": "1.1.0"}], False),
    "rollback": ([{"staging": "1.0.0"}], False),  # case 4
    "two-stages": ([{"staging": "1.0.0", "production": "1.1.0"}], False),  # case 5
    "production-moved": ([{"staging": "1.0.0", "production": "2.0.0"}], False),
    "swap-in-one-merge": ([{"staging": "2.0.0", "production": "1.0.0"}], True),  # case 6
    "three-commits-one-run": (
        [
            {"staging": "1.0.0", "production": "1.0.0"},  # overwritten before any release
            {"staging": "1.1.0", "production": "1.0.0"},
            {"staging": "1.1.0", "production": "1.1.0"},
        ],
        False,
    ),
    "all-emptied": ([{}], False),
}
# the stages each step checks (production only from the step that first uses it, and once
# before, never assigned)
CHECKED = {step: ("staging",) for step in STEPS} | {"promote": ("staging", "production")}
CHECKED |= {s: ("staging", "production") for s in list(STEPS)[5:]}
TOOLS = ("gto", "dvc", "gitreg")

# (clock, step, stage, tool) where a tool disagrees with the others; see the reasons
DVC_IGNORES_REMOVAL = (
    "dvc artifacts get --stage takes the newest tag naming the stage, removal tags "
    "included (dvc/repo/artifacts.py get_rev: find() with no action filter), so an emptied "
    "stage downloads the version that left it"
)
SAME_SECOND = (
    "GTO orders stage events by tagger time in whole seconds; tags created in one second "
    "tie and GTO's order among them is not the counter N"
)
KNOWN: dict[tuple[str, str, str, str], str] = {
    ("timed", "demote", "staging", "dvc"): DVC_IGNORES_REMOVAL,
    ("timed", "all-emptied", "staging", "dvc"): DVC_IGNORES_REMOVAL,
    ("timed", "all-emptied", "production", "dvc"): DVC_IGNORES_REMOVAL,
    ("same-second", "demote", "staging", "dvc"): DVC_IGNORES_REMOVAL,
    ("same-second", "all-emptied", "staging", "dvc"): DVC_IGNORES_REMOVAL,
    ("same-second", "all-emptied", "production", "dvc"): DVC_IGNORES_REMOVAL,
}


def _date(mp: pytest.MonkeyPatch, epoch: int) -> None:
    # git's internal format: GTO's tagging (dulwich) cannot parse conftest's ISO dates
    for var in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):
        mp.setenv(var, f"{epoch} +0000")


def _new_registry(root: Path) -> Registry:
    origin, remote = root / "origin.git", root / "dvc-remote"
    git(root, "init", "-q", "--bare", str(origin))
    assert (res := run("init", str(root / "reg"), "--remote", str(remote))).code == 0, res.err
    reg = Registry(root / "reg", remote, origin)
    reg.git("remote", "add", "origin", origin.as_uri())
    for version, data in BYTES.items():
        reg.register(version, make_artifact(root / "art" / version / "model.pkl", data))
    reg.git("push", "-q", "origin", "main")
    return reg


def _set_stages(reg: Registry, mapping: dict[str, str], message: str, merge: bool) -> None:
    text = "schema: gitreg/v1\n" + "".join(f"{k}: {v}\n" for k, v in mapping.items())
    branch = "promote/" + message.replace(" ", "-")
    if merge:  # a merged pull request: a --no-ff merge commit on main's first-parent line
        reg.git("checkout", "-q", "-b", branch)
    (reg.path / "models/churn/stages.yaml").write_text(text)
    reg.commit_all(message)
    if merge:
        reg.git("checkout", "-q", "main")
        reg.git("merge", "-q", "--no-ff", "-m", f"Merge pull request #7 from acme/{branch}", branch)


def _tags(repo: Path) -> dict[str, str]:
    """churn's tags: name -> the commit it points to (peeled)."""
    out = git(repo, "for-each-ref", "--format=%(refname:short) %(*objectname)", "refs/tags/")
    pairs = (line.split(" ") for line in out.splitlines())
    return {name: commit for name, commit in pairs if name.startswith("churn")}


@dataclass
class Scenario:
    snaps: dict[str, Path] = field(default_factory=dict)  # step -> copy after its release
    written: dict[str, dict[str, str]] = field(default_factory=dict)  # step -> new tags
    registered: dict[str, str] = field(default_factory=dict)  # version -> its commit


def _build(factory: pytest.TempPathFactory, clock: str) -> Scenario:
    root, scenario = factory.mktemp(clock), Scenario()
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, root / "home")
        now = EPOCH

        def tick() -> None:
            nonlocal now
            now += 10 if clock == "timed" else 0
            _date(mp, now)

        tick()
        reg = _new_registry(root)
        before: dict[str, str] = {}
        for step, (commits, merge) in STEPS.items():
            for i, mapping in enumerate(commits):
                tick()
                _set_stages(reg, mapping, f"{step} {i}", merge and i == len(commits) - 1)
            tick()
            assert (res := reg.run("release", "--push")).code == 0, res.err
            after = _tags(reg.path)
            scenario.written[step] = {t: c for t, c in after.items() if t not in before}
            scenario.snaps[step] = root / "snaps" / step
            shutil.copytree(reg.path, scenario.snaps[step], symlinks=True)
            before = after
        scenario.registered = {v: after[f"churn@v{v}"] for v in BYTES}
    return scenario


@pytest.fixture(scope="module")
def timed(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return _build(tmp_path_factory, "timed")


@pytest.fixture(scope="module")
def same_second(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return _build(tmp_path_factory, "same-second")


# -- the three answers: a version, or None ---------------------------------------------------


def gto_answer(repo: Path, stage: str) -> str | None:
    cmd = [tool_path("gto"), "show", f"churn#{stage}", "--ref", "-r", str(repo)]
    proc = subprocess.run(cmd, cwd=repo, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.split()
    assert len(lines) <= 1 and all(ln.startswith("churn@v") for ln in lines), proc.stdout
    return lines[0].removeprefix("churn@v") if lines else None


def dvc_answer(repo: Path, stage: str, work: Path) -> str | None:
    out = work / f"dvc-{stage}"
    env = {k: v for k, v in os.environ.items() if k != "DVC_STUDIO_TOKEN"}
    env["DVC_STUDIO_OFFLINE"] = "1"
    cmd = [tool_path("dvc"), "artifacts", "get", repo.as_uri(), "churn", "--stage", stage]
    proc = subprocess.run([*cmd, "-o", str(out)], cwd=work, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        assert f"Unable to find artifact 'churn @ {stage}'" in proc.stderr, proc.stderr
        return None
    return VERSION_OF[out.read_bytes()]


def gitreg_answer(repo: Path, stage: str, work: Path) -> str | None:
    """`resolve` on the path and on its file:// URL; they must agree with each other."""
    local = run("resolve", f"churn@{stage}", "--json", "-C", str(repo))
    remote = run("resolve", f"churn@{stage}", "--json", "--repo", repo.as_uri(), cwd=work)
    assert "Traceback" not in local.err + remote.err
    if local.code == 3:
        assert f"no version holds stage '{stage}'" in local.err, local.err
        assert (remote.code, remote.err) == (3, local.err)
        return None
    assert local.code == 0 and remote.code == 0, local.err + remote.err
    data = local.json()
    assert isinstance(data, dict) and data == remote.json()
    assert data["artifacts"][0]["md5"] == hashlib.md5(BYTES[data["version"]]).hexdigest()
    return str(data["version"])


def _answer(tool: str, repo: Path, stage: str, work: Path) -> str | None:
    if tool == "gto":
        return gto_answer(repo, stage)
    return dvc_answer(repo, stage, work) if tool == "dvc" else gitreg_answer(repo, stage, work)


def _expected(step: str, stage: str) -> str | None:
    return STEPS[step][0][-1].get(stage)


def _cases() -> list[object]:
    out: list[object] = []
    for clock in ("timed", "same-second"):
        for step, stages in CHECKED.items():
            for stage in stages:
                for tool in TOOLS:
                    why = KNOWN.get((clock, step, stage, tool))
                    marks = [pytest.mark.xfail(strict=True, reason=why)] if why else []
                    args = (clock, step, stage, tool)
                    out.append(pytest.param(*args, marks=marks, id="-".join(args)))
    return out


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GITREG_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


@pytest.mark.parametrize(("clock", "step", "stage", "tool"), _cases())
def test_tool_answers_what_main_said(
    request: pytest.FixtureRequest, cache: Path, clock: str, step: str, stage: str, tool: str
) -> None:
    """Each tool names the version stages.yaml gave the stage, or none; all three alike."""
    scenario: Scenario = request.getfixturevalue(clock.replace("-", "_"))
    answer = _answer(tool, scenario.snaps[step], stage, cache)
    assert answer == _expected(step, stage), f"{tool} on {step}: {answer}"


@pytest.mark.parametrize("clock", ["timed", "same-second"])
def test_release_writes_removal_tags(request: pytest.FixtureRequest, clock: str) -> None:
    """Case 2 and 3 tags: the leaving version's removal on its own registration commit."""
    s: Scenario = request.getfixturevalue(clock.replace("-", "_"))
    on = s.registered
    assert s.written["promote"] == {
        **{f"churn@v{v}": c for v, c in on.items()},
        "churn#staging#1": on["1.0.0"],
    }
    assert s.written["move"] == {"churn#staging!#2": on["1.0.0"], "churn#staging#3": on["1.1.0"]}
    assert s.written["demote"] == {"churn#staging!#4": on["1.1.0"]}
    assert s.written["rollback"] == {"churn#staging!#6": on["1.1.0"], "churn#staging#7": on["1.0.0"]}
    # one merge changing two stages: each stage's leaving version removed, the new assigned
    swap = s.written["swap-in-one-merge"]
    assert sorted(swap.items(), key=lambda kv: kv[0]) == sorted(
        {
            "churn#staging!#11": on["1.0.0"],
            "churn#staging#12": on["2.0.0"],
            "churn#production!#13": on["2.0.0"],
            "churn#production#14": on["1.0.0"],
        }.items()
    )
    # three commits, one run: the overwritten staging 1.0.0 of the first commit gets no tag
    assert set(s.written["three-commits-one-run"].values()) == {on["2.0.0"], on["1.0.0"], on["1.1.0"]}
    assert len(s.written["all-emptied"]) == 2
    assert all("!#" in t for t in s.written["all-emptied"])
