"""The extension itself: factory pattern, several apps, config defaults, clear errors."""

from __future__ import annotations

import typing as t
from datetime import datetime

import pytest
from flask import Flask
from marshmallow import fields
from marshmallow import Schema
from sqlalchemy import BigInteger
from sqlalchemy import create_engine
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import scoped_session
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from rpde_publisher import ConfigurationError
from rpde_publisher import RPDE
from rpde_publisher.columns import UTCDateTime
from rpde_publisher.settings import DEFAULTS

from .models import Models
from .models import register_feeds


def test_factory_pattern_and_defaults(models: Models, tmp_path: t.Any) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'a.db'}")
    models.Base.metadata.create_all(engine)
    rpde = RPDE()
    register_feeds(rpde, models)

    def create_app() -> Flask:
        app = Flask(__name__)
        rpde.init_app(app, session=sessionmaker(engine))
        return app

    app = create_app()
    for key, value in DEFAULTS.items():
        assert app.config[key] == value
    assert app.extensions["rpde_publisher"] is rpde
    assert not hasattr(rpde, "app")
    assert app.test_client().get("/openactive/feeds/session-series").status_code == 200


def test_two_apps_at_once_with_their_own_settings(models: Models, tmp_path: t.Any) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'a.db'}")
    models.Base.metadata.create_all(engine)
    with Session(engine) as s:
        s.add(models.Series(name="x"))
        s.commit()
    rpde = RPDE(session=sessionmaker(engine))
    register_feeds(rpde, models)
    one, two = Flask("one"), Flask("two")
    two.config["RPDE_URL_PREFIX"] = "/data"
    two.config["RPDE_LICENSE"] = "https://creativecommons.org/publicdomain/zero/1.0/"
    rpde.init_app(one)
    rpde.init_app(two)
    a = one.test_client().get("/openactive/feeds/session-series").get_json()
    b = two.test_client().get("/data/feeds/session-series").get_json()
    assert a["items"] == b["items"] and len(a["items"]) == 1
    assert a["license"] != b["license"]
    assert two.test_client().get("/openactive/feeds/session-series").status_code == 404


def test_double_registration_is_an_error(models: Models) -> None:
    app = Flask(__name__)
    rpde = RPDE(app, session=sessionmaker(create_engine("sqlite://")))
    with pytest.raises(RuntimeError, match="already been registered"):
        rpde.init_app(app)


def test_missing_session_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="session="):
        RPDE(Flask(__name__))


def test_a_session_instance_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="callable"):
        RPDE(Flask(__name__), session=Session())  # type: ignore[arg-type]


def test_using_an_app_without_init_app_is_a_clear_error() -> None:
    rpde = RPDE()
    with Flask(__name__).app_context(), pytest.raises(RuntimeError, match="init_app"):
        rpde.state()


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("RPDE_PAGE_SIZE", 0, "RPDE_PAGE_SIZE"),
        ("RPDE_PAGE_SIZE", "many", "RPDE_PAGE_SIZE"),
        ("RPDE_URL_PREFIX", "openactive", "RPDE_URL_PREFIX"),
        ("RPDE_BASE_URL", "example.org", "RPDE_BASE_URL"),
        ("RPDE_TOMBSTONE_RETENTION", -1, "RPDE_TOMBSTONE_RETENTION"),
        ("RPDE_SETTLE_SECONDS", -2, "RPDE_SETTLE_SECONDS"),
    ],
)
def test_bad_config_fails_at_start_up(key: str, value: t.Any, message: str) -> None:
    app = Flask(__name__)
    app.config[key] = value
    with pytest.raises(ConfigurationError, match=message):
        RPDE(app, session=sessionmaker(create_engine("sqlite://")))


def test_feed_names_default_to_openactive_paths(models: Models) -> None:
    rpde = RPDE()
    assert (
        rpde.feed(models.Series, kind="SessionSeries", schema=models.SeriesSchema).name
        == "session-series"
    )
    assert (
        rpde.feed(models.Facility, kind="FacilityUse/Slot", schema=models.FacilitySchema).name
        == "facility-use-slots"
    )
    assert (
        rpde.feed(models.Change, kind="CustomThing", schema=models.ChangeSchema).name
        == "custom-thing"
    )


def test_duplicate_feed_names_and_bad_arguments_are_refused(models: Models) -> None:
    rpde = RPDE()
    rpde.feed(models.Series, kind="SessionSeries", schema=models.SeriesSchema)
    with pytest.raises(ConfigurationError, match="already registered"):
        rpde.feed(models.Series, kind="SessionSeries", schema=models.SeriesSchema)
    with pytest.raises(ConfigurationError, match="ordering"):
        rpde.feed(models.Series, kind="X", schema=models.SeriesSchema, ordering="random", name="x")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="ordering"):
        rpde.feed(
            models.Series, kind="X", schema=models.SeriesSchema, ordering="change_number", name="y"
        )
    with pytest.raises(ConfigurationError, match="Schema"):
        rpde.feed(models.Change, kind="X", schema=dict, name="z")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="no relationship 'nowhere'"):
        rpde.feed(
            models.Facility, kind="FacilityUse", schema=models.FacilitySchema, embeds=["nowhere"]
        )


def test_model_without_the_mixin_names_its_columns(tmp_path: t.Any) -> None:
    class Base(DeclarativeBase):
        pass

    class Lesson(Base):
        __tablename__ = "lesson"
        code: Mapped[str] = mapped_column(String(20), primary_key=True)
        title: Mapped[str] = mapped_column(String(50))
        changed: Mapped[int] = mapped_column(BigInteger, server_default="0")
        removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    class LessonSchema(Schema):
        title = fields.String()

    rpde = RPDE()
    rpde.feed(
        Lesson,
        kind="Event",
        schema=LessonSchema,
        modified=Lesson.changed,
        deleted="removed_at",
        data=None,
    )
    engine = create_engine(f"sqlite:///{tmp_path / 'l.db'}")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        s.add_all([Lesson(code="b&1", title="Swim"), Lesson(code="a", title="Run")])
        s.commit()
        s.delete(s.get(Lesson, "a"))
        s.commit()
    app = Flask(__name__)
    rpde.init_app(app, session=scoped_session(sessionmaker(engine)))
    body = app.test_client().get("/openactive/feeds/events").get_json()
    assert [(i["id"], i["state"], i.get("data")) for i in body["items"]] == [
        ("b&1", "updated", {"title": "Swim"}),
        ("a", "deleted", None),
    ]
