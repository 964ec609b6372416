"""resolve and pull: the deploy side, from tags only; and GTO / DVC reading the same repo."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from conftest import Registry, git, make_artifact, run, tool_path
from conftest import set_stages as _stages
from gitreg import Registry as Api


@pytest.fixture
def released(registered: Registry, tmp_path: Path) -> Registry:
    """churn 1.0.0 (production), 1.1.0 (staging), 2.0.0-rc.1; released and pushed."""
    for version, content in (("1.1.0", b"model one-one"), ("2.0.0-rc.1", b"model two-rc")):
        art = make_artifact(tmp_path / version / "model.pkl", content)
        res = registered.run(
            "register", "churn", "--version", version, "--artifact", str(art), "--here"
        )
        assert res.code == 0, res.err
    _stages(registered, {"staging": "1.0.0"}, "stage 1.0.0")
    _stages(registered, {"staging": "1.1.0", "production": "1.0.0"}, "promote")
    registered.git("push", "-q", "origin", "main")
    assert registered.run("release", "--push").code == 0
    git(registered.origin, "symbolic-ref", "HEAD", "refs/heads/main")
    return registered


def test_resolve_json_contract(released: Registry) -> None:
    res = released.run("resolve", "churn@production", "--json")
    assert res.code == 0, res.err
    data = res.json()
    assert isinstance(data, dict)
    base = {"name", "version", "stage", "tag", "commit", "manifest", "artifacts"}
    assert set(data) == base | {"status", "deprecated_by", "verified"}  # DESIGN §9
    assert (data["name"], data["version"], data["stage"]) == ("churn", "1.0.0", "production")
    assert (data["status"], data["deprecated_by"], data["verified"]) == ("active", None, False)
    verified = released.run("resolve", "churn@production", "--json", "--verify").json()
    assert isinstance(verified, dict) and verified["verified"] is True
    assert data["tag"] == "churn#production#2"  # one release: staging #1, production #2
    assert data["commit"] == released.git("rev-parse", "churn@v1.0.0^{commit}")
    assert data["manifest"]["version"] == "1.0.0"
    art = data["artifacts"][0]
    assert art["path"] == "models/churn/artifacts/1.0.0/model.pkl"
    assert art["url"] == f"{released.remote}/files/md5/{art['md5'][:2]}/{art['md5'][2:]}"
    assert Path(art["url"]).is_file()


def test_resolve_forms(released: Registry) -> None:
    def version(ref: str) -> str:
        res = released.run("resolve", ref, "--json")
        assert res.code == 0, (ref, res.err)
        out = res.json()
        assert isinstance(out, dict)
        return str(out["version"])

    assert version("churn@staging") == "1.1.0"
    assert version("churn@latest") == "1.1.0"  # 2.0.0-rc.1 is a prerelease
    assert version("churn@2.0.0-rc.1") == "2.0.0-rc.1"
    assert version("churn@v1.0.0") == "1.0.0"


def test_resolve_reads_tags_not_main(released: Registry) -> None:
    _stages(released, {"staging": "2.0.0-rc.1"}, "unreleased promotion")
    res = released.run("resolve", "churn@staging", "--json").json()
    assert isinstance(res, dict) and res["version"] == "1.1.0"


def test_resolve_errors(released: Registry) -> None:
    res = released.run("resolve", "churn@canary")
    assert res.code == 3
    assert "no version holds stage 'canary' (stages held: production, staging)" in res.err
    res = released.run("resolve", "churn@9.0.0")
    assert res.code == 3 and "not released" in res.err
    res = released.run("resolve", "ghost@production")
    assert res.code == 3 and "ghost: no released tags" in res.err
    res = released.run("resolve", "churn")
    assert res.code == 2 and "expected NAME@VERSION" in res.err


def test_resolve_remote_without_clone(
    released: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITREG_CACHE_DIR", str(tmp_path / "cache"))
    url = released.origin.as_uri()
    res = run("resolve", "churn@staging", "--repo", url, "--json", cwd=tmp_path)
    assert res.code == 0, res.err
    data = res.json()
    assert isinstance(data, dict) and data["version"] == "1.1.0"
    local = released.run("resolve", "churn@staging", "--json").json()
    assert data == local
    cached = list((tmp_path / "cache" / "gitreg" / "repos").iterdir())
    assert len(cached) == 1
    shallow = git(cached[0], "rev-parse", "--is-shallow-repository")
    assert shallow == "true"
    assert git(cached[0], "tag", "--list") == "churn#staging#1"
    # warm: the cache is reused (nothing new fetched for the same answer)
    before = git(cached[0], "count-objects", "-v")
    assert run("resolve", "churn@staging", "--repo", url, cwd=tmp_path).code == 0
    assert git(cached[0], "count-objects", "-v") == before


def test_pull_verified_and_atomic(released: Registry, tmp_path: Path) -> None:
    dest = tmp_path / "deploy" / "model"
    res = released.run("pull", "churn@staging", "-o", str(dest), "--json")
    assert res.code == 0, res.err
    assert (dest / "model.pkl").read_bytes() == b"model one-one"
    # a non-empty destination is refused unless --force
    res = released.run("pull", "churn@production", "-o", str(dest))
    assert res.code == 3 and "exists and is not empty" in res.err
    assert (dest / "model.pkl").read_bytes() == b"model one-one"
    # a corrupted object in the remote: refused, destination untouched, no temp dirs left
    digest = hashlib.md5(b"\x80\x04K\x01.").hexdigest()  # churn@1.0.0's bytes
    obj = released.remote / "files" / "md5" / digest[:2] / digest[2:]
    obj.chmod(0o644)
    obj.write_bytes(b"tampered")
    cache = released.path / ".dvc" / "cache" / "files" / "md5" / digest[:2] / digest[2:]
    cache.unlink()  # force a download from the remote
    res = released.run("pull", "churn@production", "-o", str(dest), "--force")
    assert res.code == 3, res.err
    assert "Traceback" not in res.err
    assert (dest / "model.pkl").read_bytes() == b"model one-one"
    assert sorted(p.name for p in dest.parent.iterdir()) == ["model"]


def test_python_api_local_and_remote(
    released: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITREG_CACHE_DIR", str(tmp_path / "cache"))
    for location in (str(released.path), released.origin.as_uri()):
        with Api.open(location) as reg:
            mv = reg.resolve("churn@staging")
            assert mv.version == "1.1.0" and mv.metrics == {}
            assert mv.artifacts[0].md5 == hashlib.md5(b"model one-one").hexdigest()
            out = reg.pull(mv, tmp_path / f"api-{len(location)}")
            assert (out.dest / "model.pkl").read_bytes() == b"model one-one"
    # a URL gives the released state only; a path also its manifests at a ref
    remote, local = Api.open(released.origin.as_uri()), Api.open(str(released.path))
    assert type(remote).__name__ == "RemoteRegistry" and not hasattr(remote, "model_names")
    assert type(local).__name__ == "LocalRegistry" and local.model_names() == ["churn"]
    local.close()


def test_verify_refuses_flagged_tag(released: Registry) -> None:
    assert released.run("resolve", "churn@staging", "--verify").code == 0
    # a lightweight stage tag made by hand: it resolves, but doctor would flag it
    released.git("tag", "churn#staging#3", "churn@v2.0.0-rc.1^{commit}")
    res = released.run("resolve", "churn@staging", "--json")
    assert res.code == 0 and res.json()["version"] == "2.0.0-rc.1"  # type: ignore[index]
    res = released.run("resolve", "churn@staging", "--verify")
    assert res.code == 1
    assert "churn#staging#3: refused by --verify: lightweight tag" in res.err


def test_gto_and_dvc_agree(released: Registry, tmp_path: Path) -> None:
    ours = released.run("list", "--json").json()
    assert isinstance(ours, list)
    gto = subprocess.run(
        [tool_path("gto"), "show", "--json"], cwd=released.path, capture_output=True, text=True
    )
    assert gto.returncode == 0, gto.stderr
    theirs = json.loads(gto.stdout)
    assert {s: v.removeprefix("v") for s, v in theirs["churn"]["stage"].items()} == ours[0][
        "stages"
    ]
    gto_one = subprocess.run(
        [tool_path("gto"), "show", "churn#production", "--ref"],
        cwd=released.path,
        capture_output=True,
        text=True,
    )
    assert "v1.0.0" in gto_one.stdout, gto_one.stderr
    out = tmp_path / "dvc-got"
    dvc = subprocess.run(
        [
            tool_path("dvc"),
            "artifacts",
            "get",
            released.origin.as_uri(),
            "churn",
            "--stage",
            "staging",
            "-o",
            str(out),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert dvc.returncode == 0, dvc.stderr + dvc.stdout
    ours_dir = tmp_path / "ours"
    assert released.run("pull", "churn@staging", "-o", str(ours_dir)).code == 0
    assert out.read_bytes() == (ours_dir / "model.pkl").read_bytes() == b"model one-one"


def test_resolve_imports_neither_pydantic_nor_dvc(released: Registry) -> None:
    import sys

    code = (
        "import sys\nfrom gitreg.cli import main\n"
        f"rc = main(['resolve', 'churn@production', '--json', '-C', {str(released.path)!r}])\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'pydantic', 'dvc', 'git', 'ruamel'})\n"
        "print('HEAVY', heavy)\nsys.exit(rc)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY []" in proc.stdout
    # the Python API still gives the fully validated manifest on demand
    with Api.open(str(released.path)) as reg:
        mv = reg.resolve("churn@production")
        assert mv.manifest.version == "1.0.0" and mv.manifest.status == "active"
