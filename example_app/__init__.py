"""A small leisure-centre booking system that publishes OpenActive open data."""

from __future__ import annotations

import secrets
import typing as t
from datetime import timedelta
from urllib.parse import urlsplit

import click
from flask import Flask
from flask_wtf import CSRFProtect
from sqlalchemy import event
from sqlalchemy import inspect
from sqlalchemy import select
from sqlalchemy.engine import Engine

from .feeds import rpde
from .instance import instance_secret
from .models import db
from .models import Organisation

csrf = CSRFProtect()

DEFAULTS: dict[str, t.Any] = {
    "SQLALCHEMY_DATABASE_URI": "sqlite:///example.sqlite3",
    "EXAMPLE_AUTO_SEED": True,
    "EXAMPLE_ADMIN_USERNAME": "admin",
    "EXAMPLE_ADMIN_PASSWORD": None,
    "RPDE_PUBLISHER_NAME": "Riverside Leisure Trust",
    "RPDE_PUBLISHER_LEGAL_NAME": "Riverside Leisure Trust Ltd",
    "RPDE_PUBLISHER_URL": "https://riverside-leisure.example.org",
    "RPDE_BACKGROUND_IMAGE": "https://riverside-leisure.example.org/pool.jpg",
    "RPDE_PUBLISHER_EMAIL": "opendata@riverside-leisure.example.org",
    "RPDE_PUBLISHER_LOGO": "https://riverside-leisure.example.org/logo.png",
    "RPDE_DISCUSSION_URL": "https://github.com/riverside-leisure/opendata/issues",
    "RPDE_DATE_PUBLISHED": "2026-01-05",
    # A leisure centre: OpenActive's template's words fit, sports included.
    "RPDE_DATASET_GENERAL_KEYWORDS": ["Activities", "Sports", "Physical Activity", "OpenActive"],
    # The admin's session cookie: unreadable by script, not sent on cross-site requests,
    # nor to the public pages (so feed responses never vary by cookie), and never
    # refreshed: a login lasts eight hours at most.
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_PATH": "/admin",
    "SESSION_REFRESH_EACH_REQUEST": False,
    "PERMANENT_SESSION_LIFETIME": timedelta(hours=8),
    # Requests naming any other host are refused (400): links and the dataset site's
    # @id are built from the request's host. Widen it for a public name
    # (FLASK_TRUSTED_HOSTS='["data.example.org"]'), or set RPDE_BASE_URL.
    "TRUSTED_HOSTS": ["localhost", "127.0.0.1", "::1"],
}


def create_app(config: t.Mapping[str, t.Any] | None = None) -> Flask:
    """The example app; settings come from ``config``, then ``FLASK_*`` environment variables.

    Set ``FLASK_SESSION_COOKIE_SECURE=true`` when it is served over HTTPS.
    """
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(DEFAULTS)
    app.config.from_prefixed_env()
    if config:
        app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret(app, "secret-key", lambda: secrets.token_hex(32))
    _trust_the_base_url(app)
    db.init_app(app)
    rpde.init_app(app, session=db.session)
    csrf.init_app(app)
    from .admin import auth

    auth.init_app(app)

    from .admin import admin
    from .cli import demo_cli
    from .site import site

    app.register_blueprint(admin)
    app.register_blueprint(site)
    app.cli.add_command(demo_cli)
    with app.app_context():
        _prepare_database(app)
    _announce_admin(app)
    return app


def _trust_the_base_url(app: Flask) -> None:
    """The public name in RPDE_BASE_URL is one the app answers to, as well as the
    trusted hosts configured."""
    base_url = app.config.get("RPDE_BASE_URL")
    trusted = app.config.get("TRUSTED_HOSTS")
    if base_url and trusted is not None:
        host = urlsplit(str(base_url)).hostname
        if host and host not in trusted:
            app.config["TRUSTED_HOSTS"] = [*trusted, host]


def _prepare_database(app: Flask) -> None:
    from .admin.users import ensure_admin_user

    if db.engine.dialect.name == "sqlite":
        _sqlite_pragmas(db.engine)
    db.create_all()
    _warn_of_missing_columns(app)
    seeding = (
        app.config["EXAMPLE_AUTO_SEED"]
        and db.session.scalar(select(Organisation.id).limit(1)) is None
    )
    if seeding:
        from .seed import seed

        seed(db.session)
    ensure_admin_user(db.session, app)
    db.session.commit()
    if seeding:
        _render_unrendered()


def _warn_of_missing_columns(app: Flask) -> None:
    """Say so when the database was made by an older example app: there are no migrations,
    and ``create_all`` adds missing tables but never missing columns."""
    inspector = inspect(db.engine)
    for table in db.metadata.sorted_tables:
        if not inspector.has_table(table.name):
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        missing = [column.name for column in table.columns if column.name not in present]
        if missing:
            app.logger.warning(
                "The database's table %s lacks column(s) %s: an older example app made it."
                " Run `flask demo reseed` (which replaces the demo data) to rebuild it.",
                table.name,
                ", ".join(missing),
            )


def _render_unrendered() -> None:
    """Render what the seed's commit left to the first read (the slots, render_at="read"),
    so that a freshly seeded database serves every page from stored data."""
    from .bulk import render_items
    from .feeds import rpde

    render_items(db.engine, rpde)


def _announce_admin(app: Flask) -> None:
    """Under ``flask run``, print where the admin is and how to log in."""
    context = click.get_current_context(silent=True)
    if context is None or context.info_name != "run":
        return
    from .admin.users import admin_password
    from .admin.users import password_source

    host = context.params.get("host") or "127.0.0.1"
    port = context.params.get("port") or 5000
    click.secho(
        f" * Admin: http://{host}:{port}/admin/ - user {app.config['EXAMPLE_ADMIN_USERNAME']!r},"
        f" password {admin_password(app)!r} ({password_source(app)})",
        fg="green",
    )


def _sqlite_pragmas(engine: Engine) -> None:
    """WAL lets the feeds read while the admin writes; a busy timeout queues writers."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: t.Any, record: t.Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    engine.dispose()  # connections made before the listener get the pragmas too
