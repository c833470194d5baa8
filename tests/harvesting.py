"""What a feed should hold, read straight from the database through the ORM (no feed code)."""

from __future__ import annotations

import json
import typing as t

from rpde_publisher import Feed
from rpde_publisher.rendering import Renderer
from sqlalchemy import inspect
from sqlalchemy import select
from sqlalchemy.orm import Session


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
    renderer = Renderer(feed.model, feed.schema, feed_name=feed.name)
    return {
        getattr(row, key): json.loads(renderer.dumps(row)) for row in session.scalars(statement)
    }


def settle(engine: t.Any, timeout: float = 60.0) -> None:
    """Wait until every committed change is visible in the feeds.

    MariaDB: the test apps' settle lag (0.05 s). PostgreSQL: the watermark is the
    oldest transaction still running anywhere on the server, so another database's
    open transaction (another test run sharing the server) can hold it back for a while.
    """
    import time

    from sqlalchemy import text

    if engine.dialect.name in ("mysql", "mariadb"):
        time.sleep(0.1)
        return
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as connection:
        mark = int(connection.execute(text("SELECT pg_current_xact_id()::text")).scalar_one())
    deadline = time.monotonic() + timeout
    with engine.connect() as connection:
        while True:
            xmin = int(
                connection.execute(
                    text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")
                ).scalar_one()
            )
            connection.rollback()
            if xmin > mark or time.monotonic() > deadline:
                return
            time.sleep(0.05)
