"""Embedded rows changed while items that embed them are written, on real databases.

Each test holds one transaction at the step where the race would do harm, runs the
other in a thread, and checks that the stored data ends up with both changes: an item's
data must never keep a place's old name once both transactions have committed.
"""

from __future__ import annotations

import json
import threading
import time
import typing as t
from collections.abc import Callable
from datetime import datetime
from datetime import UTC

import pytest
from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from rpde_publisher import RPDE
from rpde_publisher.embedding import lock_embedded_rows

from .models import Models

pytestmark = pytest.mark.slow


def waits_for_a_lock(engine: Engine, done: Callable[[], bool], seconds: float = 5) -> bool:
    """Whether some session waits for a row lock before ``done()`` or the time is up."""
    if engine.dialect.name == "postgresql":
        lock_waits = text(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
    else:  # MariaDB: a statement of another connection that has been running for a while
        lock_waits = text(
            "SELECT count(*) FROM information_schema.processlist WHERE command = 'Query'"
            " AND id <> connection_id() AND db = database() AND time_ms > 300"
        )
    with engine.connect() as watcher:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not done():
            waiting = watcher.execute(lock_waits).scalar()
            watcher.rollback()  # pg_stat_activity is read once per transaction
            if waiting:
                return True
            time.sleep(0.02)
    return False


def in_thread(work: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=work)
    thread.start()
    return thread


def rename(
    engine: Engine, models: Models, place_id: int, name: str, *, bulk: bool = False
) -> Callable[[], None]:
    def work() -> None:
        with Session(engine) as session:
            if bulk:  # a bulk ORM UPDATE: tracking's other path
                session.execute(
                    update(models.Place).where(models.Place.id == place_id).values(name=name)
                )
            else:
                place = session.get(models.Place, place_id)
                assert place is not None
                place.name = name
            session.commit()

    return work


def new_place(engine: Engine, models: Models, name: str = "Pool") -> int:
    with Session(engine) as session:
        place = models.Place(name=name)
        session.add(place)
        session.commit()
        return t.cast(int, place.id)


def stored_data(engine: Engine, models: Models, series_id: int) -> dict[str, t.Any]:
    with Session(engine) as session:
        stored = session.scalar(
            select(models.Series.rpde_data).where(models.Series.id == series_id)
        )
    return t.cast(dict[str, t.Any], json.loads(stored or "{}"))


def test_a_parent_edit_racing_an_item_edit_leaves_neither_change_out(
    race_engine: Engine, models: Models
) -> None:
    """An item edited in one transaction while another renames a place it embeds: the
    second re-renders the item, and must do so after the first commits, not before."""
    place_id = new_place(race_engine, models)
    with Session(race_engine) as session:
        series = models.Series(name="Swim", place_id=place_id)
        session.add(series)
        session.commit()
        series_id = series.id
    item_edit = Session(race_engine)
    edited = item_edit.get(models.Series, series_id)
    assert edited is not None
    edited.name = "Swim club"
    item_edit.flush()  # the item's row is now locked until this transaction ends
    renamer = in_thread(rename(race_engine, models, place_id, "Lido"))
    assert waits_for_a_lock(race_engine, lambda: not renamer.is_alive()), (
        "the rename never waited for the item"
    )
    item_edit.commit()
    item_edit.close()
    renamer.join(timeout=30)
    data = stored_data(race_engine, models, series_id)
    assert data["name"] == "Swim club", "the item's own edit survived the re-render"
    assert data["place"] == {"name": "Lido"}


def test_an_item_linked_to_a_place_being_renamed_waits_for_the_rename(
    race_engine: Engine, models: Models
) -> None:
    """The rename has written the place but not committed: the new item waits for the
    rename's commit and is rendered with the new name. (Without the share lock this order
    heals anyway on PostgreSQL: the item commits first and the rename's commit finds it.
    The order that does not heal is the next test's. On MariaDB the insert's foreign-key
    check already waits.)"""
    place_id = new_place(race_engine, models)
    renaming = Session(race_engine)
    place = renaming.get(models.Place, place_id)
    assert place is not None
    place.name = "Lido"
    renaming.flush()  # the place's row is now locked until this transaction ends
    series_ids: list[int] = []

    def add_item() -> None:
        with Session(race_engine) as session:
            series = models.Series(name="Swim", place_id=place_id)
            session.add(series)
            session.commit()
            series_ids.append(series.id)

    adder = in_thread(add_item)
    waited = waits_for_a_lock(race_engine, lambda: not adder.is_alive())
    renaming.commit()
    renaming.close()
    adder.join(timeout=30)
    assert stored_data(race_engine, models, series_ids[0])["place"] == {"name": "Lido"}
    assert waited, "the new item did not wait for the rename"


@pytest.mark.parametrize("bulk", [False, True], ids=["renamed", "bulk renamed"])
@pytest.mark.parametrize("link", ["created", "moved by foreign key", "moved by relationship"])
def test_a_rename_after_an_item_was_linked_and_rendered_moves_the_item(
    race_engine: Engine, models: Models, link: str, bulk: bool
) -> None:
    """The item is linked to the place (created there, or moved there from another
    place) and rendered with the old name, but not committed, when the rename starts:
    the rename must wait for it, then find it and render it again."""
    place_id = new_place(race_engine, models)
    with Session(race_engine) as session:
        series = models.Series(name="Swim", place=models.Place(name="Gym"))
        session.add(series)
        session.commit()
        existing_id = series.id
    renamer: list[threading.Thread] = []
    waited: list[bool] = []
    adding = Session(race_engine)
    if link == "created":
        series = models.Series(name="Swim", place_id=place_id)
        adding.add(series)
    else:
        series = adding.get(models.Series, existing_id)
        if link == "moved by foreign key":
            series.place_id = place_id
        else:
            series.place = adding.get(models.Place, place_id)
    adding.flush()
    series_id = series.id

    def rename_now(connection: t.Any) -> None:  # rendered, about to commit
        renamer.append(in_thread(rename(race_engine, models, place_id, "Lido", bulk=bulk)))
        waited.append(waits_for_a_lock(race_engine, lambda: not renamer[0].is_alive()))

    event.listen(adding.connection(), "commit", rename_now)
    adding.commit()
    adding.close()
    renamer[0].join(timeout=30)
    assert stored_data(race_engine, models, series_id)["place"] == {"name": "Lido"}
    assert waited == [True], "the rename did not wait for the rendered item to commit"


def test_only_items_linked_anew_lock_the_rows_they_embed(
    race_engine: Engine, models: Models
) -> None:
    """An edit that leaves the item's links alone (a booking) takes no share locks: it
    would make every booking write to its place's and organisation's rows."""
    with Session(race_engine) as session:
        series = models.Series(name="Swim", place=models.Place(name="Pool"))
        session.add(series)
        session.commit()
        series_id = series.id
    statements: list[str] = []

    def record(conn: t.Any, cursor: t.Any, statement: str, *args: t.Any) -> None:
        statements.append(statement)

    event.listen(race_engine, "before_cursor_execute", record)
    with Session(race_engine) as session:
        edited = session.get(models.Series, series_id)
        assert edited is not None
        edited.name = "Swim club"
        session.commit()
    shared = " FOR SHARE" if race_engine.dialect.name == "postgresql" else " LOCK IN SHARE MODE"
    assert not [s for s in statements if shared in s]
    with Session(race_engine) as session:
        edited = session.get(models.Series, series_id)
        assert edited is not None
        edited.place = models.Place(name="Lido")
        session.commit()
    locked = [s.split()[1].split(".")[0] for s in statements if shared in s]
    # Each many-to-one path of the item, once; the offers point at the item themselves.
    assert sorted(locked) == ["organisation_1", "place_1"]
    assert stored_data(race_engine, models, series_id)["place"] == {"name": "Lido"}


def test_mysql_under_repeatable_read_warns_that_embedded_data_can_go_stale(
    mysql_url: str, models: Models, rpde: RPDE
) -> None:
    engine = create_engine(mysql_url)  # MySQL's and MariaDB's default: REPEATABLE READ
    models.Base.metadata.create_all(engine)
    try:
        with Session(engine) as session:
            session.add(models.Series(name="Swim", place=models.Place(name="Pool")))
            with pytest.warns(UserWarning, match='isolation_level="READ COMMITTED"'):
                session.commit()
            session.add(models.Series(name="Yoga", place=models.Place(name="Hall")))
            session.commit()  # once per engine (the suite turns warnings into errors)
    finally:
        models.Base.metadata.drop_all(engine)
        engine.dispose()


def test_a_many_to_one_path_locks_the_rows_on_the_way_in_the_same_statement(
    race_engine: Engine, models: Models, rpde: RPDE
) -> None:
    """``series.organisation`` locks the series and its organisation in one statement;
    where the series has no organisation, the series is still locked, by a second one."""
    feed = rpde.feed(
        models.Occurrence,
        kind="ScheduledSession",
        schema=models.OccurrenceSchema,
        embeds=["series.organisation"],
    )
    embeddings = feed.embeddings()
    assert [len(embedding.path) for embedding in embeddings] == [1, 2]
    with Session(race_engine) as session:
        whole = models.Series(name="Swim", organisation=models.Organisation(name="Leisure"))
        broken = models.Series(name="Yoga")
        now = datetime.now(UTC)
        occurrences = [
            models.Occurrence(series=whole, starts=now),
            models.Occurrence(series=broken, starts=now),
        ]
        session.add_all(occurrences)
        session.commit()
        rows = {
            "series": whole.id,
            "organisation": whole.organisation_id,
            "broken series": broken.id,
        }
        whole_id, broken_id = (occurrence.id for occurrence in occurrences)
    statements: list[str] = []

    def locked(table: str, id_: int) -> bool:
        """Whether another transaction holds the row (a write lock cannot be had at once)."""
        with race_engine.connect() as other:
            try:
                other.execute(
                    text(f"SELECT id FROM {table} WHERE id = :id FOR UPDATE NOWAIT"), {"id": id_}
                )
            except DBAPIError:
                return True
            return False

    with race_engine.connect() as connection:
        event.listen(connection, "before_cursor_execute", lambda *args: statements.append(args[2]))
        lock_embedded_rows(connection, embeddings, [whole_id])
        assert len(statements) == 1
        assert locked("series", rows["series"]) and locked("organisation", rows["organisation"])
        assert not locked("series", rows["broken series"])
        lock_embedded_rows(connection, embeddings, [broken_id])
        assert len(statements) == 3
        assert locked("series", rows["broken series"])
        connection.rollback()
    assert not locked("series", rows["series"])
