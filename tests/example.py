"""Helpers for testing the example app: an app on a given database, a logged-in admin."""

from __future__ import annotations

import re
import time
import typing as t
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask

from .walking import path_of
from .walking import walk

ADMIN_PASSWORD = "correct horse battery"
ORIGIN = "http://localhost"  # the test client's
T = t.TypeVar("T")
FEEDS = ["session-series", "scheduled-sessions", "facility-uses", "facility-use-slots"]
_TOKEN = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


@contextmanager
def example_app(database_url: str, **config: t.Any) -> Iterator[Flask]:
    """The example app on ``database_url``, seeded on start; its tables dropped after."""
    from example_app import create_app
    from example_app.models import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "a test secret that is long enough",
            "EXAMPLE_ADMIN_PASSWORD": ADMIN_PASSWORD,
            # Pages are cached for up to 8 s at the end of a feed; tests look at once.
            "CACHE_TYPE": "NullCache",
            **config,
        }
    )
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


#: The databases the example app runs on, as a ``pytest.mark.parametrize`` list.
DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]


@contextmanager
def example_app_on(
    database: str, request: pytest.FixtureRequest, tmp_path: Path, **config: t.Any
) -> Iterator[Flask]:
    """The example app on embedded SQLite, or on a database of its own on PostgreSQL."""
    if database == "sqlite":
        with example_app(f"sqlite:///{tmp_path / 'example.sqlite3'}", **config) as app:
            yield app
        return
    server = request.getfixturevalue("pg_server")
    url = server.create_database(prefix="rpde_example")
    try:
        with example_app(url, **config) as app:
            yield app
    finally:
        server.drop_database(url)


def csrf_token(html: str) -> str:
    match = _TOKEN.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


class Admin:
    """A test client that logs in and posts the admin's forms with their CSRF tokens."""

    def __init__(self, client: t.Any) -> None:
        self.client = client

    def login(self, password: str = ADMIN_PASSWORD, username: str = "admin") -> t.Any:
        token = csrf_token(self.client.get("/admin/login").text)
        return self.client.post(
            "/admin/login",
            data={"csrf_token": token, "username": username, "password": password},
        )

    def post(self, path: str, data: dict[str, t.Any] | None = None, *, page: str) -> t.Any:
        """Post to ``path`` as the form on ``page`` would, then follow the redirect."""
        token = csrf_token(self.client.get(page).text)
        return self.client.post(path, data={"csrf_token": token, **(data or {})})

    def follow(self, response: t.Any) -> t.Any:
        assert response.status_code == 303, (response.status_code, response.text[:500])
        return self.client.get(path_of(response.headers["Location"]))


def feed_states(client: t.Any, feed: str) -> dict[int, dict[str, t.Any]]:
    """Every item of ``feed`` as a consumer ends up seeing it: the last state of each id."""
    states: dict[int, dict[str, t.Any]] = {}
    for item in walk(client, f"{ORIGIN}/openactive/feeds/{feed}").items:
        states[item["id"]] = item
    return states


def last_item(client: t.Any, feed: str) -> dict[str, t.Any]:
    return walk(client, f"{ORIGIN}/openactive/feeds/{feed}").items[-1]


def eventually(check: t.Callable[[], T], timeout: float = 60.0) -> T:
    """``check()``'s result, once it stops failing.

    On PostgreSQL a committed change joins the feed once no older write transaction is
    still open anywhere on the server (the no-skip watermark), so on a busy shared
    server it can take a moment; on SQLite the first try passes.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except (AssertionError, IndexError, KeyError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.25)


def feed_links(html: str) -> list[str]:
    """The feed links the admin shows after a change."""
    return [
        path_of(url.replace("&amp;", "&"))
        for url in re.findall(r'class="feed-link" href="([^"]+)"', html)
        if "/openactive/feeds/" in urlsplit(url.replace("&amp;", "&")).path
    ]
