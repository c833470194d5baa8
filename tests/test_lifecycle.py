"""Retention, purging, retiring the past, re-rendering and adopting an existing database."""

from __future__ import annotations

import json
import typing as t
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from datetime import timedelta
from datetime import UTC

import pytest
from sqlalchemy import select
from sqlalchemy import String
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import Session

from rpde_publisher import FeedMixin
from rpde_publisher import RPDE
from rpde_publisher.lifecycle import backfill
from rpde_publisher.lifecycle import purge
from rpde_publisher.lifecycle import retire
from rpde_publisher.migration import install_triggers
from rpde_publisher.migration import trigger_sql

from .models import make_app
from .models import Models
from .walking import settle
from .walking import walk

SERIES = "http://localhost/openactive/feeds/session-series"
WEEK = timedelta(days=7)


def transactions(engine: Engine) -> t.Callable[[], t.ContextManager[Connection]]:
    @contextmanager
    def begin() -> Iterator[Connection]:
        with engine.begin() as connection:
            yield connection

    return begin


def live_data(engine: Engine, models: Models) -> dict[int, t.Any]:
    with Session(engine) as session:
        rows = session.execute(
            select(models.Series.id, models.Series.rpde_data).where(models.Series.deleted.is_(None))
        )
        return {id_: json.loads(data) for id_, data in rows}


def test_a_consumer_away_for_less_than_the_retention_misses_nothing(
    tables: Engine, models: Models, rpde: RPDE, client: t.Any
) -> None:
    with Session(tables) as session:
        session.add_all([models.Series(name=f"s{i}") for i in range(10)])
        session.commit()
        settle(tables)
        first = walk(client, SERIES)  # the consumer harvests, then stops
        for id_ in (1, 2, 3):
            session.delete(session.get(models.Series, id_))
        session.get(models.Series, 4).name = "changed"
        session.add(models.Series(name="new"))
        session.commit()
    feed = rpde.feeds.get("session-series")
    now = datetime.now(UTC)
    purged = purge(transactions(tables), feed, WEEK, now=now + WEEK - timedelta(minutes=1))
    assert purged == 0, "tombstones younger than the retention stay"
    settle(tables)
    resumed = walk(client, first.last_url, copy=first.copy)
    assert resumed.copy == live_data(tables, models)
    assert {i["id"] for i in resumed.items if i["state"] == "deleted"} == {1, 2, 3}

    # A week later the tombstones go; a new consumer never hears of them.
    assert purge(transactions(tables), feed, WEEK, now=now + WEEK + timedelta(minutes=1)) == 3
    with Session(tables) as session:
        assert session.scalar(select(models.Series.id).where(models.Series.id == 1)) is None
    fresh = walk(client, SERIES)
    assert fresh.copy == live_data(tables, models)
    assert all(item["state"] == "updated" for item in fresh.items)


def test_purge_command_dry_run_then_purge(tables: Engine, models: Models, app: t.Any) -> None:
    with Session(tables) as session:
        session.add_all([models.Series(name=f"s{i}") for i in range(5)])
        session.commit()
        for id_ in (1, 2):
            session.delete(session.get(models.Series, id_))
        session.commit()
    with tables.begin() as connection:  # one tombstone is eight days old
        connection.execute(
            models.Series.__table__.update()
            .where(models.Series.id == 1)
            .values(deleted=datetime.now(UTC) - timedelta(days=8))
        )
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["rpde", "purge", "session-series", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "session-series: 1 tombstone(s) older than 7 days, 0:00:00 would be purged" in dry.output
    with Session(tables) as session:
        assert session.scalar(select(models.Series.id).where(models.Series.id == 1)) == 1
    real = runner.invoke(args=["rpde", "purge"])
    assert real.exit_code == 0, real.output
    assert "Purged 1 tombstone(s) in all." in real.output
    with Session(tables) as session:
        remaining = session.scalars(select(models.Series.id).order_by(models.Series.id)).all()
    assert remaining == [2, 3, 4, 5]


def test_per_feed_retention_and_its_warning(models: Models) -> None:
    rpde = RPDE()
    with pytest.warns(UserWarning, match="less than the 7 days"):
        feed = rpde.feed(
            models.Facility, kind="FacilityUse/Slot", schema=models.FacilitySchema, retention=2
        )
    assert feed.retention == timedelta(days=2)
    assert rpde.feed(
        models.Change, kind="Event", schema=models.ChangeSchema, retention=timedelta(days=30)
    ).retention == timedelta(days=30)


def test_retiring_past_items(db_engine: Engine, models: Models) -> None:
    rpde = RPDE()
    rpde.feed(models.Series, kind="SessionSeries", schema=models.SeriesSchema)
    feed = rpde.feed(
        models.Occurrence,
        kind="ScheduledSession",
        schema=models.OccurrenceSchema,
        expires=models.Occurrence.starts,
    )
    models.Base.metadata.drop_all(db_engine)
    models.Base.metadata.create_all(db_engine)
    try:
        now = datetime.now(UTC)
        with Session(db_engine) as session:
            series = models.Series(name="s")
            session.add_all(
                [
                    models.Occurrence(series=series, starts=now + timedelta(hours=h))
                    for h in (-48, -1, 1, 48)
                ]
            )
            session.commit()
        app = make_app(db_engine, rpde)
        result = app.test_cli_runner().invoke(args=["rpde", "retire"])
        assert result.exit_code == 0, result.output
        assert "scheduled-sessions: retired 2 past item(s)" in result.output
        assert retire(transactions(db_engine), feed) == 0, "already retired"
        settle(db_engine)
        items = walk(
            app.test_client(), "http://localhost/openactive/feeds/scheduled-sessions"
        ).items
        assert {i["id"]: i["state"] for i in items} == {
            1: "deleted",
            2: "deleted",
            3: "updated",
            4: "updated",
        }
    finally:
        models.Base.metadata.drop_all(db_engine)


def test_render_missing_fills_data_left_empty_by_raw_sql(
    tables: Engine, models: Models, app: t.Any
) -> None:
    with Session(tables) as session:
        session.add_all([models.Series(name="a"), models.Series(name="b")])
        session.commit()
    with tables.begin() as connection:
        connection.execute(text("UPDATE series SET name = 'raw' WHERE id = 1"))
    with Session(tables) as session:
        assert session.scalar(select(models.Series.rpde_data).where(models.Series.id == 1)) is None
    status = app.test_cli_runner().invoke(args=["rpde", "status", "--json"])
    assert json.loads(status.output)[0]["unrendered"] == 1
    assert json.loads(status.output)[0]["render_at"] == "commit"
    result = app.test_cli_runner().invoke(args=["rpde", "render", "session-series", "--missing"])
    assert result.exit_code == 0 and "rendered 1 item(s)" in result.output
    assert live_data(tables, models)[1]["name"] == "raw"


class LegacyBase(DeclarativeBase):
    pass


class Venue(FeedMixin, LegacyBase):
    """A table that existed before the toolkit; the migration adds the feed columns."""

    __tablename__ = "venue"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


ADD_COLUMNS = {
    "sqlite": [
        "ALTER TABLE venue ADD COLUMN modified BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE venue ADD COLUMN deleted DATETIME",
        "ALTER TABLE venue ADD COLUMN rpde_data TEXT",
    ],
    "postgresql": [
        "ALTER TABLE venue ADD COLUMN modified BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE venue ADD COLUMN deleted TIMESTAMP WITH TIME ZONE",
        "ALTER TABLE venue ADD COLUMN rpde_data TEXT",
    ],
    "mysql": [
        "ALTER TABLE venue ADD COLUMN modified BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE venue ADD COLUMN deleted DATETIME(6)",
        "ALTER TABLE venue ADD COLUMN rpde_data TEXT",
    ],
}


def test_adopting_the_toolkit_on_an_existing_table(db_engine: Engine) -> None:
    from marshmallow import fields
    from marshmallow import Schema

    class VenueSchema(Schema):
        name = fields.String()

    rpde = RPDE()
    rpde.feed(Venue, kind="Place", schema=VenueSchema, name="venues")
    with db_engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS venue"))
        connection.execute(text("CREATE TABLE venue (id INTEGER PRIMARY KEY, name VARCHAR(100))"))
        for n in range(1, 8):
            connection.execute(
                text("INSERT INTO venue (id, name) VALUES (:id, :name)"), {"id": n, "name": f"v{n}"}
            )
    try:
        with db_engine.begin() as connection:  # the migration
            for statement in ADD_COLUMNS[db_engine.dialect.name]:
                connection.execute(text(statement))
            connection.execute(text("CREATE INDEX ix_venue_rpde_order ON venue (modified, id)"))
            install_triggers(connection, Venue)
        app = make_app(db_engine, rpde)
        url = "http://localhost/openactive/feeds/venues"
        assert walk(app.test_client(), url).items == [], "rows are not stamped yet"
        assert backfill(transactions(db_engine), rpde.feeds.get("venues")) == 7
        settle(db_engine)
        items = walk(app.test_client(), url).items
        assert sorted(i["id"] for i in items) == list(range(1, 8))
        assert all(i["state"] == "updated" and i["data"]["name"] == f"v{i['id']}" for i in items)
        with Session(db_engine) as session:  # and the app's writes are tracked from now on
            session.get(Venue, 3).name = "renamed"
            session.commit()
        settle(db_engine)
        assert walk(app.test_client(), url).items[-1]["data"] == {"name": "renamed"}
    finally:
        with db_engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS venue"))
            if db_engine.dialect.name == "postgresql":
                connection.execute(text("DROP FUNCTION IF EXISTS rpde_stamp_venue() CASCADE"))
                connection.execute(text("DROP FUNCTION IF EXISTS rpde_tombstone_venue() CASCADE"))


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite", "mysql"])
def test_trigger_sql_for_offline_migrations(models: Models, dialect: str) -> None:
    statements = trigger_sql(models.Series, dialect)
    assert any("CREATE TRIGGER" in statement for statement in statements)
    assert all("series" in statement for statement in statements if "TRIGGER" in statement)
