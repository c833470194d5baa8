"""Change tracking through SQLAlchemy session events: tombstones, revivals, renders, bumps.

The database stamps ``modified`` itself (see :mod:`rpde_publisher.backends`); these
events do what only the ORM can: keep deleted rows as tombstones, revive a tombstone
when its id is added again, find the parent items an embedded child's change moves, and
render each changed item's ``data`` once, just before the transaction commits.
"""

from __future__ import annotations

import typing as t
import warnings
from collections import defaultdict
from collections.abc import Collection
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from weakref import WeakKeyDictionary
from weakref import WeakSet

from sqlalchemy import and_
from sqlalchemy import bindparam
from sqlalchemy import event
from sqlalchemy import inspect
from sqlalchemy import select
from sqlalchemy import Table
from sqlalchemy import Update
from sqlalchemy import update
from sqlalchemy.engine import Connection
from sqlalchemy.engine import Engine
from sqlalchemy.orm import InstanceState
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm import MANYTOONE
from sqlalchemy.orm import Mapper
from sqlalchemy.orm import ONETOMANY
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import RelationshipProperty
from sqlalchemy.orm import Session
from sqlalchemy.orm import SessionTransaction
from sqlalchemy.orm import UOWTransaction
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.base import PassiveFlag
from sqlalchemy.orm.exc import UnmappedColumnError
from sqlalchemy.sql.elements import ColumnElement

from .backends import backend_for
from .columns import utcnow
from .embedding import embedded_in
from .embedding import Embedding
from .embedding import lock_embedded_rows
from .rendering import BATCH_SIZE
from .tables import spec_for
from .tables import TableSpec
from .tables import TOUCH

_STATE_KEY = "_rpde_changes"
#: Each feed table's statement storing rendered data, built once (a write stores one item).
_data_updates: WeakKeyDictionary[TableSpec, Update] = WeakKeyDictionary()
#: MySQL engines whose isolation level was checked (see :func:`_warn_of_snapshot_reads`).
_isolation_checked: WeakSet[Engine] = WeakSet()
#: A collection's history without loading it, with a backref's pending appends.
_PENDING_TOO = PassiveFlag.PASSIVE_NO_INITIALIZE | PassiveFlag.INCLUDE_PENDING_MUTATIONS


@dataclass
class _Changes:
    """What one transaction changed that the feeds must follow, kept in ``session.info``."""

    #: Feed items to re-render and move at commit.
    items: defaultdict[TableSpec, set[t.Any]] = field(default_factory=lambda: defaultdict(set))
    #: Embedded children written in this transaction, by child mapper.
    children: defaultdict[Mapper[t.Any], set[t.Any]] = field(
        default_factory=lambda: defaultdict(set)
    )
    #: Parent items moved because an embedded child changed: rows this transaction has not
    #: written itself, so not locked yet (see :func:`write_items`).
    bumped: defaultdict[TableSpec, set[t.Any]] = field(default_factory=lambda: defaultdict(set))
    #: Items this transaction may have linked to other embedded rows: inserted, or with a
    #: foreign key changed (their embedded rows are locked while they render).
    relinked: defaultdict[TableSpec, set[t.Any]] = field(default_factory=lambda: defaultdict(set))
    #: Tables this transaction wrote through the ORM.
    written_tables: set[Table] = field(default_factory=set)
    #: Parent items locked before their child was written (see :func:`_before_flush`).
    locked: defaultdict[TableSpec, set[t.Any]] = field(default_factory=lambda: defaultdict(set))
    #: Feed tables bulk-inserted into: render every live row still without data.
    sweep: set[TableSpec] = field(default_factory=set)
    #: Objects flushed in the current flush, whose stamps the database just changed.
    flushed: list[t.Any] = field(default_factory=list)


def _changes(session: Session) -> _Changes:
    changes = session.info.get(_STATE_KEY)
    if changes is None:
        changes = session.info[_STATE_KEY] = _Changes()
    return t.cast(_Changes, changes)


def _mapper_of(obj: t.Any) -> Mapper[t.Any]:
    return t.cast("Mapper[t.Any]", inspect(obj).mapper)


def _spec_of_mapper(mapper: Mapper[t.Any]) -> TableSpec | None:
    return spec_for(mapper.local_table)  # type: ignore[arg-type]


def _identity(obj: t.Any, mapper: Mapper[t.Any]) -> t.Any:
    return mapper.primary_key_from_instance(obj)[0]


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, flush_context: UOWTransaction, instances: t.Any) -> None:
    changes = _changes(session)
    with session.no_autoflush:
        _keep_deleted_as_tombstones(session)
        _revive_tombstones(session)
        # Parents of children about to change or go: found while the old rows exist.
        # A row whose only change is one of its collections (a backref's, as when a
        # session is added at a place) is not a change of the row: its parents stay.
        before: defaultdict[Mapper[t.Any], set[t.Any]] = defaultdict(set)
        through_collections: defaultdict[Embedding, set[t.Any]] = defaultdict(set)
        for obj in list(session.dirty) + list(session.deleted):
            state = inspect(obj)
            if not state.persistent:
                continue
            mapper = state.mapper
            if embedded_in(mapper.local_table) and (obj in session.deleted or _writes_row(state)):
                before[mapper].add(_identity(obj, mapper))
            for embedding in _links_changed_on_paths(state):
                through_collections[embedding].add(_identity(obj, mapper))
        # Locked now, before the children are written: a render locks its item, then the
        # rows it embeds (render_items); taken in the same order, they cannot deadlock.
        for mapper, ids in before.items():
            _collect_parents(session, changes, mapper, ids, lock=True)
        for embedding, ids in through_collections.items():
            _bump_through_collection(session, changes, embedding, ids)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, flush_context: UOWTransaction) -> None:
    changes = _changes(session)
    for obj in list(session.new) + list(session.dirty):
        mapper = _mapper_of(obj)
        if obj not in session.new and not _writes_row(inspect(obj)):
            continue  # only collections changed: _before_flush moved what they embed
        spec = _spec_of_mapper(mapper)
        changes.written_tables.add(mapper.local_table)  # type: ignore[arg-type]
        if spec is not None:
            changes.items[spec].add(_identity(obj, mapper))
            changes.flushed.append(obj)
            if obj in session.new or _links_changed(obj, mapper):
                changes.relinked[spec].add(_identity(obj, mapper))
        if embedded_in(mapper.local_table):
            changes.children[mapper].add(_identity(obj, mapper))


@event.listens_for(Session, "after_flush_postexec")
def _after_flush_postexec(session: Session, flush_context: UOWTransaction) -> None:
    changes = _changes(session)
    # The triggers changed these columns; reload them on next access.
    for obj in changes.flushed:
        state = inspect(obj)
        if state.persistent:
            spec = _spec_of_mapper(state.mapper)
            assert spec is not None
            keys = [state.mapper.get_property_by_column(spec.modified_column).key]
            session.expire(obj, keys)
    changes.flushed.clear()


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    session.flush()  # commit flushes after this event; the changes must be known now
    if _STATE_KEY not in session.info:
        return
    changes = _changes(session)
    with session.no_autoflush:
        for mapper, ids in list(changes.children.items()):
            _collect_parents(session, changes, mapper, ids)
        changes.children.clear()
        for spec in changes.sweep:
            connection = _connection(session, spec)
            unrendered = select(spec.id_column).where(spec.is_live())
            if spec.data_column is not None:
                unrendered = unrendered.where(spec.data_column.is_(None))
            swept = set(connection.execute(unrendered).scalars())
            changes.items[spec].update(swept)
            changes.relinked[spec].update(swept)
        changes.sweep.clear()
        # Every render (which may wait for locks) first, every store last: the stores
        # stamp the items, and on MySQL a stamp must be close to the commit (see
        # RPDE_SETTLE_SECONDS), not as old as the longest lock wait.
        renders = [
            render_items(
                _connection(session, spec),
                spec,
                ids,
                lock=changes.bumped[spec] - changes.locked[spec],
                relinked=changes.relinked[spec],
                written_tables=changes.written_tables,
            )
            if spec.render_at == "commit"
            else _moved_unrendered(
                _connection(session, spec),
                spec,
                ids,
                changes.bumped[spec],
                lock=changes.bumped[spec] - changes.locked[spec],
                relinked=changes.relinked[spec],
                written_tables=changes.written_tables,
            )
            for spec, ids in changes.items.items()
            if ids
        ]
        for render in renders:
            render.store()
        for state in (changes.items, changes.bumped, changes.locked, changes.relinked):
            state.clear()
        changes.written_tables.clear()


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction committed or rolled back
        session.info.pop(_STATE_KEY, None)


@event.listens_for(Session, "do_orm_execute")
def _do_orm_execute(state: ORMExecuteState) -> t.Any:
    if not (state.is_update or state.is_delete or state.is_insert):
        return None
    mapper = state.bind_mapper
    if mapper is None:
        return None
    spec = _spec_of_mapper(mapper)
    embeddings = embedded_in(mapper.local_table)
    if spec is None and not embeddings:
        return None
    changes = _changes(state.session)
    changes.written_tables.add(mapper.local_table)  # type: ignore[arg-type]
    criterion = _bulk_criterion(state, mapper)
    if spec is not None and state.is_delete:
        # A bulk delete becomes a bulk tombstoning of the live rows it matches.
        tombstone = update(mapper).values({spec.deleted_column.key: spec.deleted_value(utcnow())})
        tombstone = tombstone.where(spec.is_live())
        if criterion is not None:
            tombstone = tombstone.where(criterion)
        return state.session.execute(tombstone, execution_options=state.local_execution_options)
    if embeddings and (state.is_update or state.is_delete):
        _collect_parents_where(state.session, changes, embeddings, criterion, lock=True)
    if spec is not None and state.is_update:
        ids = select(spec.id_column)
        if criterion is not None:
            ids = ids.where(criterion)
        updated = set(_connection(state.session, spec).execute(ids).scalars())
        changes.items[spec].update(updated)
        changes.relinked[spec].update(updated)  # which columns changed is not known
    result = state.invoke_statement()
    if state.is_insert and spec is not None:
        changes.sweep.add(spec)
    if embeddings and (state.is_update or state.is_insert):
        # Rows may match only after the change (a child moved to another parent).
        if state.is_insert and criterion is None:  # new rows, ids not known
            for embedding, links in _paths_of_new_rows(state, mapper, embeddings):
                _collect_parents_where(state.session, changes, [embedding], links)
        elif criterion is not None:
            _collect_parents_where(state.session, changes, embeddings, criterion)
    return result


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
            _lock_items(connection, item_spec, item_ids)
    return {item_spec: item_ids for item_spec, item_ids in found.items() if item_ids}


def move_items(connection: Connection, spec: TableSpec, ids: t.Iterable[t.Any]) -> int:
    """Render (``render_at="read"``: clear) and move the live items ``ids``, which
    :func:`lock_items_embedding` locked. Returns how many moved."""
    wanted = sorted(ids)
    if spec.render_at == "commit":
        return render_items(connection, spec, wanted, lock=()).store()
    return _moved_unrendered(connection, spec, wanted, wanted, lock=()).store()


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
                _data_update(spec),
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


def _moved_unrendered(
    connection: Connection,
    spec: TableSpec,
    ids: t.Iterable[t.Any],
    bumped: Collection[t.Any],
    *,
    lock: t.Iterable[t.Any] | None = None,
    relinked: Collection[t.Any] | None = None,
    written_tables: Collection[Table] = (),
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
    """
    wanted = [id_ for id_ in ids if id_ is not None]
    _lock_for_render(connection, spec, wanted, lock, relinked, written_tables)
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

    SQLite takes no locks: it lets one transaction write at a time.
    """
    wanted = [id_ for id_ in ids if id_ is not None]
    _lock_for_render(connection, spec, wanted, lock, relinked, written_tables)
    if spec.renderer is None or spec.data_column is None:
        return RenderedItems(connection, spec, wanted, None)
    data = spec.renderer.render(connection, wanted) if wanted else {}
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
    _lock_items(connection, spec, set(wanted if lock is None else lock) & set(wanted))
    embeddings = spec.embeddings_to_lock()
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


def _data_update(spec: TableSpec) -> Update:
    """The statement storing one item's data, built once per table (a write stores one)."""
    statement = _data_updates.get(spec)
    if statement is None:
        assert spec.data_column is not None
        statement = _data_updates[spec] = (
            update(spec.table)
            .where(spec.id_column == bindparam("_rpde_id"))
            .values(
                spec.untouched(
                    {
                        spec.data_column.name: bindparam("_rpde_data"),
                        spec.modified_column.name: TOUCH,
                    }
                )
            )
        )
    return statement


def _lock_items(connection: Connection, spec: TableSpec, ids: t.Iterable[t.Any]) -> None:
    """Lock the rows of ``ids`` ``FOR UPDATE``, in id order (two transactions locking
    overlapping items then cannot deadlock on each other)."""
    ordered = sorted(ids)
    for start in range(0, len(ordered), BATCH_SIZE):
        connection.execute(
            select(spec.id_column)
            .where(spec.id_column.in_(ordered[start : start + BATCH_SIZE]))
            .order_by(spec.id_column)
            .with_for_update()
        ).all()


def _writes_row(state: InstanceState[t.Any]) -> bool:
    """Whether this flush writes the object's own row: a column changed, or a many-to-one
    link (its foreign key). A change to one of its collections alone writes other rows
    (the children's, or a link table's)."""
    mapper = state.mapper
    keys = [prop.key for prop in mapper.column_attrs] + [
        relationship.key
        for relationship in mapper.relationships
        if relationship.direction is MANYTOONE and not relationship.viewonly
    ]
    return any(state.attrs[key].history.has_changes() for key in keys)


def _links_changed_on_paths(state: InstanceState[t.Any]) -> list[Embedding]:
    """The embedded paths whose last step is a collection of this object (one-to-many or
    many-to-many) that this flush changes: its items' data changes though no row on the
    path but the children (or only a link table) is written.

    A many-to-one step is not among them: changing it writes the object's own row.
    """
    found: list[Embedding] = []
    for relationship in state.mapper.relationships:
        if relationship.direction is MANYTOONE or relationship.viewonly:
            continue
        ending_here = [
            embedding
            for embedding in embedded_in(relationship.mapper.local_table)
            if embedding.path[-1] is relationship
        ]
        # A backref's append to a collection not loaded is pending: include it.
        if ending_here and state.get_history(relationship.key, _PENDING_TOO).has_changes():
            found.extend(ending_here)
    return found


def _bump_through_collection(
    session: Session, changes: _Changes, embedding: Embedding, ids: set[t.Any]
) -> None:
    """Move the items that reach the objects ``ids`` (whose collection at the end of
    ``embedding`` changed): those objects themselves when they are the items, else the
    items whose path leads to them. Locked now, as a child's parents are."""
    if len(embedding.path) == 1:
        _bump(session, changes, embedding.parent, ids, lock=True)
        return
    leading = Embedding(embedding.parent, embedding.parent_model, embedding.path[:-1])
    key = embedding.path[-2].mapper.primary_key[0]
    ordered = sorted(ids)
    for start in range(0, len(ordered), BATCH_SIZE):
        batch = key.in_(ordered[start : start + BATCH_SIZE])
        _collect_parents_where(session, changes, [leading], batch, lock=True)


def _links_changed(obj: t.Any, mapper: Mapper[t.Any]) -> bool:
    """Whether this flush changed one of ``obj``'s foreign keys (setting a many-to-one
    relationship sets them too)."""
    state = inspect(obj)
    return any(
        any(column.foreign_keys for column in prop.columns)
        and state.attrs[prop.key].history.has_changes()
        for prop in mapper.column_attrs
    )


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


def _keep_deleted_as_tombstones(session: Session) -> None:
    for obj in list(session.deleted):
        mapper = _mapper_of(obj)
        spec = _spec_of_mapper(mapper)
        if spec is None:
            continue
        session.add(obj)  # undoes the delete: the row stays, as a tombstone
        key = mapper.get_property_by_column(spec.deleted_column).key
        if spec.value_is_live(getattr(obj, key)):
            setattr(obj, key, spec.deleted_value(utcnow()))


def _revive_tombstones(session: Session) -> None:
    """A new object whose id belongs to a tombstone replaces the tombstone's row."""
    candidates: defaultdict[Mapper[t.Any], dict[t.Any, t.Any]] = defaultdict(dict)
    for obj in session.new:
        mapper = _mapper_of(obj)
        if _spec_of_mapper(mapper) is None:
            continue
        id_ = _identity(obj, mapper)
        if id_ is not None:
            candidates[mapper][id_] = obj
    for mapper, by_id in candidates.items():
        spec = _spec_of_mapper(mapper)
        assert spec is not None
        tombstones = session.execute(
            select(spec.id_column).where(
                spec.id_column.in_(list(by_id)), spec.is_tombstone()
            ),
            bind_arguments={"mapper": mapper},
        ).scalars()
        for id_ in tombstones:
            _revive(session, mapper, spec, by_id[id_])


def _revive(session: Session, mapper: Mapper[t.Any], spec: TableSpec, obj: t.Any) -> None:
    key = mapper.identity_key_from_instance(obj)
    session.expunge(obj)
    stale = session.identity_map.get(key)
    if stale is not None:
        session.expunge(stale)
    make_transient_to_detached(obj)
    session.add(obj)
    # Write every value the new object carries over the tombstone's row.
    for attribute in mapper.attrs:
        if attribute.key in obj.__dict__:
            flag_modified(obj, attribute.key)
    setattr(obj, mapper.get_property_by_column(spec.deleted_column).key, spec.live_value)


def _collect_parents(
    session: Session,
    changes: _Changes,
    mapper: Mapper[t.Any],
    ids: set[t.Any],
    *,
    lock: bool = False,
) -> None:
    if ids:
        child_id = mapper.primary_key[0]
        ordered = list(ids)
        for start in range(0, len(ordered), BATCH_SIZE):
            batch = ordered[start : start + BATCH_SIZE]
            _collect_parents_where(
                session, changes, embedded_in(mapper.local_table), child_id.in_(batch), lock=lock
            )


def _collect_parents_where(
    session: Session,
    changes: _Changes,
    embeddings: list[Embedding],
    criterion: ColumnElement[bool] | None,
    *,
    lock: bool = False,
) -> None:
    """Find the parents of the matching children; ``lock``: lock them now, before the
    children are written."""
    for embedding in embeddings:
        connection = _connection(session, embedding.parent)
        parent_ids = set(connection.execute(embedding.parent_ids(criterion)).scalars())
        _bump(session, changes, embedding.parent, parent_ids, lock=lock)


def _bump(
    session: Session, changes: _Changes, spec: TableSpec, ids: set[t.Any], *, lock: bool
) -> None:
    """Move the items ``ids`` at commit though this transaction may not write their rows;
    ``lock``: lock them now."""
    changes.items[spec].update(ids)
    changes.bumped[spec].update(ids)
    connection = _connection(session, spec)
    if lock and backend_for(connection.dialect).takes_row_locks:
        unlocked = ids - changes.locked[spec]
        _lock_items(connection, spec, unlocked)
        changes.locked[spec].update(unlocked)


def _paths_of_new_rows(
    state: ORMExecuteState, mapper: Mapper[t.Any], embeddings: list[Embedding]
) -> list[tuple[Embedding, ColumnElement[bool] | None]]:
    """The paths along which the rows a bulk ``INSERT`` adds can reach items, each with a
    criterion on the new rows' link columns (``None``: any row).

    Nothing links to a row that did not exist: only a path whose last step's link is a
    column of the new row (one-to-many) reaches items, those the values it takes lead to.
    """
    given: t.Any = state.parameters
    rows: list[Mapping[str, t.Any]] = [given] if isinstance(given, Mapping) else list(given or ())
    return [
        (embedding, _link_values(rows, mapper, embedding.path[-1]))
        for embedding in embeddings
        if embedding.path[-1].direction is ONETOMANY and embedding.path[-1].secondary is None
    ]


def _link_values(
    rows: list[Mapping[str, t.Any]],
    mapper: Mapper[t.Any],
    relationship: RelationshipProperty[t.Any],
) -> ColumnElement[bool] | None:
    """The new rows' values of ``relationship``'s link columns, as a criterion; ``None``
    when the statement's own ``VALUES`` hold them (not read here: any row)."""
    criteria = []
    for _, column in relationship.local_remote_pairs:
        try:
            key = mapper.get_property_by_column(column).key
        except UnmappedColumnError:
            return None
        if not rows or not all(key in row for row in rows):
            return None
        criteria.append(column.in_({row[key] for row in rows}))
    return and_(*criteria)


def _bulk_criterion(state: ORMExecuteState, mapper: Mapper[t.Any]) -> ColumnElement[bool] | None:
    statement: t.Any = state.statement
    if getattr(statement, "whereclause", None) is not None:
        return t.cast(ColumnElement[bool], statement.whereclause)
    # ORM bulk UPDATE by primary key: the ids are in the parameter list.
    if isinstance(state.parameters, list):
        key = mapper.primary_key[0].key
        ids = [row[key] for row in state.parameters if key in row]
        if ids:
            return mapper.primary_key[0].in_(ids)
    return None


def _connection(session: Session, spec: TableSpec) -> Connection:
    return session.connection(bind_arguments={"clause": spec.table})
