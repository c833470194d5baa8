"""Under a host app using Flask-Login, the public routes never set a cookie nor vary by one."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

import pytest
from flask import Flask
from flask import render_template_string
from flask import request as current_request
from flask.testing import FlaskClient
from flask_login import current_user
from flask_login import login_user
from flask_login import LoginManager
from flask_login import UserMixin
from sqlalchemy.engine import Engine

from rpde_publisher import RPDE

from .dataset_apps import FULL_CONFIG
from .dataset_apps import organisation_settings
from .dataset_apps import site_app
from .models import Models

#: Every public route of the extension: the dataset site, an organisation's site, the
#: catalogue, the stylesheet, the feeds, and their not-found answers.
PUBLIC = [
    "/openactive/",
    "/openactive/organisations/riverside/",
    "/openactive/organisations/nobody/",
    "/openactive/data-catalog",
    "/openactive/dataset-site.css",
    "/openactive/feeds/",
    "/openactive/feeds/session-series",
    "/openactive/feeds/no-such-feed",
    "/openactive/organisations/riverside/feeds/session-series",
]


class User(UserMixin):
    def __init__(self, id_: str) -> None:
        self.id = id_


@dataclass
class Host:
    app: Flask
    #: The hook reading ``current_user``: Flask-Login's context processor, or also a
    #: ``before_request`` hook.
    hook: str
    #: The paths of the requests that loaded the user (from the session or the
    #: remember cookie).
    loaded_user: list[str]


class Sites:
    def keys(self) -> list[str]:
        return ["riverside"]

    def metadata(self, key: str) -> dict[str, t.Any] | None:
        return organisation_settings("Riverside Club") if key == "riverside" else None


@pytest.fixture(params=["context processor", "before_request"])
def host(request: pytest.FixtureRequest, sqlite_engine: Engine, rpde: RPDE, models: Models) -> Host:
    """A host app with Flask-Login (whose context processor loads ``current_user`` in
    every template, and whose ``after_request`` hook reads the session on every
    request), and, in one variant, a hook reading ``current_user`` on every request."""
    rpde.dataset_provider(Sites())
    app = site_app(sqlite_engine, rpde, models, **FULL_CONFIG, SECRET_KEY="not secret")
    manager = LoginManager(app)
    users = {"ada": User("ada")}
    loaded_user: list[str] = []

    @manager.user_loader
    def load(user_id: str) -> User | None:
        loaded_user.append(current_request.path)
        return users.get(user_id)

    if request.param == "before_request":

        @app.before_request
        def who() -> None:
            assert current_user is not None
            _ = current_user.is_authenticated

    @app.get("/login")
    def log_in() -> str:
        login_user(users["ada"], remember=True)
        return "logged in"

    @app.get("/me")
    def me() -> str:
        return render_template_string(
            "{{ current_user.id if current_user.is_authenticated else 'anonymous' }}"
        )

    return Host(app, request.param, loaded_user)


def logged_in(app: Flask) -> FlaskClient:
    client = app.test_client()
    response = client.get("/login")
    assert response.status_code == 200
    assert sets_cookie(response, "session") and sets_cookie(response, "remember_token")
    return client


def sets_cookie(response: t.Any, name: str) -> bool:
    return any(c.startswith(name + "=") for c in response.headers.getlist("Set-Cookie"))


def assert_public(response: t.Any, path: str) -> None:
    assert response.status_code in (200, 404), (path, response.status_code)
    assert "Set-Cookie" not in response.headers, path
    assert "cookie" not in response.headers.get("Vary", "").lower(), path


def test_public_routes_neither_set_nor_vary_by_cookies(host: Host) -> None:
    app = host.app
    client = logged_in(app)
    for path in PUBLIC:
        assert_public(client.get(path), path)
    assert client.get("/openactive/").status_code == 200
    assert client.get("/openactive/organisations/riverside/").status_code == 200


def test_a_remember_cookie_alone_sets_no_cookie_on_public_routes(host: Host) -> None:
    """Flask-Login logs a visitor back in from the remember cookie, writing the session;
    a public answer must not carry that session out."""
    app = host.app
    client = logged_in(app)
    client.delete_cookie("session")
    for path in PUBLIC:
        assert_public(client.get(path), path)
    client.delete_cookie("session")
    page = client.get("/me")
    assert page.get_data(as_text=True) == "ada"
    assert sets_cookie(page, "session"), "the host's own pages keep their session"


def test_the_host_apps_own_pages_keep_their_session(host: Host) -> None:
    app = host.app
    client = logged_in(app)
    client.get("/openactive/")
    page = client.get("/me")
    assert page.get_data(as_text=True) == "ada", "still logged in after the public pages"
    assert "Cookie" in page.headers["Vary"]
    assert app.test_client().get("/me").get_data(as_text=True) == "anonymous"


def test_the_dataset_pages_do_not_load_the_visitor(host: Host) -> None:
    """Rendered without the app's context processors: Flask-Login's loads ``current_user``
    (from the session), and the page, served to every visitor, must not depend on it."""
    if host.hook == "before_request":
        pytest.skip("the host's own hook loads the user on every request")
    client = logged_in(host.app)
    for path in ("/openactive/", "/openactive/organisations/riverside/"):
        assert client.get(path).status_code == 200
    assert host.loaded_user == []
    client.get("/me")
    assert host.loaded_user == ["/me"]
