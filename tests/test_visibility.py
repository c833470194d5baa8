"""What the database-side stamping guarantees, transaction by transaction."""

from __future__ import annotations

import json
import typing as t

import pytest
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from rpde_publisher import RPDE
from rpde_publisher.backends import backend_for
from rpde_publisher.status import feed_status

from .models import make_app
from .models import register_feeds
from .walking import settle
from .walking import walk

FEED = "http://localhost/openactive/feeds/session-series"


def ids_in_feed(client: t.Any) -> list[int]:
    return [item["id"] for item in walk(client, FEED).items]


def test_an_open_transaction_holds_the_feed_back_then_releases_it_in_order(
    pg_engine: Engine, models: t.Any, rpde: t.Any
) -> None:
    models.Base.metadata.drop_all(pg_engine)
    models.Base.metadata.create_all(pg_engine)
    app = make_app(pg_engine, rpde)
    client = app.test_client()
    feed = rpde.feeds.get("session-series")
    stalled = Session(pg_engine)
    try:
        stalled.add(models.Series(name="slow booking"))
        stalled.flush()  # holds a transaction id from now on
        with Session(pg_engine) as quick:
            quick.add_all([models.Series(name=f"quick {i}") for i in range(3)])
            quick.commit()
        assert ids_in_feed(client) == [], "later commits wait behind the open transaction"
        with pg_engine.connect() as connection:
            status = feed_status(connection, feed, 0)
        assert status.lag.hidden_changes == 3
        assert status.lag.seconds > 0
        assert "open write transaction" in status.lag.reason
        result = app.test_cli_runner().invoke(args=["rpde", "status", "session-series"])
        assert "3 change(s) not visible yet" in result.output
        stalled.commit()
        settle(pg_engine)  # other write transactions on a shared server count too
        assert sorted(ids_in_feed(client)) == [1, 2, 3, 4], "all appear once it ends"
        with pg_engine.connect() as connection:
            assert feed_status(connection, feed, 0).lag.hidden_changes == 0
    finally:
        stalled.close()
        models.Base.metadata.drop_all(pg_engine)


def test_read_only_transactions_do_not_hold_the_feed_back(
    pg_engine: Engine, models: t.Any, rpde: t.Any
) -> None:
    models.Base.metadata.drop_all(pg_engine)
    models.Base.metadata.create_all(pg_engine)
    reader = Session(pg_engine)
    try:
        reader.execute(select(models.Series)).all()  # an open transaction that only reads
        with Session(pg_engine) as writer:
            writer.add(models.Series(name="visible"))
            writer.commit()
        settle(pg_engine)
        assert ids_in_feed(make_app(pg_engine, rpde).test_client()) == [1]
    finally:
        reader.close()
        models.Base.metadata.drop_all(pg_engine)


def test_raw_sql_writes_are_stamped_and_deletes_become_tombstones(
    tables: Engine, models: t.Any, client: t.Any
) -> None:
    with Session(tables) as session:
        session.add_all([models.Series(name="a"), models.Series(name="b")])
        session.commit()
    with tables.begin() as connection:
        before = dict(connection.execute(text("SELECT id, modified FROM series")).all())
        connection.execute(text("UPDATE series SET name = 'raw' WHERE id = 1"))
        connection.execute(text("INSERT INTO series (id, name) VALUES (3, 'raw insert')"))
    with tables.begin() as connection:
        if tables.dialect.name != "mysql":  # MySQL triggers cannot keep a deleted row
            connection.execute(text("DELETE FROM series WHERE id = 2"))
        after = dict(connection.execute(text("SELECT id, modified FROM series")).all())
    assert after[1] > max(before.values()) and after[3] > 0
    settle(tables)
    items = {item["id"]: item for item in walk(client, FEED).items}
    # Raw SQL cannot render data: the feed renders it on request.
    assert items[1]["data"]["name"] == "raw"
    assert items[3]["data"]["name"] == "raw insert"
    if tables.dialect.name != "mysql":
        assert items[2]["state"] == "deleted" and "data" not in items[2]


def test_an_unchanged_row_is_not_moved(tables: Engine, models: t.Any) -> None:
    with Session(tables) as session:
        session.add(models.Series(name="same"))
        session.commit()
        before = session.scalar(select(models.Series.modified))
        with tables.begin() as connection:
            connection.execute(text("UPDATE series SET name = name"))
        series = session.get(models.Series, 1)
        series.name = "same"
        session.commit()
        assert session.scalar(select(models.Series.modified)) == before


def test_writing_modified_touches_the_row(tables: Engine, models: t.Any) -> None:
    with Session(tables) as session:
        session.add(models.Series(name="touch me"))
        session.commit()
        before = session.scalar(select(models.Series.modified))
    with tables.begin() as connection:
        connection.execute(text("UPDATE series SET modified = 0 WHERE id = 1"))
    with Session(tables) as session:
        assert session.scalar(select(models.Series.modified)) > before


def test_change_numbers_are_unique_within_one_transaction(
    tables: Engine, models: t.Any, client: t.Any
) -> None:
    with Session(tables) as session:
        session.execute(insert(models.Change), [{"name": f"c{i}"} for i in range(50)])
        session.commit()
    with tables.begin() as connection:  # one statement changing every row at once, no ORM
        connection.execute(models.Change.__table__.update().values(name="renamed"))
    with Session(tables) as session:
        numbers = session.scalars(select(models.Change.modified)).all()
    assert len(set(numbers)) == 50 and all(0 < n <= 2**53 for n in numbers)
    settle(tables)
    items = walk(client, "http://localhost/openactive/feeds/events").items
    assert sorted(item["id"] for item in items) == list(range(1, 51))
    assert all(item["data"] == {"name": "renamed"} for item in items)


def test_triggers_are_reported_installed(tables: Engine, rpde: t.Any) -> None:
    feed = rpde.feeds.get("session-series")
    with tables.connect() as connection:
        assert backend_for(connection.dialect).is_installed(feed.spec, connection)


@pytest.mark.parametrize("ordering_feed", ["session-series", "events"])
def test_stored_data_matches_what_the_feed_serves(
    tables: Engine, models: t.Any, client: t.Any, ordering_feed: str
) -> None:
    with Session(tables) as session:
        session.add_all([models.Series(name="x"), models.Change(name="y")])
        session.commit()
        stored = {
            "session-series": json.loads(session.scalar(select(models.Series.rpde_data))),
            "events": json.loads(session.scalar(select(models.Change.rpde_data))),
        }
    settle(tables)
    served = client.get(f"/openactive/feeds/{ordering_feed}").get_json()["items"][0]["data"]
    assert served == stored[ordering_feed]


def test_changing_the_most_recently_stamped_row_moves_it(
    tables: Engine, models: t.Any, client: t.Any
) -> None:
    # Found by the SQLite soak: a row whose stamp was the newest in the database (no
    # write in between) must still be stamped again when it changes or is deleted.
    with Session(tables) as session:
        session.add(models.Series(name="newest"))
        session.commit()
        first = session.scalar(select(models.Series.modified))
        session.get(models.Series, 1).name = "edited straight after"
        session.commit()
        second = session.scalar(select(models.Series.modified))
        session.delete(session.get(models.Series, 1))
        session.commit()
        third = session.scalar(select(models.Series.modified))
    assert first < second < third
    settle(tables)
    assert walk(client, FEED).items[-1]["state"] == "deleted"


def test_sqlite_triggers_work_with_recursive_triggers_on(
    sqlite_engine: Engine, models: t.Any, rpde: t.Any
) -> None:
    from sqlalchemy import event

    @event.listens_for(sqlite_engine, "connect")
    def _recursive(dbapi_connection: t.Any, record: t.Any) -> None:
        dbapi_connection.execute("PRAGMA recursive_triggers = ON")

    sqlite_engine.dispose()
    models.Base.metadata.create_all(sqlite_engine)
    with Session(sqlite_engine) as session:
        session.add_all([models.Series(name="a"), models.Series(name="b")])
        session.commit()
        session.get(models.Series, 2).name = "b2"
        session.commit()
        session.delete(session.get(models.Series, 1))
        session.commit()
        rows = session.execute(
            select(models.Series.id, models.Series.modified, models.Series.deleted)
        ).all()
    stamps = {id_: modified for id_, modified, _ in rows}
    assert stamps[1] > stamps[2] > 0, "each change stamped once, no runaway recursion"
    assert [deleted is not None for _, _, deleted in rows] == [True, False]


@pytest.fixture
def render_at() -> str:
    return "commit"


@pytest.fixture
def rpde(models: t.Any, render_at: str) -> RPDE:
    """The standard feeds, rendering at commit unless a test asks for ``render_at``."""
    extension = RPDE()
    register_feeds(extension, models, render_at=render_at)
    return extension


@pytest.mark.parametrize("render_at", ["commit", "read"])
@pytest.mark.parametrize("db_engine", ["mysql"], indirect=True)
def test_mysql_stamps_orm_writes_again_just_before_the_commit(
    tables: Engine, models: t.Any, render_at: str
) -> None:
    """Clock stamps: a transaction that was slow to commit (lock waits, say) must not
    commit stamps older than the settle lag, tombstones included, whether it renders the
    items (render_at="commit") or not ("read")."""
    with Session(tables) as session:
        session.add_all([models.Series(name="Swim"), models.Series(name="Yoga")])
        session.commit()
    with Session(tables) as session:
        swim, yoga = session.scalars(select(models.Series).order_by(models.Series.id)).all()
        swim.name = "Swim club"
        session.delete(yoga)
        session.flush()  # both stamped now, by the triggers
        flushed = session.scalar(select(models.Series.modified).where(models.Series.id == yoga.id))
        session.execute(text("DO SLEEP(0.3)"))
        clock = "TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP(6))"
        before_commit = session.scalar(text(f"SELECT {clock}"))
        session.commit()
    with Session(tables) as session:
        stamps = session.scalars(select(models.Series.modified).order_by(models.Series.id)).all()
    assert flushed is not None and before_commit - flushed >= 300_000
    assert all(stamp >= before_commit for stamp in stamps), (stamps, before_commit)
