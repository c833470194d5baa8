"""The dataset site in real headless Chromium, on a phone and a desktop, served over HTTP."""

from __future__ import annotations

import typing as t
from urllib.parse import urlsplit

import pytest
from sqlalchemy.engine import Engine

from rpde_publisher import RPDE

from .conftest import OUTPUT
from .dataset_apps import FULL_CONFIG
from .dataset_apps import HOSTILE
from .dataset_apps import HOSTILE_CONFIG
from .dataset_apps import site_app
from .live import serve
from .models import Models

SCREENSHOTS = OUTPUT / "screenshots"
VIEWPORTS = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 900}},
}
# The publisher's own URLs, minus RPDE_BASE_URL, so that the feeds are on the test server.
PUBLISHER = {key: value for key, value in FULL_CONFIG.items() if key != "RPDE_BASE_URL"}

pytestmark = pytest.mark.slow


class Visit:
    """One page load, with everything the page asked for and complained about."""

    def __init__(self, browser: t.Any, url: str, **context_options: t.Any) -> None:
        self.context = browser.new_context(**context_options)
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.console.append(f"pageerror: {error}"))
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("dialog", self._on_dialog)
        self.response = self.page.goto(url, wait_until="networkidle")

    def _on_console(self, message: t.Any) -> None:
        if message.type in ("error", "warning"):
            self.console.append(f"{message.type}: {message.text}")

    def _on_dialog(self, dialog: t.Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def close(self) -> None:
        self.context.close()


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_dataset_site_renders_cleanly_on_phone_and_desktop(
    browser: t.Any, sqlite_engine: Engine, rpde: RPDE, models: Models, device: str
) -> None:
    app = site_app(sqlite_engine, rpde, models, **PUBLISHER)
    options = VIEWPORTS[device]
    width = options["viewport"]["width"]
    with serve(app) as base:
        visit = Visit(browser, base + "/openactive/", **options)
        try:
            page = visit.page
            assert visit.response.status == 200
            assert visit.console == []
            # Nothing from another host: the page, its stylesheet, and no favicon request.
            assert {urlsplit(url).netloc for url in visit.requests} == {urlsplit(base).netloc}
            assert sorted(urlsplit(url).path for url in visit.requests) == [
                "/openactive/",
                "/openactive/dataset-site.css",
            ]
            # Our stylesheet applied, and nothing wider than the screen.
            masthead = "getComputedStyle(document.querySelector('.masthead')).backgroundColor"
            assert page.evaluate(masthead) == "rgb(13, 92, 79)"
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            # What a person needs first: the title, then the licence, in the first screens.
            assert page.locator("h1").inner_text().startswith("Harbour Sports Trust")
            licence = page.locator("#licence")
            assert licence.is_visible()
            assert "Creative Commons Attribution 4.0" in licence.inner_text()
            assert page.locator(".feed").count() == 3
            columns = page.evaluate(
                "getComputedStyle(document.querySelector('main')).gridTemplateColumns"
            )
            assert len(columns.split()) == (1 if device == "phone" else 2)
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"dataset-site-{device}.png"), full_page=True)
        finally:
            visit.close()


def test_hostile_publisher_text_runs_nothing_even_without_the_csp(
    browser: t.Any, sqlite_engine: Engine, rpde: RPDE, models: Models
) -> None:
    app = site_app(sqlite_engine, rpde, models, **HOSTILE_CONFIG)

    @app.after_request
    def _without_csp(response: t.Any) -> t.Any:
        # Prove the escaping alone: the page's CSP would also block inline script.
        response.headers.pop("Content-Security-Policy", None)
        return response

    with serve(app) as base:
        visit = Visit(browser, base + "/openactive/", **VIEWPORTS["desktop"])
        try:
            page = visit.page
            assert visit.response.headers.get("content-security-policy") is None
            assert visit.dialogs == []
            assert visit.console == []
            assert page.evaluate("document.scripts.length") == 1
            assert page.evaluate("document.images.length") == 0
            assert page.evaluate("document.querySelectorAll('[onerror]').length") == 0
            assert page.locator("h1").text_content() == (
                "Evil " + HOSTILE + " Sessions, Facilities and Events"
            )
            jsonld = page.evaluate(
                "JSON.parse(document.querySelector('script[type=\"application/ld+json\"]').text)"
            )
            assert jsonld["publisher"]["name"] == "Evil " + HOSTILE
        finally:
            visit.close()
