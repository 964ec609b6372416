"""Release follows the merge, not the registry (registry/release_scope.py): it reads the
tags and files of the models changed since a commit a tag proves released, and every
model when nothing proves it. Counted in objects read, never in seconds."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import git
from gitreg.ops.release import plan
from gitreg.registry.reader import Registry
from gitreg.registry.release_scope import models_to_release
from gitreg.store.git import Git

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402


def _generated(tmp: Path, size: str) -> Path:
    path = tmp / size
    generate.generate(generate.Size.parse(size), path, payloads=False)
    return path


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _generated(tmp_path_factory.mktemp("scope"), "16x4")


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _generated(tmp_path_factory.mktemp("scope"), "32x4")


def _plan(repo: Path, ref: str) -> tuple[list[str], int]:
    with Registry.open(repo, ref) as reg:
        planned = plan(reg)
        return [t.name for t in planned], reg.snapshot.reads


def test_one_promotion_reads_the_same_objects_at_twice_the_models(small: Path, large: Path) -> None:
    names_small, reads_small = _plan(small, "bench/release")
    names_large, reads_large = _plan(large, "bench/release")
    # the probe model m7: production 1.2.0 -> 1.3.0 (removal + assignment)
    assert names_small == names_large == ["m7#production!#8", "m7#production#9"]
    assert reads_small == reads_large
    assert reads_small < 40  # two models' files, not 32 models' manifests


def test_scope_is_the_models_since_the_last_released_commit(small: Path, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    git(tmp_path, "clone", "-q", "--", str(small), str(repo))
    git(repo, "fetch", "-q", "origin", "refs/tags/*:refs/tags/*")
    last = git(repo, "log", "-1", "--format=%s")  # the generator's last merge, released
    assert last
    assert models_to_release(Git(repo), "HEAD") is not None
    for model in ("m1", "m2"):  # two merges nobody released, then one touching no model
        path = repo / "models" / model / "stages.yaml"
        path.write_text("schema: gitreg/v1\nstaging: 1.1.0\nproduction: 1.2.0\n")
        git(repo, "commit", "-qam", f"stage {model}")
    (repo / "README.md").write_text("notes\n")
    git(repo, "commit", "-qam", "docs")
    scope = models_to_release(Git(repo), "HEAD")
    assert scope is not None and {"m1", "m2"} <= set(scope)
    assert len(scope) <= 3  # plus the model of the last released merge
    names, _ = _plan(repo, "HEAD")
    assert {n.split("#")[0] for n in names} == {"m1", "m2"}


def test_every_model_when_gitreg_yaml_changed_or_nothing_was_released(
    small: Path, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    git(tmp_path, "clone", "-q", "--no-tags", "--", str(small), str(repo))
    assert models_to_release(Git(repo), "HEAD") is None  # no tag proves any release
    git(repo, "fetch", "-q", "origin", "refs/tags/*:refs/tags/*")
    cfg = repo / "gitreg.yaml"
    cfg.write_text(cfg.read_text() + "\n")
    git(repo, "commit", "-qam", "touch gitreg.yaml")
    assert models_to_release(Git(repo), "HEAD") is None


def test_first_parent_chain_check_follows_the_distance(tmp_path: Path) -> None:
    """`on_first_parent_chain`, which replaced listing main's whole first-parent history:
    main's own commits are on it, a merged branch's commit and a stray commit are not."""
    repo = tmp_path / "r"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")

    def commit(msg: str) -> str:
        git(repo, "commit", "-q", "--allow-empty", "-m", msg)
        return git(repo, "rev-parse", "HEAD")

    a, b = commit("a"), commit("b")
    git(repo, "checkout", "-q", "-b", "side")
    s1 = commit("s1")
    git(repo, "checkout", "-q", "main")
    c = commit("c")
    git(repo, "merge", "-q", "--no-ff", "-m", "merge side", "side")
    m = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "--orphan", "stray")
    stray = commit("stray")
    g = Git(repo)
    assert [g.on_first_parent_chain(x, m) for x in (m, c, b, a)] == [True] * 4
    assert not g.on_first_parent_chain(s1, m) and not g.on_first_parent_chain(stray, m)
    assert {x for x in (m, c, b, a, s1)} & g.first_parents(m) == {m, c, b, a}
