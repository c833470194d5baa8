"""How many items a feed holds: the dataset site's ``totalItems``, the checklist's size."""

from __future__ import annotations

import typing as t

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.engine import Connection

from .feed import Feed
from .ownership import KEY_PARAMETER

__all__ = ["count_items"]


def count_items(
    connection: Connection, feed: Feed, *, organisation: t.Any = None, live: bool = False
) -> int:
    """The items of ``feed`` (only organisation ``organisation``'s, if given).

    Every stamped row by default: what a harvest from the start walks, tombstones
    included. With ``live``, only the items published live (``publish_when`` applied):
    what OpenActive's Test Suite validates. Rows not yet visible through the feed's
    watermark are counted too: the figure is approximate, as ``totalItems`` is.

    :param organisation: The key as the feed's organisation rule compares it
        (:meth:`~rpde_publisher.ownership.Ownership.key_value`).
    """
    spec = feed.spec
    # Index-only on the (modified, id) index where the database can.
    query = select(func.count()).select_from(spec.table).where(spec.modified_column > 0)
    parameters: dict[str, t.Any] = {}
    if organisation is not None and feed.organisation is not None:
        query = query.where(feed.organisation.criterion())
        parameters[KEY_PARAMETER] = organisation
    if live:
        query = query.where(feed.published())
    return int(connection.execute(query, parameters).scalar_one())
