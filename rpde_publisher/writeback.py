"""Store the data a read rendered for items without it, where no writer can make it stale.

Items get no stored data when raw SQL wrote them, or when their feed renders on read
(``render_at="read"``); the page query then renders them on each read. Storing what was
rendered makes later reads a plain range scan again. It must never wait for a writer and
never store data older than the item: the rows are locked without waiting (``SKIP
LOCKED``, ``NOWAIT``), rendered again under those locks, and stored only if the item
still has the stamp the page showed. A data-only ``UPDATE`` is not a change of the item:
the triggers neither restamp nor clear it (see :mod:`rpde_publisher.backends`).
"""

from __future__ import annotations

import typing as t
from collections.abc import Sequence

from sqlalchemy import and_
from sqlalchemy import bindparam
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.engine import Connection

from .backends import backend_for
from .embedding import lock_embedded_rows
from .rendering import BATCH_SIZE
from .tables import TableSpec


def store_rendered(
    connection: Connection, spec: TableSpec, stamps: Sequence[tuple[t.Any, t.Any]]
) -> dict[t.Any, str]:
    """Render and store the data of the items ``stamps`` names as ``(id, modified)``.

    Runs in the caller's transaction, which should commit right after. Items another
    transaction holds, or whose embedded rows it holds, are left without data; so are
    items changed since the page showed them. A database error (``SQLITE_BUSY``, a lock
    not available) propagates: the caller rolls back, and a later read tries again.
    Returns the data stored, by id: rendered under the locks, so at least as new as
    anything the page read.
    """
    renderer = spec.renderer
    if renderer is None or spec.data_column is None or not stamps:
        return {}
    shown = dict(stamps)
    backend = backend_for(connection.dialect)
    with backend.guard_store(connection, spec):
        ready = _lock_unchanged(connection, spec, shown)
        if not ready:
            return {}
        if backend.takes_row_locks:
            # A new link to a child row writes the child, which bumps the item: no lock.
            embeddings = [e for e in renderer.embeddings if not e.links_live_in_children]
            lock_embedded_rows(connection, embeddings, ready, nowait=True)
        data = renderer.render(connection, ready)
        if not data:
            return {}
        # Every row was checked under its lock (SQLite: the write lock): all are stored.
        connection.execute(
            _store_statement(spec),
            [
                {"_rpde_id": id_, "_rpde_modified": shown[id_], "_rpde_data": text}
                for id_, text in data.items()
            ],
        )
        return data


def _lock_unchanged(
    connection: Connection, spec: TableSpec, shown: dict[t.Any, t.Any]
) -> list[t.Any]:
    """The ids still live, without data and with the stamp shown, locked if free (id order)."""
    ordered = sorted(shown)
    ready: list[t.Any] = []
    for start in range(0, len(ordered), BATCH_SIZE):
        statement = (
            select(spec.id_column, spec.modified_column)
            .where(
                spec.id_column.in_(ordered[start : start + BATCH_SIZE]),
                spec.is_live(),
                t.cast(t.Any, spec.data_column).is_(None),
            )
            .order_by(spec.id_column)
        )
        if backend_for(connection.dialect).takes_row_locks:
            statement = statement.with_for_update(skip_locked=True)
        ready += [id_ for id_, modified in connection.execute(statement) if shown[id_] == modified]
    return ready


def _store_statement(spec: TableSpec) -> t.Any:
    data_column = t.cast(t.Any, spec.data_column)
    return (
        update(spec.table)
        .where(
            and_(
                spec.id_column == bindparam("_rpde_id"),
                spec.modified_column == bindparam("_rpde_modified"),
                data_column.is_(None),
            )
        )
        .values(spec.untouched({data_column.name: bindparam("_rpde_data")}))
    )
