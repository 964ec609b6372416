"""A cold whole-registry `validate` parses a model's manifests together (`parse_many`: one
pydantic call per model), lists the links below models/ while the models are checked
(`links_below_soon`) and runs its work with the cyclic collector paused (`parallel`):
every answer must read as the one-file-at-a-time path gave it."""

from __future__ import annotations

import gc
import json
import os
from pathlib import Path

import pytest

from conftest import git, run
from gitreg.errors import GitError, ManifestError
from gitreg.model import schema
from gitreg.model.manifest import VersionManifest
from gitreg.store import parallel
from gitreg.store.git import Git
from gitreg.store.pending import PendingLinks
from gitreg.store.snapshot import Snapshot
from site_registry import GITREG_YAML, IRIS, pointer, version_yaml

VERSIONS = [f"1.0.{i}" for i in range(40)]
BROKEN = "1.0.36"  # the 37th manifest of the model


def _registry(root: Path, broken: str | None = BROKEN) -> Path:
    files = {
        "gitreg.yaml": GITREG_YAML,
        "data/holdout.csv.dvc": pointer("data", "0.0.0").replace("model.pkl", "holdout.csv"),
        "models/iris/model.yaml": IRIS,
    }
    for v in VERSIONS:
        text = version_yaml("iris", v, 0.9, 0.9)
        files[f"models/iris/versions/{v}.yaml"] = text + ("colour: red\n" if v == broken else "")
        files[f"models/iris/artifacts/{v}/model.pkl.dvc"] = pointer("iris", v)
    root.mkdir(parents=True)
    git(root, "init", "-q", "--initial-branch=main")
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "forty versions")
    return root


def _validate(root: Path) -> tuple[int, dict[str, object]]:
    res = run("validate", "-C", str(root), "--json")
    return res.code, json.loads(res.out)


def test_an_error_in_the_37th_manifest_of_a_model_names_its_file_and_field(
    tmp_path: Path,
) -> None:
    code, data = _validate(_registry(tmp_path / "reg"))
    assert code == 1
    assert data["problems"] == [
        {
            "path": f"models/iris/versions/{BROKEN}.yaml",
            "field": "colour",
            "message": "unknown field (check the spelling; `gitreg schema` lists the fields)",
        }
    ]
    assert data["files"] == 2 + len(VERSIONS)  # gitreg.yaml, model.yaml, every manifest


def test_a_clean_model_of_forty_versions_passes(tmp_path: Path) -> None:
    code, data = _validate(_registry(tmp_path / "reg", broken=None))
    assert (code, data["problems"], data["files"]) == (0, [], 2 + len(VERSIONS))


def _cases() -> list[tuple[bytes, str]]:
    good = version_yaml("iris", "1.0.0", 0.9, 0.9)
    texts = [
        good,
        good.replace("version: 1.0.0", "version: 1.0.1"),
        good + "colour: red\n",  # an unknown field
        good.replace("status: active", "status: lost"),  # a value pydantic refuses
        "name: [x\n",  # not YAML
        "- a list\n",  # not a mapping
        "1: a number for a key\n",
        "",  # an empty file
        good.replace("created: '2026-01-01T10:00:00Z'", "created: 2026-01-01"),  # a date
    ]
    return [(t.encode(), f"models/iris/versions/{i}.yaml") for i, t in enumerate(texts)]


def _one(data: bytes, path: str) -> object:
    try:
        return schema.parse(VersionManifest, data, path).model_dump()
    except ManifestError as e:
        return e.problems


def _many(cases: list[tuple[bytes, str]]) -> list[object]:
    got = schema.parse_many(VersionManifest, [d for d, _ in cases], [p for _, p in cases])
    return [g.problems if isinstance(g, ManifestError) else g.model_dump() for g in got]


@pytest.mark.parametrize("only_good", [True, False])
def test_parse_many_answers_as_parse_of_each_file(only_good: bool) -> None:
    cases = _cases()[:2] * 20 if only_good else _cases() * 3
    assert _many(cases) == [_one(d, p) for d, p in cases]
    kinds = {type(g) for g in _many(cases)}
    assert kinds == ({dict} if only_good else {dict, list})


def _linked(root: Path) -> Path:
    _registry(root)
    adir = root / "models/iris/artifacts/1.0.3"
    os.symlink("/etc/passwd", adir / "extra.bin")
    git(root, "add", "-f", str(adir / "extra.bin"))
    git(root, "commit", "-qm", "a link")
    return root


def test_links_found_while_the_models_are_checked_are_reported_first(tmp_path: Path) -> None:
    root = _linked(tmp_path / "reg")
    code, cold = _validate(root)
    code_warm, warm = _validate(root)  # every result from the cache
    link = {
        "path": "models/iris/artifacts/1.0.3/extra.bin",
        "field": "",
        "message": "a symbolic link: a registry holds only files; commit the file itself",
    }
    assert code == code_warm == 1
    assert cold["problems"] == warm["problems"]
    assert cold["problems"][0] == link
    assert cold["problems"][1]["path"] == f"models/iris/versions/{BROKEN}.yaml"


def test_links_listed_early_answer_as_links_below(tmp_path: Path) -> None:
    root = _linked(tmp_path / "reg")
    g = Git(root)
    with Snapshot.at(g) as snap:
        for paths in (["models"], ["models/iris", "data"], ["gitreg.yaml"]):
            with PendingLinks(snap, paths) as soon:
                assert soon.result() == snap.links_below(paths)
        with PendingLinks(snap, ["models"]) as soon:
            assert soon.result() == [("120000", "models/iris/artifacts/1.0.3/extra.bin")]
    gone = Snapshot(g, "0" * 40, "nowhere")  # git fails: its error, as ever
    with gone, PendingLinks(gone, ["models"]) as soon, pytest.raises(GitError):
        soon.result()


def test_links_never_asked_for_stop_their_git(tmp_path: Path) -> None:
    root = _linked(tmp_path / "reg")
    with Snapshot.at(Git(root)) as snap:
        soon = PendingLinks(snap, ["models"])
        soon.close()  # an error on the way: git is stopped and reaped, its file closed
        assert soon._proc.returncode is not None and soon._out.closed


def _collector_state(items: list[int]) -> list[bool]:
    return [gc.isenabled() for _ in items]


def test_calm_parallel_work_runs_with_the_collector_paused_and_restores_it() -> None:
    assert gc.isenabled()
    assert parallel.map_chunks(_collector_state, list(range(3)), calm=True) == [False] * 3
    many = parallel.map_chunks(_collector_state, list(range(40)), min_items=2, calm=True)
    assert many == [False] * 40
    assert gc.isenabled() and gc.get_freeze_count() == 0
    other = parallel.map_chunks(_collector_state, list(range(40)), min_items=2)
    assert other == [True] * 40  # other work keeps the collector
    assert gc.get_freeze_count() == 0


def test_the_errors_parse_many_keeps_leave_no_cycle_behind() -> None:
    """The collector is paused in parallel work: an error kept with its traceback would tie
    the frames (and a model's every blob) into a cycle only it frees."""
    cases = _cases()[2:] * 5
    _many(cases)  # first use: pydantic builds what it keeps
    gc.collect()
    gc.disable()
    try:
        got = schema.parse_many(VersionManifest, [d for d, _ in cases], [p for _, p in cases])
        errors = [g for g in got if isinstance(g, ManifestError)]
        assert len(errors) == len(cases)  # every one of them is refused
        assert all(e.__traceback__ is None and e.__context__ is None for e in errors)
        del got, errors
        assert gc.collect() == 0
    finally:
        gc.enable()
