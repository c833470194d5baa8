"""The life of items after they change: retiring the past, purging old tombstones, backfill."""

from __future__ import annotations

import logging
import typing as t
from collections.abc import Callable
from datetime import datetime
from datetime import timedelta

from sqlalchemy import and_
from sqlalchemy import case
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.sql.elements import ColumnElement

from .columns import utcnow
from .feed import Feed
from .store import lock_items_embedding
from .store import move_items
from .store import store_rendered
from .store import write_changed_items
from .store import write_items
from .tables import as_column_time
from .tables import TOUCH

__all__ = ["BATCH_SIZE", "Progress", "backfill", "purge", "purgeable", "rerender", "retire"]

logger = logging.getLogger("rpde_publisher")

#: Rows changed per statement (and per transaction) by the commands below, so that
#: none of them holds locks, or the feed's watermark, for long.
BATCH_SIZE = 1000

Progress = Callable[[int], None]


def _noop(count: int) -> None:
    return None


def purgeable(connection: Connection, feed: Feed, retention: timedelta, now: datetime) -> int:
    """How many tombstones of ``feed`` are older than ``retention``."""
    spec = feed.spec
    return int(
        connection.execute(
            select(func.count())
            .select_from(spec.table)
            .where(spec.deleted_before(now - retention))
        ).scalar_one()
    )


def purge(
    begin: Callable[[], t.ContextManager[Connection]],
    feed: Feed,
    retention: timedelta,
    *,
    now: datetime | None = None,
    progress: Progress = _noop,
) -> int:
    """Delete ``feed``'s tombstones older than ``retention``, a batch per transaction.

    ``begin`` opens a connection inside a transaction that commits on exit. Only rows
    already tombstoned for the whole period are removed, so it is safe to run while
    the app serves and writes. Returns how many rows were deleted.
    """
    spec = feed.spec
    cutoff = (now or utcnow()) - retention
    old = spec.deleted_before(cutoff)

    def remove(connection: Connection, ids: list[t.Any]) -> None:
        # Deleting a tombstone removes it: the triggers only keep live rows.
        connection.execute(delete(spec.table).where(spec.id_column.in_(ids), old))

    return _in_batches(begin, feed, old, remove, progress)


def retire(
    begin: Callable[[], t.ContextManager[Connection]],
    feed: Feed,
    *,
    now: datetime | None = None,
    progress: Progress = _noop,
) -> int:
    """Turn ``feed``'s items whose end time has passed into tombstones.

    Needs the feed's ``expires`` column. Items that embed a retired row (a child feed's
    items following their parent out, see ``parent=``) move with it, in the same
    transaction. Returns how many items were retired.
    """
    if feed.expires is None:
        raise ValueError(f"Feed {feed.name!r} has no expires= column to retire items by.")
    spec = feed.spec
    moment = now or utcnow()
    past = and_(spec.is_live(), feed.expires < as_column_time(feed.expires, moment))

    def tombstone(connection: Connection, ids: list[t.Any]) -> None:
        dependants = lock_items_embedding(connection, spec, ids)
        connection.execute(
            update(spec.table)
            .where(spec.id_column.in_(ids), past)
            .values(spec.untouched({spec.deleted_column.name: spec.deleted_value(moment)}))
        )
        for item_spec, item_ids in dependants.items():
            move_items(connection, item_spec, item_ids)

    return _in_batches(begin, feed, past, tombstone, progress)


def rerender(
    begin: Callable[[], t.ContextManager[Connection]],
    feed: Feed,
    *,
    only_missing: bool = False,
    only_changed: bool = False,
    progress: Progress = _noop,
) -> int:
    """Render the data of ``feed``'s live items again and move them to the end.

    Use after changing a schema or a ``publish_when`` filter, or after writes made
    outside the ORM. Returns how many items were rendered.

    With ``only_changed``, only items whose stored data changes are moved (and items of a
    feed that stores no data, all of them): right after a schema change, when the filter
    is the same. Returns how many items moved.

    With ``only_missing``, only items without stored data (written by raw SQL, or not
    read yet in a ``render_at="read"`` feed) are rendered, and they stay where they are,
    as when a page read stores them (:func:`~rpde_publisher.store.store_rendered`): run it from cron
    to spare consumers the first read's render. Items a writer holds are left for the
    next run. Returns how many items were stored.
    """
    spec = feed.spec
    if only_missing and spec.data_column is not None:
        return _store_missing(begin, feed, progress)
    if only_changed and feed.data_column is not None:
        moved = 0

        def write_changed(connection: Connection, ids: list[t.Any]) -> None:
            nonlocal moved
            moved += write_changed_items(connection, spec, ids)

        _in_batches(begin, feed, spec.is_live(), write_changed, progress)
        return moved
    return _in_batches(
        begin,
        feed,
        spec.is_live(),
        lambda connection, ids: write_items(connection, spec, ids),
        progress,
    )


def _store_missing(
    begin: Callable[[], t.ContextManager[Connection]], feed: Feed, progress: Progress
) -> int:
    """Store the data of live items that have none, without moving them; a batch that
    meets a writer's lock is left, whole, for a later run."""
    spec = feed.spec
    assert spec.data_column is not None
    stored = 0
    after: t.Any = None
    while True:
        with begin() as connection:
            query = select(spec.id_column, spec.modified_column).where(
                spec.is_live(), spec.data_column.is_(None)
            )
            if after is not None:
                query = query.where(spec.id_column > after)
            stamps = [
                (id_, modified)
                for id_, modified in connection.execute(
                    query.order_by(spec.id_column).limit(BATCH_SIZE)
                )
            ]
        if not stamps:
            return stored
        try:
            with begin() as connection:
                stored += len(store_rendered(connection, spec, stamps))
        except OperationalError as exc:  # a lock not available, SQLite busy
            logger.info("Feed %r: left %d item(s) for a later run: %s", feed.name, len(stamps), exc)
        after = stamps[-1][0]
        progress(len(stamps))


def backfill(
    begin: Callable[[], t.ContextManager[Connection]], feed: Feed, *, progress: Progress = _noop
) -> int:
    """Stamp and render rows that have no stamp yet (``modified`` 0 or below).

    Run once after adding the feed columns to an existing table, so that the first
    harvest sees every row. Returns how many rows were stamped.
    """
    spec = feed.spec

    # The triggers stamp a row whose value changes: a row already holding TOUCH (written
    # by tracking while they were missing) is given 0 instead.
    fresh = case((spec.modified_column == TOUCH, 0), else_=TOUCH)

    def stamp(connection: Connection, ids: list[t.Any]) -> None:
        connection.execute(
            update(spec.table)
            .where(spec.id_column.in_(ids))
            .values(spec.untouched({spec.modified_column.name: fresh}))
        )
        write_items(connection, spec, ids)

    # Below 1: never stamped, or written by tracking while the triggers were missing.
    return _in_batches(begin, feed, spec.modified_column <= 0, stamp, progress)


def _in_batches(
    begin: Callable[[], t.ContextManager[Connection]],
    feed: Feed,
    criterion: ColumnElement[bool],
    act: Callable[[Connection, list[t.Any]], object],
    progress: Progress,
) -> int:
    """Apply ``act`` to the ids of the rows matching ``criterion``, a batch per transaction.

    Batches follow the primary key, so each row is visited once even when ``act`` leaves
    it matching. Returns how many rows were visited.
    """
    id_column = feed.spec.id_column
    total = 0
    after: t.Any = None
    while True:
        with begin() as connection:
            query = select(id_column).where(criterion)
            if after is not None:
                query = query.where(id_column > after)
            ids = list(connection.execute(query.order_by(id_column).limit(BATCH_SIZE)).scalars())
            if not ids:
                return total
            act(connection, ids)
        after = ids[-1]
        total += len(ids)
        progress(len(ids))
