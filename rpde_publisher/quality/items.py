"""A registered feed's live items streamed from the database in bounded memory."""

from __future__ import annotations

import json
import typing as t
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import literal
from sqlalchemy import select
from sqlalchemy.engine import Connection

if t.TYPE_CHECKING:
    from ..feed import Feed

__all__ = ["BATCH_SIZE", "LiveItem", "Progress", "fetch_by_ids", "iter_items"]

#: Rows read per keyset batch: only one batch (and its rendered data) is held at a time.
BATCH_SIZE = 500

#: Told the number of items streamed so far, after each batch.
Progress = Callable[[int], None]


@dataclass(frozen=True)
class LiveItem:
    """One live item of a feed: its position in id order, its id and its ``data``."""

    index: int
    id: t.Any
    data: dict[str, t.Any]


def iter_items(
    connection: Connection,
    feed: Feed,
    *,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> Iterator[LiveItem]:
    """Every live item of ``feed`` (``feed.published()`` rows), in id order.

    Batches are keyset ranges over the id (``id > last``), so each batch is one index
    range scan and memory stays bounded by ``batch_size`` whatever the feed's size.
    Items without stored data (rendered on read, written by raw SQL) are rendered
    with the feed's renderer, as a page read would, but not stored.
    """
    id_ = feed.spec.id_column
    data = feed.data_column if feed.data_column is not None else literal(None)
    statement = (
        select(id_.label("id"), data.label("data"))
        .select_from(feed.spec.table)
        .where(feed.spec.modified_column > 0, feed.published())
        .order_by(id_)
        .limit(batch_size)
    )
    index = 0
    last: t.Any = None
    while True:
        query = statement if last is None else statement.where(id_ > last)
        rows = connection.execute(query).all()
        if not rows:
            return
        for item_id, item_data in _with_data(connection, feed, rows):
            yield LiveItem(index, item_id, item_data)
            index += 1
        last = rows[-1][0]
        if progress is not None:
            progress(index)
        if len(rows) < batch_size:
            return


def fetch_by_ids(
    connection: Connection, feed: Feed, ids: Sequence[t.Any]
) -> dict[t.Any, dict[str, t.Any]]:
    """The data of the live items of ``feed`` among ``ids``, by id (one query)."""
    if not ids:
        return {}
    id_ = feed.spec.id_column
    data = feed.data_column if feed.data_column is not None else literal(None)
    rows = connection.execute(
        select(id_.label("id"), data.label("data"))
        .select_from(feed.spec.table)
        .where(id_.in_(list(ids)), feed.spec.modified_column > 0, feed.published())
    ).all()
    return dict(_with_data(connection, feed, rows))


def _with_data(
    connection: Connection, feed: Feed, rows: Sequence[t.Any]
) -> list[tuple[t.Any, dict[str, t.Any]]]:
    """Each row's id and parsed data, rendering the rows that store none."""
    missing = [row[0] for row in rows if row[1] is None]
    rendered = feed.renderer.render(connection, missing) if missing else {}
    result = []
    for item_id, stored in rows:
        text = stored if stored is not None else rendered.get(item_id)
        if text is None:
            continue  # left the feed between the two queries
        result.append((item_id, _parse(text)))
    return result


def _parse(text: t.Any) -> dict[str, t.Any]:
    # Some databases hand a JSON column back already parsed.
    value = json.loads(text) if isinstance(text, (str, bytes)) else text
    return value if isinstance(value, dict) else {}
