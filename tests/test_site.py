"""`gitreg site`: the generated HTML (golden files), escaping of untrusted manifest text,
reading git objects only, and incremental writes keyed by blob ids.

The goldens are the pages of tests/site_registry.py's registry. After an intended change
to the site's look, regenerate them and review the diff:

    GITREG_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/test_site.py -k golden
"""

from __future__ import annotations

import json
import os
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

import site_registry
from conftest import git, run

GOLDEN = Path(__file__).parent / "data" / "site"
PAGES = ["index.html", "models/iris/index.html", "models/iris/1.2.0.html", "models/evil/index.html"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The registry, built once per module under the same isolation as every test."""
    from conftest import isolate

    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, tmp_path_factory.mktemp("home"))
        return site_registry.build(tmp_path_factory.mktemp("site") / "reg")


@pytest.fixture
def reg(built: Path, tmp_path: Path) -> Path:
    """A copy of the registry this test may change."""
    shutil.copytree(built, tmp_path / "reg", symlinks=True)
    return tmp_path / "reg"


def site(reg: Path, out: Path, *extra: str) -> dict[str, object]:
    res = run("site", "-C", str(reg), "-o", str(out), "--json", *extra)
    assert res.code == 0, res.err
    data = res.json()
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize("page", PAGES)
def test_pages_match_golden(reg: Path, tmp_path: Path, page: str) -> None:
    site(reg, tmp_path / "out")
    got = (tmp_path / "out" / page).read_text()
    golden = GOLDEN / page
    if os.environ.get("GITREG_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(got)
    assert got == golden.read_text(), f"{page} differs from {golden} (see this module's doc)"


def test_every_page_and_asset_is_written(reg: Path, tmp_path: Path) -> None:
    data = site(reg, tmp_path / "out")
    expected = {
        ".nojekyll",
        "assets/filter.js",
        "assets/site.css",
        "assets/site.js",
        "index.html",
        "models/evil/index.html",
        "models/evil/0.1.0.html",
        "models/iris/index.html",
        *(f"models/iris/{v}.html" for v in ("1.0.0", "1.1.0", "1.2.0")),
    }
    assert set(data["written"]) == expected  # type: ignore[arg-type]
    assert data["models"] == 2 and data["versions"] == 4
    assert data["index"] == str((tmp_path / "out" / "index.html").resolve())


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts.append(dict(attrs))
        self.handlers += [k for k, _ in attrs if k.startswith("on")]


def test_manifest_markup_renders_as_text(reg: Path, tmp_path: Path) -> None:
    site(reg, tmp_path / "out")
    for page in ["index.html", "models/evil/index.html", "models/evil/0.1.0.html"]:
        text = (tmp_path / "out" / page).read_text()
        assert "<script>alert" not in text and "<img src=x" not in text
        parser = _Scripts()
        parser.feed(text)
        # the only scripts are the site's own files and the non-executed JSON index
        for attrs in parser.scripts:
            assert attrs.get("type") == "application/json" or str(attrs.get("src")).startswith(
                ("assets/", "../../assets/")
            ), (page, attrs)
        assert parser.handlers == [], (page, parser.handlers)
    evil = (tmp_path / "out" / "models/evil/index.html").read_text()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in evil
    index = (tmp_path / "out" / "index.html").read_text()
    assert "\\u003c/script\\u003e" in index  # the label team=</script> inside the JSON index


def test_reads_git_objects_not_the_working_tree(reg: Path, tmp_path: Path) -> None:
    model = reg / "models/iris/model.yaml"
    model.write_text(model.read_text().replace("Classifies iris flowers.", "UNCOMMITTED"))
    site(reg, tmp_path / "out")
    page = (tmp_path / "out/models/iris/index.html").read_text()
    assert "Classifies iris flowers." in page and "UNCOMMITTED" not in page


def test_ref_reads_an_older_commit(reg: Path, tmp_path: Path) -> None:
    site(reg, tmp_path / "out", "--ref", "HEAD~6")  # iris 1.1.0 registered, 1.2.0 not yet
    assert (tmp_path / "out/models/iris/1.1.0.html").is_file()
    assert not (tmp_path / "out/models/iris/1.2.0.html").exists()
    assert not (tmp_path / "out/models/evil/0.1.0.html").exists()


def test_base_url_gives_canonical_links(reg: Path, tmp_path: Path) -> None:
    site(reg, tmp_path / "out", "--base-url", "https://acme.github.io/models")
    page = (tmp_path / "out/models/iris/1.0.0.html").read_text()
    assert (
        '<link rel="canonical" href="https://acme.github.io/models/models/iris/1.0.0.html">' in page
    )


def _mtimes(out: Path) -> dict[str, int]:
    return {str(p.relative_to(out)): p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}


def test_a_second_run_rewrites_nothing(reg: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = site(reg, out)
    before = _mtimes(out)
    again = site(reg, out)
    assert again["written"] == [] and again["unchanged"] == len(first["written"])  # type: ignore[arg-type]
    assert _mtimes(out) == before


def test_a_changed_version_rewrites_its_pages_and_the_index(reg: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    site(reg, out)
    path = reg / "models/iris/versions/1.0.0.yaml"
    path.write_text(path.read_text().replace("status: active", "status: deprecated"))
    git(reg, "commit", "-qam", "Deprecate iris 1.0.0")
    again = site(reg, out)
    assert again["written"] == ["index.html", "models/iris/1.0.0.html", "models/iris/index.html"]
    assert "deprecated" in (out / "models/iris/1.0.0.html").read_text()


def test_pages_of_a_removed_model_are_removed(reg: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    site(reg, out)
    (out / "notes.txt").write_text("mine")  # a file the site did not write stays
    git(reg, "rm", "-rq", "models/evil")
    git(reg, "commit", "-qm", "Remove evil")
    again = site(reg, out)
    assert again["removed"] == ["models/evil/0.1.0.html", "models/evil/index.html"]
    assert not (out / "models/evil/index.html").exists() and (out / "notes.txt").exists()
    assert "evil" not in json.dumps(again["written"])


def test_out_must_be_a_folder(reg: Path, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    res = run("site", "-C", str(reg), "-o", str(tmp_path / "file"))
    assert res.code == 2
    assert "file" in res.err and "Traceback" not in res.err


def test_text_output_names_the_index(reg: Path, tmp_path: Path) -> None:
    res = run("site", "-C", str(reg), "-o", str(tmp_path / "out"))
    assert res.code == 0, res.err
    assert "2 models, 4 versions" in res.out
    assert str((tmp_path / "out" / "index.html").resolve()) in res.out


def test_a_bad_manifest_is_named_not_a_traceback(reg: Path, tmp_path: Path) -> None:
    path = reg / "models/iris/versions/1.1.0.yaml"
    path.write_text(path.read_text().replace("size: 2536", "size: lots"))
    git(reg, "commit", "-qam", "break 1.1.0")
    res = run("site", "-C", str(reg), "-o", str(tmp_path / "out"))
    assert res.code == 3
    assert "models/iris/versions/1.1.0.yaml" in res.err and "size" in res.err
    assert "Traceback" not in res.err


def test_index_takes_unchanged_models_from_the_cache(reg: Path, tmp_path: Path) -> None:
    """The index keeps each model's row and search records by the model's inputs: after a
    commit that changes iris, evil's row comes from the cache (a mark put there shows), and
    the page is what a build without any cache writes."""
    out = tmp_path / "out"
    site(reg, out)
    memo = reg / ".git/gitreg/cache/site.json"
    doc = json.loads(memo.read_text())
    (key,) = [k for k, v in doc["entries"].items() if 'data-model="evil"' in v["row"]]
    mark = "<td>FROM-THE-CACHE</td>"
    doc["entries"][key]["row"] = doc["entries"][key]["row"].replace("</tr>", mark + "</tr>")
    memo.write_text(json.dumps(doc))
    model = reg / "models/iris/model.yaml"
    model.write_text(model.read_text().replace("@acme/ml-team", "@acme/botany"))
    git(reg, "commit", "-qam", "New owners")
    again = site(reg, out)
    assert again["written"] == ["index.html", "models/iris/index.html"]
    index = (out / "index.html").read_text()
    assert mark in index and "@acme/botany" in index and "@acme/ml-team" not in index
    shutil.rmtree(reg / ".git/gitreg/cache")
    site(reg, tmp_path / "fresh")
    assert (tmp_path / "fresh/index.html").read_text() == index.replace(mark, "")


def test_a_build_that_keeps_the_index_keeps_its_cache(reg: Path, tmp_path: Path) -> None:
    """The cache holds only what a run used: a run that does not rewrite the index must not
    empty it (the next one-model rebuild would parse every manifest again)."""
    site(reg, tmp_path / "out")
    memo = reg / ".git/gitreg/cache/site.json"
    before = memo.read_bytes()
    assert site(reg, tmp_path / "out")["written"] == []
    assert memo.read_bytes() == before


def test_a_new_baseline_rewrites_the_evaluation_of_a_version_in_no_stage(
    reg: Path, tmp_path: Path
) -> None:
    """iris 1.2.0 holds no stage, so its page's key does not move with stages.yaml, but its
    stored report is judged against the production version: when that changes, so does
    the page (here the new baseline, 1.0.0, has no stored result)."""
    out = tmp_path / "out"
    site(reg, out)
    page = out / "models/iris/1.2.0.html"
    assert "1.1.0 (in production)" in page.read_text()
    stages = reg / "models/iris/stages.yaml"
    stages.write_text("schema: gitreg/v1\nstaging: 1.1.0\nproduction: 1.0.0\n")
    git(reg, "commit", "-qam", "Roll production back")
    again = site(reg, out)
    assert "models/iris/1.2.0.html" in again["written"]  # type: ignore[operator]
    text = page.read_text()
    assert "1.0.0 (in production): no stored result" in text
    assert "the baseline (1.0.0, in production) has no stored result" in text


def test_results_stored_before_they_named_their_model_still_show(reg: Path, tmp_path: Path) -> None:
    """A result names its model so a build looks up only the models that have some; one
    stored before it did (no `model`) makes the build look every model up, as before."""
    for entry in (reg / ".git/gitreg/evaluations").glob("*.json"):
        data = json.loads(entry.read_text())
        assert data.pop("model") == "iris"
        entry.write_text(json.dumps(data))
    site(reg, tmp_path / "out")
    got = (tmp_path / "out/models/iris/1.2.0.html").read_text()
    assert got == (GOLDEN / "models/iris/1.2.0.html").read_text()
