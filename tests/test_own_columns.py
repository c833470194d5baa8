"""An app's own columns: its soft-delete column honoured, a wall-clock stamp refused at feed()."""

from __future__ import annotations

import typing as t
from datetime import datetime
from datetime import timedelta
from datetime import UTC

import pytest
from marshmallow import fields
from marshmallow import Schema
from sqlalchemy import BigInteger
from sqlalchemy import Boolean
from sqlalchemy import DateTime
from sqlalchemy import func
from sqlalchemy import Integer
from sqlalchemy import select
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import Session

from rpde_publisher import ConfigurationError
from rpde_publisher import FeedMixin
from rpde_publisher import RPDE
from rpde_publisher.lifecycle import purge
from rpde_publisher.lifecycle import retire

from .models import make_app
from .walking import settle
from .walking import walk


class EventSchema(Schema):
    name = fields.String()


def _models(*, mixin: bool, flag: bool = False) -> tuple[type[DeclarativeBase], t.Any]:
    class Base(DeclarativeBase):
        pass

    if mixin:

        class Event(FeedMixin, Base):
            __tablename__ = "event"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str] = mapped_column(String(100))
            deleted_at: Mapped[datetime | None] = mapped_column(DateTime(), nullable=True)
            ends: Mapped[datetime | None] = mapped_column(DateTime(), nullable=True)

    else:

        class Event(Base):  # type: ignore[no-redef]
            __tablename__ = "event"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str] = mapped_column(String(100))
            stamp: Mapped[int] = mapped_column(BigInteger, server_default="0")
            rpde_data: Mapped[str | None] = mapped_column(Text, deferred=True)
            if flag:
                is_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
            else:
                deleted_at: Mapped[datetime | None] = mapped_column(DateTime(), nullable=True)
            ends: Mapped[datetime | None] = mapped_column(DateTime(), nullable=True)

    return Base, Event


def _recreate(Base: type[DeclarativeBase], engine: Engine) -> None:
    """The server databases are shared by the test session: start from empty tables."""
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)


def _published(engine: Engine, rpde: RPDE) -> dict[t.Any, dict[str, t.Any]]:
    settle(engine)
    app = make_app(engine, rpde)
    url = "http://localhost/openactive/feeds/events"
    return {str(item["id"]): item for item in walk(app.test_client(), url).items}


@pytest.mark.parametrize("mixin", [True, False], ids=["mixin", "own-columns"])
def test_the_apps_soft_delete_column_makes_tombstones(db_engine: Engine, mixin: bool) -> None:
    """`deleted=Model.deleted_at` is honoured, with FeedMixin too: the app's own soft
    delete, `session.delete()` and the mixin's `is_live` all go by it."""
    Base, Event = _models(mixin=mixin)
    rpde = RPDE()
    extra = {} if mixin else {"modified": Event.stamp}
    rpde.feed(Event, kind="Event", schema=EventSchema(), name="events",
              deleted=Event.deleted_at, **extra)
    _recreate(Base, db_engine)
    with Session(db_engine) as session:
        session.add_all([Event(id=i, name=f"e{i}") for i in (1, 2, 3)])
        session.commit()
        session.get(Event, 1).deleted_at = datetime(2026, 1, 1, 12, 0)  # the app's soft delete
        session.delete(session.get(Event, 2))
        session.commit()
        gone = session.scalar(select(Event.deleted_at).where(Event.id == 2))
        assert gone is not None, "session.delete() must set the app's own column"
        if mixin:
            assert session.scalar(select(Event.deleted).where(Event.id == 2)) is None
            assert [e.id for e in session.scalars(Event.live())] == [3]
            assert not session.get(Event, 1).is_live
    items = _published(db_engine, rpde)
    assert items["1"]["state"] == "deleted" and "data" not in items["1"]
    assert items["2"]["state"] == "deleted"
    assert items["3"] == {**items["3"], "state": "updated", "data": {"name": "e3"}}


def test_a_boolean_soft_delete_flag_makes_tombstones_and_is_never_purged(
    db_engine: Engine,
) -> None:
    Base, Event = _models(mixin=False, flag=True)
    rpde = RPDE()
    feed = rpde.feed(Event, kind="Event", schema=EventSchema(), name="events",
                     modified=Event.stamp, deleted=Event.is_deleted)
    _recreate(Base, db_engine)
    with Session(db_engine) as session:
        session.add_all([Event(id=i, name=f"e{i}") for i in (1, 2, 3)])
        session.commit()
        session.get(Event, 1).is_deleted = True
        session.delete(session.get(Event, 2))
        session.commit()
        assert session.scalar(select(Event.is_deleted).where(Event.id == 2)) is True
        session.add(Event(id=2, name="back"))  # a new row with a tombstone's id revives it
        session.commit()
        assert session.scalar(select(Event.is_deleted).where(Event.id == 2)) is False
    if db_engine.dialect.name != "mysql":  # raw SQL deletes become tombstones too
        with db_engine.begin() as connection:
            connection.execute(text("DELETE FROM event WHERE id = 3"))
    items = _published(db_engine, rpde)
    assert items["1"]["state"] == "deleted"
    assert items["2"]["data"] == {"name": "back"}
    if db_engine.dialect.name != "mysql":
        assert items["3"]["state"] == "deleted"

    def begin() -> t.Any:
        return db_engine.begin()

    purged = purge(begin, feed, timedelta(0), now=datetime.now(UTC) + timedelta(days=30))
    assert purged == 0, "a flag records no time: its tombstones are kept"
    with db_engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Event.__table__)) == 3


def test_a_wall_clock_modified_column_is_refused_at_feed_with_the_reason() -> None:
    class Base(DeclarativeBase):
        pass

    class Event(Base):
        __tablename__ = "event"
        id: Mapped[int] = mapped_column(primary_key=True)
        updated_at: Mapped[datetime] = mapped_column(DateTime())
        deleted_at: Mapped[datetime | None] = mapped_column(DateTime(), nullable=True)

    rpde = RPDE()
    with pytest.raises(ConfigurationError) as error:
        rpde.feed(Event, kind="Event", schema=EventSchema(), modified=Event.updated_at,
                  deleted=Event.deleted_at)
    message = str(error.value)
    assert "updated_at" in message and "integer" in message
    assert "miss" in message, "the message says why: the no-skip guarantee"
    assert "FeedMixin" in message and "flask rpde adopt" in message, "and how to fix it"
    assert len(rpde.feeds) == 0


def test_conflicts_with_the_mixin_are_refused_at_feed() -> None:
    class Base(DeclarativeBase):
        pass

    class Event(FeedMixin, Base):
        __tablename__ = "event"
        id: Mapped[int] = mapped_column(primary_key=True)
        version: Mapped[int] = mapped_column(Integer, default=0)
        kind: Mapped[str] = mapped_column(String(10))
        cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(), nullable=True)

    rpde = RPDE()
    with pytest.raises(ConfigurationError, match="one\\s+stamp"):
        rpde.feed(Event, kind="Event", schema=EventSchema(), modified=Event.version)
    with pytest.raises(ConfigurationError, match="timestamp .* or\\s+a boolean"):
        rpde.feed(Event, kind="Event", schema=EventSchema(), deleted=Event.kind)
    with pytest.raises(ConfigurationError, match="no column 'nope'"):
        rpde.feed(Event, kind="Event", schema=EventSchema(), deleted="nope")
    with pytest.raises(ConfigurationError, match="no column 'cache'"):
        rpde.feed(Event, kind="Event", schema=EventSchema(), data="cache")
    rpde.feed(Event, kind="Event", schema=EventSchema())
    with pytest.raises(ConfigurationError, match="already store"):
        rpde.feed(Event, kind="Event", schema=EventSchema(), name="other", data=Event.kind)
    with pytest.raises(ConfigurationError, match="already mark tombstones"):
        rpde.feed(
            Event, kind="Event", schema=EventSchema(), name="again", deleted=Event.cancelled_at
        )


def test_expires_takes_an_sql_expression_or_is_refused_at_feed(sqlite_engine: Engine) -> None:
    Base, Event = _models(mixin=True)
    rpde = RPDE()
    with pytest.raises(ConfigurationError, match="expires= must be"):
        rpde.feed(Event, kind="Event", schema=EventSchema(), expires=42)
    with pytest.raises(ConfigurationError, match="names no column"):
        rpde.feed(Event, kind="Event", schema=EventSchema(), expires="finish")
    # An expression: items end an hour after `ends` (say, a changeover time).
    feed = rpde.feed(Event, kind="Event", schema=EventSchema(), name="events",
                     expires=func.datetime(Event.ends, "+1 hour"))
    _recreate(Base, sqlite_engine)
    now = datetime.now(UTC).replace(tzinfo=None)
    with Session(sqlite_engine) as session:
        session.add_all([
            Event(id=1, name="long past", ends=now - timedelta(hours=3)),
            Event(id=2, name="within the hour", ends=now - timedelta(minutes=10)),
            Event(id=3, name="future", ends=now + timedelta(hours=1)),
        ])
        session.commit()
    assert retire(sqlite_engine.begin, feed) == 1
    with Session(sqlite_engine) as session:
        assert [e.id for e in session.scalars(Event.live().order_by(Event.id))] == [2, 3]
