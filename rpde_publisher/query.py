"""The page query: one keyset range scan over ``(modified, id)``, after the cursor."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from sqlalchemy import and_
from sqlalchemy import literal
from sqlalchemy import or_
from sqlalchemy import Select
from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from .backends import backend_for
from .cursor import Cursor
from .feed import Feed


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
    data = feed.data_column if feed.data_column is not None else literal(None)
    statement = select(id_, modified, live.label("live"), data.label("data")).select_from(
        spec.table
    )
    # Rows not stamped yet (0: added before the toolkit, awaiting backfill) are not items.
    statement = statement.where(modified > 0)
    visible = backend_for(dialect).visible(spec, settle_seconds)
    if visible is not None:
        statement = statement.where(visible)
    if not cursor.is_start:
        if feed.ordering == "change_number":
            statement = statement.where(modified > cursor.modified)
        else:
            # `>` not `>=` (RPDE's most common mistake); written as a range on
            # `modified` first so every database scans the index from the cursor.
            statement = statement.where(
                modified >= cursor.modified,
                or_(modified > cursor.modified, id_ > cursor.id),
            )
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
    if missing:  # written by raw SQL, or a feed that renders on each request
        rendered = feed.renderer.render(connection, missing)
        rows = [
            ItemRow(row.id, row.modified, row.live, rendered[row.id]) if row.id in rendered else row
            for row in rows
        ]
    return rows
