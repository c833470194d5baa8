"""A real headless Chromium (Debian's package) driven by Playwright, for browser tests."""

from __future__ import annotations

import os
import shutil
import typing as t
from collections.abc import Iterator

import pytest

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def chromium_path() -> str | None:
    return os.environ.get("RPDE_TEST_CHROMIUM") or shutil.which("chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[t.Any]:
    """A headless Chromium; skipped (a failure under CI) when Chromium is not installed."""
    path = chromium_path()
    if path is None:
        message = (
            "BROWSER TESTS NOT RUN: Debian's chromium is not installed (make test installs it)"
        )
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield instance
        instance.close()
