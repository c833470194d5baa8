"""The page query: one keyset range scan over ``(modified, id)``, after the cursor."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from sqlalchemy import and_
from sqlalchemy import literal
from sqlalchemy import or_
from sqlalchemy import Select
from sqlalchemy import select
from sqlalchemy import tuple_
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from .backends import backend_for
from .cursor import Cursor
from .feed import Feed


#: Databases whose planners seek an index with a row-value comparison ``(a, b) > (x, y)``.
_ROW_VALUE_DIALECTS = frozenset({"postgresql", "sqlite"})


@dataclass(frozen=True)
class ItemRow:
    """One item as the page query returns it."""

    id: t.Any
    modified: int
    #: ``False`` for tombstones and for rows the feed's filter rejects.
    live: bool
    #: The stored ``data`` JSON text, ``None`` if not rendered yet.
    data: str | None


def page_statement(
    feed: Feed, cursor: Cursor, limit: int, *, dialect: t.Any, settle_seconds: float
) -> Select[t.Any]:
    """The SQL for one page of ``feed`` after ``cursor``."""
    spec = feed.spec
    modified, id_ = spec.modified_column, spec.id_column
    live: ColumnElement[bool] = spec.deleted_column.is_(None)
    criterion = feed.publish_when()
    if criterion is not None:
        live = and_(live, criterion)
    data = spec.data_column if spec.data_column is not None else literal(None)
    statement = select(id_, modified, live.label("live"), data.label("data")).select_from(
        spec.table
    )
    if cursor.is_start or not cursor.modified:
        # Rows not stamped yet (0: added before the toolkit, awaiting backfill) are not
        # items, and every stamped row comes after (0, any id). Only here: after a real
        # cursor this bound is implied, and a second lower bound can make SQLite scan the
        # index from the start of the feed (65 ms for a page 1,000,000 items deep).
        statement = statement.where(modified > 0)
    elif feed.ordering == "change_number":
        statement = statement.where(modified > cursor.modified)
    elif dialect.name in _ROW_VALUE_DIALECTS:
        # `>` not `>=` (RPDE's most common mistake). A row-value comparison enters the
        # index exactly at the cursor, even inside a long run of equal `modified` values
        # (on PostgreSQL every row a transaction writes shares its stamp).
        statement = statement.where(tuple_(modified, id_) > tuple_(cursor.modified, cursor.id))
    else:
        # Written as a range on `modified` first, so the database scans the index from
        # the cursor.
        statement = statement.where(
            modified >= cursor.modified,
            or_(modified > cursor.modified, id_ > cursor.id),
        )
    visible = backend_for(dialect).visible(spec, settle_seconds)
    if visible is not None:
        statement = statement.where(visible)
    return statement.order_by(modified, id_).limit(limit)


def fetch_rows(
    connection: Connection, feed: Feed, cursor: Cursor, limit: int, *, settle_seconds: float
) -> list[ItemRow]:
    """The rows of one page, with the ``data`` of any live row not rendered yet filled in."""
    statement = page_statement(
        feed, cursor, limit, dialect=connection.dialect, settle_seconds=settle_seconds
    )
    rows = [
        ItemRow(id_, modified, bool(live), data)
        for id_, modified, live, data in connection.execute(statement)
    ]
    missing = [row.id for row in rows if row.live and row.data is None]
    if missing and feed.spec.renderer is not None:
        rendered = feed.spec.renderer.render(connection, missing)
        rows = [
            ItemRow(row.id, row.modified, row.live, rendered.get(row.id))
            if row.id in rendered
            else row
            for row in rows
        ]
    elif missing:
        from .rendering import Renderer

        rendered = Renderer(feed.model, feed.schema, feed_name=feed.name).render(
            connection, missing
        )
        rows = [
            ItemRow(row.id, row.modified, row.live, rendered.get(row.id, row.data)) for row in rows
        ]
    return rows
