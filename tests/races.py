"""Helpers for the race tests: transactions held open, other work run in threads."""

from __future__ import annotations

import json
import threading
import time
import typing as t
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from .models import Models


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


def link_to_place(
    session: Session, models: Models, link: str, existing_id: int, place_id: int
) -> int:
    """Link an item to the place in ``session`` and flush: a new item (``"created"``), or
    the item ``existing_id`` moved there (by its relationship if ``link`` says so, else by
    its foreign key). Returns the item's id."""
    if link == "created":
        series = models.Series(name="Swim", place_id=place_id)
        session.add(series)
    else:
        series = session.get(models.Series, existing_id)
        assert series is not None
        if link == "moved by relationship":
            series.place = session.get(models.Place, place_id)
        else:
            series.place_id = place_id
    session.flush()
    return t.cast(int, series.id)


def stored_data(engine: Engine, models: Models, series_id: int) -> dict[str, t.Any]:
    with Session(engine) as session:
        stored = session.scalar(
            select(models.Series.rpde_data).where(models.Series.id == series_id)
        )
    return t.cast(dict[str, t.Any], json.loads(stored or "{}"))


def share_locks_of_a_booking_and_a_move(
    engine: Engine, models: Models
) -> tuple[list[str], list[str], int]:
    """The tables whose rows a booking (an edit leaving the links alone) and then a move
    to another place lock ``FOR SHARE``, and the item's id."""
    with Session(engine) as session:
        series = models.Series(name="Swim", place=models.Place(name="Pool"))
        session.add(series)
        session.commit()
        series_id = series.id
    statements: list[str] = []
    shared = " FOR SHARE" if engine.dialect.name == "postgresql" else " LOCK IN SHARE MODE"

    def record(conn: t.Any, cursor: t.Any, statement: str, *args: t.Any) -> None:
        if shared in statement:
            statements.append(statement.split()[1].split(".")[0])

    event.listen(engine, "before_cursor_execute", record)
    locked = []
    for change in ("book", "move"):
        with Session(engine) as session:
            edited = session.get(models.Series, series_id)
            assert edited is not None
            if change == "book":
                edited.name = "Swim club"
            else:
                edited.place = models.Place(name="Lido")
            session.commit()
        locked.append(sorted(statements))
        statements.clear()
    event.remove(engine, "before_cursor_execute", record)
    return locked[0], locked[1], series_id
