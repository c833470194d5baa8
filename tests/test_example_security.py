"""The example app's admin is never open: login, CSRF, security headers, cookie flags.

And the public side stays public: the feeds and home page need no login and set no cookie.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from .example import Admin
from .example import ADMIN_PASSWORD
from .example import csrf_token
from .example import example_app
from .example import feed_states
from .example import FEEDS

ADMIN_PAGES = [
    "/admin/",
    "/admin/sessions",
    "/admin/sessions?when=past",
    "/admin/sessions/1",
    "/admin/sessions/1/delete",
    "/admin/series/1",
    "/admin/slots",
    "/admin/organisations",
]
ADMIN_POSTS = [
    (
        "/admin/sessions/3",
        {
            "start": "2030-01-01T10:00",
            "duration_minutes": "60",
            "maximum_capacity": "10",
            "remaining_capacity": "1",
        },
    ),
    ("/admin/sessions/3/cancel", {}),
    ("/admin/sessions/3/book", {}),
    ("/admin/sessions/3/delete", {}),
    ("/admin/offers/1/price", {"offer1-price": "0.01"}),
    ("/admin/slots/2/book", {}),
    ("/admin/organisations/1/publishing", {"publishes": "no"}),
]


@pytest.fixture
def app(tmp_path: Path) -> t.Iterator[Flask]:
    with example_app(f"sqlite:///{tmp_path / 'example.sqlite3'}") as app:
        yield app


def _snapshot(client: t.Any) -> dict[str, t.Any]:
    """Everything the feeds publish, to check that a refused request changed nothing."""
    return {feed: feed_states(client, feed) for feed in FEEDS}


def test_anonymous_visitors_are_sent_to_the_login_page(app: Flask) -> None:
    client = app.test_client()
    for page in ADMIN_PAGES:
        response = client.get(page)
        assert response.status_code == 303, page
        assert response.headers["Location"].startswith("/admin/login?next=")


def test_anonymous_posts_change_nothing_even_with_a_valid_csrf_token(app: Flask) -> None:
    client = app.test_client()
    before = _snapshot(client)
    token = csrf_token(client.get("/admin/login").text)  # anyone can get one
    for path, data in ADMIN_POSTS:
        response = client.post(path, data={"csrf_token": token, **data})
        assert response.status_code == 303, path
        assert response.headers["Location"].startswith("/admin/login")
    assert _snapshot(client) == before


def test_posts_without_a_valid_csrf_token_are_refused(app: Flask) -> None:
    admin = Admin(app.test_client())
    admin.login()
    before = _snapshot(admin.client)
    for path, data in ADMIN_POSTS:
        for forged in ({}, {"csrf_token": "forged"}):
            response = admin.client.post(path, data={**forged, **data})
            assert response.status_code == 400, (path, forged)
            assert "CSRF" in response.text and "Nothing was changed" in response.text
            assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert _snapshot(admin.client) == before
    # Logging out needs the token too (no logging people out from another site).
    assert admin.client.post("/admin/logout").status_code == 400
    assert admin.client.get("/admin/sessions").status_code == 200


def test_a_login_form_without_its_csrf_token_is_refused(app: Flask) -> None:
    client = app.test_client()
    response = client.post("/admin/login", data={"username": "admin", "password": ADMIN_PASSWORD})
    assert response.status_code == 400
    assert "Set-Cookie" not in response.headers or "admin" not in response.headers["Set-Cookie"]
    assert client.get("/admin/sessions").status_code == 303


@pytest.mark.parametrize(
    ("username", "password"), [("admin", "wrong password"), ("nobody", ADMIN_PASSWORD)]
)
def test_wrong_credentials_do_not_log_in(app: Flask, username: str, password: str) -> None:
    admin = Admin(app.test_client())
    response = admin.login(password=password, username=username)
    assert response.status_code == 401
    assert "Wrong username or password" in response.text
    assert admin.client.get("/admin/sessions").status_code == 303


def test_login_redirects_only_inside_the_admin(app: Flask) -> None:
    client = app.test_client()
    for target, expected in [
        ("/admin/slots", "/admin/slots"),
        ("https://evil.example/admin/", "/admin/sessions"),
        ("//evil.example/admin/", "/admin/sessions"),
        ("/openactive/feeds/session-series", "/admin/sessions"),
    ]:
        token = csrf_token(client.get("/admin/login").text)
        response = client.post(
            "/admin/login",
            query_string={"next": target},
            data={"csrf_token": token, "username": "admin", "password": ADMIN_PASSWORD},
        )
        assert response.status_code == 303
        assert response.headers["Location"] == expected, target
        client.post("/admin/logout", data={"csrf_token": csrf_token(client.get(expected).text)})


def test_logging_out_ends_the_session(app: Flask) -> None:
    admin = Admin(app.test_client())
    admin.login()
    response = admin.post("/admin/logout", page="/admin/sessions")
    assert response.status_code == 303
    assert admin.client.get("/admin/sessions").status_code == 303


def test_the_session_cookie_is_http_only_same_site_and_admin_only(app: Flask) -> None:
    response = Admin(app.test_client()).login()
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/admin" in cookie


def test_a_changed_password_ends_existing_logins(app: Flask) -> None:
    from example_app.admin.users import ensure_admin_user
    from example_app.models import db

    admin = Admin(app.test_client())
    admin.login()
    assert admin.client.get("/admin/sessions").status_code == 200
    app.config["EXAMPLE_ADMIN_PASSWORD"] = "a brand new password"
    with app.app_context():
        ensure_admin_user(db.session, app)
        db.session.commit()
    assert admin.client.get("/admin/sessions").status_code == 303


@pytest.mark.parametrize("page", ["/admin/login", "/admin/sessions", "/admin/slots", "/"])
def test_pages_send_security_headers(app: Flask, page: str) -> None:
    admin = Admin(app.test_client())
    admin.login()
    response = admin.client.get(page)
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"  # so no script of any kind runs
    assert "script-src" not in directives and "unsafe-inline" not in policy
    assert directives["frame-ancestors"] == "'none'"
    assert directives["form-action"] == "'self'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    if page.startswith("/admin"):
        assert response.headers["Cache-Control"] == "no-store"
    assert "<script" not in response.text and " on" + "click=" not in response.text


def test_the_feeds_and_home_page_are_open_and_set_no_cookie(app: Flask) -> None:
    admin = Admin(app.test_client())
    admin.login()
    # A browser with an admin session asks for public pages with its cookie; a consumer
    # asks without one. Neither may get a cookie back or a response that varies by one.
    with_cookie = app.test_client()
    with_cookie.set_cookie("session", "anything", path="/")
    for client in (app.test_client(), admin.client, with_cookie):
        for path in [*(f"/openactive/feeds/{feed}" for feed in FEEDS), "/"]:
            response = client.get(path)
            assert response.status_code == 200, path
            assert "Set-Cookie" not in response.headers, path
            assert "Cookie" not in response.headers.get("Vary", ""), path


def test_bad_input_is_refused_with_a_clear_message_and_changes_nothing(app: Flask) -> None:
    from example_app.models import db
    from example_app.models import ScheduledSession

    admin = Admin(app.test_client())
    admin.login()
    before = _snapshot(admin.client)
    page = "/admin/sessions/3"
    for data, message in [
        (
            {
                "start": "2030-01-01T10:00",
                "duration_minutes": "60",
                "maximum_capacity": "10",
                "remaining_capacity": "11",
            },
            "cannot be more than the capacity",
        ),
        (
            {
                "start": "yesterday",
                "duration_minutes": "60",
                "maximum_capacity": "10",
                "remaining_capacity": "1",
            },
            "Not a valid datetime value",
        ),
        (
            {
                "start": "2030-01-01T10:00",
                "duration_minutes": "-5",
                "maximum_capacity": "x",
                "remaining_capacity": "1",
            },
            "Not a valid integer value",
        ),
    ]:
        response = admin.post(page, data, page=page)
        assert response.status_code == 400
        assert message in response.text
    far = {"duration_minutes": "1440", "maximum_capacity": "10", "remaining_capacity": "1"}
    for start in ("9999-12-31T23:59", "0001-01-01T00:00"):
        response = admin.post(page, {"start": start, **far}, page=page)
        assert response.status_code == 400
        assert "Give a time between 2000 and 2099" in response.text
    for price in ("-3", "NaN", "sNaN", "Infinity", "1e400", "１２", "5.505"):
        response = admin.post("/admin/offers/1/price", {"offer1-price": price}, page=page)
        assert response.status_code == 303
        assert "Give a price such as 5 or 5.50" in admin.follow(response).text
    assert (
        admin.post(
            "/admin/organisations/1/publishing", {"publishes": "maybe"}, page="/admin/organisations"
        ).status_code
        == 303
    )
    assert _snapshot(admin.client) == before
    for missing in [
        "/admin/sessions/999999",
        "/admin/series/999999",
        "/admin/sessions/999999/delete",
    ]:
        assert admin.client.get(missing).status_code == 404
    for huge in ["/admin/sessions/99999999999999999999999", "/admin/sessions/0"]:
        assert admin.client.get(huge).status_code == 404
    too_deep = admin.post("/admin/slots/99999999999999999999/book", page="/admin/slots")
    assert too_deep.status_code == 404
    for listing in ["/admin/sessions?page=-4&when=nonsense", "/admin/slots?page=9" + "9" * 30]:
        assert admin.client.get(listing).status_code == 200
    with app.app_context():
        assert (
            db.session.scalar(
                select(ScheduledSession.remaining_capacity).where(ScheduledSession.id == 3)
            )
            is not None
        )
