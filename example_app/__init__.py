"""A small leisure-centre booking system that publishes OpenActive open data."""

from __future__ import annotations

import typing as t

from flask import Flask
from sqlalchemy import event
from sqlalchemy import select
from sqlalchemy.engine import Engine

from .feeds import rpde
from .models import db
from .models import Organisation


def create_app(config: t.Mapping[str, t.Any] | None = None) -> Flask:
    """The example app; settings come from ``config``, then ``FLASK_*`` environment variables."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(
        SQLALCHEMY_DATABASE_URI="sqlite:///example.sqlite3",
        EXAMPLE_AUTO_SEED=True,
        RPDE_PUBLISHER_NAME="Riverside Leisure Trust",
        RPDE_PUBLISHER_LEGAL_NAME="Riverside Leisure Trust Ltd",
        RPDE_PUBLISHER_URL="https://riverside-leisure.example.org",
        RPDE_PUBLISHER_EMAIL="opendata@riverside-leisure.example.org",
        RPDE_PUBLISHER_LOGO="https://riverside-leisure.example.org/logo.png",
        RPDE_DISCUSSION_URL="https://github.com/riverside-leisure/opendata/issues",
        RPDE_DATE_PUBLISHED="2026-01-05",
        RPDE_BACKGROUND_IMAGE="https://riverside-leisure.example.org/pool.jpg",
    )
    app.config.from_prefixed_env()
    if config:
        app.config.update(config)
    db.init_app(app)
    rpde.init_app(app, session=db.session)

    from .cli import demo_cli

    app.cli.add_command(demo_cli)
    with app.app_context():
        _prepare_database(app)
    return app


def _prepare_database(app: Flask) -> None:
    if db.engine.dialect.name == "sqlite":
        _sqlite_pragmas(db.engine)
    db.create_all()
    if (
        app.config["EXAMPLE_AUTO_SEED"]
        and db.session.scalar(select(Organisation.id).limit(1)) is None
    ):
        from .seed import seed

        seed(db.session)
        db.session.commit()


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
