"""The site in headless Chromium, from file://: every model listed, search narrows the list,
sorting works, every internal link resolves, no console error, no request leaves the
machine. Screenshots go to tests/out/ (git-ignored), printed by the tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

import site_registry
from conftest import isolate, run
from site_browser import SHOTS, Browser, chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from chromium()


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, tmp_path_factory.mktemp("home"))
        reg = site_registry.build(tmp_path_factory.mktemp("site") / "reg")
        where = tmp_path_factory.mktemp("out") / "site"
        res = run("site", "-C", str(reg), "-o", str(where))
        assert res.code == 0, res.err
        return where


@pytest.fixture
def clean(browser: Browser) -> Iterator[Browser]:
    """The browser, checked after the test: no console errors, nothing left the machine."""
    browser.errors.clear()
    browser.outside.clear()
    yield browser
    assert browser.errors == [], browser.errors
    assert browser.outside == [], browser.outside


def visible_models(page: object) -> list[str]:
    return page.eval_on_selector_all(  # type: ignore[attr-defined, no-any-return]
        "#models tbody tr:not([hidden])", "rows => rows.map(r => r.dataset.model)"
    )


def test_index_lists_every_model_and_search_narrows_it(clean: Browser, out: Path) -> None:
    page = clean.page()
    page.goto((out / "index.html").as_uri())
    assert visible_models(page) == ["evil", "iris"]
    assert page.inner_text("#filter-status") == "2 models"
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "site-index.png"), full_page=True)
    print(f"screenshot: {SHOTS / 'site-index.png'}")
    page.fill("#filter", "stage = 'production' AND metrics.f1 < 0.9")
    assert visible_models(page) == ["iris"]
    assert page.inner_text("#filter-status") == "1 of 2 models match"
    page.fill("#filter", "name = ")
    assert "error" in (page.get_attribute("#filter-status", "class") or "")
    assert "expected a value" in page.inner_text("#filter-status")
    page.fill("#filter", "")
    assert visible_models(page) == ["evil", "iris"]


def test_columns_sort(clean: Browser, out: Path) -> None:
    page = clean.page()
    page.goto((out / "index.html").as_uri())
    page.click("th:nth-child(3) button")  # Latest, by SemVer
    assert visible_models(page) == ["evil", "iris"]  # 0.1.0 < 1.2.0
    assert page.get_attribute("th:nth-child(3)", "aria-sort") == "ascending"
    page.click("th:nth-child(3) button")
    assert visible_models(page) == ["iris", "evil"]
    page.fill("#filter", "name = 'evil'")  # the filter still reads the right records
    assert visible_models(page) == ["evil"]


def _internal_links(page: object) -> list[str]:
    return page.eval_on_selector_all(  # type: ignore[attr-defined, no-any-return]
        "a[href], link[href], script[src]",
        "els => els.map(e => e.href || e.src).filter(u => u.startsWith('file:'))",
    )


def test_every_internal_link_resolves(clean: Browser, out: Path) -> None:
    page = clean.page()
    seen: set[str] = set()
    todo = [(out / "index.html").as_uri()]
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        path = Path(unquote(urlsplit(url).path))
        assert path.is_file(), f"broken link to {path}"
        if path.suffix != ".html":
            continue
        page.goto(url)
        todo += [u.split("#")[0] for u in _internal_links(page)]
    pages = {str(Path(unquote(urlsplit(u).path)).relative_to(out)) for u in seen}
    assert {"models/iris/index.html", "models/iris/1.0.0.html", "models/evil/0.1.0.html"} <= pages
    assert "assets/filter.js" in pages and "assets/site.css" in pages


def test_model_page_shows_timeline_chart_and_screenshots(clean: Browser, out: Path) -> None:
    page = clean.page()
    page.goto((out / "models/iris/index.html").as_uri())
    assert page.locator("svg[role=img]").count() == 2  # the policy's f1 and accuracy
    label = page.get_attribute("svg[role=img] >> nth=0", "aria-label")
    assert label == "f1 across 3 versions (goal: maximize)"
    timeline = page.inner_text("#timeline + .scroll table")
    assert "iris#production#6" in timeline and "#6" in timeline
    assert page.locator("table.versions .deprecated").count() == 1
    page.screenshot(path=str(SHOTS / "site-model-iris.png"), full_page=True)
    phone = clean.page(width=390, dark=True)
    phone.goto((out / "models/iris/index.html").as_uri())
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px phone"
    phone.screenshot(path=str(SHOTS / "site-model-iris-phone-dark.png"), full_page=True)
    print(
        f"screenshots: {SHOTS / 'site-model-iris.png'}, {SHOTS / 'site-model-iris-phone-dark.png'}"
    )


def test_untrusted_text_does_not_run(clean: Browser, out: Path) -> None:
    page = clean.page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    for rel in ["index.html", "models/evil/index.html", "models/evil/0.1.0.html"]:
        page.goto((out / rel).as_uri())
    assert dialogs == []
    assert '<script>alert("x")</script>' in page.inner_text("h1 + p.lead")


def test_version_page_shows_its_stored_evaluation(clean: Browser, out: Path) -> None:
    """iris 1.2.0's stored result against production's (1.1.0): the verdicts read as a
    table, candidate before baseline; it fits a phone; a screenshot is saved."""
    page = clean.page()
    page.goto((out / "models/iris/1.2.0.html").as_uri())
    facts = page.inner_text("#evaluation + dl")
    assert "failed" in facts and "1.1.0 (in production)" in facts
    assert "data/holdout.csv" in facts and "2026-01-09 12:00:00Z" in facts
    heads = page.eval_on_selector_all(
        "#evaluation ~ .scroll th[scope=col]", "ths => ths.map(t => t.textContent)"
    )
    assert heads[:3] == ["Metric", "Candidate", "Baseline"]
    f1 = page.inner_text("#evaluation ~ .scroll tbody tr >> nth=0")
    assert f1.split("\t")[:4] == ["f1", "0.885", "0.95", "-0.065"]
    assert page.locator("#evaluation ~ .scroll .verdict.fail").count() == 2
    page.screenshot(path=str(SHOTS / "site-version-iris-1.2.0.png"), full_page=True)
    phone = clean.page(width=390)
    phone.goto((out / "models/iris/1.2.0.html").as_uri())
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px phone"
    print(f"screenshot: {SHOTS / 'site-version-iris-1.2.0.png'}")
