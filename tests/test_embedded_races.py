"""Embedded rows changed while items that embed them are written, on real databases.

Each test holds one transaction at the step where the race would do harm, runs the
other in a thread, and checks that the stored data ends up with both changes: an item's
data must never keep a place's old name once both transactions have committed.
"""

from __future__ import annotations

import threading
import typing as t
from datetime import datetime
from datetime import UTC

import pytest
from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from rpde_publisher import RPDE
from rpde_publisher.embedding import lock_embedded_rows

from .models import Models
from .races import in_thread
from .races import link_to_place
from .races import new_place
from .races import rename
from .races import share_locks_of_a_booking_and_a_move
from .races import stored_data
from .races import waits_for_a_lock

pytestmark = pytest.mark.slow


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
    series_id = link_to_place(adding, models, link, existing_id, place_id)

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
    booked, moved, series_id = share_locks_of_a_booking_and_a_move(race_engine, models)
    assert booked == []
    # Each many-to-one path of the item, once; the offers point at the item themselves.
    assert moved == ["organisation_1", "place_1"]
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
