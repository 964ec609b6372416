"""A cold whole-registry `validate` checks its models on every core (`parallel.map_local`:
forked workers, each with its own `git cat-file`): the same report as on one core, the
same cache, and the parent's reader still answers afterwards.

`cache.SPREAD_MIN` is lowered so that a small registry takes the multi-process path."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import site_registry
from conftest import git, run
from gitreg.registry import cache
from gitreg.store import parallel
from gitreg.store.git import Git
from gitreg.store.snapshot import Snapshot


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conftest import isolate

    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, tmp_path_factory.mktemp("home"))
        root = site_registry.build(tmp_path_factory.mktemp("val") / "reg")
        # a problem in a version and in a pointer, so the report has something to order
        (root / "models/iris/versions/1.0.0.yaml").write_text("schema: gitreg/v1\nname: [x\n")
        (root / "models/evil/artifacts/0.1.0/model.pkl.dvc").write_text("outs: 7\n")
        git(root, "add", "-A")
        git(root, "commit", "-qm", "break two files")
        return root


@pytest.fixture
def two_cores() -> None:
    if parallel.cores() < 2:
        pytest.skip(f"this machine gives gitreg {parallel.cores()} core: nothing to share out")


def _validate(reg: Path) -> tuple[int, dict[str, object]]:
    res = run("validate", "-C", str(reg), "--json")
    return res.code, json.loads(res.out)


def test_a_cold_validate_on_two_cores_reports_what_one_core_does(
    built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, two_cores: None
) -> None:
    reg = tmp_path / "reg"
    shutil.copytree(built, reg, symlinks=True)
    monkeypatch.setattr(parallel, "cores", lambda: 1)
    serial = _validate(reg)
    shutil.rmtree(reg / ".git" / "gitreg" / "cache")
    monkeypatch.undo()
    monkeypatch.setattr(cache, "SPREAD_MIN", 1)
    spread: list[list[str]] = []
    real = parallel.map_chunks
    monkeypatch.setattr(
        parallel,
        "map_chunks",
        lambda fn, items, *rest: spread.append(list(items)) or real(fn, items, *rest),
    )
    both = _validate(reg)
    assert spread == [["evil", "iris"]]  # the models went out to the workers
    assert serial[0] == both[0] == 1
    assert both == serial
    problems = serial[1]["problems"]
    assert isinstance(problems, list)
    paths = [p["path"] for p in problems]
    assert "models/iris/versions/1.0.0.yaml" in paths
    assert any(p.endswith("model.pkl.dvc") or "evil" in p for p in paths)
    assert _validate(reg) == serial  # and warm, from what the workers computed


def test_forked_workers_read_git_through_their_own_cat_file(built: Path, two_cores: None) -> None:
    snap = Snapshot.at(Git(built))
    paths = [f"models/iris/versions/{v}.yaml" for v in ("1.1.0", "1.2.0")] * 300
    expected = [snap.read(p) for p in paths]  # the parent's cat-file is running now
    got = parallel.map_local(lambda ps: [snap.read(p) for p in ps], paths, min_items=2)
    assert got == expected and all(expected)
    assert snap.read(paths[0]) == expected[0]  # the parent's stream was not disturbed
    snap.close()
