"""example-registry/ is a real registry: a copy made a git repository by its make-repo.sh
(or by a plain `git init && git add && git commit`) validates, pulls from its own DVC
remote with no network, and builds its site; its payload stays small and complete."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import git, run

EXAMPLE = Path(__file__).resolve().parents[1] / "example-registry"


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy given its history by make-repo.sh (built once per module)."""
    from conftest import isolate

    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, tmp_path_factory.mktemp("home"))
        dest = tmp_path_factory.mktemp("example") / "registry"
        env = dict(os.environ, GITREG=str(Path(sys.executable).parent / "gitreg"))
        res = subprocess.run(
            ["bash", str(EXAMPLE / "make-repo.sh"), str(dest)],
            capture_output=True,
            text=True,
            env=env,
        )
        assert res.returncode == 0, res.stderr
        assert "13 merged pull requests" in res.stdout
        return dest


@pytest.fixture
def reg(history: Path, tmp_path: Path) -> Path:
    shutil.copytree(history, tmp_path / "registry", symlinks=True)
    return tmp_path / "registry"


def test_copy_with_history_validates_and_is_released(reg: Path) -> None:
    assert git(reg, "status", "--porcelain") == ""  # the history ends at the folder's files
    res = run("validate", "-C", str(reg))
    assert res.code == 0, res.out + res.err
    assert run("doctor", "-C", str(reg)).code == 0
    resolved = run("resolve", "iris@production", "-C", str(reg), "--json").json()
    assert resolved["version"] == "1.0.0"  # type: ignore[index]
    deprecated = run("resolve", "iris@1.2.0", "-C", str(reg), "--json").json()
    assert deprecated["status"] == "deprecated"  # type: ignore[index]
    models = run("list", "-C", str(reg), "--json").json()
    assert [(m["name"], m["stages"]) for m in models] == [  # type: ignore[index, union-attr]
        ("diabetes", {"staging": "1.1.0", "production": "1.0.0"}),
        ("iris", {"staging": "1.1.0", "production": "1.0.0"}),
    ]


def test_pull_works_from_the_folders_own_dvc_remote(reg: Path, tmp_path: Path) -> None:
    for ref in ("iris@production", "diabetes@staging"):
        out = tmp_path / ref.replace("@", "-")
        res = run("pull", ref, "-C", str(reg), "-o", str(out))
        assert res.code == 0, res.err
        assert (out / "model.pkl").stat().st_size > 0


def test_site_shows_both_models_with_their_timelines(reg: Path, tmp_path: Path) -> None:
    res = run("site", "-C", str(reg), "-o", str(tmp_path / "site"), "--json")
    assert res.code == 0, res.err
    assert res.json()["models"] == 2 and res.json()["versions"] == 6  # type: ignore[index]
    page = (tmp_path / "site/models/iris/index.html").read_text()
    assert "iris#production#2" in page and "github.com/acme/iris-registry/pull/" in page


def test_a_plain_commit_of_a_copy_validates(tmp_path: Path) -> None:
    dest = tmp_path / "registry"
    shutil.copytree(EXAMPLE, dest)
    git(dest, "init", "-q", "--initial-branch=main")
    git(dest, "add", "-A")
    git(dest, "commit", "-qm", "example registry")
    res = run("validate", "-C", str(dest))
    assert res.code == 0, res.out + res.err
    assert run("site", "-C", str(dest), "-o", str(tmp_path / "site")).code == 0


def test_payload_is_small_and_holds_every_pointer() -> None:
    remote = EXAMPLE / "dvc-remote"
    size = sum(p.stat().st_size for p in remote.rglob("*") if p.is_file())
    assert size < 400 * 1024, f"example-registry/dvc-remote holds {size} bytes"
    pointers = sorted(EXAMPLE.glob("models/*/artifacts/*/*.dvc")) + sorted(
        EXAMPLE.glob("data/*.dvc")
    )
    assert len(pointers) == 8  # 2 models x 3 versions, 2 held-out sets
    for pointer in pointers:
        md5 = yaml.safe_load(pointer.read_text())["outs"][0]["md5"]
        assert (remote / "files/md5" / md5[:2] / md5[2:]).is_file(), pointer
