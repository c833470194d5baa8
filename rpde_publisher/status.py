"""Per-feed figures for operators: items, tombstones, newest change, and lag."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.engine import Connection

from .backends import backend_for
from .backends import Lag
from .feed import Feed
from .registry import render_at_of

__all__ = ["FeedStatus", "feed_status"]


@dataclass(frozen=True)
class FeedStatus:
    """What ``flask rpde status`` reports for one feed."""

    name: str
    kind: str
    database: str
    triggers_installed: bool
    #: Live items the feed publishes (its ``publish_when`` applied).
    live_items: int
    #: Live rows that ``publish_when`` rejects: published as deleted items.
    filtered_out: int
    tombstones: int
    unrendered: int
    #: When the stored data is rendered: ``"commit"`` or ``"read"`` (unrendered items
    #: are then expected: the next read that shows them renders them).
    render_at: str
    newest_modified: int | None
    lag: Lag


def feed_status(connection: Connection, feed: Feed, settle_seconds: float) -> FeedStatus:
    """Count ``feed``'s rows and measure how far its visible feed lags the database."""
    spec = feed.spec
    backend = backend_for(connection.dialect)
    unrendered = (
        func.sum(case((spec.data_column.is_(None) & spec.is_live(), 1), else_=0))
        if spec.data_column is not None
        else func.sum(0)
    )
    published = feed.published()
    row = connection.execute(
        select(
            func.sum(case((published, 1), else_=0)),
            # Rows the filter rejects, or leaves unknown (NULL), are published as deleted.
            func.sum(case((spec.is_live(), 1), else_=0)),
            func.sum(case((spec.is_tombstone(), 1), else_=0)),
            unrendered,
            func.max(spec.modified_column),
        ).select_from(spec.table)
    ).one()
    return FeedStatus(
        name=feed.name,
        kind=feed.kind,
        database=backend.name,
        triggers_installed=backend.is_installed(spec, connection),
        live_items=int(row[0] or 0),
        filtered_out=int(row[1] or 0) - int(row[0] or 0),
        tombstones=int(row[2] or 0),
        unrendered=int(row[3] or 0),
        render_at=render_at_of(spec),
        newest_modified=int(row[4]) if row[4] else None,
        lag=backend.lag(spec, connection, settle_seconds),
    )
