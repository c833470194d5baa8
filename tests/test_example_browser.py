"""A real headless Chromium clicks through the example app's admin once, taking screenshots."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest

from .example import ADMIN_PASSWORD
from .example import example_app
from .live import serve

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-output" / "screenshots"


@pytest.mark.slow
def test_clicking_through_the_admin(browser: t.Any, tmp_path: Path) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with example_app(f"sqlite:///{tmp_path / 'example.sqlite3'}") as app, serve(app) as base:
        page = browser.new_page(viewport={"width": 1180, "height": 760})
        problems: list[str] = []
        page.on("console", lambda message: problems.append(message.text))
        page.on("pageerror", lambda error: problems.append(str(error)))

        def shot(name: str) -> None:
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))

        page.goto(f"{base}/admin/")
        assert page.url.startswith(f"{base}/admin/login")
        shot("01-login")
        page.fill("#username", "admin")
        page.fill("#password", ADMIN_PASSWORD)
        page.click("button:has-text('Log in')")
        page.wait_for_url(f"{base}/admin/sessions")
        assert page.locator("table tbody tr").count() >= 10
        # The stylesheet loaded under the Content-Security-Policy.
        colour = page.eval_on_selector("header.bar", "e => getComputedStyle(e).backgroundColor")
        assert colour == "rgb(16, 36, 62)"
        shot("02-sessions")

        page.locator("table tbody tr td a").first.click()
        page.wait_for_url(f"{base}/admin/sessions/*")
        session_url = page.url
        page.fill("#maximum_capacity", "40")
        page.fill("#remaining_capacity", "25")
        page.click("button:has-text('Save')")
        page.wait_for_selector(".flash.success")
        assert "saved" in page.inner_text(".flash.success")
        shot("03-session-saved")

        page.click(".flash.success a.feed-link")
        item = json.loads(page.inner_text("body"))["items"][0]
        assert item["data"]["maximumAttendeeCapacity"] == 40
        assert item["data"]["remainingAttendeeCapacity"] == 25
        shot("04-feed-item")

        page.goto(session_url)
        page.click("button:has-text('Cancel session')")
        page.wait_for_selector(".flash.success")
        assert "EventCancelled" in page.inner_text(".flash.success")
        assert page.locator(".badge.cancelled").count() == 1
        shot("05-session-cancelled")

        page.click("a:has-text('Delete')")
        page.click("button:has-text('Delete session')")
        page.wait_for_url(f"{base}/admin/sessions")
        assert "deleted item" in page.inner_text(".flash.success")
        page.click(".flash.success a.feed-link")
        item = json.loads(page.inner_text("body"))["items"][0]
        assert item["state"] == "deleted"

        page.goto(f"{base}/admin/slots")
        page.locator("button:has-text('Book')").first.click()
        page.wait_for_selector(".flash.success")
        assert page.inner_text(".flash.success").startswith("Booked")
        shot("06-slot-booked")

        page.click("a:has-text('Organisations')")
        page.locator("button:has-text('Opt out')").first.click()
        page.wait_for_selector(".flash.success")
        assert page.locator(".flash.success a.feed-link").count() == 4
        shot("07-organisation-opted-out")

        page.click("button:has-text('Log out')")
        page.wait_for_url(f"{base}/admin/login")
        page.goto(f"{base}/admin/sessions")
        assert page.url.startswith(f"{base}/admin/login")
        page.close()
    assert not problems, problems  # no script errors, no Content-Security-Policy violations
