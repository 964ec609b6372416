"""The cold `list` path: `Registry.summaries` reads every model through one background
`cat-file` (`store/bulk.PendingReads`) and answers as reading each model alone does
(`Registry.summary`); an object a tree lists but git cannot read is an error naming the
file, never an absent file."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import git, run
from gitreg.errors import GitError
from gitreg.registry.reader import Registry
from gitreg.store.bulk import start_reads
from gitreg.store.git import Git
from gitreg.store.snapshot import Snapshot

CONFIG = "schema: gitreg/v1\nstages:\n  - name: staging\n  - name: production\n"


def _write(repo: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)


def _spec(name: str, extra: str = "") -> str:
    return f"schema: gitreg/v1\nname: {name}\n{extra}"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Models of every shape a summary reads: versions out of order, prereleases, build
    metadata and files that are no version; no stages.yaml; no versions/; versions/ a file;
    a folder without model.yaml; model.yaml a folder."""
    repo = tmp_path / "reg"
    repo.mkdir()
    git(repo, "init", "-q")
    versions = ["1.10.0", "1.2.0", "1.0.0", "2.0.0-rc.1+b", "2.0.0-rc.1", "2.0.0-rc.1+a", "0.9.0"]
    _write(repo, {"gitreg.yaml": CONFIG, "models/.gitkeep": ""})
    _write(repo, {f"models/churn/versions/{v}.yaml": v for v in versions})
    _write(
        repo,
        {
            "models/churn/model.yaml": _spec(
                "churn",
                "description: churn model\nowners: ['@acme/ds']\ntask: classification\n"
                "labels:\n  team: growth\n",
            ),
            "models/churn/stages.yaml": "schema: gitreg/v1\nproduction: 1.2.0\nstaging: 1.10.0\n",
            "models/churn/versions/README.md": "not a version",
            "models/churn/versions/v3.yaml": "not semver",
            "models/churn/versions/3.0.0.yml": "not .yaml",
            "models/fraud/model.yaml": _spec("fraud"),
            "models/ranker/model.yaml": _spec("ranker"),
            "models/ranker/versions": "a file, not a folder",
            "models/stray/versions/1.0.0.yaml": "no model.yaml beside it",
            "models/odd/model.yaml/x": "model.yaml is a folder",
        },
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "models")
    return repo


def test_cold_summaries_are_each_models_summary(repo: Path) -> None:
    with Registry.open(repo) as reg:
        cold = reg.summaries()
    assert [m.name for m in cold] == ["churn", "fraud", "ranker"]
    churn = cold[0]
    # ascending SemVer; equal precedence (build metadata) keeps the tree's byte order
    # ("+" sorts before ".yaml")
    assert churn.versions == [
        "0.9.0",
        "1.0.0",
        "1.2.0",
        "1.10.0",
        "2.0.0-rc.1+a",
        "2.0.0-rc.1+b",
        "2.0.0-rc.1",
    ]
    assert churn.latest == "1.10.0" and churn.labels == {"team": "growth"}
    assert churn.stages == {"production": "1.2.0", "staging": "1.10.0"}
    assert cold[1].versions == [] and cold[1].stages == {} and cold[2].versions == []
    with Registry.open(repo) as reg:  # one model at a time, through Snapshot's reads
        alone = [reg.summary(m.name) for m in cold]
    assert cold == alone
    (repo / ".git/gitreg/cache/summaries.json").unlink()
    cold_json = run("list", "--json", cwd=repo)
    assert cold_json.code == 0, cold_json.err
    assert json.loads(cold_json.out) == json.loads(run("list", "--json", cwd=repo).out)  # warm


@pytest.mark.parametrize(
    "path", ["models/churn/stages.yaml", "models/churn/model.yaml", "models/churn/versions"]
)
def test_a_corrupt_object_is_an_error_naming_the_file(repo: Path, path: str) -> None:
    sha = git(repo, "rev-parse", f"HEAD:{path}")
    obj = repo / ".git" / "objects" / sha[:2] / sha[2:]
    obj.chmod(0o644)
    obj.write_bytes(b"not zlib at all")
    with Registry.open(repo) as reg, pytest.raises(GitError) as caught:
        reg.summaries()
    assert f"could not read {path} at " in str(caught.value)
    assert "corrupt or unreadable" in str(caught.value)
    res = run("list", cwd=repo)
    assert res.code == 3 and path in res.err and "Traceback" not in res.err


def test_pending_reads_answer_as_the_snapshot_reads(repo: Path, tmp_path: Path) -> None:
    """Requests and answers both far past a pipe's buffer (no one drains the process while
    the caller works), in order; absent paths and requests with a newline are None."""
    big = "x" * 300_000
    _write(repo, {"big.txt": big})
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "big")
    commit = git(repo, "rev-parse", "HEAD")
    paths = ["big.txt", "models/churn", "gitreg.yaml", "nope.yaml", "models/churn/model.yaml"]
    specs = [f"{commit}:{p}" for p in paths] * 800 + [f"{commit}:a\nb", commit]
    assert len("".join(specs)) > 200_000
    got = start_reads(Git(repo), specs).result()
    assert len(got) == len(specs)
    with Snapshot.at(Git(repo)) as snap:
        for path, answer in zip(paths * 800, got):
            obj = snap._get(commit, path)
            assert answer == obj, path
    assert got[0] is not None and got[0][1] == big.encode()
    assert got[-2] is None and got[-1] is not None and got[-1][0] == "commit"


def test_pending_reads_outside_a_repository_are_a_git_error(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    subprocess.run(["git", "init", "-q", "--bare", str(plain / "x.git")], check=True)
    (plain / "x.git" / "HEAD").unlink()  # no longer a repository: cat-file exits 128
    with pytest.raises(GitError, match="cat-file") as caught:
        start_reads(Git(plain), ["HEAD"]).result()
    assert "not a git repository" in caught.value.stderr  # git's own reason, not an exit code


def test_pending_reads_without_memfd_use_a_temporary_file(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the OS refuses `memfd_create` (or has none), the answers are the same."""
    import gitreg.store.bulk as bulk

    def refused(*_: object) -> int:
        raise OSError("memfd_create refused")

    commit = git(repo, "rev-parse", "HEAD")
    specs = [f"{commit}:gitreg.yaml", f"{commit}:nope"]
    expected = start_reads(Git(repo), specs).result()
    monkeypatch.setattr(bulk.os, "memfd_create", refused, raising=False)
    assert start_reads(Git(repo), specs).result() == expected
    assert expected[0] == ("blob", CONFIG.encode()) and expected[1] is None
