"""Remote reads by URL: v2 `ls-refs` with the model's prefixes, partial fetches, fallbacks.

Against a real bare `file://` repository holding a generated registry with thousands of
release tags (benchmarks/generate.py), never a mock of git.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import git, run
from gitreg.store import refs, remote

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402

SIZE = "40x25"  # 40 models x 25 versions: 2,720 tags


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bare clone (tags included) of a generated registry: the server."""
    work = tmp_path_factory.mktemp("gen")
    generate.generate(generate.Size.parse(SIZE), work / "reg", payloads=False, checkout=False)
    bare = work / "origin.git"
    subprocess.run(
        ["git", "clone", "-q", "--bare", "--", str(work / "reg"), str(bare)],
        check=True,
        capture_output=True,
    )
    assert len(git(bare, "tag", "--list").split()) > 2500
    return bare


def _full_listing(url: str, name: str) -> set[tuple[str, str, str | None]]:
    """(ref, object, peeled) of the model's tags, from `git ls-remote` of every tag."""
    out = git(Path.cwd(), "ls-remote", "--tags", url)
    direct: dict[str, str] = {}
    peeled: dict[str, str] = {}
    for line in out.splitlines():
        sha, ref = line.split("\t")
        (peeled if ref.endswith("^{}") else direct)[ref.removesuffix("^{}")] = sha
    mine = [r for r in direct if r.startswith((f"refs/tags/{name}@", f"refs/tags/{name}#"))]
    return {(r, direct[r], peeled.get(r)) for r in mine}


def test_ls_refs_lists_exactly_the_models_tags(
    origin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trace = tmp_path / "packets"
    monkeypatch.setenv("GIT_TRACE_PACKET", str(trace))
    listing = remote.ls_refs(origin.as_uri(), remote.model_prefixes("m3"))
    assert listing is not None
    said = trace.read_text()
    monkeypatch.delenv("GIT_TRACE_PACKET")
    got = set(listing.refs)
    assert got == _full_listing(origin.as_uri(), "m3")
    # m3's tags only: not m30..m39's, though their names start with "m3" too
    assert len(got) > 50 and all(r.startswith(("refs/tags/m3@", "refs/tags/m3#")) for r, *_ in got)
    assert all(peeled for *_, peeled in got)  # release tags are annotated: peeled commits
    assert "ref-prefix refs/tags/m3@" in said and "ref-prefix refs/tags/m3#" in said
    assert "ref-prefix refs/tags/\n" not in said  # what `git ls-remote --tags` would ask


def test_ls_refs_only_for_file_urls(origin: Path) -> None:
    assert remote.ls_refs("ssh://example.invalid/x.git", ["refs/tags/m1@"]) is None
    assert remote.ls_refs("file://otherhost/x.git", ["refs/tags/m1@"]) is None


def test_prefix_fetch_lists_the_same_tags_and_prunes(origin: Path, tmp_path: Path) -> None:
    """The listing for URLs that are not file://: a fetch whose refspecs git turns into
    the model's prefixes; a tag deleted on the server is dropped from the cache."""
    server = tmp_path / "server.git"
    shutil.copytree(origin, server)
    url = server.as_uri()
    names = {r.removeprefix("refs/tags/") for r, *_ in _full_listing(url, "m5")}
    fetched = refs.model_tags(remote.fetch_model_tags(url, "m5", prune=True), "m5")
    assert {t.name for t in fetched} == names
    assert all(t.trailers.get("Promoted-in") for t in fetched)  # whole tag objects
    gone = sorted(names)[0]
    git(server, "tag", "-d", gone)
    again = refs.model_tags(remote.fetch_model_tags(url, "m5", prune=True), "m5")
    assert {t.name for t in again} == names - {gone}


def _resolve(url: str, cache: Path) -> dict[str, object]:
    res = run("resolve", "-C", url, "m7@production", "--json")
    assert res.code == 0, res.err
    data = res.json()
    assert isinstance(data, dict)
    assert (cache / "gitreg" / "repos").is_dir()
    return data


def _has(cache_repo: Path, oid: str) -> bool:
    env = {**os.environ, "GIT_NO_LAZY_FETCH": "1"}
    proc = subprocess.run(
        ["git", "cat-file", "-e", oid], cwd=cache_repo, env=env, capture_output=True
    )
    return proc.returncode == 0


@pytest.mark.parametrize("allow", [True, False], ids=["filters", "filters-refused"])
def test_resolve_by_url_fetches_only_what_it_reads(
    origin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, allow: bool
) -> None:
    server = tmp_path / "server.git"
    shutil.copytree(origin, server)
    git(server, "config", "uploadpack.allowFilter", "true" if allow else "false")
    cache = tmp_path / "cache"
    monkeypatch.setenv("GITREG_CACHE_DIR", str(cache))
    local = run("resolve", "-C", str(origin.parent / "reg"), "m7@production", "--json").json()
    cold, warm = _resolve(server.as_uri(), cache), _resolve(server.as_uri(), cache)
    assert cold == warm == {**local, "manifest": cold["manifest"]}
    assert cold["manifest"] == local["manifest"] and cold["version"] == "1.22.0"
    (cache_repo,) = (cache / "gitreg" / "repos").iterdir()
    commit = str(cold["commit"])
    other = git(server, "rev-parse", f"{commit}:models/m8/versions/1.0.0.yaml").strip()
    mine = git(server, "rev-parse", f"{commit}:models/m7/versions/1.22.0.yaml").strip()
    assert _has(cache_repo, mine)
    # with filters, another model's manifest never crossed; refused, the whole tree did
    assert _has(cache_repo, other) is not allow


def test_unknown_filter_support_falls_back_to_a_whole_fetch(
    origin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server git has not asked yet (any URL but file://) that refuses filters: git
    warns and sends everything, and the read still works."""
    server = tmp_path / "server.git"
    shutil.copytree(origin, server)
    git(server, "config", "uploadpack.allowFilter", "false")
    monkeypatch.setenv("GITREG_CACHE_DIR", str(tmp_path / "cache"))
    url = server.as_uri()
    remote._FILTERS.pop(url, None)  # as for an https:// URL: unknown until tried
    tag = git(server, "tag", "--list", "m7#production#*").split()[-1]
    paths = ("models/m7/stages.yaml", "gitreg.yaml")
    cache = remote.fetch_tag(url, tag, paths)
    data = cache.run(["cat-file", "blob", f"refs/tags/{tag}^{{commit}}:gitreg.yaml"])
    assert data.strip() == git(
        server, "cat-file", "blob", f"refs/tags/{tag}^{{commit}}:gitreg.yaml"
    )
    other = git(server, "rev-parse", f"refs/tags/{tag}^{{commit}}:models/m8/model.yaml")
    assert _has(Path(cache.cwd), other)  # the server ignored the filter: the whole tree came


def test_a_listed_tag_gets_its_files_once(
    origin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The path of a URL that is not file://: the model's tags are listed by a fetch (tags
    and commits, no trees), then the files read come for the one tag, and only those."""
    server = tmp_path / "server.git"
    shutil.copytree(origin, server)
    git(server, "config", "uploadpack.allowFilter", "true")
    monkeypatch.setenv("GITREG_CACHE_DIR", str(tmp_path / "cache"))
    url = server.as_uri()
    remote.fetch_model_tags(url, "m7", prune=True)
    tag = git(server, "tag", "--list", "m7#production#*").split()[-1]
    commit = git(server, "rev-parse", f"refs/tags/{tag}^{{commit}}")
    paths = ("models/m7/model.yaml", "gitreg.yaml")
    cache = Path(remote.fetch_tag(url, tag, paths).cwd)
    mine = git(server, "rev-parse", f"{commit}:models/m7/model.yaml")
    other = git(server, "rev-parse", f"{commit}:models/m8/model.yaml")
    assert _has(cache, mine) and not _has(cache, other)
    assert git(cache, "rev-parse", f"refs/gitreg/read/{tag}") == commit
    assert remote.fetch_tag(url, tag, paths).cwd == str(cache)  # marked: nothing to fetch
