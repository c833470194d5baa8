"""Seed benchmark sizes fast: Core inserts in batches, then the library renders the items.

The rows are the :class:`~example_app.seed.SeedPlan`'s, as the ORM path writes them; the
triggers stamp each insert, and :func:`rpde_publisher.lifecycle.rerender` renders every
item with its feed's schema, exactly as a commit through the ORM does.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from rpde_publisher import RPDE
from rpde_publisher.lifecycle import rerender

from .seed import advance_id_sequences
from .seed import Row
from .seed import SeedPlan
from .seed import TABLES

#: Rows per INSERT statement (one executemany each).
BATCH_SIZE = 5000

Progress = Callable[[int], None]


def _noop(count: int) -> None:
    return None


def batched(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def insert_rows(engine: Engine, plan: SeedPlan, *, progress: Progress = _noop) -> int:
    """Insert every planned row in one transaction; report feed items as they go in."""
    items = 0
    with engine.begin() as connection:
        for model, rows in TABLES:
            table: Any = model.__table__
            is_feed = "rpde" in table.info
            for batch in batched(getattr(plan, rows)(), BATCH_SIZE):
                connection.execute(insert(table), batch)
                if is_feed:
                    items += len(batch)
                    progress(len(batch))
        advance_id_sequences(connection)
    return items


def render_items(engine: Engine, rpde: RPDE, *, progress: Progress = _noop) -> int:
    """Render and store the data of every feed item that has none yet (moving none of
    them: the inserts stamped them), a batch per transaction."""
    rendered = 0
    for feed in rpde.feeds:
        rendered += rerender(engine.begin, feed, only_missing=True, progress=progress)
    return rendered
