"""`gitreg.load` and `Registry.load/pull/history` (api.py, store/modelcache.py): a real
scikit-learn model, trained here, through a real registry, DVC with a local remote, release
tags and a file:// URL; the content-addressed cache; the safe loader's refusals."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Registry, set_stages
from gitreg.errors import CheckFailed, UnsafeModelError
from gitreg.store import modelcache
from gitreg.store.modelcache import Entry

sklearn = pytest.importorskip("sklearn", reason="the [sklearn] extra is needed to train")


def _trained(path: Path, c: float) -> Path:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    x, y = load_iris(return_X_y=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(LogisticRegression(C=c, max_iter=500).fit(x, y)))
    return path


class _Boom:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo pwned > pwned.txt",))


@pytest.fixture
def live(registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Registry:
    """iris models churn 1.0.0 (C=1, production) and 1.1.0 (C=0.01, staging), released and
    pushed; gitreg's cache under tmp_path/cache."""
    monkeypatch.setenv("GITREG_CACHE_DIR", str(tmp_path / "cache"))
    registry.register("1.0.0", _trained(tmp_path / "a" / "model.pkl", 1.0))
    registry.register("1.1.0", _trained(tmp_path / "b" / "model.pkl", 0.01))
    set_stages(registry, {"staging": "1.0.0"}, "stage 1.0.0")
    set_stages(registry, {"staging": "1.1.0", "production": "1.0.0"}, "promote")
    registry.git("push", "-q", "origin", "main")
    assert registry.run("release", "--push").code == 0
    subprocess.run(["git", "symbolic-ref", "HEAD", "refs/heads/main"], cwd=registry.origin)
    return registry


def _entries(tmp_path: Path) -> list[Path]:
    return sorted(p for p in (tmp_path / "cache" / "gitreg" / "models").iterdir())


def test_one_call_load_from_a_url_returns_the_estimator(live: Registry, tmp_path: Path) -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    import gitreg

    model = gitreg.load("churn@production", repo=live.origin.as_uri())
    assert isinstance(model, LogisticRegression) and model.C == 1.0
    x, y = load_iris(return_X_y=True)
    assert (model.predict(x) == y).mean() > 0.9
    staging = gitreg.load("churn@staging", repo=live.origin.as_uri())
    assert staging.C == 0.01
    # two versions, two entries named by content (their artifacts' md5), nothing half-made
    resolved = [
        gitreg.Registry.open(str(live.path)).resolve(f"churn@{v}") for v in ("1.0.0", "1.1.0")
    ]
    keys = sorted(modelcache.key([Entry("model.pkl", rv.artifacts[0].md5, 0)]) for rv in resolved)
    assert [p.name for p in _entries(tmp_path)] == keys


def test_a_second_load_reads_the_cache_and_checks_it(live: Registry, tmp_path: Path) -> None:
    from gitreg import Registry as Api

    reg = Api.open(str(live.path))
    assert reg.load("churn@latest").C == 0.01
    (entry,) = _entries(tmp_path)
    objects = live.remote / "files"
    hidden = tmp_path / "remote-away"
    objects.rename(hidden)  # no remote any more: only the cache can answer
    (live.path / ".dvc" / "cache").rename(tmp_path / "dvc-cache-away")
    assert reg.load("churn@1.1.0").C == 0.01
    # a damaged entry is not used: it is dropped and pulled again
    (entry / "model.pkl").write_bytes(b"not the model")
    objects.parent.mkdir(exist_ok=True)
    hidden.rename(objects)
    assert reg.load("churn@1.1.0").C == 0.01
    assert (entry / "model.pkl").read_bytes() != b"not the model"


def test_every_cache_hit_is_hashed_and_a_fresh_pull_is_not_hashed_twice(
    live: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first load hashes nothing beyond what pull hashed; every hit hashes the entry
    (a record of an earlier hash kept in the same writable cache would vouch for nothing);
    an edit in place that keeps size and mtime is found, and the entry pulled again."""
    from gitreg import Registry as Api

    hashed: list[str] = []
    real = modelcache.md5_file

    def counted(path: Path) -> str:
        hashed.append(path.name)
        return real(path)

    monkeypatch.setattr(modelcache, "md5_file", counted)
    reg = Api.open(str(live.path))
    assert reg.load("churn@staging").C == 0.01
    assert hashed == []  # pull hashed what it wrote; publishing it does not hash again
    assert reg.load("churn@staging").C == 0.01
    assert reg.load("churn@staging").C == 0.01
    assert hashed == ["model.pkl", "model.pkl"]  # each hit
    (entry,) = _entries(tmp_path)
    model = entry / "model.pkl"
    st = model.stat()
    model.chmod(0o644)
    data = bytearray(model.read_bytes())
    data[-2] ^= 0xFF
    model.write_bytes(bytes(data))
    os.utime(model, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert reg.load("churn@staging").C == 0.01
    assert len(hashed) == 3  # the damaged hit: hashed, refused, pulled again unhashed
    assert model.read_bytes() != bytes(data)


def test_concurrent_loads_share_one_entry(live: Registry, tmp_path: Path) -> None:
    code = (
        "import gitreg, sys; m = gitreg.load('churn@production', repo=sys.argv[1]); "
        "print(type(m).__name__, m.C)"
    )
    env = {**os.environ, "GITREG_CACHE_DIR": str(tmp_path / "cache")}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, live.origin.as_uri()],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [e for _, e in outs]
    assert [o.strip() for o, _ in outs] == ["LogisticRegression 1.0"] * 2
    (entry,) = _entries(tmp_path)  # one entry; the loser's staging folder is gone
    assert [p.name for p in entry.iterdir()] == ["model.pkl"]


def test_pull_by_ref_and_history(live: Registry, tmp_path: Path) -> None:
    from gitreg import Registry as Api

    with Api.open(live.origin.as_uri()) as reg:
        result = reg.pull("churn@staging", tmp_path / "out")
        assert result.resolved.version == "1.1.0" and result.files == ["model.pkl"]
        assert (tmp_path / "out" / "model.pkl").is_file()
        assert [m.name for m in reg.find("name = 'churn' AND version = '1.1.0'")] == ["churn"]
        found = reg.find_versions("stage = 'production'")
        assert [v.manifest.version for v in found] == ["1.0.0"]
        kinds = [(e.kind, e.version) for e in reg.history("churn")]
        assert ("registered", "1.0.0") in kinds and ("promoted", "1.1.0") in kinds
    with Api.open(str(live.path)) as local:
        assert {e.version for e in local.history("churn")} == {"1.0.0", "1.1.0"}


def test_unsafe_and_deprecated_models_are_refused(
    live: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gitreg

    bad = tmp_path / "bad" / "model.pkl"
    bad.parent.mkdir()
    bad.write_bytes(pickle.dumps(_Boom()))
    live.register("2.0.0", bad)
    live.git("push", "-q", "origin", "main")
    assert live.run("release", "--push").code == 0
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UnsafeModelError):
        gitreg.load("churn@2.0.0", repo=str(live.path))
    assert not (tmp_path / "pwned.txt").exists()
    # a deprecated version: refused unless asked for
    set_stages(live, {"staging": "1.1.0"}, "production emptied")
    manifest = live.path / "models/churn/versions/1.0.0.yaml"
    manifest.write_text(manifest.read_text().replace("status: active", "status: deprecated"))
    live.commit_all("deprecate 1.0.0")
    assert live.run("release").code == 0
    with pytest.raises(CheckFailed, match="deprecated"):
        gitreg.load("churn@1.0.0", repo=str(live.path))
    assert gitreg.load("churn@1.0.0", repo=str(live.path), allow_deprecated=True).C == 1.0
