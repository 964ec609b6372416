"""`gitreg site` on both cores (store/parallel.py, store/sitedir.py) and through the
object-id cache (registry/cache.py): the same bytes as a build in one process, errors
raised as a serial build raises them, and a date the cache's JSON would hide still refused.

`parallel.MIN_ITEMS` is lowered so that these small registries take the multi-process path
(the real one: forked workers writing real files)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import site_registry
from conftest import git, run
from gitreg.errors import UsageError
from gitreg.store import parallel, sitedir


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conftest import isolate

    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, tmp_path_factory.mktemp("home"))
        return site_registry.build(tmp_path_factory.mktemp("site") / "reg")


@pytest.fixture
def reg(built: Path, tmp_path: Path) -> Path:
    shutil.copytree(built, tmp_path / "reg", symlinks=True)
    return tmp_path / "reg"


@pytest.fixture
def two_cores() -> None:
    if parallel.cores() < 2:
        pytest.skip(f"this machine gives gitreg {parallel.cores()} core: nothing to share out")


def _files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def _site(reg: Path, out: Path) -> tuple[int, str]:
    res = run("site", "-C", str(reg), "-o", str(out))
    return res.code, res.err


def test_a_site_built_on_two_cores_is_the_serial_one_byte_for_byte(
    reg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, two_cores: None
) -> None:
    monkeypatch.setattr(parallel, "MIN_ITEMS", 10**9)
    assert _site(reg, tmp_path / "serial")[0] == 0
    shutil.rmtree(reg / ".git" / "gitreg" / "cache")  # parse again, on both cores
    monkeypatch.setattr(parallel, "MIN_ITEMS", 0)
    assert _site(reg, tmp_path / "both")[0] == 0
    serial, both = _files(tmp_path / "serial"), _files(tmp_path / "both")
    assert len(serial) > 5 and both == serial
    assert not [p for p in (tmp_path / "both").rglob(".tmp-*")]  # no temporary file left


def test_a_page_that_fails_in_a_worker_raises_its_own_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, two_cores: None
) -> None:
    monkeypatch.setattr(parallel, "MIN_ITEMS", 0)

    def bad() -> bytes:
        raise UsageError("page d/3 cannot be rendered")

    pages = {f"d/{i}": (str(i), (lambda i=i: f"page {i}".encode())) for i in range(8)}
    pages["d/3"] = ("3", bad)
    with pytest.raises(UsageError, match="page d/3 cannot be rendered"):
        sitedir.write(tmp_path / "out", pages)
    written = sorted(p.name for p in (tmp_path / "out" / "d").iterdir())
    assert written == ["0", "1", "2", "4", "5", "6", "7"]  # every other page was written
    assert (tmp_path / "out" / "d" / "6").read_bytes() == b"page 6"


def test_written_pages_are_listed_in_order_from_every_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, two_cores: None
) -> None:
    monkeypatch.setattr(parallel, "MIN_ITEMS", 0)
    pages = {f"p/{i:02d}": ("k", (lambda i=i: str(i).encode())) for i in range(20)}
    pages["index.html"] = ("k", lambda: b"top")
    done = sitedir.write(tmp_path / "out", pages)
    assert done.written == sorted(pages) and done.unchanged == 0
    again = sitedir.write(tmp_path / "out", pages)
    assert again.written == [] and again.unchanged == len(pages)
    assert (tmp_path / "out" / "p" / "13").read_bytes() == b"13"


def _set_description(reg: Path, version: str, yaml_value: str) -> None:
    path = reg / "models" / "iris" / "versions" / f"{version}.yaml"
    lines = path.read_text().splitlines()
    lines = [f"description: {yaml_value}" if ln.startswith("description:") else ln for ln in lines]
    path.write_text("\n".join(lines) + "\n")
    git(reg, "commit", "-qam", f"describe iris {version}")


def test_a_yaml_date_in_a_text_field_is_refused_cold_and_warm(reg: Path, tmp_path: Path) -> None:
    # unquoted, YAML reads a date (the schema wants text); the cache's JSON form would
    # hold "2026-01-01", which the schema would accept: the site must parse the blob
    _set_description(reg, "1.1.0", "2026-01-01")
    for out in ("cold", "warm"):  # the second run has the record in the cache
        code, err = _site(reg, tmp_path / out)
        assert code == 3, err
        assert "models/iris/versions/1.1.0.yaml" in err and "description" in err


def test_a_quoted_date_in_a_text_field_is_shown(reg: Path, tmp_path: Path) -> None:
    _set_description(reg, "1.1.0", "'2026-01-01'")
    for out in ("cold", "warm"):
        code, err = _site(reg, tmp_path / out)
        assert code == 0, err
        assert "2026-01-01" in (tmp_path / out / "models" / "iris" / "1.1.0.html").read_text()
