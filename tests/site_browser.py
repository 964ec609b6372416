"""Headless Chromium for the site's tests: Debian's `chromium` driven by Playwright for
Python (never `playwright install`), with every request that is not `file://` aborted and
recorded, and console errors and page errors collected."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(__file__).parent / "out"  # git-ignored; the screenshots the tests take


@dataclass
class Browser:
    browser: Any
    outside: list[str] = field(default_factory=list)  # requests that tried to leave
    errors: list[str] = field(default_factory=list)  # console errors, page errors, failures

    def page(self, width: int = 1200, dark: bool = False) -> Any:
        context = self.browser.new_context(
            viewport={"width": width, "height": 900},
            color_scheme="dark" if dark else "light",
            service_workers="block",
        )

        def route(r: Any) -> None:
            if r.request.url.startswith("file://"):
                r.continue_()
            else:
                self.outside.append(r.request.url)
                r.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on(
            "requestfailed",
            lambda r: self.errors.append(f"{r.url}: {r.failure}"),
        )
        return page


def chromium() -> Iterator[Browser]:
    """A module fixture's body: the browser, or a skip that says what is missing."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is missing: pip install -e '.[dev]'")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield Browser(browser)
        finally:
            browser.close()
