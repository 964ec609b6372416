"""The object-id cache under .git/gitreg/cache/ (registry/cache.py): right answers whatever
state the cache file is in, safe under concurrent writers, never trusted for another object."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import git, run
from gitreg.registry import cache as cache_mod
from gitreg.registry.cache import ObjectCache, version_records
from gitreg.store.git import Git

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402


@pytest.fixture
def reg(tmp_path: Path) -> Path:
    """A generated registry of 4 models x 3 versions, checked out."""
    path = tmp_path / "reg"
    generate.generate(generate.Size.parse("4x3"), path, payloads=False)
    return path


def _cache_file(repo: Path, kind: str) -> Path:
    return repo / ".git" / "gitreg" / "cache" / f"{kind}.json"


def _list(repo: Path) -> str:
    res = run("list", "--json", cwd=repo)
    assert res.code == 0, res.err
    return res.out


def _commit_description(repo: Path, model: str, text: str) -> None:
    path = repo / "models" / model / "model.yaml"
    data = path.read_text()
    path.write_text(
        "\n".join(
            f"description: {text}" if line.startswith("description:") else line
            for line in data.splitlines()
        )
        + "\n"
    )
    git(repo, "commit", "-qam", f"describe {model}")


def test_warm_list_answers_as_cold_and_from_the_cache(reg: Path) -> None:
    cold = _list(reg)
    entries = json.loads(_cache_file(reg, "summaries").read_text())["entries"]
    assert len(entries) == 4
    # a poisoned value under the real tree id is what a warm run shows: proof it is used
    tree = git(reg, "rev-parse", "HEAD:models/m1")
    doc = json.loads(_cache_file(reg, "summaries").read_text())
    doc["entries"][tree]["description"] = "FROM THE CACHE"
    _cache_file(reg, "summaries").write_text(json.dumps(doc))
    assert "FROM THE CACHE" in _list(reg)
    _cache_file(reg, "summaries").unlink()
    assert _list(reg) == cold


def test_changed_tree_is_read_again_and_stale_entry_dropped(reg: Path) -> None:
    _list(reg)
    old_tree = git(reg, "rev-parse", "HEAD:models/m2")
    _commit_description(reg, "m2", "a new description")
    assert "a new description" in _list(reg)
    entries = json.loads(_cache_file(reg, "summaries").read_text())["entries"]
    assert old_tree not in entries and git(reg, "rev-parse", "HEAD:models/m2") in entries


def test_an_entry_is_never_used_for_another_object(reg: Path) -> None:
    """Every model's entry swapped for another's value: keyed by id, so still each model's
    own answer; and another gitreg installation (code key) starts from nothing."""
    cold = json.loads(_list(reg))
    path = _cache_file(reg, "summaries")
    doc = json.loads(path.read_text())
    doc["entries"] = {
        f"{k[:-1]}0" if k[-1] != "0" else f"{k[:-1]}1": v for k, v in doc["entries"].items()
    }
    path.write_text(json.dumps(doc))
    assert json.loads(_list(reg)) == cold
    doc = json.loads(path.read_text())
    for value in doc["entries"].values():
        value["description"] = "FROM ANOTHER GITREG"
    doc["code"] = "another-installation"
    path.write_text(json.dumps(doc))
    assert json.loads(_list(reg)) == cold


@pytest.mark.parametrize(
    "content", [b"{not json", b"[]", b'{"format": 1, "code": 3, "entries": []}', b"\xff\xfe"]
)
def test_corrupt_cache_file_is_ignored_and_rewritten(reg: Path, content: bytes) -> None:
    cold = _list(reg)
    for kind in ("summaries",):
        _cache_file(reg, kind).write_bytes(content)
    assert _list(reg) == cold
    doc = json.loads(_cache_file(reg, "summaries").read_text())
    assert doc["format"] == cache_mod.FORMAT and len(doc["entries"]) == 4


def test_validate_warm_replays_the_problems(reg: Path) -> None:
    bad = reg / "models" / "m3" / "versions" / "1.1.0.yaml"
    bad.write_text(bad.read_text().replace("name: m3", "name: m9"))
    git(reg, "commit", "-qam", "break m3 1.1.0")
    first = run("validate", "--json", cwd=reg)
    second = run("validate", "--json", cwd=reg)
    assert first.code == second.code == 1
    assert first.json() == second.json()
    problems = first.json()["problems"]  # type: ignore[index]
    assert any(p["path"] == "models/m3/versions/1.1.0.yaml" for p in problems)
    assert _cache_file(reg, "validate").exists()


def test_validate_warm_replays_the_warnings(reg: Path) -> None:
    """A warning found inside a cached model check (a policy metric the built-in
    evaluator cannot report) is shown on the warm run too, not only the problems."""
    spec = reg / "models" / "m1" / "model.yaml"
    spec.write_text(
        spec.read_text()
        + "evaluation:\n  dataset: models/m1/model.yaml\n  metrics:\n    rmse: {max: 1}\n"
    )
    git(reg, "commit", "-qam", "m1: a regression metric on a classifier")
    first = run("validate", "--json", cwd=reg)
    second = run("validate", "--json", cwd=reg)
    assert first.code == second.code
    assert _cache_file(reg, "validate").exists()
    kinds = [(w["path"], w["kind"]) for w in second.json()["warnings"]]  # type: ignore[index]
    assert kinds == [("models/m1/model.yaml", "unmeasurable-metric")], first.out + first.err
    assert first.json() == second.json()


def test_concurrent_writers_never_leave_a_torn_file(reg: Path) -> None:
    """Four processes rewrite the same cache file 100 times each while this one reads it:
    every read parses, and the file ends as one writer's whole document."""
    path = _cache_file(reg, "stress")
    script = (
        "import sys\nfrom pathlib import Path\nfrom gitreg.registry.cache import ObjectCache\n"
        "for i in range(100):\n"
        "    c = ObjectCache(Path(sys.argv[1]))\n"
        "    c.put(sys.argv[2], {'i': i, 'pad': 'x' * 20000})\n"
        "    c.save()\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(path), f"writer{w}"]) for w in range(4)
    ]
    reads = 0
    while any(p.poll() is None for p in procs):
        if path.exists():
            doc = json.loads(path.read_bytes())  # never a torn file
            assert set(doc["entries"]) <= {f"writer{w}" for w in range(4)}
            reads += 1
    assert all(p.wait() == 0 for p in procs)
    final = ObjectCache(path)
    assert len(final.old) == 1 and next(iter(final.old.values()))["i"] == 99
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temp left
    assert reads > 0


def test_version_records_match_the_manifests(reg: Path) -> None:
    git_ = Git(reg)
    head = git(reg, "rev-parse", "HEAD")
    cold = version_records(git_, head)
    assert sorted(cold) == ["m0", "m1", "m2", "m3"] and sorted(cold["m1"]) == [
        "1.0.0",
        "1.1.0",
        "1.2.0",
    ]
    assert cold["m1"]["1.2.0"]["name"] == "m1" and cold["m1"]["1.2.0"]["version"] == "1.2.0"
    cache = ObjectCache.open(git_, "version-records")
    assert len(cache.old) == 4
    assert version_records(git_, head) == cold


def test_unwritable_cache_still_answers(reg: Path) -> None:
    cold = _list(reg)
    target = reg / ".git" / "gitreg" / "cache"
    shutil.rmtree(target)
    target.write_text("a file where the folder should be")
    assert _list(reg) == cold
    assert _list(reg) == cold
