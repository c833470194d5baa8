"""What a feed should hold, read straight from the database through the ORM (no feed code)."""

from __future__ import annotations

import json
import typing as t

from sqlalchemy import inspect
from sqlalchemy import select
from sqlalchemy.orm import Session

from rpde_publisher import Feed


def database_copy(session: Session, feed: Feed) -> dict[t.Any, dict[str, t.Any]]:
    """Every item the feed should publish as live, by id, its data rendered afresh.

    Independent of the feed's page query and of the stored ``data`` column: rows are
    loaded through the ORM and dumped with the feed's schema, so a harvested copy equal
    to this is equal to the database.
    """
    key = inspect(feed.model).primary_key[0].key
    statement = select(feed.model).where(feed.spec.deleted_column.is_(None))
    criterion = feed.publish_when()
    if criterion is not None:
        statement = statement.where(criterion)
    return {
        getattr(row, key): json.loads(feed.renderer.dumps(row))
        for row in session.scalars(statement)
    }
