"""An attacker's probe of the example app and the feeds, each finding written as the attack."""

from __future__ import annotations

import logging
import time
import typing as t
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.engine import Engine

from rpde_publisher import RPDE

from .dataset_apps import organisation_settings
from .example import Admin
from .example import csrf_token
from .example import example_app
from .models import make_app
from .models import Models

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def app(tmp_path: Path) -> t.Iterator[Flask]:
    with example_app(f"sqlite:///{tmp_path / 'example.sqlite3'}") as app:
        yield app


def _cookie(client: t.Any) -> str:
    cookie = client.get_cookie("session", path="/admin")
    assert cookie is not None
    return str(cookie.value)


# Sessions -------------------------------------------------------------------------


def test_a_cookie_stolen_before_logout_opens_nothing_after_it(app: Flask) -> None:
    victim = app.test_client()
    admin = Admin(victim)
    assert admin.login().status_code == 303
    stolen = _cookie(victim)
    assert admin.post("/admin/logout", page="/admin/sessions").status_code == 303
    attacker = app.test_client()
    attacker.set_cookie("session", stolen, path="/admin")
    response = attacker.get("/admin/sessions")
    assert response.status_code == 303 and "/admin/login" in response.headers["Location"]


def test_a_login_ends_at_its_fixed_time_however_busy_it_is(app: Flask) -> None:
    from example_app.models import AdminLogin
    from example_app.models import db

    client = app.test_client()
    admin = Admin(client)
    assert admin.login().status_code == 303
    with app.app_context():
        ends = db.session.scalar(select(AdminLogin.expires))
    for _ in range(3):  # requests, a no-op POST among them, do not move the end
        assert client.get("/admin/sessions").status_code == 200
        assert admin.post("/admin/sessions/3/book", page="/admin/sessions/3").status_code == 303
    with app.app_context():
        assert db.session.scalar(select(AdminLogin.expires)) == ends
        # Eight hours on: the same cookie, however recently used, opens nothing.
        db.session.execute(update(AdminLogin).values(expires=ends - timedelta(hours=8)))
        db.session.commit()
    assert client.get("/admin/sessions").status_code == 303


# Login throttling -------------------------------------------------------------------


def _hold_throttle_clock(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The login throttle counts in wall-clock windows: hold its clock inside one, or a
    test that straddles a window's end starts counting afresh half-way."""
    from example_app.admin import auth

    window = auth.TRY_WINDOW_SECONDS
    inside = (time.time() // window) * window + 1
    for throttle in app.extensions[auth._THROTTLE_KEY]:
        monkeypatch.setattr(throttle, "clock", lambda: inside)


def test_guessing_passwords_is_refused_before_any_hash_is_computed(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from example_app.admin import auth

    hashed = []
    real = auth.check_password_hash
    monkeypatch.setattr(
        auth,
        "check_password_hash",
        lambda *a: hashed.append(1) or real(*a),  # type: ignore[func-returns-value]
    )
    _hold_throttle_clock(app, monkeypatch)
    client = app.test_client()
    token = csrf_token(client.get("/admin/login").text)
    statuses = []
    for guess in range(30):
        response = client.post(
            "/admin/login",
            data={"csrf_token": token, "username": "admin", "password": f"guess {guess}"},
        )
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert 0 < int(response.headers["Retry-After"]) <= auth.TRY_WINDOW_SECONDS
    assert statuses[: auth.TRIES_PER_ACCOUNT] == [401] * auth.TRIES_PER_ACCOUNT
    assert set(statuses[auth.TRIES_PER_ACCOUNT :]) == {429}
    assert len(hashed) == auth.TRIES_PER_ACCOUNT, "no hash for a refused try"
    # The right password does not get through a locked account either.
    assert Admin(client).login().status_code == 429


def test_one_client_guessing_many_accounts_is_refused_too(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from example_app.admin import auth

    _hold_throttle_clock(app, monkeypatch)
    client = app.test_client()
    token = csrf_token(client.get("/admin/login").text)
    statuses = [
        client.post(
            "/admin/login",
            data={"csrf_token": token, "username": f"user{n}", "password": "x" * 10},
        ).status_code
        for n in range(auth.TRIES_PER_CLIENT + 3)
    ]
    assert statuses[: auth.TRIES_PER_CLIENT] == [401] * auth.TRIES_PER_CLIENT
    assert set(statuses[auth.TRIES_PER_CLIENT :]) == {429}
    # Another client (another address) may still log in.
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert Admin(other).login().status_code == 303


# No 500 for any next ----------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "/admin/%0D%0ASet-Cookie:+x%3D1",
        "/admin/%0ALocation:+https://evil.example",
        "/admin/%00",
        "/admin/%7F",
        "https://evil.example/admin/",
        "//evil.example/admin/",
        "/admin/" + "a" * 5000,
    ],
)
def test_any_next_after_login_answers_without_a_500(app: Flask, target: str) -> None:
    client = app.test_client()
    token = csrf_token(client.get("/admin/login").text)
    response = client.post(
        f"/admin/login?next={target}",
        data={"csrf_token": token, "username": "admin", "password": "correct horse battery"},
    )
    assert response.status_code == 303
    location = response.headers["Location"]
    assert "\r" not in location and "\n" not in location and "evil" not in location
    assert "x=1" not in response.headers.get("Set-Cookie", "")


# Hosts ------------------------------------------------------------------------------


def test_a_forged_host_is_refused_by_the_example_app(app: Flask) -> None:
    client = app.test_client()
    for path in ("/openactive/", "/openactive/feeds/session-series", "/admin/login"):
        assert client.get(path, headers={"Host": "evil.example"}).status_code == 400, path
        assert client.get(path, headers={"Host": "localhost:5000"}).status_code in (200, 303)


def test_the_example_app_trusts_the_host_of_its_base_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'named.sqlite3'}"
    with example_app(url, RPDE_BASE_URL="https://data.example.org") as app:
        client = app.test_client()
        assert client.get("/openactive/", headers={"Host": "data.example.org"}).status_code == 200
        assert client.get("/openactive/", headers={"Host": "evil.example"}).status_code == 400


def test_an_app_trusting_every_host_is_told_so(
    sqlite_engine: Engine, rpde: RPDE, models: Models, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="rpde_publisher"):
        make_app(sqlite_engine, rpde, TESTING=False)
    assert "Neither RPDE_BASE_URL nor TRUSTED_HOSTS is set" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="rpde_publisher"):
        make_app(sqlite_engine, RPDE(), TESTING=False, TRUSTED_HOSTS=["data.example.org"])
    assert "TRUSTED_HOSTS" not in caplog.text


def test_the_checklist_fails_while_every_host_is_trusted(
    sqlite_engine: Engine, rpde: RPDE, models: Models
) -> None:
    models.Base.metadata.create_all(sqlite_engine)
    app = make_app(sqlite_engine, rpde)
    output = app.test_cli_runner().invoke(args=["rpde", "checklist"]).output
    assert "[ ] Neither RPDE_BASE_URL nor TRUSTED_HOSTS is set" in output
    trusted = make_app(sqlite_engine, RPDE(), TRUSTED_HOSTS=["localhost"])
    assert (
        "Neither RPDE_BASE_URL"
        not in trusted.test_cli_runner().invoke(args=["rpde", "checklist"]).output
    )


# Production templates ---------------------------------------------------------------


def test_the_production_templates_send_the_cookie_over_https_only_and_hsts() -> None:
    environment = (ROOT / "deploy" / "env.example").read_text()
    assert "\nFLASK_SESSION_COOKIE_SECURE=true\n" in environment
    assert '\nFLASK_TRUSTED_HOSTS=["data.example.org"]\n' in environment
    nginx = (ROOT / "deploy" / "nginx" / "rpde.conf").read_text()
    hsts = 'add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;'
    # Once in the server and once in each location adding headers of its own (nginx
    # drops the server's add_header there).
    assert nginx.count(hsts) == 1 + nginx.count("add_header X-Cache-Status")


# Feeds --------------------------------------------------------------------------------


def test_junk_parameters_neither_fill_nor_miss_the_cursor_cache(
    sqlite_engine: Engine, rpde: RPDE, models: Models
) -> None:
    from rpde_publisher import cursor

    models.Base.metadata.create_all(sqlite_engine)
    client = make_app(sqlite_engine, rpde).test_client()
    cursor._remembered.cache_clear()
    junk = "x" * 60_000
    for n in range(50):
        response = client.get(f"/openactive/feeds/session-series?junk{n}={junk}")
        assert response.status_code == 200
    assert cursor._remembered.cache_info().currsize == 1, "one cursor: the start"
    assert cursor._remembered.cache_info().hits == 49
    long_id = client.get(f"/openactive/feeds/session-series?afterTimestamp=1&afterId={junk}")
    assert long_id.status_code == 400
    assert cursor._remembered.cache_info().currsize == 1, "an oversized value is not kept"


def test_feed_responses_are_never_sniffed(
    sqlite_engine: Engine, rpde: RPDE, models: Models
) -> None:
    models.Base.metadata.create_all(sqlite_engine)
    client = make_app(sqlite_engine, rpde).test_client()
    for path in (
        "/openactive/feeds/session-series",
        "/openactive/feeds/session-series?afterTimestamp=x",  # a 400
        "/openactive/feeds/nope",  # a 404
        "/openactive/",
    ):
        assert client.get(path).headers["X-Content-Type-Options"] == "nosniff", path


def test_every_public_route_is_rate_limited(
    sqlite_engine: Engine, rpde: RPDE, models: Models
) -> None:
    models.Base.metadata.create_all(sqlite_engine)
    app = make_app(sqlite_engine, rpde, RPDE_RATE_LIMIT=3)
    for path in (
        "/openactive/",
        "/openactive/feeds/session-series",
        "/openactive/dataset-site.css",
        "/openactive/health?deep=1",
    ):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"198.51.100.{len(path)}"
        statuses = [client.get(path).status_code for _ in range(30)]
        assert 429 in statuses, path  # 30 requests cannot all fall in separate seconds


# Organisation sites -------------------------------------------------------------------


class _CountingProvider:
    def __init__(self) -> None:
        self.calls = 0

    def keys(self) -> list[str]:
        self.calls += 1
        return ["1", "2"]

    def metadata(self, key: str) -> dict[str, t.Any] | None:
        self.calls += 1
        if key not in ("1", "2"):
            return None
        return {**organisation_settings(f"Club {key}"), "RPDE_PUBLISHER_LOGO": "not a url"}


def test_organisation_sites_are_cached_warned_about_once_and_canonical(
    sqlite_engine: Engine, models: Models, caplog: pytest.LogCaptureFixture
) -> None:
    rpde = RPDE()
    rpde.feed(
        models.Series,
        kind="SessionSeries",
        schema=models.SeriesSchema,
        organisation=models.Series.organisation_id,
    )
    provider = _CountingProvider()
    rpde.dataset_provider(provider)
    models.Base.metadata.create_all(sqlite_engine)
    app = make_app(sqlite_engine, rpde, CACHE_TYPE="SimpleCache")
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="rpde_publisher"):
        for _ in range(5):
            assert client.get("/openactive/organisations/1/").status_code == 200
            assert client.get("/openactive/data-catalog").status_code == 200
    assert provider.calls == 2, "the site and the catalogue were made once, then cached"
    logged = [r for r in caplog.records if "organisation '1'" in r.getMessage()]
    assert len(logged) == 1, [r.getMessage() for r in logged]
    # Zero-padded and other spellings of a key have no site of their own.
    for key in ("01", "001", "1.0", "+1"):
        assert client.get(f"/openactive/organisations/{key}/").status_code == 404, key
