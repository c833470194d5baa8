"""A read stores the data it rendered, only where no writer can make it stale; render_at="read"."""

from __future__ import annotations

import json
import threading
import typing as t

import pytest
from flask import Flask
from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from rpde_publisher import RPDE
from rpde_publisher.backends.sqlite import STORE_BUSY_MILLISECONDS
from rpde_publisher.errors import ConfigurationError
from rpde_publisher.sessions import SessionSource
from rpde_publisher.store import store_rendered

from .models import make_app
from .models import Models
from .models import register_feeds
from .races import new_place
from .walking import settle
from .walking import walk

FEED = "http://localhost/openactive/feeds/session-series"


@pytest.fixture(params=["commit", "read"])
def render_at(request: pytest.FixtureRequest) -> str:
    return t.cast(str, request.param)


@pytest.fixture
def rpde(models: Models, render_at: str) -> RPDE:
    extension = RPDE()
    register_feeds(extension, models, render_at=render_at)
    return extension


def row(engine: Engine, models: Models, series_id: int) -> tuple[t.Any, t.Any]:
    """The series' stored data (parsed) and its stamp, read afresh."""
    with engine.connect() as connection:
        data, modified = connection.execute(
            select(models.Series.rpde_data, models.Series.modified).where(
                models.Series.id == series_id
            )
        ).one()
    return (json.loads(data) if data is not None else None), modified


def rendered_on_read(app: Flask) -> dict[str, float]:
    """``rpde_items_rendered_on_read_total`` of the series feed, by its ``stored`` label."""
    totals, _ = app.extensions["rpde_publisher"].state(app).metrics.totals()
    prefix = 'rpde_items_rendered_on_read_total{feed="session-series",stored="'
    return {key[len(prefix) : -2]: value for key, value in totals.items() if key.startswith(prefix)}


def feed_items(engine: Engine, client: t.Any) -> dict[t.Any, dict[str, t.Any]]:
    settle(engine)
    return {item["id"]: item for item in walk(client, FEED).items}


def add_series(engine: Engine, models: Models, render_at: str, name: str, place_id: int) -> int:
    """A series written the way that leaves it without data: raw SQL, or the ORM when the
    feed renders on read."""
    if render_at == "commit":
        with engine.begin() as connection:
            connection.execute(insert(models.Series).values(name=name, place_id=place_id))
            return t.cast(int, connection.execute(select(models.Series.id)).scalars().all()[-1])
    with Session(engine) as session:
        series = models.Series(name=name, place_id=place_id)
        session.add(series)
        session.commit()
        return t.cast(int, series.id)


def test_a_read_stores_the_data_it_rendered_without_moving_the_item(
    tables: Engine, models: Models, client: t.Any, render_at: str
) -> None:
    pool = new_place(tables, models, "Pool")
    series_id = add_series(tables, models, render_at, "Swim", pool)
    data, modified = row(tables, models, series_id)
    assert data is None, "nothing rendered the item at its write"
    first = feed_items(tables, client)
    assert first[series_id]["data"]["place"] == {"name": "Pool"}
    data, modified_after = row(tables, models, series_id)
    assert data == first[series_id]["data"], "the read stored what it served"
    assert modified_after == modified, "storing the data is not a change of the item"
    assert feed_items(tables, client) == first
    assert rendered_on_read(client.application) == {"true": 1}


@pytest.mark.parametrize("render_at", ["read"])  # this mode only
def test_render_at_read_writes_render_nothing_and_edits_clear_the_data(
    tables: Engine, models: Models, client: t.Any, render_at: str
) -> None:
    pool = new_place(tables, models, "Pool")
    series_id = add_series(tables, models, render_at, "Swim", pool)
    feed_items(tables, client)
    assert row(tables, models, series_id)[0] is not None
    with Session(tables) as session:  # an embedded row changes: the item moves, cleared
        place = session.get(models.Place, pool)
        assert place is not None
        place.name = "Lido"
        session.commit()
    data, _ = row(tables, models, series_id)
    assert data is None, "the old place name is not kept"
    assert feed_items(tables, client)[series_id]["data"]["place"] == {"name": "Lido"}
    with Session(tables) as session:  # the item itself changes
        series = session.get(models.Series, series_id)
        assert series is not None
        series.name = "Swim club"
        session.commit()
    assert row(tables, models, series_id)[0] is None
    assert feed_items(tables, client)[series_id]["data"]["name"] == "Swim club"
    assert row(tables, models, series_id)[0]["name"] == "Swim club"


def test_an_item_changed_since_its_page_was_read_is_not_stored(
    tables: Engine, models: Models, rpde: RPDE, render_at: str
) -> None:
    pool = new_place(tables, models, "Pool")
    series_id = add_series(tables, models, render_at, "Swim", pool)
    _, shown = row(tables, models, series_id)
    with tables.begin() as connection:  # a raw SQL edit: new stamp, data still none
        connection.execute(
            models.Series.__table__.update()
            .where(models.Series.__table__.c.id == series_id)
            .values(name="Swim club")
        )
    spec = rpde.feeds.get("session-series").spec  # type: ignore[union-attr]
    with tables.begin() as connection:
        assert store_rendered(connection, spec, [(series_id, shown)]) == {}
    assert row(tables, models, series_id)[0] is None
    with tables.begin() as connection:
        assert store_rendered(connection, spec, [(series_id, row(tables, models, series_id)[1])])
    assert row(tables, models, series_id)[0]["name"] == "Swim club"


def test_a_read_inside_the_apps_transaction_stores_on_a_connection_of_its_own(
    tables: Engine, models: Models, client: t.Any, render_at: str
) -> None:
    """The app's session is already in a transaction (its organisation lookup, say): the
    read stores the data on another connection and leaves that transaction open."""
    series_id = add_series(tables, models, render_at, "Swim", new_place(tables, models, "Pool"))
    with Session(tables) as session:
        session.execute(select(1))  # the app's own transaction is open
        with SessionSource(lambda: session).writing(models.Series.__table__) as connection:
            assert connection is not None and connection is not session.connection()
        assert session.in_transaction(), "the app's transaction is not ended here"
    settle(tables)
    app_session = client.application.extensions["test_session"]
    app_session.execute(select(1))  # the scoped session the feed borrows, mid-transaction
    try:
        assert client.get(FEED).status_code == 200
    finally:
        app_session.remove()
    assert row(tables, models, series_id)[0]["name"] == "Swim"


def test_render_at_is_checked(models: Models) -> None:
    rpde = RPDE()
    with pytest.raises(ConfigurationError, match="render_at must be"):
        rpde.feed(models.Series, kind="SessionSeries", schema=models.SeriesSchema, render_at="x")  # type: ignore[arg-type]
    rpde.feed(models.Series, kind="SessionSeries", schema=models.SeriesSchema, render_at="read")
    with pytest.raises(ConfigurationError, match="render_at='read'"):
        rpde.feed(models.Series, kind="SessionSeries", schema=models.SeriesSchema, name="again")


# Writers holding rows: the read must neither wait for them nor store around them.


def read_in_thread(app: Flask) -> dict[t.Any, dict[str, t.Any]]:
    """The feed read in another thread, which must finish while the writer still holds
    its rows: a read that waited for the writer would never get there. (Not settled:
    on PostgreSQL the writer's open transaction holds back what commits after it.)"""
    found: dict[t.Any, dict[str, t.Any]] = {}

    def read() -> None:
        found.update({item["id"]: item for item in walk(app.test_client(), FEED).items})

    reader = threading.Thread(target=read)
    reader.start()
    reader.join(timeout=60)
    assert not reader.is_alive(), "the read waited for a writer"
    return found


def test_a_read_leaves_an_item_a_writer_holds(
    race_engine: Engine, models: Models, rpde: RPDE, render_at: str
) -> None:
    app = make_app(race_engine, rpde)
    series_id = add_series(
        race_engine, models, render_at, "Swim", new_place(race_engine, models, "Pool")
    )
    settle(race_engine)
    with race_engine.connect() as writer:
        writer.execute(
            text("UPDATE series SET notes = 'held' WHERE id = :id"), {"id": series_id}
        )  # holds the row, uncommitted
        assert read_in_thread(app)[series_id]["data"]["name"] == "Swim"
        assert row(race_engine, models, series_id)[0] is None, "the held item was skipped"
        writer.rollback()
    feed_items(race_engine, app.test_client())
    assert row(race_engine, models, series_id)[0]["name"] == "Swim"


def test_a_read_does_not_store_an_item_whose_place_a_writer_holds(
    race_engine: Engine, models: Models, rpde: RPDE, render_at: str
) -> None:
    """A place renamed but not committed: a read renders the old name, which the rename
    might not replace (an item linked to the place after the rename looked for its
    items is not found), so the read must not store it. Raw SQL here, so that the
    rename holds the place's row and not the item's, as in that race."""
    app = make_app(race_engine, rpde)
    pool = new_place(race_engine, models, "Pool")
    series_id = add_series(race_engine, models, render_at, "Swim", pool)
    settle(race_engine)
    with race_engine.connect() as writer:
        writer.execute(text("UPDATE place SET name = 'Lido' WHERE id = :id"), {"id": pool})
        assert read_in_thread(app)[series_id]["data"]["place"] == {"name": "Pool"}
        assert row(race_engine, models, series_id)[0] is None, "the old name was not stored"
        writer.commit()
    read_in_thread(app)
    assert row(race_engine, models, series_id)[0]["place"] == {"name": "Lido"}


def render_missing(app: Flask) -> str:
    """``flask rpde render --missing`` in another thread, which must finish while a writer
    holds rows (as :func:`read_in_thread`); its output."""
    output: list[str] = []

    def run() -> None:
        result = app.test_cli_runner().invoke(
            args=["rpde", "render", "session-series", "--missing"]
        )
        assert result.exit_code == 0, result.output
        output.append(result.output)

    runner = threading.Thread(target=run)
    runner.start()
    runner.join(timeout=60)
    assert not runner.is_alive(), "render --missing waited for a writer"
    assert output, "render --missing failed"
    return output[0]


def test_render_missing_stores_the_data_without_moving_the_items(
    tables: Engine, models: Models, app: Flask, render_at: str
) -> None:
    pool = new_place(tables, models, "Pool")
    ids = [add_series(tables, models, render_at, name, pool) for name in ("Swim", "Gym")]
    before = {id_: row(tables, models, id_) for id_ in ids}
    assert all(data is None for data, _ in before.values())
    assert "rendered 2 item(s)" in render_missing(app)
    served = feed_items(tables, app.test_client())
    for id_ in ids:
        data, modified = row(tables, models, id_)
        assert data == served[id_]["data"] and data["place"] == {"name": "Pool"}
        assert modified == before[id_][1], "storing the data is not a change of the item"
    assert "rendered 0 item(s)" in render_missing(app)


def test_render_missing_leaves_an_item_a_writer_holds(
    race_engine: Engine, models: Models, rpde: RPDE, render_at: str
) -> None:
    app = make_app(race_engine, rpde)
    pool = new_place(race_engine, models, "Pool")
    held, free = (add_series(race_engine, models, render_at, n, pool) for n in ("Swim", "Gym"))
    with race_engine.connect() as writer:
        writer.execute(text("UPDATE series SET notes = 'held' WHERE id = :id"), {"id": held})
        assert "rendered 1 item(s)" in render_missing(app)
        assert row(race_engine, models, held)[0] is None, "the held item was skipped"
        assert row(race_engine, models, free)[0]["name"] == "Gym"
        writer.rollback()
    assert "rendered 1 item(s)" in render_missing(app)
    assert row(race_engine, models, held)[0]["name"] == "Swim"


@pytest.mark.parametrize("storer", ["a page read", "render --missing"])
def test_nothing_is_stored_while_another_sqlite_writer_holds_the_database(
    sqlite_engine: Engine, models: Models, rpde: RPDE, render_at: str, storer: str
) -> None:
    models.Base.metadata.create_all(sqlite_engine)
    app = make_app(sqlite_engine, rpde)
    series_id = add_series(
        sqlite_engine, models, render_at, "Swim", new_place(sqlite_engine, models, "Pool")
    )
    with sqlite_engine.connect() as writer:
        writer.exec_driver_sql("UPDATE place SET name = name")  # takes the write lock
        if storer == "a page read":
            assert read_in_thread(app)[series_id]["data"]["name"] == "Swim"
        else:
            assert "rendered 0 item(s)" in render_missing(app)
        writer.rollback()
    assert row(sqlite_engine, models, series_id)[0] is None
    if storer == "a page read":
        feed_items(sqlite_engine, app.test_client())
    else:
        assert "rendered 1 item(s)" in render_missing(app)
    assert row(sqlite_engine, models, series_id)[0]["name"] == "Swim"


def test_a_sqlite_store_waits_for_other_writers_briefly_then_restores_the_wait(
    sqlite_engine: Engine, models: Models, rpde: RPDE, render_at: str
) -> None:
    """The store holds SQLite's busy timeout to STORE_BUSY_MILLISECONDS while it writes,
    then gives the pooled connection back with the app's own (30 s here)."""
    models.Base.metadata.create_all(sqlite_engine)
    app = make_app(sqlite_engine, rpde)
    series_id = add_series(
        sqlite_engine, models, render_at, "Swim", new_place(sqlite_engine, models, "Pool")
    )
    statements: list[str] = []

    @event.listens_for(sqlite_engine, "before_cursor_execute")
    def _record(conn: t.Any, cursor: t.Any, statement: str, *args: t.Any) -> None:
        statements.append(" ".join(statement.split()))

    feed_items(sqlite_engine, app.test_client())
    event.remove(sqlite_engine, "before_cursor_execute", _record)
    assert row(sqlite_engine, models, series_id)[0]["name"] == "Swim"
    short = statements.index(f"PRAGMA busy_timeout = {STORE_BUSY_MILLISECONDS}")
    store = next(i for i, s in enumerate(statements) if s.startswith("UPDATE series SET rpde_data"))
    restored = statements.index("PRAGMA busy_timeout = 30000")
    assert short < store < restored
    with sqlite_engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_status_says_unrendered_items_wait_for_a_read(
    tables: Engine, models: Models, app: Flask, render_at: str
) -> None:
    add_series(tables, models, render_at, "Swim", new_place(tables, models, "Pool"))
    result = app.test_cli_runner().invoke(args=["rpde", "status", "session-series"])
    assert result.exit_code == 0 and "unrendered:     1" in result.output
    assert ("the next read that shows them renders them" in result.output) == (render_at == "read")


def test_a_primary_that_refuses_the_store_still_serves_the_page(
    pg_url: str, models: Models, rpde: RPDE, render_at: str
) -> None:
    """Feed reads whose database user may not write (every transaction read-only here):
    the page is served with the rendered data, nothing is stored, no 500."""
    engine = create_engine(pg_url)
    models.Base.metadata.drop_all(engine)
    models.Base.metadata.create_all(engine)
    read_only = create_engine(
        pg_url, connect_args={"options": "-c default_transaction_read_only=on"}
    )
    try:
        series_id = add_series(engine, models, render_at, "Swim", new_place(engine, models, "Pool"))
        client = make_app(read_only, rpde).test_client()
        assert feed_items(engine, client)[series_id]["data"]["name"] == "Swim"
        assert row(engine, models, series_id)[0] is None, "nothing stored"
        assert rendered_on_read(client.application) == {"false": 1}, "left, and counted"
    finally:
        read_only.dispose()
        models.Base.metadata.drop_all(engine)
        engine.dispose()
