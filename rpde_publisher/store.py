"""The store engine: lock feed items, render their data, store it and move them.

One engine serves every writer. Change tracking and the lifecycle commands use its
waiting mode: the items are locked (``FOR UPDATE``), then the rows they embed, rendered,
stored and moved to the end of their feed. A page read uses its skip-locked mode
(:func:`store_rendered`): it never waits for a writer and stores only data no writer can
have made stale. Each database's locking rules come from its backend
(:mod:`rpde_publisher.backends`).
"""

from __future__ import annotations

import typing as t
import warnings
from collections import defaultdict
from collections.abc import Collection
from collections.abc import Sequence
from dataclasses import dataclass
from weakref import WeakKeyDictionary
from weakref import WeakSet

from sqlalchemy import bindparam
from sqlalchemy import select
from sqlalchemy import Table
from sqlalchemy import Update
from sqlalchemy import update
from sqlalchemy.engine import Connection
from sqlalchemy.engine import Engine

from .backends import backend_for
from .embedding import Embedding
from .embedding import lock_embedded_rows
from .item_checks import check_unrendered
from .registry import embedded_in
from .registry import render_at_of
from .registry import rules_for
from .rendering import BATCH_SIZE
from .rendering import Renderer
from .tables import TableSpec
from .tables import TOUCH

__all__ = [
    "RenderedItems",
    "lock_items",
    "lock_items_embedding",
    "move_items",
    "moved_unrendered",
    "render_items",
    "store_rendered",
    "write_changed_items",
    "write_items",
]

#: Each feed table's statements storing rendered data, built once (a write stores one
#: item): by whether the store is a read's write-back, which stores only unchanged items.
_store_statements: WeakKeyDictionary[TableSpec, dict[bool, Update]] = WeakKeyDictionary()
#: Engines whose isolation level was checked (see :func:`_warn_of_snapshot_reads`).
_isolation_checked: WeakSet[Engine] = WeakSet()


def write_items(
    connection: Connection,
    spec: TableSpec,
    ids: t.Iterable[t.Any],
    *,
    lock: t.Iterable[t.Any] | None = None,
) -> int:
    """Render the live items among ``ids``, store their data and move them to the end.

    See :func:`render_items` for ``lock``. Returns how many items were written.
    """
    return render_items(connection, spec, ids, lock=lock).store()


def lock_items_embedding(
    connection: Connection, spec: TableSpec, ids: t.Sequence[t.Any]
) -> dict[TableSpec, set[t.Any]]:
    """The live items that embed rows ``ids`` of ``spec``'s table, by feed table, locked.

    For writes outside the ORM that the toolkit makes itself (``retire``): call it before
    writing the rows, so locks are taken in the order a render takes them (the item,
    then the rows it embeds), then :func:`move_items` once they are written.
    """
    found: defaultdict[TableSpec, set[t.Any]] = defaultdict(set)
    ordered = list(ids)
    for embedding in embedded_in(spec.table):
        for start in range(0, len(ordered), BATCH_SIZE):
            batch = ordered[start : start + BATCH_SIZE]
            query = embedding.parent_ids(spec.id_column.in_(batch))
            found[embedding.parent].update(connection.execute(query).scalars())
    if backend_for(connection.dialect).takes_row_locks:
        for item_spec, item_ids in found.items():
            lock_items(connection, item_spec, item_ids)
    return {item_spec: item_ids for item_spec, item_ids in found.items() if item_ids}


def move_items(connection: Connection, spec: TableSpec, ids: t.Iterable[t.Any]) -> int:
    """Render (``render_at="read"``: clear) and move the live items ``ids``, which
    :func:`lock_items_embedding` locked. Returns how many moved."""
    wanted = sorted(ids)
    if render_at_of(spec) == "commit":
        return render_items(connection, spec, wanted, lock=()).store()
    return moved_unrendered(connection, spec, wanted, wanted, lock=()).store()


def write_changed_items(connection: Connection, spec: TableSpec, ids: t.Iterable[t.Any]) -> int:
    """Render the live items among ``ids`` and store and move only those whose data
    differs from what is stored (after a schema change). Returns how many moved."""
    rendered = render_items(connection, spec, ids)
    if rendered.data is None:
        return rendered.store()
    assert spec.data_column is not None
    stored = dict(
        connection.execute(
            select(spec.id_column, spec.data_column).where(spec.id_column.in_(list(rendered.data)))
        ).all()
    )
    changed = {id_: data for id_, data in rendered.data.items() if stored.get(id_) != data}
    return RenderedItems(connection, spec, sorted(changed), changed).store()


@dataclass
class RenderedItems:
    """Items of one feed table rendered in a transaction, ready to be stored."""

    connection: Connection
    spec: TableSpec
    ids: list[t.Any]
    #: The data of each live item, by id (``None``: not rendered; the items are moved
    #: and any stored data cleared).
    data: dict[t.Any, str] | None

    def store(self) -> int:
        """Store the data and move the items to the end; returns how many live items."""
        spec, connection = self.spec, self.connection
        if not self.ids:
            return 0
        if self.data is None:
            values: dict[str, t.Any] = {spec.modified_column.name: TOUCH}
            if spec.data_column is not None:
                values[spec.data_column.name] = None
            moved = connection.execute(
                update(spec.table)
                .where(spec.id_column.in_(self.ids), spec.is_live())
                .values(spec.untouched(values))
            )
            self._stamp_tombstones_again(self.ids)
            return int(moved.rowcount or 0)
        if self.data:
            connection.execute(
                _store_statement(spec, write_back=False),
                [{"_rpde_id": id_, "_rpde_data": data} for id_, data in self.data.items()],
            )
        self._stamp_tombstones_again([id_ for id_ in self.ids if id_ not in self.data])
        return len(self.data)

    def _stamp_tombstones_again(self, ids: list[t.Any]) -> None:
        """Clock stamps (MySQL): stamp the tombstones among ``ids`` again now, as the
        store stamps the live items, so that a commit that waited for locks is not older
        than the settle lag."""
        if ids and backend_for(self.connection.dialect).restamps_at_commit:
            spec = self.spec
            self.connection.execute(
                update(spec.table)
                .where(spec.id_column.in_(ids), spec.is_tombstone())
                .values(spec.untouched({spec.modified_column.name: TOUCH}))
            )


def moved_unrendered(
    connection: Connection,
    spec: TableSpec,
    ids: t.Iterable[t.Any],
    bumped: Collection[t.Any],
    *,
    lock: t.Iterable[t.Any] | None = None,
    relinked: Collection[t.Any] | None = None,
    written_tables: Collection[Table] = (),
    check: bool = False,
) -> RenderedItems:
    """The store of a render_at="read" table: nothing rendered, the data left to the first
    read. The triggers cleared the data of the rows this transaction wrote; the items its
    children moved are moved and cleared here. On MySQL every changed item is stamped
    again here too, as a render at commit would: its clock stamp from the write may be
    older than the settle lag by the time a commit that waited for locks lands.

    ``bumped`` are the items its children moved. The rows are locked as
    :func:`render_items` locks them (same other arguments), the embedded rows of items
    linked anew included. Without that share lock this transaction could commit while
    another that renamed the row, and could not see the new link, is still open: a read
    would then render the item with the old name, and the rename would not move it.
    ``check`` as for :func:`render_items`.
    """
    wanted = [id_ for id_ in ids if id_ is not None]
    _lock_for_render(connection, spec, wanted, lock, relinked, written_tables)
    if check:
        check_unrendered(connection, rules_for(spec.table), wanted)
    changed = wanted if backend_for(connection.dialect).restamps_at_commit else bumped
    return RenderedItems(connection, spec, sorted(changed), None)


def render_items(
    connection: Connection,
    spec: TableSpec,
    ids: t.Iterable[t.Any],
    *,
    lock: t.Iterable[t.Any] | None = None,
    relinked: Collection[t.Any] | None = None,
    written_tables: Collection[Table] = (),
    check: bool = False,
) -> RenderedItems:
    """Lock and render the live items among ``ids``; :meth:`RenderedItems.store` stores them.

    :param lock: The ids among ``ids`` that this transaction has not written yet
        (``None``: all of them). Their rows are locked before they are read, so that the
        render sees the latest committed version of each item: rendered first and locked
        by the ``UPDATE`` after, an item another transaction changed meanwhile would get
        data from before that change, for good.
    :param relinked: The ids among ``ids`` that this transaction may have linked to other
        embedded rows (``None``: all of them), and ``written_tables`` the tables it wrote.
        The rows those items embed are locked ``FOR SHARE`` (see
        :attr:`~rpde_publisher.embedding.Embedding.embedded_rows`). Other items need no
        such lock: their links are committed, so whoever edits a row they embed finds
        them and locks them first.
    :param check: Run the item checks in force (``RPDE_ITEM_CHECKS``) on the data: change
        tracking's writes do; the lifecycle commands, which render data already there,
        do not (``flask rpde check-items`` checks it).

    SQLite takes no locks: it lets one transaction write at a time.
    """
    wanted = [id_ for id_ in ids if id_ is not None]
    _lock_for_render(connection, spec, wanted, lock, relinked, written_tables)
    renderer = _stored_renderer(spec)
    if renderer is None:
        if check:
            check_unrendered(connection, rules_for(spec.table), wanted)
        return RenderedItems(connection, spec, wanted, None)
    rules = rules_for(spec.table)
    item_check = rules.item_check if check and rules is not None else None
    data = renderer.render(connection, wanted, check=item_check) if wanted else {}
    return RenderedItems(connection, spec, wanted, data)


def _lock_for_render(
    connection: Connection,
    spec: TableSpec,
    wanted: list[t.Any],
    lock: t.Iterable[t.Any] | None,
    relinked: Collection[t.Any] | None,
    written_tables: Collection[Table],
) -> None:
    """Lock the items among ``wanted`` not locked yet, then the rows they embed where a
    render needs them held (see :func:`render_items`), for the stored data and for feeds
    rendering on every read (``data=None``) alike. SQLite takes no locks."""
    if not wanted or not backend_for(connection.dialect).takes_row_locks:
        return
    lock_items(connection, spec, set(wanted if lock is None else lock) & set(wanted))
    rules = rules_for(spec.table)
    embeddings = rules.embeddings_to_lock if rules is not None else ()
    if not embeddings:
        return
    _warn_of_snapshot_reads(connection)
    every_item: list[Embedding] = []
    relinked_items: list[Embedding] = []
    for embedding in embeddings:
        if embedding.links_live_in_children:
            continue  # linking to such a row writes (and so locks) the row
        if relinked is None or embedding.links_outside_items(written_tables):
            every_item.append(embedding)
        else:
            relinked_items.append(embedding)
    lock_embedded_rows(connection, every_item, wanted)
    if relinked_items and relinked is not None:
        lock_embedded_rows(connection, relinked_items, [i for i in wanted if i in relinked])


def _warn_of_snapshot_reads(connection: Connection) -> None:
    """Warn, once per engine, when the isolation level renders stale embedded rows (MySQL's
    default, REPEATABLE READ, reads the transaction's snapshot)."""
    engine = connection.engine
    backend = backend_for(connection.dialect)
    required = backend.required_isolation
    if required is None or engine in _isolation_checked:
        return
    _isolation_checked.add(engine)
    level = connection.get_isolation_level()
    if level != required:
        warnings.warn(
            f"Feeds with embedded rows on {backend.name} need the {required} isolation"
            f" level: under {level} an item is rendered from its transaction's snapshot and"
            " can keep an embedded row's old values. Create the engine with"
            f' isolation_level="{required}" (SQLALCHEMY_ENGINE_OPTIONS with'
            " Flask-SQLAlchemy).",
            stacklevel=2,
        )


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
    renderer = _stored_renderer(spec)
    if renderer is None or not stamps:
        return {}
    shown = dict(stamps)
    backend = backend_for(connection.dialect)
    with backend.guard_store(connection, spec):
        # Still live, unrendered and with the stamp the page showed; held by nobody else.
        locked = lock_items(connection, spec, shown, skip_locked=True, unrendered=True)
        ready = [id_ for id_, modified in locked if shown[id_] == modified]
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
            _store_statement(spec, write_back=True),
            [
                {"_rpde_id": id_, "_rpde_modified": shown[id_], "_rpde_data": text}
                for id_, text in data.items()
            ],
        )
        return data


def _stored_renderer(spec: TableSpec) -> Renderer | None:
    """The renderer of the table's stored data; ``None`` if it stores none."""
    rules = rules_for(spec.table)
    if rules is None or spec.data_column is None:
        return None
    return rules.renderer


def lock_items(
    connection: Connection,
    spec: TableSpec,
    ids: t.Iterable[t.Any],
    *,
    skip_locked: bool = False,
    unrendered: bool = False,
) -> list[tuple[t.Any, t.Any]]:
    """Lock the rows of ``ids`` ``FOR UPDATE`` in id order (two transactions locking
    overlapping items then cannot deadlock) and return their ``(id, modified)``.

    :param skip_locked: Do not wait: rows another transaction holds are left out.
    :param unrendered: Only live rows without stored data.

    On a database that takes no row locks this only reads the rows.
    """
    ordered = sorted(ids)
    locking = backend_for(connection.dialect).takes_row_locks
    rows: list[tuple[t.Any, t.Any]] = []
    for start in range(0, len(ordered), BATCH_SIZE):
        statement = (
            select(spec.id_column, spec.modified_column)
            .where(spec.id_column.in_(ordered[start : start + BATCH_SIZE]))
            .order_by(spec.id_column)
        )
        if unrendered:
            statement = statement.where(spec.is_live(), t.cast(t.Any, spec.data_column).is_(None))
        if locking:
            statement = statement.with_for_update(skip_locked=skip_locked)
        rows += [(id_, modified) for id_, modified in connection.execute(statement)]
    return rows


def _store_statement(spec: TableSpec, *, write_back: bool) -> Update:
    """The statement storing one item's data, built once per table and mode.

    A write's store moves the item (a fresh stamp); a read's write-back stores only into
    an item still unrendered with the stamp the page showed, and moves nothing.
    """
    statements = _store_statements.setdefault(spec, {})
    statement = statements.get(write_back)
    if statement is None:
        data_column = t.cast(t.Any, spec.data_column)
        values: dict[str, t.Any] = {data_column.name: bindparam("_rpde_data")}
        statement = update(spec.table).where(spec.id_column == bindparam("_rpde_id"))
        if write_back:
            statement = statement.where(
                spec.modified_column == bindparam("_rpde_modified"), data_column.is_(None)
            )
        else:
            values[spec.modified_column.name] = TOUCH
        statement = statements[write_back] = statement.values(spec.untouched(values))
    return statement
