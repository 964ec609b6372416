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
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import ENV, Registry, git, isolate, make_artifact, run, tool_path

BYTES = {"1.0.0": b"churn one-zero", "1.1.0": b"churn one-one", "2.0.0": b"churn two-zero"}
VERSION_OF = {data: version for version, data in BYTES.items()}
EPOCH = int(ENV["SOURCE_DATE_EPOCH"])

# step: the stages.yaml of each commit on main, then one `gitreg release`
STEPS: dict[str, list[dict[str, str]]] = {
    "promote": [{"staging": "1.0.0"}],  # case 1
    "move": [{"staging": "1.1.0"}],  # case 2
    "demote": [{}],  # case 3
    "repromote": [{"staging": "1.1.0"}],
    "rollback": [{"staging": "1.0.0"}],  # case 4
    "two-stages": [{"staging": "1.0.0", "production": "1.1.0"}],  # case 5
    "production-moved": [{"staging": "1.0.0", "production": "2.0.0"}],
    "swap-in-one-merge": [{"staging": "2.0.0", "production": "1.0.0"}],  # case 6
    "three-commits-one-run": [
        {"staging": "1.0.0", "production": "1.0.0"},  # overwritten before any release
        {"staging": "1.1.0", "production": "1.0.0"},
        {"staging": "1.1.0", "production": "1.1.0"},
    ],
    "all-emptied": [{}],
}
MERGED = "swap-in-one-merge"  # its commit is a --no-ff merge of a PR branch
# production from the step that first uses it on, and once before (never assigned)
BOTH = ("staging", "production")
CHECKED = {s: BOTH if i >= 5 or s == "promote" else BOTH[:1] for i, s in enumerate(STEPS)}
CLOCKS = ("timed", "same-second")  # case 7: same-second

# (clock, step, stage, tool) where a tool disagrees with gitreg and with stages.yaml
REMOVAL = (
    "dvc artifacts get --stage downloads the target of the newest tag naming the stage, "
    "removal tags included (dvc/repo/artifacts.py get_rev calls gto.tag.find with no action "
    "filter): an emptied stage gives the version that left it"
)


def _known(clocks: tuple[str, ...], tool: str, pairs: str, why: str) -> dict[tuple[str, ...], str]:
    return {(c, *pair.split(":"), tool): why for c in clocks for pair in pairs.split()}


# gitreg writes strictly increasing tagger times per model, so GTO and DVC order tags made
# within one second right; what is left is DVC's reading of removal tags
KNOWN = _known(CLOCKS, "dvc", "demote:staging all-emptied:staging all-emptied:production", REMOVAL)


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
        for step, commits in STEPS.items():
            for i, mapping in enumerate(commits):
                tick()
                _set_stages(reg, mapping, f"{step} {i}", step == MERGED)
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


ANSWER = {"dvc": dvc_answer, "gitreg": gitreg_answer}


def _cases() -> list[object]:
    out: list[object] = []
    for clock in CLOCKS:
        for step, stages in CHECKED.items():
            for stage in stages:
                for tool in ("gto", "dvc", "gitreg"):
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
    repo = scenario.snaps[step]
    answer = gto_answer(repo, stage) if tool == "gto" else ANSWER[tool](repo, stage, cache)
    assert answer == STEPS[step][-1].get(stage), f"{tool} on {step}: {answer}"


@pytest.mark.parametrize("clock", CLOCKS)
def test_release_writes_removal_tags(request: pytest.FixtureRequest, clock: str) -> None:
    """Each release's new tags: the leaving version's removal on its registration commit,
    then the new holder's assignment on its own (cases 2, 3, 6)."""
    s: Scenario = request.getfixturevalue(clock.replace("-", "_"))
    v1, v11, v2 = (s.registered[v] for v in BYTES)
    registrations = {"churn@v1.0.0": v1, "churn@v1.1.0": v11, "churn@v2.0.0": v2}
    assert s.written["promote"] == registrations | {"churn#staging#1": v1}
    assert s.written["move"] == {"churn#staging!#2": v1, "churn#staging#3": v11}
    assert s.written["demote"] == {"churn#staging!#4": v11}
    assert s.written["rollback"] == {"churn#staging!#6": v11, "churn#staging#7": v1}
    assert s.written["production-moved"] == {"churn#production!#9": v11, "churn#production#10": v2}
    assert s.written[MERGED] == {  # one merge commit changing two stages
        "churn#staging!#11": v1,
        "churn#staging#12": v2,
        "churn#production!#13": v2,
        "churn#production#14": v1,
    }
    assert s.written["three-commits-one-run"] == {  # no tag for the overwritten staging 1.0.0
        "churn#staging!#15": v2,
        "churn#staging#16": v11,
        "churn#production!#17": v1,
        "churn#production#18": v11,
    }
    assert s.written["all-emptied"] == {"churn#staging!#19": v11, "churn#production!#20": v11}


# -- tags GTO wrote itself -------------------------------------------------------------------

PAST = 1577836800  # 2020-01-01: gitreg's tags are older than GTO's, which carry the clock's time
GTO_OPS: dict[str, tuple[list[str], dict[str, str | None]]] = {  # commands, then gto's answers
    "assign-move": (["assign churn --version v2.0.0 --stage staging"], {"staging": "2.0.0"}),
    "assign-rollback": (
        [
            "assign churn --version v2.0.0 --stage staging",
            "assign churn --version v1.1.0 --stage staging --force",  # 1.1.0 was never removed
        ],
        {"staging": "1.1.0"},
    ),
    "unassign": (["deprecate churn v1.1.0 staging"], {"staging": None}),
    "deregister": (["deprecate churn v1.0.0"], {"production": None}),
    "deprecate-artifact": (["deprecate churn"], {"staging": None, "production": None}),
    "new-version-at-head": (
        ["assign churn HEAD --version v3.0.0 --stage production"],  # no manifest there
        {"production": "3.0.0"},
    ),
}
GTO_KNOWN: dict[str, str] = {}  # GTO-written tags gitreg reads differently (none today)


@pytest.fixture(scope="module")
def gto_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """staging 1.1.0 and production 1.0.0, released by gitreg."""
    root = tmp_path_factory.mktemp("gto-base")
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, root / "home")
        _date(mp, PAST)
        reg = _new_registry(root)
        _set_stages(reg, {"staging": "1.1.0", "production": "1.0.0"}, "promote", merge=False)
        assert (res := reg.run("release")).code == 0, res.err
    return reg.path


def _gto_did(base: Path, work: Path, mp: pytest.MonkeyPatch, commands: list[str]) -> Path:
    repo = work / "reg"
    shutil.copytree(base, repo, symlinks=True)
    _date(mp, PAST + 60)
    for i, command in enumerate(commands):
        if i:
            time.sleep(1.1)  # GTO dates its tags with the clock, in whole seconds
        cmd = [tool_path("gto"), *command.split()]
        proc = subprocess.run(cmd, cwd=repo, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    return repo


@pytest.mark.parametrize(
    "op",
    [
        pytest.param(op, marks=[pytest.mark.xfail(strict=True, reason=GTO_KNOWN[op])])
        if op in GTO_KNOWN
        else op
        for op in GTO_OPS
    ],
)
def test_gitreg_reads_tags_gto_wrote(
    gto_base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, op: str
) -> None:
    """gitreg answers what `gto show` answers, or refuses clearly: never another version."""
    commands, gto_says = GTO_OPS[op]
    repo = _gto_did(gto_base, tmp_path, monkeypatch, commands)
    answers = {"staging": "1.1.0", "production": "1.0.0"} | gto_says
    for stage, want in answers.items():
        assert gto_answer(repo, stage) == want, (op, stage)
        res = run("resolve", f"churn@{stage}", "--json", "-C", str(repo))
        assert "Traceback" not in res.err, res.err
        if op == "new-version-at-head" and stage == "production":  # GTO's tag, no manifest
            assert res.code == 3 and "has no models/churn/versions/3.0.0.yaml" in res.err
            continue
        got = res.json()["version"] if res.code == 0 else res.err  # type: ignore[index]
        if want is None:
            none = ("no version holds stage", "the whole model is deprecated")
            assert res.code == 3 and any(n in res.err for n in none), f"{stage}: {got}"
        else:
            assert got == want, f"{stage}: gto says {want}, gitreg {got}"


def test_gto_simple_notation_refused(
    gto_base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITREG_CACHE_DIR", str(tmp_path / "cache"))
    simple = "assign churn --version v2.0.0 --stage staging --simple true"
    repo = _gto_did(gto_base, tmp_path, monkeypatch, [simple])
    assert git(repo, "tag", "-l", "churn#staging") == "churn#staging"
    assert gto_answer(repo, "staging") == "2.0.0"
    for where in (str(repo), repo.as_uri()):
        res = run("resolve", "churn@staging", "--repo", where, cwd=tmp_path)
        assert res.code == 3 and "Traceback" not in res.err, res.err
        assert "churn#staging is a GTO simple-notation tag" in res.err
        assert "git tag -d churn#staging" in res.err
        # the other stage, untouched, still reads alike
        res = run("resolve", "churn@production", "--json", "--repo", where, cwd=tmp_path)
        assert res.code == 0 and res.json()["version"] == gto_answer(repo, "production")  # type: ignore[index]
